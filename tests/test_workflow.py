"""The Snakemake pipeline end to end on a tiny config: contract, reproducibility, block-size independence,
single-point targets, interrupted runs, lint and formatting."""

from __future__ import annotations

import contextlib
import copy
import csv
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from phasetrace import simulation
from phasetrace.models import FLOQUET, MBL, QUASIPERIODIC
from phasetrace.provenance import record, settings
from phasetrace.store import read_arrays, write_arrays
from phasetrace.training import read_boundaries
from tiny import FLQ_DS, MBL_DS, ROOT, SNAKEMAKE, TINY, planned_jobs, snakemake, workdir


def test_dataset_contract(reference_run):
    ds = xr.open_zarr(reference_run / MBL_DS)
    assert ds["magnetization"].dims == ("eps", "W", "realization", "time", "site")
    assert ds["magnetization"].shape == (2, 5, 4, 6, 6)
    assert ds["field"].dims == ("W", "realization", "site")
    assert ds["initial_state"].dims == ("eps", "W", "realization", "site")
    for name in ("E0", "Emax"):
        assert ds[name].dims == ("W", "realization")
    assert ds["initial_energy"].dims == ("eps", "W", "realization")
    assert ds["label"].values.tolist() == [[0, 0, -1, 1, 1]] * 2
    assert ds["label"].attrs["classes"] == ["ergodic", "localized"]
    assert {"model", "L", "J", "boundary", "seed", "t_max", "phasetrace_version"} <= set(ds.attrs)
    assert np.abs(ds["magnetization"]).max() <= 1 + 1e-12
    assert float(ds["time"][-1]) == 50.0

    fl = xr.open_zarr(reference_run / FLQ_DS)
    assert fl["magnetization"].dims == ("eps", "realization", "period", "site")
    assert fl["imbalance"].dims == ("eps", "realization", "period")
    assert fl["coupling"].dims == ("realization", "bond") and fl["coupling"].shape == (3, 3)
    assert fl["label"].values.tolist() == [0, -1, 1, -1, 2]  # ε = 0, 0.39, 0.79, 1.18, π/2
    assert {"T1", "T2", "g", "boundary", "seed"} <= set(fl.attrs)


def test_default_target_draws_the_phase_diagram_from_confusion_datasets(reference_run):
    png = reference_run / "results" / "phase_diagram.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    conf = xr.open_zarr(reference_run / "results/mbl/L6/lstm/confusion.zarr")
    assert conf["p"].dims == ("member", "eps", "W", "realization", "class")
    assert conf["confusion"].dims == ("eps", "W") and float(conf["confusion"].max()) <= 1.0
    table = (reference_run / "results/mbl/L6/lstm/boundary.csv").read_text().splitlines()
    assert (
        table[0].startswith("eps,transition,W_boundary,W_se,W_lo95,W_lo68,W_hi68,W_hi95,W_member_lo68")
        and len(table) == 3
    )
    for row in csv.DictReader(table):  # the estimate inside its own intervals, and the reader of the columns
        assert float(row["W_lo95"]) <= float(row["W_lo68"]) <= float(row["W_boundary"]) <= float(row["W_hi68"])
        assert float(row["W_hi68"]) <= float(row["W_hi95"])
    assert (
        read_boundaries(reference_run / "results/mbl/L6/lstm/boundary.csv")[0].keys()
        == next(csv.DictReader(table)).keys()
    )
    assert conf["boundary_interval"].dims == ("eps", "transition", "bound")
    assert conf["transition"].values.tolist() == ["ergodic|localized"]
    iv = conf["boundary_interval"].values
    assert np.all(np.diff(iv, axis=-1) >= 0)  # lo95 <= lo68 <= hi68 <= hi95
    flq = xr.open_zarr(reference_run / "results/floquet/L4/lstm/confusion.zarr")
    assert flq["p"].dims == ("member", "eps", "realization", "class") and flq.sizes["class"] == 3
    assert flq["boundary"].dims == ("transition",)
    assert flq["transition"].values.tolist() == ["time_crystal|ergodic", "ergodic|floquet_mbl"]
    assert len((reference_run / "results/floquet/L4/lstm/boundary.csv").read_text().splitlines()) == 3


