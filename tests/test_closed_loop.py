"""The closed loop on a synthetic experiment (phasetrace.closed_loop, ``python -m phasetrace closed-loop``): the
measured model reads only the experiment's CSVs and holds exactly the simulated traces; the same traces read
directly give the identical boundary; each round's file continues the realizations its points hold; the interval
narrows round by round on average; the uniform sweep spends as many traces; the config is checked by name."""

from __future__ import annotations

import copy
import csv
from pathlib import Path

import numpy as np
import pytest
import xarray as xr
import yaml

from phasetrace import closed_loop as cl
from phasetrace.__main__ import main

pytestmark = pytest.mark.xdist_group("closed_loop")  # one worker runs the loop the slow tests share (make test's xdist)

LOOP = {
    "replicates": 2,
    "points": [0.5, 2.0, 3.5, 5.0, 6.5, 8.0],
    "realizations": 8,
    "rounds": 3,
    "budget": 16,
    "block": 4,
    "uniform_points": 8,
}
OVERLAY = {
    "seed": 11,
    "quasiperiodic_fixed": {
        "L": 6,
        "t_max": 20.0,
        "n_times": 6,
        "W": {"start": 0.5, "stop": 8.0, "num": 6},
        "realizations": 8,
        "windows": {"ergodic_W_max": 0.5, "localized_W_min": 8.0},
    },
    "measurement": {"observable": "imbalance", "shots": 100},
    "robustness": {"time_strides": [1, 3, 5]},
    "training": {
        "units": 8,
        "steps": 40,
        "members": 8,
        "resamples": 4,
        "realizations": 8,
        "batch_size": 8,
        "late_times": 3,
    },
    "closed_loop": LOOP,
}


def write(d: Path, overlay: dict) -> Path:
    path = d / "loop.yaml"
    path.write_text(yaml.safe_dump(overlay))
    return path


@pytest.fixture(scope="module")
def loop_run(tmp_path_factory) -> Path:
    """The tiny closed loop, run as a user runs it (the command line, from its working directory)."""
    d = tmp_path_factory.mktemp("loop")
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(d)
        main(["closed-loop", str(write(d, OVERLAY)), "--out", "out"])
    return d


def table(path: Path) -> list[dict]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_every_round_reads_only_its_csvs_and_holds_exactly_the_simulated_traces(loop_run):
    """Every round's dataset (built from the CSVs alone) holds exactly the traces simulated in memory; a freshly
    simulated trace of any (W, realization) is the value the files hold, and equals the main simulation pipeline's
    trace of that realization (the same disorder and shot streams); each round's file continues the realizations
    its points hold; the traces grow by the budget; the uniform sweep spends as many."""
    from phasetrace.config import validate
    from phasetrace.measured_data import read_measured
    from phasetrace.measurement import measured, observed
    from phasetrace.seeds import replicate_seed
    from phasetrace.simulation import run_sweep

    rows = table(loop_run / "out/closed_loop.csv")
    adaptive = [r for r in rows if r["design"] == "adaptive"]
    assert len(adaptive) == LOOP["replicates"] * (LOOP["rounds"] + 1)
    assert all(r["lossless"] == "True" for r in rows if r["design"] != "exact")
    start = len(LOOP["points"]) * LOOP["realizations"]
    assert all(int(r["traces"]) == start + LOOP["budget"] * int(r["round"]) for r in adaptive)
    uniform = {(r["replicate"], r["round"]): r for r in rows if r["design"] == "uniform"}
    assert len(uniform) == len(adaptive)
    for r in adaptive:
        assert uniform[r["replicate"], r["round"]]["traces"] == r["traces"]
        assert int(uniform[r["replicate"], r["round"]]["points"]) == LOOP["uniform_points"]

    config, _ = cl.load(loop_run / "loop.yaml")
    seed = replicate_seed(config["seed"], 0)
    data = loop_run / "out/rep000/adaptive/data"
    held: dict[float, list[int]] = {}
    section = {"sweep": cl.SWEEP, "L": 6, "observable": "imbalance"}
    for k in range(LOOP["rounds"] + 1):
        arrays = read_measured(data / f"round{k}.csv", section)
        for i, w in enumerate(arrays["points"]):
            labels = arrays["realizations"][i, : arrays["counts"][i]].tolist()
            assert labels[0] == len(held.get(float(w), [])), (k, w)  # continues where the point's realizations end
            held.setdefault(float(w), []).extend(labels)
            again = cl.measure(config | {"seed": seed}, float(w), labels[0], len(labels))
            assert np.array_equal(arrays["values"][i, : len(labels)], again.values)
    assert all(v == list(range(len(v))) for v in held.values())

    grid = [w for w in held if w in (0.5, 8.0)]
    main_sweep = config | {"seed": seed, "models": [cl.CHAIN]}
    main_sweep[cl.CHAIN] = main_sweep[cl.CHAIN] | {"W": grid, "realizations": 8, "realizations_per_job": 8}
    ds = observed(measured(main_sweep, cl.CHAIN, run_sweep(validate(main_sweep), cl.CHAIN)))
    first = read_measured(data / "round0.csv", section)
    for i, w in enumerate(first["points"]):
        if float(w) in grid:
            n = first["counts"][i]
            assert np.array_equal(first["values"][i, :n], ds.sel(W=float(w)).values[:n])


