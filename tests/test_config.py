"""Bad configs fail before any job runs, naming the key and the allowed values."""

import copy
from pathlib import Path

import pytest
import yaml

from phasetrace.config import read_yaml, taken_from_defaults, validate

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = yaml.safe_load((ROOT / "config.yaml").read_text())


def test_default_and_presets_are_valid():
    """Each preset as the workflow reads it: Snakemake overlays a --configfile on config.yaml; the closed-loop
    command's config (a ``closed_loop`` section) as that command reads it."""
    from snakemake.utils import update_config

    from phasetrace.closed_loop import load

    validate(copy.deepcopy(DEFAULT))
    for preset in sorted((ROOT / "config").glob("*.yaml")):
        if "closed_loop" in yaml.safe_load(preset.read_text()):
            load(preset)
            continue
        cfg = copy.deepcopy(DEFAULT)
        update_config(cfg, yaml.safe_load(preset.read_text()))
        validate(cfg)


def mutate(path, value):
    cfg = copy.deepcopy(DEFAULT)
    *head, last = path
    node = cfg
    for k in head:
        node = node[k]
    if value is KeyError:
        del node[last]
    else:
        node[last] = value
    return cfg


@pytest.mark.parametrize(
    "path,value,match",
    [
        (("mbl", "L"), 11, r"mbl\.L = 11 .*multiple of 2"),
        (("mbl", "L"), "12", r"mbl\.L = '12' .*type integer"),
        (("mbl", "L"), 30, r"mbl\.L = 30 .*<= 24"),
        (("mbl", "eps"), [0.2, 1.2], r"mbl\.eps = \[0\.2, 1\.2\] .*\[0\.0, 1\.0\]"),
        (("mbl", "eps"), {"start": -0.1, "stop": 0.5, "num": 3}, r"mbl\.eps .*\[0\.0, 1\.0\]"),
        (("mbl", "W"), [0.1, -2.0, 8.0], r"mbl\.W .*\[0\.0, inf\]"),
        (("mbl", "realizations"), 0, r"mbl\.realizations = 0 .*>= 1"),
        (("quasiperiodic", "L"), 11, r"quasiperiodic\.L = 11 .*multiple of 2"),
        (("quasiperiodic", "W"), [3.0, 1.0], r"quasiperiodic\.W .*strictly increasing"),
        (
            ("models",),
            ["mbl", "heisenberg"],
            r"models\.1 = 'heisenberg' .*one of "
            r"\['floquet', 'mbl', 'mbl_fixed', 'measured', 'quasiperiodic', 'quasiperiodic_fixed'\]",
        ),
        (("mbl", "boundary"), "twisted", r"mbl\.boundary = 'twisted' .*one of \['periodic', 'open'\]"),
        (("mbl", "windows", "ergodic_W_max"), 8.0, r"ergodic_W_max must be < .*localized_W_min"),
        (("mbl", "W"), {"start": 1.0, "stop": 7.0, "num": 7}, r"mbl\.windows\.ergodic .*contains no point"),
        (("floquet", "windows", "ergodic"), [0.0, 0.8], r"floquet\.windows\.time_crystal and .*ergodic overlap"),
        (
            ("floquet", "windows", "floquet_mbl"),
            [0.3, 0.4],
            r"floquet\.windows\.ergodic = \[0\.65, 0\.75\] must lie "
            r"below floquet\.windows\.floquet_mbl",
        ),
        (("floquet", "T1"), 0.0, r"floquet\.T1 = 0\.0 .*> 0"),
        (("floquet", "periods"), 2.5, r"floquet\.periods = 2\.5 .*type integer"),
        (("mbl", "realisations"), 3, r"mbl: unknown key\(s\) \['realisations'\]"),
        (("seed",), KeyError, r"'seed' is a required property"),
        # not finite, anywhere
        (("training", "learning_rate"), float("nan"), r"training\.learning_rate = nan .*a finite number"),
        (("training", "dropout"), float("nan"), r"training\.dropout = nan .*a finite number"),
        (("training", "holdout"), float("nan"), r"training\.holdout = nan .*a finite number"),
        (("mbl", "t_max"), float("nan"), r"mbl\.t_max = nan .*a finite number"),
        (("mbl", "t_max"), float("inf"), r"mbl\.t_max = inf .*a finite number"),
        (("mbl", "J"), float("nan"), r"mbl\.J = nan .*a finite number"),
        (("floquet", "g"), float("nan"), r"floquet\.g = nan .*a finite number"),
        (("mbl", "W"), [0.25, float("nan"), 8.0], r"mbl\.W\[1\] = nan .*a finite number"),
        (("mbl", "eps"), {"start": 0.2, "stop": float("nan"), "num": 3}, r"mbl\.eps\.stop = nan .*finite"),
        (("floquet", "eps"), [0.0, float("-inf"), 1.0], r"floquet\.eps\[1\] = -inf .*a finite number"),
        # integers written as integers
        (("mbl", "L"), 12.0, r"mbl\.L = 12\.0 .*type integer or array \(write whole numbers without a decimal point\)"),
        (("seed",), 5.0, r"seed = 5\.0 .*type integer"),
        (("mbl", "realizations"), 3.0, r"mbl\.realizations = 3\.0 .*type integer"),
        (("mbl", "n_times"), 5.0, r"mbl\.n_times = 5\.0 .*type integer"),
        (("training", "members"), 2.0, r"training\.members = 2\.0 .*type integer"),
        (("mbl", "realizations"), True, r"mbl\.realizations = True .*type integer"),
        # hold-outs
        (("training", "holdout"), 0.99, r"training\.holdout = 0\.99 .*leaves no training sample of class 'ergodic'"),
        (("training", "holdout"), 1.0, r"training\.holdout = 1\.0 is not allowed: it must be < 1"),
        # grids
        (("mbl", "W"), [0.25, 0.5, 4.0001, 4.0004, 8.0], r"mbl\.W .*both written 4\.000 in the paths"),
        (("mbl", "eps"), [0.5, 0.2, 0.8], r"mbl\.eps .*strictly increasing, but 0\.5 is followed by 0\.2"),
        (("mbl", "W"), [0.25, 8.0, 3.0], r"mbl\.W .*strictly increasing, but 8\.0 is followed by 3\.0"),
        (("mbl", "W"), [0.25, 3.0, 3.0, 8.0], r"mbl\.W .*strictly increasing, but 3\.0 is followed by 3\.0"),
        (("floquet", "eps"), [0.0, 0.70001, 0.70004, 1.55], r"floquet\.eps .*both written 0\.7000"),
        (("realizations_per_job",), 3, r"<config>: unknown key\(s\) \['realizations_per_job'\]"),
        # the adaptive study's replicates and reference runs share the indices 0 … 999
        (("adaptive", "replicates"), 992, r"adaptive\.replicates \+ adaptive\.reference_replicates = 1000"),
        (("adaptive", "reference_replicates"), 0, r"adaptive\.reference_replicates = 0 is not allowed: it must be >= "),
    ],
)
def test_bad_config_names_key_and_allowed_values(path, value, match):
    with pytest.raises(ValueError, match=match):
        validate(mutate(path, value))