def outside_own_intervals(root: Path) -> tuple[int, int]:
    """(estimates outside their own 68% or 95% interval, estimates checked) over every table under ``root`` that
    reports a boundary with its intervals (boundary.csv of every model and kind, the comparison, robustness, scaling
    and convergence tables)."""
    bad = total = 0
    for path in sorted(root.rglob("*.csv")):
        rows = list(csv.DictReader(open(path)))
        if not rows:
            continue
        cols = rows[0].keys()
        value = next((c for c in cols if c == "boundary" or c.endswith("_boundary")), None)
        prefix = "" if value == "boundary" else (value or "").removesuffix("boundary")
        if value is None or f"{prefix}lo95" not in cols:
            continue
        for r in rows:
            lo95, lo68, x, hi68, hi95 = (float(r[c]) for c in (f"{prefix}lo95", f"{prefix}lo68", value,
                                                               f"{prefix}hi68", f"{prefix}hi95"))  # fmt: skip
            total += 1
            bad += not (lo95 <= lo68 <= x <= hi68 <= hi95)
    return bad, total


def test_no_estimate_lies_outside_its_own_intervals(reference_run):
    """Every boundary the tiny default target reports lies inside its own 68% and 95% intervals (issue 21: a point
    estimate was seen outside its own 95% interval)."""
    bad, total = outside_own_intervals(reference_run / "results")
    assert total >= 40 and bad == 0, (bad, total)


def test_default_target_builds_the_paper_checks_and_the_report(reference_run):
    import csv

    rows = lambda name: list(csv.DictReader(open(reference_run / "results" / "checks" / f"{name}.csv")))  # noqa: E731
    assert {r["units"] for r in rows("confusion_vs_units")} == {"1", "4"}
    blanking = rows("blanking")
    assert len(blanking) == 2 * 2  # variants x eps
    assert all(float(r["shift_vs_default"]) == 0.0 for r in blanking if r["ergodic_W_max"] == "0.5")
    assert sum(int(r["samples"]) for r in rows("calibration")) > 0
    unseen = rows("unseen_phase")
    assert [r["region"] for r in unseen].count("unseen (floquet_mbl)") == 1
    kinds = {r["classifier"] for r in rows("classifiers")}
    assert kinds == {"lstm", "threshold", "logistic", "mlp"}
    for name in ("confusion_vs_units", "blanking", "calibration", "unseen_phase", "classifiers"):
        assert (reference_run / "results" / "figures" / f"{name}.png").stat().st_size > 10_000
    snakemake(reference_run, "--report", "report.html")
    html = (reference_run / "report.html").read_text(errors="replace")
    assert "phase_diagram.png" in html and "unseen_phase.png" in html


def test_robustness_study_at_exact_values_is_the_phase_diagram_set(reference_run):
    """The variant site, N = ∞, every time refits the phase diagram's set with the same draws: same boundaries; the
    imbalance threshold reads the same feature from either observable; the single-neuron check covers every member."""
    import csv

    rows = list(csv.DictReader(open(reference_run / "results/checks/robustness.csv")))
    study = TINY["robustness"]
    per_model = len(study["observables"]) * (len(study["shots"]) + len(study["time_strides"]) - 1) * 2  # 2 kinds
    assert len(rows) == per_model * (1 + 2)  # mbl: one transition, floquet: two
    for model, L, eps in (("mbl", 6, study["eps"]), ("floquet", 4, None)):
        main = list(csv.DictReader(open(reference_run / f"results/{model}/L{L}/lstm/boundary.csv")))
        main = [r for r in main if eps is None or float(r["eps"]) == eps]
        exact = [
            r
            for r in rows
            if (r["model"], r["classifier"], r["observable"], r["shots"], r["time_stride"])
            == (model, "lstm", "site", "inf", "1")
        ]
        label = "W" if model == "mbl" else "eps"
        assert [r["boundary"] for r in exact] == [r[f"{label}_boundary"] for r in main] and len(exact) == len(main)
        for shots, stride in {(r["shots"], r["time_stride"]) for r in rows}:
            base = {
                r["observable"]: (r["transition"], r["boundary"], r["lo95"], r["hi95"])
                for r in rows
                if (r["model"], r["classifier"], r["shots"], r["time_stride"]) == (model, "threshold", shots, stride)
            }
            if len(base) == 2 and shots == "inf":
                assert base["site"] == base["imbalance"], (model, shots, stride)
    assert {(r["n_features"]) for r in rows if r["observable"] == "imbalance"} == {"1"}
    neuron = list(csv.DictReader(open(reference_run / "results/checks/single_neuron.csv")))
    assert len(neuron) == 3 * TINY["training"]["members"] and all(0.5 <= float(r["agreement"]) <= 1 for r in neuron)
    for name in ("robustness", "single_neuron"):
        assert (reference_run / "results" / "figures" / f"{name}.png").stat().st_size > 10_000


