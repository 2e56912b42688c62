"""The measured model (phasetrace.models.measured, phasetrace.measured_data): a synthetic experiment made by phasetrace
itself (mbl_fixed traces, Néel state) exported with store.write_traces_csv is imported losslessly; CSV and NetCDF of
the same traces give the identical boundary; every malformed file is refused by name before training; adding a file
reruns only its import and what gathers; a tiny workflow run to the phase diagram."""

from __future__ import annotations

import copy
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from phasetrace import config as config_mod
from phasetrace.measured_data import dataset_job, import_job, read_measured
from phasetrace.measurement import robustness_variants
from phasetrace.models import MODELS, get
from phasetrace.models.measured import file_name
from phasetrace.store import write_traces_csv
from tiny import ROOT, TINY, job_stats, snakemake, workdir

SEED, L, R = 7, 6, 4
POINTS = [0.5, 1.0, 3.0, 7.0, 8.0]
FIRST, LAST = POINTS[:3], POINTS[3:]  # the two files of the synthetic experiment
TIMES = np.linspace(0.0, 20.0, 6)
SECTION = {
    "files": ["data/low.csv", "data/high.csv"],
    "sweep": {"name": "W", "units": "J"},
    "points": POINTS,
    "L": L,
    "realizations": R,
    "time_unit": "1/J",
    "observable": "site",
    "shots": None,
    "windows": {"low": {"name": "ergodic", "max": 1.0}, "high": {"name": "localized", "min": 7.0}},
}
CONFIG = copy.deepcopy(TINY) | {"models": ["measured"], "measured": SECTION}


@pytest.fixture(scope="module")
def experiment() -> xr.Dataset:
    """The synthetic experiment: mbl_fixed traces from the Néel state at every point, R realizations."""
    mag = np.stack(
        [MODELS["mbl_fixed"].simulate(SEED, L, w, range(R), TIMES)["magnetization"] for w in POINTS]
    )  # (W, realization, time, site)
    coords = {"W": POINTS, "realization": np.arange(R), "time": TIMES, "site": np.arange(L)}
    return xr.Dataset({"magnetization": (tuple(coords), mag)}, coords=coords)


def export(ds: xr.Dataset, d: Path, suffix: str = "csv", variable: str = "magnetization") -> list[str]:
    """The experiment as two files under d/data (CSV via store.write_traces_csv, or NetCDF), the config's names."""
    (d / "data").mkdir(parents=True, exist_ok=True)
    names = []
    for stem, points in (("low", FIRST), ("high", LAST)):
        name = f"data/{stem}.{suffix}"
        part = ds.sel(W=points)
        if suffix == "csv":
            write_traces_csv(part, d / name, variable)
        else:
            part[[variable]].to_netcdf(d / name)
        names.append(name)
    return names


def imbalance_of(ds: xr.Dataset) -> xr.Dataset:
    m = ds["magnetization"]
    return xr.Dataset({"imbalance": (m * m.isel(time=0)).mean("site")})


# --- lossless import and the identical boundary -----------------------------------------------------------------


def run_jobs(config: dict, d: Path) -> xr.Dataset:
    """The import and dataset jobs in-process (working directory d), the dataset they write."""
    cfg = config["measured"]
    stores = []
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(d)
        for f in cfg["files"]:
            store = f"results/imported/{file_name(f)}.zarr.zip"
            import_job(config, "measured", file_name(f), f, store)
            stores.append(store)
        dataset_job(config, "measured", stores, "results/traces.zarr")
        return xr.open_zarr("results/traces.zarr").load()


@pytest.mark.parametrize("observable", ["site", "imbalance"])
def test_the_csvs_of_a_synthetic_experiment_import_losslessly(experiment, tmp_path, observable):
    """write_traces_csv writes each float so that it reads back exactly (shortest repr): the measured dataset holds
    the very values of the simulated traces (site) or of their imbalance, with the files' digests and the sweep's
    name and units in its attrs."""
    source = experiment if observable == "site" else imbalance_of(experiment)
    variable = "magnetization" if observable == "site" else "imbalance"
    export(source, tmp_path, variable=variable)
    config = CONFIG | {"measured": SECTION | {"observable": observable}}
    ds = run_jobs(config_mod.validate(copy.deepcopy(config)), tmp_path)
    assert np.array_equal(ds[variable].values, source[variable].values)
    assert np.array_equal(ds["time"].values, TIMES) and ds["W"].values.tolist() == POINTS
    assert ds[variable].dims == (("W", "realization", "time", "site") if observable == "site" else ds[variable].dims)
    assert "site" not in ds.dims if observable == "imbalance" else ds.sizes["site"] == L
    assert sorted(ds.attrs["source_sha256"]) == sorted(SECTION["files"])
    assert (ds.attrs["sweep_name"], ds.attrs["sweep_units"], ds.attrs["observable"]) == ("W", "J", observable)
    assert ds["label"].values.tolist() == [0, 0, -1, 1, 1]