def test_a_two_site_ring_is_refused_but_a_two_site_chain_is_not():
    cfg = mutate(("floquet", "L"), 2)
    validate(cfg)  # open boundaries (the default)
    cfg["floquet"]["boundary"] = "periodic"
    with pytest.raises(ValueError, match=r"floquet\.L = 2 is not allowed with boundary: periodic: it must be >= 3"):
        validate(cfg)


def test_holdout_is_checked_for_every_training_set():
    cfg = mutate(("checks", "windows"), [[0.125, 7.5]])  # a blanking variant whose ergodic window has no point
    with pytest.raises(ValueError, match=r"checks\.windows\[0\] = \[0\.125, 7\.5\]"):
        validate(cfg)
    cfg = mutate(("mbl", "realizations"), 1)
    cfg["mbl"]["W"] = [0.25, 3.0, 8.0]
    cfg["mbl"]["windows"] = {"ergodic_W_max": 0.25, "localized_W_min": 8.0}
    cfg["checks"]["windows"] = [[0.25, 8.0]]
    with pytest.raises(ValueError, match=r"holdout = 0\.6 .*class 'ergodic' of mbl\.windows \(1 labeled samples"):
        validate({**cfg, "training": {**cfg["training"], "holdout": 0.6}})
    with pytest.raises(ValueError, match=r"holdout = 0\.4 .*holds out no sample of class 'ergodic'"):
        validate({**cfg, "training": {**cfg["training"], "holdout": 0.4}})  # round(0.4) = 0: accuracy unmeasured
    cfg["mbl"]["realizations"] = 2
    validate({**cfg, "training": {**cfg["training"], "holdout": 0.5}})  # one of two samples trains, one is held out