def test_dataset_equals_direct_kernel_calls(reference_run):
    """The workflow adds no physics: its dataset equals the public API called directly."""
    ds = xr.open_zarr(reference_run / MBL_DS)
    cfg = TINY["mbl"]
    times = np.linspace(0, cfg["t_max"], cfg["n_times"])
    direct = MBL.simulate(TINY["seed"], 6, 3.0, [0.7], range(4), times)
    assert np.abs(ds["magnetization"].sel(eps=0.7, W=3.0).values - direct["magnetization"][:, 0]).max() < 1e-10
    assert np.array_equal(ds["field"].sel(W=3.0).values, direct["field"])
    fl = xr.open_zarr(reference_run / FLQ_DS)
    f = TINY["floquet"]
    direct = FLOQUET.simulate(TINY["seed"], 4, [float(fl["eps"][1])], range(3), f["periods"])
    assert np.abs(fl["magnetization"].isel(eps=1).values - direct["magnetization"][0]).max() < 1e-12


@pytest.mark.workflow
def test_rerun_is_bit_identical_and_block_size_free(reference_run, tmp_path):
    again = workdir(tmp_path, TINY, "again")
    snakemake(again, "--cores", "2", "results/phase_diagram.png")  # the datasets and the LSTM's confusion
    single = copy.deepcopy(TINY)
    single["mbl"]["realizations_per_job"] = 1
    single["floquet"]["realizations_per_job"] = 3
    one = workdir(tmp_path, single, "single")
    snakemake(one, "--cores", "2", MBL_DS, FLQ_DS)
    for ds_path in (MBL_DS, FLQ_DS):
        ref = xr.open_zarr(reference_run / ds_path)
        xr.testing.assert_identical(ref, xr.open_zarr(again / ds_path))
    for model in ("mbl/L6", "floquet/L4"):  # training too: a from-scratch run gives bit-identical confusion
        conf = f"results/{model}/lstm/confusion.zarr"
        xr.testing.assert_identical(xr.open_zarr(reference_run / conf), xr.open_zarr(again / conf))
        other = xr.open_zarr(one / ds_path)
        assert np.abs(ref["magnetization"].values - other["magnetization"].values).max() < 1e-10
        assert np.array_equal(ref["field"].values, other["field"].values)


@pytest.mark.workflow
def test_one_point_target_builds_only_that_point(tmp_path):
    d = workdir(tmp_path, TINY)
    target = "results/mbl/L6/traces/eps0.3000/W3.000/r000-001.zarr.zip"
    snakemake(d, "--cores", "1", target)
    built = sorted(str(p.relative_to(d)) for p in (d / "results").rglob("*.zarr.zip"))
    assert built == ["results/mbl/L6/bounds/W3.000/r000-001.zarr.zip", target]
    arrays, attrs = read_arrays(d / target)
    assert attrs["eps"] == 0.3 and attrs["W"] == 3.0 and attrs["realizations"] == [0, 1]
    assert arrays["magnetization"].shape == (2, 1, 6, 6)
    # --force of that point re-runs that job only (its bounds are not rebuilt)
    proc = snakemake(d, "--cores", "1", "--force", target)
    assert planned_jobs(proc.stdout + proc.stderr) == {"mbl_traces": 1}


