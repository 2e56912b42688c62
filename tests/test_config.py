"""Bad configs fail before any job runs, naming the key and the allowed values."""

import copy
from pathlib import Path

import pytest
import yaml

from phasetrace.config import validate

ROOT = Path(__file__).resolve().parents[1]
DEFAULT = yaml.safe_load((ROOT / "config.yaml").read_text())


def test_default_and_presets_are_valid():
    validate(copy.deepcopy(DEFAULT))
    for preset in sorted((ROOT / "config").glob("*.yaml")):
        validate(yaml.safe_load(preset.read_text()))


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
        (("mbl", "boundary"), "twisted", r"mbl\.boundary = 'twisted' .*one of \['periodic', 'open'\]"),
        (("mbl", "windows", "ergodic_W_max"), 8.0, r"ergodic_W_max must be < .*localized_W_min"),
        (("mbl", "W"), {"start": 1.0, "stop": 7.0, "num": 7}, r"mbl\.windows\.ergodic .*contains no point"),
        (("floquet", "windows", "ergodic"), [0.0, 0.8], r"floquet\.windows\.time_crystal and .*ergodic overlap"),
        (("floquet", "T1"), 0.0, r"floquet\.T1 = 0\.0 .*> 0"),
        (("floquet", "periods"), 2.5, r"floquet\.periods = 2\.5 .*type integer"),
        (("mbl", "realisations"), 3, r"mbl: unknown key\(s\) \['realisations'\]"),
        (("seed",), KeyError, r"'seed' is a required property"),
    ],
)
def test_bad_config_names_key_and_allowed_values(path, value, match):
    with pytest.raises(ValueError, match=match):
        validate(mutate(path, value))


@pytest.mark.parametrize("env_file, extras", [("phasetrace.yaml", ["slurm"]), ("phasetrace-cuda.yaml", ["slurm", "cuda"])])
def test_conda_environments_list_the_same_packages_as_pyproject(env_file, extras):
    import re
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    key = lambda d: re.split(r"[<>=]", d)[0]  # noqa: E731  (jax[cuda12] stays distinct from jax)
    wanted = {key(d): d for d in project["dependencies"] + [d for e in extras for d in project["optional-dependencies"][e]]}
    if "cuda" in extras:
        del wanted["jax"]  # replaced by jax[cuda12]
    env = yaml.safe_load((ROOT / "envs" / env_file).read_text())["dependencies"]
    pip = next(d["pip"] for d in env if isinstance(d, dict))
    listed = [d for d in env if isinstance(d, str) and d != "pip" and not d.startswith("python")]
    found = {key(d): d for d in listed + [d for d in pip if not d.startswith("-e")]}
    assert set(found) == set(wanted)
    for name in wanted:
        assert found[name].replace(" ", "") == wanted[name].replace(" ", ""), name