def test_yaml_errors_name_the_file_and_line(tmp_path):
    bad = tmp_path / "bad.yaml"
    text = (ROOT / "config.yaml").read_text()
    opened = text[: text.index("  L: 12 ")].count("\n") + 1  # the line the unclosed list opens on
    bad.write_text(text.replace("  L: 12 ", "  L: [12 ", 1))
    with pytest.raises(
        ValueError,
        match=rf"{bad}, line {opened + 1}, column 3: invalid YAML: .*flow sequence at "
        rf"line {opened}",
    ):
        read_yaml(bad)


def test_keys_taken_from_the_default_config_are_named():
    given = copy.deepcopy(DEFAULT)
    del given["checks"], given["mbl"]["windows"], given["mbl"]["W"]["num"]
    assert taken_from_defaults(DEFAULT, given) == ["mbl.W.num", "mbl.windows", "checks"]


@pytest.mark.parametrize(
    "env_file, extras", [("phasetrace.yaml", ["slurm"]), ("phasetrace-cuda.yaml", ["slurm", "cuda"])]
)
def test_conda_environments_list_the_same_packages_as_pyproject(env_file, extras):
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    key = lambda d: re.split(r"[<>=]", d)[0]  # noqa: E731  (jax[cuda12] stays distinct from jax)
    wanted = {
        key(d): d for d in project["dependencies"] + [d for e in extras for d in project["optional-dependencies"][e]]
    }
    if "cuda" in extras:
        del wanted["jax"]  # replaced by jax[cuda12]
    env = yaml.safe_load((ROOT / "envs" / env_file).read_text())["dependencies"]
    pip = next(d["pip"] for d in env if isinstance(d, dict))
    listed = [d for d in env if isinstance(d, str) and d != "pip" and not d.startswith("python")]
    found = {key(d): d for d in listed + [d for d in pip if not d.startswith("-e")]}
    assert set(found) == set(wanted)
    for name in wanted:
        assert found[name].replace(" ", "") == wanted[name].replace(" ", ""), name


def test_check_config_names_the_yaml_line_of_a_configfile(tmp_path):
    """Snakemake parses --configfile before the workflow starts (no line in its message); check-config gives it."""
    import subprocess
    import sys

    bad = tmp_path / "bad.yaml"
    bad.write_text("training:\n  steps: [3\n  members: 2\n")
    proc = subprocess.run(
        [sys.executable, "-m", "phasetrace", "check-config", str(bad)], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode != 0 and f"{bad}, line 3, column 10: invalid YAML" in proc.stderr, proc.stderr
    assert "flow sequence at line 2" in proc.stderr
    good = tmp_path / "good.yaml"
    good.write_text("training:\n  steps: 3\n")
    proc = subprocess.run(
        [sys.executable, "-m", "phasetrace", "check-config", str(good)], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0 and "config ok" in proc.stdout, proc.stderr
    assert "taken from" in proc.stdout and "mbl" in proc.stdout  # every section but training comes from config.yaml