@pytest.mark.workflow
def test_point_outside_the_grid_is_refused(tmp_path):
    d = workdir(tmp_path, TINY)
    proc = snakemake(d, "--cores", "1", "results/mbl/L6/traces/eps0.4000/W3.000/r000-001.zarr.zip", check=False)
    assert proc.returncode != 0
    assert "eps = 0.4000 is not a point of the configured grid" in proc.stdout + proc.stderr
    proc = snakemake(d, "-n", "results/mbl/L8/traces.zarr", check=False)  # the L in a path is the configured one
    assert proc.returncode != 0
    assert "mbl.L = 6 in the config; the target asks for L8" in proc.stdout + proc.stderr


@pytest.mark.workflow
def test_bad_config_fails_before_any_job(tmp_path):
    bad = copy.deepcopy(TINY)
    bad["mbl"]["L"] = 7
    d = workdir(tmp_path, bad)
    proc = snakemake(d, "--cores", "1", check=False)
    assert proc.returncode != 0
    assert "mbl.L = 7 is not allowed: it must be a multiple of 2" in proc.stdout + proc.stderr
    assert not (d / "results").exists()


@pytest.mark.workflow
def test_yaml_error_in_config_names_file_and_line(tmp_path):
    d = tmp_path / "run"
    d.mkdir()
    (d / "config.yaml").write_text(yaml.safe_dump(TINY).replace("seed: 7", "seed: [7"))
    proc = subprocess.run(SNAKEMAKE + ["--directory", str(d), "--cores", "1"], capture_output=True, text=True)
    assert proc.returncode != 0
    assert f"{d / 'config.yaml'}, line " in proc.stdout + proc.stderr and "invalid YAML" in proc.stdout + proc.stderr
    assert not (d / "results").exists()