@pytest.mark.slow
def test_the_same_traces_read_directly_give_the_identical_boundary(loop_run, monkeypatch):
    """The last round's dataset assembled in memory from the traces the experiment simulated (no CSV) and run
    through the same network and confusion jobs gives bit for bit the boundary the CSVs gave."""
    from phasetrace import __version__
    from phasetrace.models import get
    from phasetrace.provenance import record, settings
    from phasetrace.seeds import replicate_seed
    from phasetrace.store import write_dataset
    from phasetrace.training import confusion_job, network_job

    config, _ = cl.load(loop_run / "loop.yaml")
    seed = replicate_seed(config["seed"], 0)
    k = LOOP["rounds"]
    root = loop_run / f"out/rep000/adaptive/round{k}/measured/L6"
    from_csv = xr.open_zarr(root / "lstm/confusion.zarr").load()
    traces = xr.open_zarr(root / "traces.zarr").load()
    points = traces["W"].values
    counts = traces["realizations"].values
    measurements = [
        cl.measure(config | {"seed": seed}, float(w), 0, int(n)) for w, n in zip(points, counts, strict=True)
    ]
    values, held = cl.held_traces(measurements, points)
    files = [f"out/rep000/adaptive/data/round{i}.csv" for i in range(k + 1)]
    mcfg = cl.measured_config(config, seed, files, points, min(LOOP["realizations"], LOOP["block"]))
    store = {
        "values": values,
        "counts": held,
        "points": points,
        "realizations": np.where(np.arange(values.shape[1]) < held[:, None], np.arange(values.shape[1]), -1),
        "times": measurements[0].times,
    }
    ds = get(cl.MEASURED).dataset(mcfg, [(store, {"source": "memory", "source_sha256": ""})])
    ds.attrs |= {"model": cl.MEASURED, "seed": seed, "phasetrace_version": __version__}
    ds.attrs |= record(settings(mcfg, "dataset", cl.MEASURED))
    monkeypatch.chdir(loop_run)
    write_dataset("direct/traces.zarr", ds)
    network_job(mcfg, cl.MEASURED, "lstm", "all", "direct/traces.zarr", "direct/all.zarr.zip")
    confusion_job(mcfg, cl.MEASURED, "lstm", "direct/traces.zarr", ["direct/all.zarr.zip"], "direct/c.zarr", "b.csv")
    direct = xr.open_zarr("direct/c.zarr").load()
    assert np.array_equal(traces["imbalance"].values, ds["imbalance"].values, equal_nan=True)
    for v in ("boundary", "boundary_se", "boundary_interval", "confusion"):
        assert np.array_equal(direct[v].values, from_csv[v].values), v
    assert np.array_equal(direct["p"].values, from_csv["p"].values, equal_nan=True)


@pytest.mark.slow
def test_the_loop_narrows_the_interval_more_than_a_uniform_sweep_and_plans_within_its_budget(loop_run):
    """The 95% interval's width, averaged over the replicates, is narrower after the last round than after round 0,
    and narrower than the uniform sweep's of as many traces; every suggest.csv plans at most the budget in blocks;
    the summary averages what the table holds."""
    rows = table(loop_run / "out/closed_loop.csv")

    def width(design: str, k: int) -> float:
        return float(np.mean([float(r["width95"]) for r in rows if (r["design"], r["round"]) == (design, str(k))]))

    last = LOOP["rounds"]
    assert width("adaptive", last) < width("adaptive", 0), [width("adaptive", k) for k in range(last + 1)]
    assert width("adaptive", last) < width("uniform", last), (width("adaptive", last), width("uniform", last))
    for rep in range(LOOP["replicates"]):
        for k in range(LOOP["rounds"]):
            plan = table(loop_run / f"out/rep{rep:03d}/adaptive/round{k}/suggest.csv")
            added = [int(r["realizations"]) for r in plan if r["value"]]
            assert sum(added) <= LOOP["budget"] and all(n % LOOP["block"] == 0 for n in added)
    summary = table(loop_run / "out/closed_loop_summary.csv")
    assert [(r["design"], r["round"]) for r in summary] == [
        (d, str(k)) for d in ("adaptive", "uniform") for k in range(4)
    ]
    assert np.allclose([float(r["width95_mean"]) for r in summary[:4]], [width("adaptive", k) for k in range(4)])


def test_even_counts_spread_the_traces():
    counts = cl.even_counts(147, 16)
    assert counts.sum() == 147 and counts.max() - counts.min() <= 1


@pytest.mark.parametrize(
    "change,match",
    [
        (lambda o: o.pop("closed_loop"), r"needs a closed_loop section"),
        (lambda o: o["closed_loop"].update(rounds=-1), r"closed_loop\.rounds = -1 is not allowed: it must be >= 0"),
        (lambda o: o["closed_loop"].update(extra=1), r"closed_loop: unknown key\(s\) \['extra'\]"),
        (lambda o: o["measurement"].update(observable="site"), r"measurement\.observable = 'site' is not allowed"),
        (lambda o: o["closed_loop"].update(points=[0.5, 2.0, 3.5]), r"no point lies in the localized window"),
        (lambda o: o["closed_loop"].update(points=[0.5, 8.0, 3.5]), r"closed_loop\.points = .* strictly increasing"),
        (lambda o: o["closed_loop"].update(block=17), r"closed_loop\.block = 17 is not allowed: at most"),
        (lambda o: o["training"].update(members=3), r"training\.members = 3 is not allowed"),
    ],
)
def test_the_config_is_checked_by_name(tmp_path, change, match):
    overlay = copy.deepcopy(OVERLAY)
    change(overlay)
    with pytest.raises(ValueError, match=match):
        cl.load(write(tmp_path, overlay))


def test_the_output_folder_is_new_and_inside_the_working_directory(tmp_path, monkeypatch, capsys):
    (tmp_path / "work" / "out").mkdir(parents=True)
    monkeypatch.chdir(tmp_path / "work")
    path = str(write(tmp_path, OVERLAY))
    for out, message in (("out", "--out out exists"), ("../elsewhere", "is outside the working directory")):
        with pytest.raises(SystemExit) as err:
            main(["closed-loop", path, "--out", out])
        assert message in str(err.value)
