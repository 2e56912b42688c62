"""Correctness and safety: a config change reruns exactly what it affects, inputs made from another configuration
are refused by name, damaged files are named, `classify` never deletes what it did not create and refuses input it
cannot classify, and results are bit-identical whatever the entry point."""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
import xarray as xr
import yaml

from phasetrace import simulation, training
from phasetrace.__main__ import classify
from phasetrace.store import DamagedFileError, read_arrays
from tiny import MBL_DS, SNAKEMAKE, TINY, planned_jobs

NETWORKS = "results/mbl/L6/lstm/networks/eps0.3000.zarr.zip"
POINT = "results/mbl/L6/traces/eps0.3000/W3.000/r000-001.zarr.zip"


def changed(path: str, value) -> dict:
    cfg = copy.deepcopy(TINY)
    *head, last = path.split(".")
    node = cfg
    for k in head:
        node = node[k]
    node[last] = value
    return cfg


def planned(d, config: dict, *args: str) -> dict[str, int]:
    """The jobs a dry run of the default target in ``d`` would run with ``config`` (rule → count)."""
    cfg = d.parent / f"{d.name}-planned.yaml"
    cfg.write_text(yaml.safe_dump(config))
    proc = subprocess.run(
        SNAKEMAKE + ["--directory", str(d), "--configfile", str(cfg), "-n", *args], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = proc.stdout + proc.stderr
    return planned_jobs(out) if "Job stats:" in out else {}


# --- a config change reruns what it affects, and only that ------------------------------------------------------

SIMULATION = {"mbl_bounds", "mbl_traces", "floquet_traces"}
TRAINING = {
    "mbl_network",
    "floquet_network",
    "mbl_confusion",
    "floquet_confusion",
    "phase_diagram",
    "check_confusion_vs_units",
    "check_blanking",
    "check_calibration",
    "check_unseen_phase",
    "check_single_neuron",
    "classifiers_figure",
    "robustness_variant",
    "robustness",
    "mbl_scheme",  # the schemes' networks read the training keys; the optimal predictors only late_times, resamples
    "floquet_scheme",
    "schemes_figure",
    "all",
}


@pytest.mark.workflow
def test_unchanged_config_reruns_nothing(reference_run):
    assert planned(reference_run, TINY) == {}


@pytest.mark.workflow
def test_seed_change_reruns_every_simulation(reference_run):
    jobs_ = planned(reference_run, changed("seed", 8))
    assert jobs_["mbl_bounds"] == 5 * 2 and jobs_["mbl_traces"] == 2 * 5 * 2 and jobs_["floquet_traces"] == 5 * 2


@pytest.mark.workflow
def test_training_change_reruns_networks_and_downstream_only(reference_run):
    jobs_ = planned(reference_run, changed("training.steps", 6))
    assert set(jobs_) == TRAINING
    assert jobs_["mbl_network"] == 2 * 3  # 2 ε × the 3 network kinds; the threshold takes no steps


@pytest.mark.workflow
@pytest.mark.parametrize("key, value", [("training.resamples", 4), ("training.realizations", 3)])
def test_set_keys_retrain_every_kind(reference_run, key, value):
    """training.resamples (what each member group is trained on) and training.realizations (which realizations the
    sets train on): every set of every kind reruns, the simulation does not."""
    jobs_ = planned(reference_run, changed(key, value))
    assert "mbl_simulate" not in jobs_ and "floquet_simulate" not in jobs_ and "mbl_dataset" not in jobs_
    assert jobs_["mbl_network"] == 2 * 4  # 2 ε × every kind, the threshold included


@pytest.mark.workflow
def test_measurement_change_retrains_and_simulates_nothing(reference_run):
    """What the classifiers see changed: every set and check that reads traces reruns, not the simulation, not the
    robustness variants (they set the shots themselves) and not the single-neuron check (exact traces)."""
    jobs_ = planned(reference_run, changed("measurement.shots", 30))
    assert set(jobs_) == TRAINING - {"robustness_variant", "robustness", "check_single_neuron"} | {
        "mbl_optimal",
        "floquet_optimal",
    }
    assert jobs_["mbl_network"] == 2 * 4  # every kind, the threshold too


@pytest.mark.workflow
def test_a_new_robustness_value_computes_only_its_variants(reference_run):
    jobs_ = planned(reference_run, changed("robustness.shots", [10, 30, None]))
    assert jobs_ == {"robustness_variant": 2 * 2, "robustness": 1, "all": 1}  # 2 observables × 2 models


@pytest.mark.workflow
def test_comparing_fewer_classifiers_retrains_nothing(reference_run):
    assert planned(reference_run, changed("training.compare", ["threshold"])) == {"classifiers_figure": 1, "all": 1}


@pytest.mark.workflow
def test_physics_change_of_one_model_leaves_the_other_alone(reference_run):
    jobs_ = planned(reference_run, changed("mbl.t_max", 40.0))
    assert jobs_["mbl_traces"] == 20 and "mbl_bounds" not in jobs_  # E0, Emax do not depend on the times
    assert not {"floquet_traces", "floquet_dataset", "floquet_network", "check_unseen_phase"} & set(jobs_)
    assert not {"floquet_scheme", "floquet_optimal"} & set(jobs_) and {"mbl_scheme", "mbl_optimal"} <= set(jobs_)


@pytest.mark.workflow
def test_extending_a_grid_computes_only_the_new_points(reference_run):
    jobs_ = planned(reference_run, changed("mbl.W", [0.25, 0.5, 3.0, 5.0, 7.5, 8.0]))
    assert jobs_["mbl_bounds"] == 2 and jobs_["mbl_traces"] == 2 * 2  # one new W: 2 blocks, at 2 ε
    assert "floquet_traces" not in jobs_


@pytest.mark.workflow
def test_forced_point_after_a_seed_change_rebuilds_its_bounds_too(reference_run):
    """The README's one-point rebuild can no longer combine new disorder with old E0/Emax."""
    jobs_ = planned(reference_run, changed("seed", 8), "--force", POINT)
    assert jobs_ == {"mbl_bounds": 1, "mbl_traces": 1}


# --- inputs made from another configuration are refused by name ---------------------------------------------------


def test_aggregation_refuses_a_store_from_another_seed(reference_run):
    stores = sorted(str(p) for p in (reference_run / "results/mbl/L6/traces").rglob("*.zarr.zip"))
    with pytest.raises(
        ValueError,
        match=r"traces/eps0\.3000/W0\.250/r000-001\.zarr\.zip was made from another "
        r"configuration: seed = 7 in the file, 8 in the config",
    ):
        simulation.dataset_job(changed("seed", 8), "mbl", stores, str(reference_run / "never.zarr"))
    assert not (reference_run / "never.zarr").exists()


def test_traces_job_refuses_bounds_of_another_seed(reference_run, tmp_path):
    bounds = reference_run / "results/mbl/L6/bounds/W3.000/r000-001.zarr.zip"
    out = tmp_path / "traces.zarr.zip"
    with pytest.raises(
        ValueError,
        match=r"bounds/W3\.000/r000-001\.zarr\.zip was made from another configuration: "
        r"seed = 7 in the file, 8 in the config",
    ):
        simulation.simulate_job(
            changed("seed", 8), "mbl", "traces", "eps0.3000/W3.000", "r000-001", [str(bounds)], str(out)
        )
    assert not out.exists()


def test_confusion_refuses_networks_trained_with_other_settings(reference_run, tmp_path):
    networks = sorted(str(p) for p in (reference_run / "results/mbl/L6/lstm/networks").glob("*.zarr.zip"))
    out = tmp_path / "confusion.zarr"
    with pytest.raises(
        ValueError,
        match=r"eps0\.3000\.zarr\.zip was made from another configuration: "
        r"training\.steps = 4 in the file, 6 in the config",
    ):
        training.confusion_job(
            changed("training.steps", 6),
            "mbl",
            "lstm",
            str(reference_run / MBL_DS),
            networks,
            str(out),
            str(tmp_path / "boundary.csv"),
        )
    assert not out.exists()


def test_training_refuses_a_dataset_of_other_settings(reference_run, tmp_path):
    with pytest.raises(
        ValueError,
        match=r"traces\.zarr was made from another configuration: mbl\.windows\."
        r"ergodic_W_max = 0\.5 in the file, 0\.25 in the config",
    ):
        training.network_job(
            changed("mbl.windows.ergodic_W_max", 0.25),
            "mbl",
            "lstm",
            "eps0.3000",
            str(reference_run / MBL_DS),
            str(tmp_path / "n.zarr.zip"),
        )


# --- damaged files are named --------------------------------------------------------------------------------------


def test_a_truncated_store_is_reported_with_its_path(reference_run, tmp_path):
    src = sorted((reference_run / "results/mbl/L6/traces").rglob("*.zarr.zip"))
    copies = []
    for i, p in enumerate(src):
        copies.append(tmp_path / f"{i:02d}.zarr.zip")
        shutil.copy(p, copies[-1])
    data = copies[3].read_bytes()
    copies[3].write_bytes(data[: len(data) // 2])
    with pytest.raises(DamagedFileError, match=rf"{copies[3]}: cannot be read as a zip Zarr store .*BadZipFile"):
        simulation.dataset_job(TINY, "mbl", [str(p) for p in copies], str(tmp_path / "out.zarr"))
    with pytest.raises(DamagedFileError, match=rf"{tmp_path / 'missing.zarr.zip'}: no such"):
        read_arrays(tmp_path / "missing.zarr.zip")


def test_classify_names_a_damaged_or_missing_network_set(reference_run, tmp_path):
    broken = tmp_path / "broken.zarr.zip"
    data = (reference_run / NETWORKS).read_bytes()
    broken.write_bytes(data[: len(data) // 3])
    for networks, message in ((broken, f"{broken}: cannot be read"), (tmp_path / "nope.zarr.zip", "no such")):
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "phasetrace",
                "classify",
                "--networks",
                str(networks),
                "--traces",
                str(reference_run / MBL_DS),
                "--out",
                str(tmp_path / "p.zarr"),
            ],
            capture_output=True,
            text=True,
        )
        assert proc.returncode != 0 and message in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
        assert not (tmp_path / "p.zarr").exists()


# --- classify never deletes what it did not create ---------------------------------------------------------------


@pytest.fixture
def one_eps(reference_run, tmp_path):
    """The reference traces at ε = 0.3 (the networks' own ε) as a dataset of their own."""
    path = tmp_path / "eps03.zarr"
    xr.open_zarr(reference_run / MBL_DS).sel(eps=[0.3]).to_zarr(path)
    return path


def test_classify_refuses_an_existing_out_and_keeps_it(reference_run, one_eps, tmp_path):
    mine = tmp_path / "my_analysis"
    mine.mkdir()
    (mine / "notes.txt").write_text("precious")
    for extra in ([], ["--overwrite"]):
        with pytest.raises(ValueError, match="exists"):
            classify(str(reference_run / NETWORKS), str(one_eps), str(mine), overwrite=bool(extra))
        assert (mine / "notes.txt").read_text() == "precious"
    # an earlier classify output is replaced only with --overwrite
    out = tmp_path / "pred.zarr"
    classify(str(reference_run / NETWORKS), str(one_eps), str(out))
    with pytest.raises(ValueError, match="--overwrite"):
        classify(str(reference_run / NETWORKS), str(one_eps), str(out))
    classify(str(reference_run / NETWORKS), str(one_eps), str(out), overwrite=True)
    assert xr.open_zarr(out).attrs["created_by"] == "phasetrace classify"


def test_classify_refuses_to_write_over_its_inputs(reference_run, one_eps):
    before = xr.open_zarr(one_eps).load()
    for out in (one_eps, one_eps / "magnetization", reference_run / NETWORKS):
        with pytest.raises(ValueError, match="overlaps the input"):
            classify(str(reference_run / NETWORKS), str(one_eps), str(out), overwrite=True)
    xr.testing.assert_identical(before, xr.open_zarr(one_eps).load())


@pytest.mark.parametrize(
    "damage, message",
    [
        (lambda ds: ds.assign(magnetization=ds["magnetization"].where(ds["W"] != 3.0)), "non-finite values"),
        (lambda ds: ds.assign(magnetization=1.5 * ds["magnetization"]), r"outside \[-1, 1\]"),
        (lambda ds: ds.isel(time=slice(0, 3)), r"time grid \(3 points"),
        (
            lambda ds: xr.concat([ds, ds.assign_coords(time=ds["time"] + 60.0)], "time", data_vars="all"),
            r"time grid \(12 points",
        ),
        (lambda ds: ds.assign_coords(time=ds["time"] * 2), r"time grid .* is not the one"),
        (lambda ds: ds.rename({"magnetization": "sz"}), r"has no variable 'magnetization': it has the variables"),
        (lambda ds: ds.isel(site=slice(0, 4)), "has 4 sites, the networks were trained on 6"),
        (lambda ds: ds.assign(magnetization=0.5 * ds["magnetization"]), r"first time point must be that state"),
    ],
    ids=["nan", "range", "3-times", "12-times", "other-times", "no-variable", "sites", "not-initial-state"],
)
def test_classify_refuses_input_it_cannot_classify(reference_run, tmp_path, damage, message):
    bad = tmp_path / "bad.zarr"
    damage(xr.open_zarr(reference_run / MBL_DS).sel(eps=[0.3]).load()).to_zarr(bad)
    out = tmp_path / "pred.zarr"
    with pytest.raises(ValueError, match=message):
        classify(str(reference_run / NETWORKS), str(bad), str(out))
    assert not out.exists() and not list(tmp_path.glob(".pred.zarr*"))


# --- reproducibility -----------------------------------------------------------------------------------------------


def test_classify_in_a_fresh_process_reproduces_the_pipeline_bit_for_bit(reference_run, one_eps, tmp_path):
    out = tmp_path / "pred.zarr"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "phasetrace",
            "classify",
            "--networks",
            str(reference_run / NETWORKS),
            "--traces",
            str(one_eps),
            "--out",
            str(out),
        ],
        check=True,
    )
    stored = read_arrays(reference_run / NETWORKS)[0]["p"]  # (k, W·R, class), predicted right after training
    p = xr.open_zarr(out)["p"].values  # (k, eps=1, W, R, class)
    assert np.array_equal(p.reshape(stored.shape), stored)


TRAIN_SNIPPET = """
import sys, numpy as np
{imports}
from phasetrace import training
from phasetrace.classifiers import Hyper
rng = np.random.default_rng(0)
x = np.clip(rng.normal(size=(40, 5, 3)), -1, 1)
y = np.repeat([0, 1], 20)
fit = training.fit_set(x, y, Hyper(n_classes=2, units=4, batch_size=8, steps=4), k=2, seed=3, holdout=0.2)
np.save(sys.argv[1], fit["p"])
"""


@pytest.mark.slow
def test_training_does_not_depend_on_what_was_imported_before(tmp_path):
    """Once the kernels' import switched on 64-bit mode: training after importing the training module alone
    differed."""
    outs = []
    for i, imports in enumerate(["", "import phasetrace.kernels.heisenberg, phasetrace.kernels.floquet"]):
        outs.append(tmp_path / f"p{i}.npy")
        subprocess.run([sys.executable, "-c", TRAIN_SNIPPET.format(imports=imports), str(outs[-1])], check=True)
    assert np.array_equal(np.load(outs[0]), np.load(outs[1]))


def test_low_level_functions_refuse_to_run_without_the_numerical_state():
    code = (
        "import numpy as np\nfrom phasetrace.kernels import heisenberg\n"
        "heisenberg.spectral_bounds(heisenberg.heisenberg_chain(4), np.zeros((1, 4)), np.array([1]))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode != 0 and "phasetrace.runner.configure()" in proc.stderr


def test_importing_phasetrace_changes_no_global_state():
    code = (
        "import jax, matplotlib\nimport phasetrace.models, phasetrace.simulation, phasetrace.training, "
        "phasetrace.figures, phasetrace.paper_checks, phasetrace.__main__\n"
        "print(jax.config.jax_enable_x64, matplotlib.get_backend() if 'matplotlib.pyplot' in __import__('sys')"
        ".modules else 'no pyplot')"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, env={**os.environ, "MPLBACKEND": ""}
    )
    assert proc.stdout.split() == ["False", "no", "pyplot"]


def test_parsing_the_workflow_imports_no_jax():
    """The modules the rules import at parse time (phasetrace.pipeline and what it imports) stay light: every dry
    run and every cluster job parses the workflow, and JAX is imported only inside jobs."""
    code = (
        "import sys\nimport phasetrace.pipeline\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('jax', 'flax', 'optax')))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert proc.stdout.strip() == "[]"