@pytest.mark.workflow
def test_keys_filled_from_config_yaml_are_printed(tmp_path):
    d = workdir(tmp_path, TINY)  # the workflow's config.yaml in the working directory
    partial = {k: v for k, v in TINY.items() if k != "checks"}
    (tmp_path / "partial.yaml").write_text(yaml.safe_dump(partial))
    proc = subprocess.run(
        SNAKEMAKE + ["--directory", str(d), "--configfile", str(tmp_path / "partial.yaml"), "-n"],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr
    assert f"phasetrace: taken from {d / 'config.yaml'} (not set by --configfile/--config): checks" in proc.stderr


@pytest.mark.workflow
def test_a_single_energy_density_draws_the_phase_diagram(tmp_path):
    one = copy.deepcopy(TINY)
    one["mbl"]["eps"] = [0.3]
    d = workdir(tmp_path, one)
    snakemake(d, "--cores", "2", "results/phase_diagram.png")
    assert (d / "results" / "phase_diagram.png").stat().st_size > 10_000


@contextlib.contextmanager
def sigint_as_in_a_terminal():
    """Start children with SIGINT's default disposition, as a terminal's foreground job has it. A shell without job
    control starts background commands with SIGINT ignored (CI's runner does), children inherit that across exec,
    and a Python started so installs no KeyboardInterrupt handler: Snakemake would ignore every SIGINT and finish
    the run. A handled signal, unlike an ignored one, is reset to the default on exec."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def interrupt(proc, sig, patience=5.0, tries=12):
    """Send ``sig`` to the run's process group until it exits, as a user presses Ctrl-C again: Snakemake's log
    handler drops a KeyboardInterrupt raised while it writes a line (``except (KeyboardInterrupt, SystemExit):
    pass`` in snakemake/logging.py)."""
    for _ in range(tries):
        os.killpg(proc.pid, sig)
        try:
            return proc.wait(timeout=patience)
        except subprocess.TimeoutExpired:
            continue
    raise AssertionError(f"snakemake did not stop after {tries} signals {sig!r}")


@pytest.mark.workflow
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGKILL])
def test_interrupted_run_resumes_to_the_same_dataset(reference_run, tmp_path, sig):
    d = workdir(tmp_path, TINY)
    # the datasets, interrupted among their simulation jobs, then the same command again
    cmd = SNAKEMAKE + ["--directory", str(d), "--configfile", str(d / "config.yaml"), "--cores", "1", MBL_DS, FLQ_DS]
    with sigint_as_in_a_terminal():
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and len(list((d / "results").rglob("*.zarr.zip"))) < 4:
        time.sleep(0.05)
    interrupt(proc, sig)
    done = list((d / "results").rglob("*.zarr.zip"))
    assert 0 < len(done) < 20 + 10 + 6, "the interruption should land mid-run"
    for p in done:  # every store present is whole: no partial store is ever visible under its final name
        read_arrays(p)
    if sig == signal.SIGKILL:  # a killed snakemake cannot release its lock; the documented recovery:
        snakemake(d, "--unlock")
    snakemake(d, "--cores", "2", MBL_DS, FLQ_DS)
    for ds_path in (MBL_DS, FLQ_DS):
        xr.testing.assert_identical(xr.open_zarr(reference_run / ds_path), xr.open_zarr(d / ds_path))
    assert not list((d / "results").rglob(".*.tmp-*"))


def test_health_check_failure_leaves_no_output_and_names_the_point(tmp_path):
    bounds = tmp_path / "bounds.zarr.zip"
    arrays = {
        "E0": np.array([-0.5, -0.5]),
        "Emax": np.array([0.5, 0.5]),
        "E0_error": np.zeros(2),
        "Emax_error": np.zeros(2),
        "iterations": np.array([1, 1]),
    }  # far too narrow a spectrum
    write_arrays(bounds, arrays, {"realizations": [0, 1]} | record(settings(TINY, "bounds", "mbl", W=3.0)))
    out = tmp_path / "traces.zarr.zip"
    with pytest.raises(
        RuntimeError,
        match=r"sweep point mbl L=6 eps0.7000/W3.000 realizations r000-001: .*health "
        r"check",
    ):
        simulation.simulate_job(TINY, "mbl", "traces", "eps0.7000/W3.000", "r000-001", [str(bounds)], str(out))
    assert not out.exists() and not list(tmp_path.glob(".*tmp*"))


def test_lint_and_format():
    proc = subprocess.run(
        SNAKEMAKE + ["--lint", "--configfile", str(ROOT / "config.yaml")], capture_output=True, text=True, cwd=ROOT
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "Lints for" not in proc.stdout + proc.stderr
    snakefmt = shutil.which("snakefmt") or str(Path(sys.executable).parent / "snakefmt")
    files = [str(ROOT / "Snakefile"), *map(str, sorted((ROOT / "workflow" / "rules").glob("*.smk")))]
    fmt = subprocess.run([snakefmt, "--check", *files], capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    for args in (["check", "."], ["format", "--check", "."]):  # pyproject.toml's [tool.ruff]
        proc = subprocess.run([ruff, *args], capture_output=True, text=True, cwd=ROOT)
        assert proc.returncode == 0, f"ruff {' '.join(args)}:\n{proc.stdout}{proc.stderr}"


@pytest.mark.workflow
def test_paper_preset_dag_builds(tmp_path):
    t = time.perf_counter()
    proc = subprocess.run(
        SNAKEMAKE
        + ["-n", "--quiet", "rules", "--configfile", str(ROOT / "config" / "paper.yaml"), "--directory", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - t
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "simulate" in proc.stdout + proc.stderr
    print(f"paper preset dry run: {elapsed:.1f} s")


def test_a_write_removes_temporaries_left_by_a_killed_write(tmp_path):
    target = tmp_path / "r000-001.zarr.zip"
    stale = tmp_path / ".r000-001.zarr.zip.tmp-deadbeef"
    stale.write_bytes(b"half a zip")
    other = tmp_path / ".r002-003.zarr.zip.tmp-deadbeef"  # another target's temporary is not ours to remove
    other.write_bytes(b"")
    write_arrays(target, {"a": np.arange(3)}, {})
    assert not stale.exists() and other.exists()
    assert read_arrays(target)[0]["a"].tolist() == [0, 1, 2]


@pytest.mark.workflow
def test_third_model_runs_through_the_same_rules_and_contract(tmp_path):
    """The quasi-periodic chain, enabled by the models list alone: its dataset passes the MBL dataset's contract and
    equals direct calls of the model; its confusion has the same layout."""
    cfg = copy.deepcopy(TINY)
    cfg["models"] = ["quasiperiodic"]
    d = workdir(tmp_path, cfg)
    snakemake(d, "--cores", "2", "results/quasiperiodic/L6/lstm/confusion.zarr")
    ds = xr.open_zarr(d / "results/quasiperiodic/L6/traces.zarr")
    mbl_like = {
        "magnetization": ("eps", "W", "realization", "time", "site"),
        "field": ("W", "realization", "site"),
        "initial_state": ("eps", "W", "realization", "site"),
        "E0": ("W", "realization"),
        "Emax": ("W", "realization"),
        "initial_energy": ("eps", "W", "realization"),
        "label": ("eps", "W"),
    }
    assert {name: ds[name].dims for name in mbl_like} == mbl_like and ds.attrs["model"] == "quasiperiodic"
    assert ds["label"].attrs["classes"] == ["ergodic", "localized"]
    assert ds["label"].values.tolist() == [[0, 0, -1, 1, 1]] * 2
    c = cfg["quasiperiodic"]
    direct = QUASIPERIODIC.simulate(cfg["seed"], 6, 3.0, [0.7], range(4), np.linspace(0, c["t_max"], c["n_times"]))
    assert np.abs(ds["magnetization"].sel(eps=0.7, W=3.0).values - direct["magnetization"][:, 0]).max() < 1e-10
    conf = xr.open_zarr(d / "results/quasiperiodic/L6/lstm/confusion.zarr")
    assert conf["confusion"].dims == ("eps", "W") and conf["boundary_interval"].dims == ("eps", "transition", "bound")
    assert not (d / "results" / "mbl").exists() and not (d / "results" / "floquet").exists()


@pytest.mark.workflow
def test_a_config_may_leave_out_the_models_it_does_not_build(tmp_path):
    cfg = copy.deepcopy(TINY)
    cfg["models"] = ["quasiperiodic"]
    del cfg["mbl"], cfg["floquet"]
    d = workdir(tmp_path, cfg)
    proc = snakemake(d, "-n")
    assert planned_jobs(proc.stdout + proc.stderr) == {
        "quasiperiodic_bounds": 10, "quasiperiodic_traces": 20, "quasiperiodic_dataset": 1,
        "quasiperiodic_network": 8, "quasiperiodic_confusion": 4, "classifiers_figure": 1, "phase_diagram": 1,
        "robustness_variant": 6, "robustness": 1, "quasiperiodic_scheme": 2, "quasiperiodic_optimal": 1,
        "schemes_figure": 1, "all": 1,
    }  # fmt: skip


@pytest.mark.workflow
def test_the_replicate_study_reruns_with_spawned_seeds_and_summarizes_what_it_wrote(tmp_path):
    """`snakemake replicates` on the tiny config: one table per replicate with its own root seed (spawned from the
    config's), every estimate inside its own intervals, and a summary recomputed here from those tables."""
    from phasetrace.seeds import replicate_seed

    d = workdir(tmp_path, TINY)
    snakemake(d, "--cores", "2", "replicates")
    rep = TINY["replicates"]
    tables = sorted((d / "results/replicates/mbl/L6").glob("rep*.csv"))
    assert [p.name for p in tables] == [f"rep{i:03d}.csv" for i in range(rep["n"])]
    rows = [r for p in tables for r in csv.DictReader(open(p))]
    assert {int(r["seed"]) for r in rows} == {replicate_seed(TINY["seed"], i) for i in range(rep["n"])}
    assert len({replicate_seed(TINY["seed"], i) for i in range(rep["n"])} | {TINY["seed"]}) == rep["n"] + 1
    assert outside_own_intervals(d / "results/replicates") == (0, len(rows))
    summary = list(csv.DictReader(open(d / "results/checks/replicates.csv")))
    assert [int(s["realizations"]) for s in summary] == rep["realizations"]
    for s in summary:
        mine = [r for r in rows if r["realizations"] == s["realizations"]]
        x = np.array([float(r["boundary"]) for r in mine])
        h = np.array([(float(r["hi68"]) - float(r["lo68"])) / 2 for r in mine])
        assert float(s["mean"]) == pytest.approx(x.mean(), abs=1e-4)
        assert float(s["sd"]) == pytest.approx(x.std(ddof=1), abs=1e-4)
        z = (x - x.mean()) / h * np.sqrt(x.size / (x.size - 1))
        assert float(s["sd_z"]) == pytest.approx(z.std(ddof=1), rel=1e-3)
    assert (d / "results/figures/replicates.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