# --- malformed files: refused by name before training ------------------------------------------------------------


def rows(experiment) -> pd.DataFrame:
    return experiment["magnetization"].sel(W=FIRST).to_dataframe().reset_index()


def case(name: str, df: pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """A malformed copy of the low file's rows, and the regex its refusal must match (file, column, value)."""
    df = df.copy()
    if name == "duplicate":
        return pd.concat([df, df.iloc[[10]]]), r"low\.csv: duplicate rows: line 12, line \d+ all have W = 0\.5"
    if name == "nan":
        df.loc[17, "magnetization"] = np.nan
        return df, r"low\.csv: column 'magnetization' holds nan at line 19"
    if name == "inf":
        df.loc[17, "magnetization"] = np.inf
        return df, r"low\.csv: column 'magnetization' holds inf at line 19"
    if name == "outside":
        df.loc[17, "magnetization"] = 1.5
        return df, r"low\.csv: column 'magnetization' holds 1\.5 at line 19, outside \[-1, 1\]"
    if name == "missing_site":
        drop = df.index[(df["W"] == 1.0) & (df["realization"] == 2) & (df["time"] == TIMES[3]) & (df["site"] == 4)]
        return df.drop(drop), r"low\.csv: missing sites: W = 1\.0, realization 2, time = 12\.0 .* lacks site \[4\]"
    if name == "site_out_of_range":
        df.loc[5, "site"] = L
        return df, rf"low\.csv: column 'site' holds {float(L)} at line 7; it must hold 0 … {L - 1}"
    if name == "time_grid_within":
        drop = df.index[(df["W"] == 3.0) & (df["realization"] == 1) & (df["time"] == TIMES[2])]
        return df.drop(drop), r"low\.csv: W = 3\.0, realization 1 has 5 of the file's 6 times; it lacks time = \[8\.0\]"
    if name == "nan_within_a_trace":  # a trace with some NaN values: not an absent realization
        trace = df.index[(df["W"] == 3.0) & (df["realization"] == 0) & (df["time"] == TIMES[1])]
        df.loc[trace, "magnetization"] = np.nan
        return df, rf"low\.csv: column 'magnetization' holds nan at line {trace[0] + 2} \({L} such entries\)"
    if name == "observable":
        return df.rename(columns={"magnetization": "imbalance"}), r"low\.csv: its value column\(s\) \['imbalance'\] do"
    if name == "unknown_column":
        return df.assign(shot=1), r"low\.csv: the columns must be .* unknown \['shot'\]"
    if name == "sweep_name":
        return df.rename(columns={"W": "disorder"}), r"low\.csv: the columns must be \['W', .*missing \['W'\]"
    raise AssertionError(name)


CASES = [
    "duplicate",
    "nan",
    "inf",
    "outside",
    "missing_site",
    "site_out_of_range",
    "time_grid_within",
    "nan_within_a_trace",
    "observable",
    "unknown_column",
    "sweep_name",
]


@pytest.mark.parametrize("name", CASES)
def test_a_malformed_file_is_refused_by_name_at_its_import(experiment, tmp_path, name):
    df, match = case(name, rows(experiment))
    (tmp_path / "data").mkdir()
    df.to_csv(tmp_path / "data/low.csv", index=False)
    with pytest.raises(ValueError, match=match):
        read_measured(tmp_path / "data/low.csv", SECTION)


def test_a_point_with_no_realizations_in_a_netcdf_file_is_refused_by_name(experiment, tmp_path):
    part = experiment.sel(W=FIRST).copy(deep=True)
    part["magnetization"].loc[{"W": 1.0}] = np.nan
    part.to_netcdf(tmp_path / "low.nc")
    with pytest.raises(ValueError, match=r"low\.nc: the sweep value W = 1\.0 has no realizations"):
        read_measured(tmp_path / "low.nc", SECTION)


@pytest.mark.parametrize(
    "change,match",
    [
        ("other_time_grid", r"high\.csv: its time grid \(6 times, \[0\.0, 5\.0, .* differs from data/low\.csv's"),
        ("point_in_two_files", r"high\.csv: the sweep value W = 3\.0, realization 0 is in data/low\.csv too"),
        ("point_not_configured", r"low\.csv: the sweep value W = 0\.5 is not one of measured\.points"),
        (
            "too_few_realizations",
            r"low\.csv: the sweep value W = 0\.5 has 4 realization\(s\); measured\.realizations = 5",
        ),
        ("configured_point_without_data", r"W = \[2\.0\] of measured\.points have no realizations in any"),
        ("changed_since_import", r"data/low\.csv changed since it was imported"),
    ],
)
def test_files_that_disagree_are_refused_by_name_when_gathered(experiment, tmp_path, change, match):
    """The checks across files, in the dataset job (before any training): one time grid, each point in one file,
    the configured points exactly, files unchanged since their import."""
    export(experiment, tmp_path)
    section = copy.deepcopy(SECTION)
    if change == "other_time_grid":
        later = experiment.sel(W=LAST).assign_coords(time=TIMES * 1.25)
        write_traces_csv(later, tmp_path / "data/high.csv", "magnetization")
    elif change == "point_in_two_files":
        write_traces_csv(experiment.sel(W=[3.0, 7.0, 8.0]), tmp_path / "data/high.csv", "magnetization")
    elif change == "point_not_configured":
        section["points"] = POINTS[1:]
        section["windows"]["low"]["max"] = 1.0
    elif change == "too_few_realizations":
        section["realizations"] = 5
    elif change == "configured_point_without_data":
        section["points"] = sorted([*POINTS, 2.0])
    config = config_mod.validate(CONFIG | {"measured": section})
    if change == "changed_since_import":
        with pytest.MonkeyPatch.context() as mp:
            mp.chdir(tmp_path)
            for f in section["files"]:
                import_job(config, "measured", file_name(f), f, f"results/imported/{file_name(f)}.zarr.zip")
            with open("data/low.csv", "a") as fh:
                fh.write("\n")
            stores = [f"results/imported/{file_name(f)}.zarr.zip" for f in section["files"]]
            with pytest.raises(ValueError, match=match):
                dataset_job(config, "measured", stores, "results/traces.zarr")
        return
    with pytest.raises(ValueError, match=match):
        run_jobs(config, tmp_path)
    assert not (tmp_path / "results/traces.zarr").exists()


@pytest.mark.parametrize(
    "key,value,match",
    [
        (("files",), ["/abs/a.csv"], r"measured\.files: '/abs/a\.csv' is not allowed: paths are relative"),
        (("files",), ["a/b.csv", "a_b.csv"], r"'a/b\.csv' and 'a_b\.csv' are both written 'a_b\.csv'"),
        (("points",), [1.0, 0.5, 3.0], r"measured\.points is not allowed: .*strictly increasing"),
        (("windows", "low", "max"), 7.0, r"measured\.windows\.low\.max must be < measured\.windows\.high\.min"),
        (("observable",), "density", r"measured\.observable = 'density' is not allowed"),
        (("sweep",), {"name": "W"}, r"measured\.sweep: .*must have the keys \['name', 'units'\]"),
    ],
)
def test_the_section_is_checked_with_the_config(key, value, match):
    section = copy.deepcopy(SECTION)
    node = section
    for k in key[:-1]:
        node = node[k]
    node[key[-1]] = value
    with pytest.raises(ValueError, match=match):
        config_mod.validate(CONFIG | {"measured": section})


def test_the_studies_that_simulate_refuse_the_measured_model():
    config = copy.deepcopy(CONFIG)
    config["adaptive"]["model"] = "measured"
    with pytest.raises(ValueError, match=r"adaptive\.model = 'measured' is not allowed: the adaptive study simulates"):
        config_mod.validate(config)


# --- points with unequal numbers of realizations ------------------------------------------------------------------

HELD = {0.5: 4, 1.0: 2, 3.0: 3, 7.0: 3, 8.0: 3}  # the realizations each point of the ragged experiment holds
# the least any point holds is 2, at which the schemes' hold-out by point (which takes that many) holds out none
RAGGED = {k: v for k, v in CONFIG.items() if k != "schemes"} | {"measured": SECTION | {"realizations": 2}}


def export_ragged(ds: xr.Dataset, d: Path, suffix: str) -> None:
    """The experiment with the first HELD[W] realizations at each W: a CSV leaves the other rows out, a NetCDF file
    holds them as all-NaN traces (the padding of a dense array). The two files' most realizations differ (4, 3)."""
    (d / "data").mkdir(parents=True, exist_ok=True)
    for stem, points in (("low", FIRST), ("high", LAST)):
        part = ds.sel(W=points)[["magnetization"]].copy(deep=True)
        for w in points:
            part["magnetization"].loc[{"W": w, "realization": slice(HELD[w], None)}] = np.nan
        part = part.isel(realization=slice(0, max(HELD[w] for w in points)))
        if suffix == "csv":
            part["magnetization"].to_dataframe().reset_index().dropna().to_csv(d / f"data/{stem}.csv", index=False)
        else:
            part.to_netcdf(d / f"data/{stem}.nc")


@pytest.mark.parametrize("suffix", ["csv", "nc"])
def test_points_with_unequal_realizations_are_imported_padded_with_their_counts(experiment, tmp_path, suffix):
    """Each point keeps the realizations it holds; the dataset's realization dimension is as long as the most, the
    rest NaN, and ``realizations`` (W) records each point's count (CSV: rows left out; NetCDF: all-NaN traces)."""
    export_ragged(experiment, tmp_path, suffix)
    section = RAGGED["measured"] | {"files": [f"data/low.{suffix}", f"data/high.{suffix}"]}
    ds = run_jobs(config_mod.validate(RAGGED | {"measured": section}), tmp_path)
    counts = [HELD[w] for w in POINTS]
    assert ds["realizations"].dims == ("W",) and ds["realizations"].values.tolist() == counts
    assert ds.sizes["realization"] == max(counts)
    real = np.arange(R)[None, :] < np.array(counts)[:, None]
    assert np.array_equal(ds["magnetization"].values[real], experiment["magnetization"].values[real])
    assert np.isnan(ds["magnetization"].values[~real]).all()
    assert (ds["source_realization"].values[~real] == -1).all()
    assert ds["source_realization"].values[real].tolist() == np.nonzero(real)[1].tolist()


def test_a_points_realizations_may_come_from_several_files(experiment, tmp_path):
    """A later round's file adds realizations to points an earlier file holds: the dataset holds each point's
    realizations of every file in the order of their labels, and the same realization in two files is refused."""
    (tmp_path / "data").mkdir()
    df = experiment["magnetization"].to_dataframe().reset_index()
    later = df["W"].isin([1.0, 3.0]) & (df["realization"] >= 2) & ~((df["W"] == 3.0) & (df["realization"] == 3))
    df[~later & df["W"].isin(FIRST)].to_csv(tmp_path / "data/low.csv", index=False)
    df[later].to_csv(tmp_path / "data/later.csv", index=False)
    df[df["W"].isin(LAST)].to_csv(tmp_path / "data/high.csv", index=False)
    section = SECTION | {"files": ["data/low.csv", "data/later.csv", "data/high.csv"], "realizations": 2}
    config = {k: v for k, v in CONFIG.items() if k != "schemes"} | {"measured": section}
    ds = run_jobs(config_mod.validate(config), tmp_path)
    assert ds["realizations"].values.tolist() == [4, 4, 4, 4, 4]
    assert np.array_equal(ds["magnetization"].values, experiment["magnetization"].values)
    df[df["W"] == 1.0].to_csv(tmp_path / "data/later.csv", index=False)  # realizations 0, 1 of W = 1 twice
    with pytest.raises(ValueError, match=r"later\.csv: the sweep value W = 1\.0, realization 0 is in data/low\.csv"):
        run_jobs(config_mod.validate(config), tmp_path)


def test_a_sweep_value_with_only_absent_realizations_is_refused_by_name(experiment, tmp_path):
    """Every trace of W = 3.0 all NaN: the point has no realizations."""
    part = experiment.sel(W=FIRST)[["magnetization"]].copy(deep=True)
    part["magnetization"].loc[{"W": 3.0}] = np.nan
    part.to_netcdf(tmp_path / "low.nc")
    with pytest.raises(ValueError, match=r"low\.nc: the sweep value W = 3\.0 has no realizations"):
        read_measured(tmp_path / "low.nc", RAGGED["measured"])


@pytest.mark.parametrize("kind", ["lstm", "threshold"])
def test_training_and_boundaries_on_unequal_realizations(experiment, tmp_path, monkeypatch, kind):
    """The networks see no padding: they train on the first P = min(training.realizations, the smallest count among
    the labeled points) = 2 of each labeled point, the confidence term's unlabeled traces are real, and no NaN is an
    input; padded samples' predictions are NaN. Each group's averaging resample at a point draws among that point's
    realizations; the confusion averages the real realizations only; the boundary is boundaries.estimate_ragged's
    (points weighted by their counts) of the stored predictions; suggest and the figure's imbalance read the dataset."""
    from phasetrace import training
    from phasetrace.adaptive import suggest
    from phasetrace.boundaries import confusion, estimate_ragged
    from phasetrace.figures import late_imbalance, plot_phase_diagram
    from phasetrace.store import read_arrays

    export_ragged(experiment, tmp_path, "csv")
    config = copy.deepcopy(RAGGED)
    config["training"]["confidence_weight"] = 0.1  # the networks see the unlabeled traces too
    config = config_mod.validate(config)
    ds = run_jobs(config, tmp_path)
    counts = np.array([HELD[w] for w in POINTS])
    real = (np.arange(R)[None, :] < counts[:, None]).reshape(-1)
    seen = {}
    fit_members = training.fit_members

    def spy(keys, x, y, train_idx, x_unlabeled, hp):
        seen.update(x=np.asarray(x), y=np.asarray(y), x_unlabeled=np.asarray(x_unlabeled))
        return fit_members(keys, x, y, train_idx, x_unlabeled, hp)

    monkeypatch.setattr(training, "fit_members", spy)
    monkeypatch.chdir(tmp_path)
    training.network_job(config, "measured", kind, "all", "results/traces.zarr", "results/net.zarr.zip")
    training.confusion_job(
        config, "measured", kind, "results/traces.zarr", ["results/net.zarr.zip"], "results/conf.zarr", "b.csv"
    )
    assert np.isfinite(seen["x"]).all() and np.isfinite(seen["x_unlabeled"]).all() and (seen["y"] >= 0).all()
    traces = ds["magnetization"].values.astype(np.float32)  # (W, realization, time, site)
    pool = [traces[i, r] for i in (0, 1, 3, 4) for r in (0, 1)]  # labeled points, the first 2 realizations of each
    assert all(any(np.array_equal(x, q) for q in pool) for x in seen["x"]), "a network saw another trace"
    assert len(seen["x"]) == len(pool) - 2  # round(0.2 * 4) of each class held out
    assert np.array_equal(seen["x_unlabeled"], traces[2, :2])  # W = 3.0: the first min(P, 3) = 2 realizations
    arrays, _ = read_arrays(tmp_path / "results/net.zarr.zip")
    assert np.isnan(arrays["p"][:, ~real]).all() and np.isfinite(arrays["p"][:, real]).all()
    averaging = arrays["averaging"]  # (G, points, R)
    assert all((averaging[:, i, :c] < c).all() for i, c in enumerate(counts))
    conf = xr.open_zarr(tmp_path / "results/conf.zarr").load()
    p = conf["p"].values  # (member, W, realization, class)
    per_point = [p[:, i, :c] for i, c in enumerate(counts)]
    mean = np.stack([q.mean(axis=1) for q in per_point], axis=1)  # (member, W, class): the real realizations
    assert np.allclose(conf["confusion"].values, confusion(mean).mean(axis=0), rtol=0, atol=1e-12)
    x, labels = conf["W"].values, ds["label"].values
    lo, hi = x[labels == 0].max(), x[labels == 1].min()
    groups = [[a[i, :c] for i, c in enumerate(counts)] for a in averaging]
    found = estimate_ragged(x, per_point, 0, 1, lo, hi, groups)
    assert conf["boundary"].values[0] == found.value
    assert np.array_equal(conf["boundary_interval"].values[0], found.interval)
    assert lo <= found.value <= hi
    rows = suggest(conf, budget=4, block=2)
    assert rows[-1]["value"] is None and rows[-1]["realizations"] <= 4
    imb = late_imbalance(ds)
    late = (ds["magnetization"] * ds["magnetization"].isel(time=0)).mean("site")
    late = late.sel(time=ds["time"].values[ds.sizes["time"] // 2 :]).mean("time").values
    sem = [np.std(late[i, :c], ddof=1) / np.sqrt(c) for i, c in enumerate(counts)]
    assert np.allclose(imb["sem"].values, sem) and np.allclose(imb["mean"].values, np.nanmean(late, axis=1))
    fig = plot_phase_diagram(config, [conf], [ds])  # the measured_curve panel
    curves = fig.axes[0].lines[0].get_ydata()  # the members' mean p(ergodic) over the real realizations
    assert np.allclose(curves, mean[..., 0].mean(axis=0))


def test_equal_counts_take_the_dense_path_bit_for_bit():
    """Counts equal to R everywhere draw and fit exactly as a dataset without counts (the simulated models')."""
    from phasetrace.training import fit_set, hyper, pool_samples, realization_resamples

    rng = np.random.default_rng(0)
    n, Rn, T = 5, 6, 4
    x = rng.uniform(-1, 1, size=(n * Rn, T, 2)).astype(np.float32)
    labels = np.repeat([0, 0, -1, 1, 1], Rn)
    full = np.full(n, Rn)
    assert np.array_equal(pool_samples((n, Rn), 4), pool_samples((n, Rn), 4, full, labels[::Rn] >= 0))
    train = pool_samples((n, Rn), 4)[labels[pool_samples((n, Rn), 4)] >= 0]
    a, b = realization_resamples(train, (n, Rn), 3, 7, 1), realization_resamples(train, (n, Rn), 3, 7, 1, counts=full)
    assert all(np.array_equal(u, v) for u, v in zip(a, b, strict=True))
    hp = hyper(copy.deepcopy(TINY), 2, "threshold")
    fits = [fit_set(x, labels, hp, 6, 7, 0.2, 1, shape=(n, Rn), resamples=3, pool=4, counts=c) for c in (None, full)]
    for key in ("p", "accuracy", "held_out", "averaging", "loss"):
        assert fits[0][key].dtype == fits[1][key].dtype and fits[0][key].tobytes() == fits[1][key].tobytes(), key


# --- the workflow: the phase diagram, reruns, and the same boundary from CSV and NetCDF ---------------------------


@pytest.mark.workflow
def test_the_measured_model_runs_to_the_phase_diagram_and_adding_a_file_reruns_only_its_import(experiment, tmp_path):
    """CSV files of the synthetic experiment → the phase diagram through the generic rules, the dataset holding the
    simulated values exactly; then a third file (and its points) reruns its import and what gathers, not the other
    imports; a changed file reruns its own import."""
    d = workdir(tmp_path, CONFIG)
    export(experiment, d)
    snakemake(d, "--cores", "2", "results/phase_diagram.png")
    assert (d / "results/phase_diagram.png").stat().st_size > 0
    ds = xr.open_zarr(d / "results/measured/L6/traces.zarr").load()
    assert np.array_equal(ds["magnetization"].values, experiment["magnetization"].values)
    conf = xr.open_zarr(d / "results/measured/L6/lstm/confusion.zarr")
    assert conf["boundary"].notnull().all() and conf["boundary_interval"].dims == ("transition", "bound")
    table = pd.read_csv(d / "results/measured/L6/lstm/boundary.csv")
    assert table["transition"].tolist() == ["ergodic|localized"]

    def dry_run(config: dict) -> dict[str, int]:
        (d / "config.yaml").write_text(yaml.safe_dump(config))
        out = snakemake(d, "-n", "results/phase_diagram.png")
        text = out.stdout + out.stderr
        return job_stats(text) if "Job stats:" in text else {}

    assert dry_run(CONFIG) == {}
    extra = 5.0
    more = MODELS["mbl_fixed"].simulate(SEED, L, extra, range(R), TIMES)["magnetization"][None]
    coords = {"W": [extra], "realization": np.arange(R), "time": TIMES, "site": np.arange(L)}
    write_traces_csv(
        xr.Dataset({"magnetization": (tuple(coords), more)}, coords=coords), d / "data/mid.csv", "magnetization"
    )
    added = SECTION | {"files": [*SECTION["files"], "data/mid.csv"], "points": sorted([*POINTS, extra])}
    jobs = dry_run(CONFIG | {"measured": added})
    assert jobs.get("import_measured") == 1, jobs  # the new file's import only
    assert {"dataset", "network", "confusion", "phase_diagram"} <= set(jobs)
    shutil.copy(d / "data/high.csv", d / "high.bak")
    with open(d / "data/high.csv", "a") as fh:  # the same values, other bytes: a changed file
        fh.write("\n")
    jobs = dry_run(CONFIG)
    assert jobs.get("import_measured") == 1, jobs


@pytest.mark.workflow
def test_the_default_target_does_not_measure_measured_data_again(tmp_path):
    """The robustness study varies what is measured of simulated traces: with a measured model alone it is not built
    (its rows would be labelled with shots and observables never applied), beside a simulated model it covers that
    model only; the schemes' comparison takes measured data as it takes simulated ones."""
    d = workdir(tmp_path, CONFIG)
    (d / "data").mkdir()
    for name in SECTION["files"]:
        (d / name).write_text("")  # a dry run reads no file
    alone = job_stats(snakemake(d, "-n").stdout)
    assert "robustness_variant" not in alone and "robustness" not in alone, alone
    assert alone["scheme"] > 0
    (d / "config.yaml").write_text(yaml.safe_dump(CONFIG | {"models": ["measured", "mbl"]}))
    beside = job_stats(snakemake(d, "-n").stdout)
    variants = len(robustness_variants(TINY))
    assert beside["robustness_variant"] == variants and beside["robustness"] == 1, beside


@pytest.mark.workflow
def test_the_same_traces_from_csv_and_from_netcdf_give_the_identical_boundary(experiment, tmp_path):
    """Lossless import end to end: with the same seeds and training settings, the experiment's CSV files and NetCDF
    files of the same traces give bit-identical confusion and boundaries (the simulation pipeline's own mbl_fixed
    boundary is not the comparison: its networks' random draws are keyed by its model id)."""
    found = []
    for suffix in ("csv", "nc"):
        d = workdir(tmp_path, CONFIG, name=suffix)
        files = export(experiment, d, suffix)
        (d / "config.yaml").write_text(yaml.safe_dump(CONFIG | {"measured": SECTION | {"files": files}}))
        snakemake(d, "--cores", "2", "results/measured/L6/lstm/confusion.zarr")
        found.append(xr.open_zarr(d / "results/measured/L6/lstm/confusion.zarr").load())
    csv, nc = found
    for v in ("boundary", "boundary_interval", "confusion", "p"):
        assert np.array_equal(csv[v].values, nc[v].values), v


def test_the_commented_example_in_config_yaml_is_a_valid_section():
    """config.yaml's commented-out measured section, uncommented, passes the config's checks."""
    text = (ROOT / "config.yaml").read_text()
    block = text[text.index("# measured:") :].split("\n\n")[0]
    section = yaml.safe_load("\n".join(line[2:] for line in block.splitlines()))["measured"]
    config_mod.validate(copy.deepcopy(TINY) | {"models": ["measured"], "measured": section})


# --- several measured models, each under its own name -------------------------------------------------------------

# Two experiments side by side: the site-resolved files above, and the imbalance of the same traces in one file of its
# own under other windows and class names; the schemes' comparison is left out (it would train more networks)
TWO = {
    "measured_site": SECTION,
    "measured_imb2": SECTION
    | {
        "files": ["data/imb2/all.csv"],
        "observable": "imbalance",
        "sweep": {"name": "W", "units": ""},
        "windows": {"low": {"name": "thermal", "max": 0.5}, "high": {"name": "mbl", "min": 8.0}},
    },
}
BOTH = {k: v for k, v in CONFIG.items() if k not in ("schemes", "measured")} | {"models": list(TWO)} | TWO


def export_two(experiment: xr.Dataset, d: Path) -> None:
    export(experiment, d)  # data/low.csv, data/high.csv
    (d / "data/imb2").mkdir(parents=True)
    write_traces_csv(imbalance_of(experiment), d / "data/imb2/all.csv", "imbalance")


def boundary_table(name: str) -> str:
    return f"results/{name}/L6/lstm/boundary.csv"


def planned_by_model(log: str) -> dict[str, int]:
    """A dry run's jobs as ``<model>_<what>`` (``measured_site_import``, ``measured_imb2_network``, …), the rule's
    name for the figures."""
    counts: dict[str, int] = {}
    for block in re.split(r"^(?:local)?rule ", log, flags=re.M)[1:]:
        rule = block.split(":", 1)[0]
        out = re.search(r"^\s+output: ([^,\s]+)", block, re.M)
        parts = out.group(1).split("/") if out else []
        key = f"{parts[1]}_{rule.removesuffix('_measured')}" if len(parts) > 2 and parts[1] in TWO else rule
        counts[key] = counts.get(key, 0) + 1
    return counts


@pytest.mark.workflow
def test_several_measured_models_each_give_the_boundary_they_give_alone(experiment, tmp_path):
    """Two measured models under names of their own in one run: each its own imports, dataset, networks and
    boundary.csv, equal to the ones that model's run alone makes (same seed), and its own panel of the phase diagram;
    then a change to one model's section reruns that model's jobs only (and the figure over both)."""
    from phasetrace.figures import plot_phase_diagram

    d = workdir(tmp_path, BOTH, name="both")
    export_two(experiment, d)
    snakemake(d, "--cores", "2", *(boundary_table(n) for n in TWO), "results/phase_diagram.png")
    imported = {n: sorted(p.name for p in (d / f"results/{n}/L6/imported").iterdir()) for n in TWO}
    assert imported == {"measured_site": ["data_high.csv.zarr.zip", "data_low.csv.zarr.zip"],
                        "measured_imb2": ["data_imb2_all.csv.zarr.zip"]}  # fmt: skip
    for name in TWO:
        alone = workdir(tmp_path, BOTH | {"models": [name]}, name=name)
        export_two(experiment, alone)
        snakemake(alone, "--cores", "2", boundary_table(name))
        together, by_itself = (pd.read_csv(x / boundary_table(name)) for x in (d, alone))
        pd.testing.assert_frame_equal(together, by_itself, check_exact=True)
    site, imb = (pd.read_csv(d / boundary_table(n)) for n in TWO)
    assert site["transition"].tolist() == ["ergodic|localized"] and imb["transition"].tolist() == ["thermal|mbl"]
    ds = xr.open_zarr(d / "results/measured_imb2/L6/traces.zarr")
    assert ds.attrs["model"] == "measured_imb2" and list(ds.attrs["source_sha256"]) == ["data/imb2/all.csv"]
    confs = [xr.open_zarr(d / f"results/{n}/L6/lstm/confusion.zarr").load() for n in TWO]
    fig = plot_phase_diagram(BOTH, confs, [xr.open_zarr(d / f"results/{n}/L6/traces.zarr") for n in TWO])
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]  # one panel each, titled with its model's name
    assert [t.split(":")[0] for t in titles] == list(TWO), titles

    def dry_run(config: dict) -> dict[str, int]:
        (d / "config.yaml").write_text(yaml.safe_dump(config))
        out = snakemake(d, "-n", *(boundary_table(n) for n in TWO), "results/phase_diagram.png")
        return planned_by_model(out.stdout)

    assert dry_run(BOTH) == {}
    windows = copy.deepcopy(BOTH)
    windows["measured_imb2"]["windows"]["low"]["max"] = 1.0
    assert dry_run(windows) == {
        "measured_imb2_dataset": 1,
        "measured_imb2_network": 1,
        "measured_imb2_confusion": 1,
        "phase_diagram": 1,
    }
    units = copy.deepcopy(BOTH)
    units["measured_site"]["sweep"]["units"] = "Hz"  # what the imports record: both of its files' imports rerun
    assert dry_run(units) == {
        "measured_site_import": 2,
        "measured_site_dataset": 1,
        "measured_site_network": 1,
        "measured_site_confusion": 1,
        "phase_diagram": 1,
    }


def test_more_than_three_panels_wrap_into_rows():
    """Up to three panels stay in one row (the figure of one to three models is unchanged); more wrap."""
    from phasetrace.figures import panel_grid

    assert [panel_grid(n) for n in range(1, 8)] == [(1, 1), (1, 2), (1, 3), (2, 2), (2, 3), (2, 3), (3, 3)]
    assert MODELS["measured"].title == "measured sweep"


@pytest.mark.parametrize("name", ["measured-x", "Measured_y", "measuredfoo", "measured_"])
def test_a_measured_model_is_named_measured_or_measured_underscore_name(name):
    """A name outside the rule is refused by name, listed in models and as a section, with the allowed pattern."""
    config = copy.deepcopy(BOTH) | {"models": ["measured_site", name], name: SECTION}
    rule = re.escape("or measured_<name> (<name>: lowercase letters, digits and _; ^measured_[a-z0-9_]+$)")
    with pytest.raises(ValueError, match=rf"models\.1 = '{re.escape(name)}' is not allowed: .*{rule}"):
        config_mod.validate(config)
    with pytest.raises(ValueError, match=rf"unknown key\(s\) \['{re.escape(name)}'\]; .*{rule}"):
        config_mod.validate(config | {"models": ["measured_site"]})
    with pytest.raises(ValueError, match=rf"model = '{re.escape(name)}' is not allowed: .*{rule}"):
        get(name)


def test_each_measured_model_needs_its_section_and_is_checked_by_its_name():
    config = copy.deepcopy(BOTH)
    del config["measured_imb2"]
    with pytest.raises(ValueError, match=r"names \['measured_imb2'\], which have no section; add the section"):
        config_mod.validate(config)
    bad = copy.deepcopy(BOTH)
    bad["measured_imb2"]["windows"]["low"]["max"] = 9.0
    with pytest.raises(ValueError, match=r"measured_imb2\.windows\.low\.max must be < measured_imb2\.windows\.high"):
        config_mod.validate(bad)
    bad = copy.deepcopy(BOTH) | {"measured_unused": {"files": ["a.csv"]}}  # a section not built is checked too
    with pytest.raises(ValueError, match=r"measured_unused: .*must have the keys"):
        config_mod.validate(bad)


def test_a_measured_model_of_any_name_is_one_object_and_stays_out_of_what_simulates():
    """get() makes a measured model of any allowed name once (jobs find it by the dataset's model attribute, without a
    config); the studies that simulate refuse it; the robustness study leaves every measured model out; the workflow's
    {model} wildcard takes the names, not other folders."""
    from phasetrace.pipeline import Pipeline

    assert get("measured_site") is get("measured_site") and get("measured") is MODELS["measured"]
    assert get("measured_site").name == "measured_site" and not get("measured_site").simulated
    assert get("measured_site").title == "measured sweep (measured_site)"
    for study in ("adaptive", "replicates"):
        config = copy.deepcopy(BOTH)
        config[study]["model"] = "measured_imb2"
        with pytest.raises(ValueError, match=rf"{study}\.model = 'measured_imb2' is not allowed: the {study} study"):
            config_mod.validate(config)
    p = Pipeline(copy.deepcopy(BOTH) | {"models": ["measured_site", "mbl", "measured_imb2"]})
    assert p.robustness_inputs() and all("/mbl/" in x for x in p.robustness_inputs())
    assert not Pipeline(copy.deepcopy(BOTH)).robustness_inputs()
    model = p.wildcard_constraints()["model"]
    assert all(re.fullmatch(model, n) for n in ("measured", "measured_site", "measured_imb2", "mbl_fixed"))
    assert not any(re.fullmatch(model, n) for n in ("measured-x", "measured_a/L6", "adaptive", "checks", "measured_"))
