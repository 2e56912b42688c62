"""The jobs of a measured model (:mod:`.models.measured`; ``measured`` or ``measured_<name>``): one import per file,
then the dataset.

:func:`import_job` reads one file (long-form CSV, NetCDF or Zarr), validates it and writes a store with its values
(points, R, T[, L]; a point with fewer realizations than the file's most padded with NaN), the realizations of each
point, its sweep points, its realizations' labels, its time grid and the SHA-256 digest of its bytes.
:func:`dataset_job` gathers the stores: together the configured ``points`` (a point's realizations may come from
several files, no realization from two), one time grid, each file unchanged since its import; then the model's
labeled dataset. Every refusal names the file, the column or coordinate, and the offending value, before anything is
trained.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from . import __version__
from .models import get
from .models.measured import OBSERVABLE_VARIABLES, file_name
from .provenance import record, require_same, settings
from .store import NETCDF_SUFFIXES, open_traces, read_arrays, write_arrays, write_dataset

RANGE_TOLERANCE = 1e-9  # a value within this of ±1 is accepted (rounding of exact traces); beyond it is refused
TIME_COLUMNS = ("time", "period")  # the time column may be named either; the dataset's dimension is "time"


def sha256(path: str | Path) -> str:
    """The SHA-256 of a file's bytes; of a directory (a Zarr store): of its files' relative paths and bytes, sorted."""
    path, h = Path(path), hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for f in files:
        if path.is_dir():
            h.update(str(f.relative_to(path).as_posix()).encode() + b"\0")
        with open(f, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def _show(value):
    """A value of a table as messages write it: a plain Python number (``nan``, ``1.5``), not ``np.float64(...)``."""
    return value.item() if isinstance(value, np.generic) else value


def _frame(path: Path, model: str = "measured"):
    """The file as a long-form table, and how its rows are named in messages (``line N`` for CSV)."""
    import pandas as pd

    if path.suffix.lower() == ".csv":
        try:
            df = pd.read_csv(path)
        except FileNotFoundError as err:
            raise ValueError(f"{path}: no such file (listed in the {model} section's files)") from err
        except Exception as err:
            raise ValueError(f"{path}: cannot be read as CSV ({type(err).__name__}: {err})") from err
        return df, lambda i: f"line {i + 2}"
    ds = open_traces(path)
    variables = [v for v in OBSERVABLE_VARIABLES.values() if v in ds.data_vars]
    if len(variables) != 1:
        kind = "NetCDF file" if path.suffix.lower() in NETCDF_SUFFIXES else "Zarr store"
        raise ValueError(
            f"{path}: a traces {kind} needs exactly one variable named magnetization or imbalance; it has "
            f"{list(ds.data_vars)}"
        )
    df = ds[variables[0]].to_dataframe().reset_index()[[*ds[variables[0]].dims, variables[0]]]
    return df, lambda i: f"entry {i}"


def _without_absent(path: Path, df, want: str, sweep: str, where):
    """The table without the realizations that are absent (every value of the trace NaN: the padding of a dense
    array, a realization a point does not hold), and how its rows are named in messages (their lines in the file);
    ValueError naming the sweep value where every realization of a point is absent."""
    import pandas as pd

    key = df[["point", "realization"]]
    empty = df[want].isna() & np.isfinite(key.to_numpy(dtype=float)).all(axis=1)
    absent = (empty.groupby([key["point"], key["realization"]], dropna=False).transform("all") & empty).to_numpy()
    if not absent.any():
        return df, where
    gone = pd.Series(absent).groupby(key["point"].to_numpy()).all()
    if gone.any():
        raise ValueError(
            f"{path}: the sweep value {sweep} = {_show(gone.index[gone.to_numpy()][0])} has no realizations (every "
            f"{want} value is NaN)"
        )
    kept = np.nonzero(~absent)[0]
    return df.iloc[kept].reset_index(drop=True), lambda i: where(int(kept[i]))


def read_measured(path: str | Path, cfg: dict, model: str = "measured") -> dict[str, np.ndarray]:
    """One file of the section ``cfg`` of the measured model ``model`` (its name in messages), validated: ``values``
    (points, R, T[, L]) in (point, realization, time, site) order, R the most realizations any of its points holds and a
    point's realizations past its own count NaN (padding), ``counts`` (points,) the realizations of each point,
    ``points`` (sorted), ``realizations`` (points, R) the files' labels (sorted; −1 on padding), ``times`` (T,).
    ValueError naming the file, the column and the value for: a value column other than the config's observable, a
    missing or unknown column, non-numbers, NaN inside a trace or infinite entries (a trace whose values are all NaN is
    an absent realization), a point without realizations, values outside [−1, 1], sites outside 0 … L−1, duplicate rows,
    a (point, realization) without the file's whole time grid, a (point, realization, time) without every site."""
    import pandas as pd

    path = Path(path)
    df, where = _frame(path, model)
    sweep, L = cfg["sweep"]["name"], cfg["L"]
    want = OBSERVABLE_VARIABLES[cfg["observable"]]
    if df.empty:
        raise ValueError(f"{path}: no data rows (columns {list(df.columns)})")
    found = [c for c in df.columns if c in OBSERVABLE_VARIABLES.values()]
    if found != [want]:
        raise ValueError(
            f"{path}: its value column(s) {found} do not match {model}.observable = {cfg['observable']!r}, which "
            f"needs the one value column {want!r} (site: magnetization per site; imbalance: one value per time)"
        )
    times = [c for c in TIME_COLUMNS if c in df.columns]
    if len(times) != 1:
        raise ValueError(f"{path}: needs one time column, 'time' or 'period'; it has the columns {list(df.columns)}")
    coords = [sweep, "realization", times[0]] + (["site"] if want == "magnetization" else [])
    missing = [c for c in coords if c not in df.columns]
    extra = [c for c in df.columns if c not in (*coords, want)]
    if missing or extra:
        raise ValueError(
            f"{path}: the columns must be {[*coords, want]} ({model}.sweep.name = {sweep!r}); "
            + (f"missing {missing}" if missing else "")
            + ("; " if missing and extra else "")
            + (f"unknown {extra}" if extra else "")
        )
    df = df[[*coords, want]].rename(columns={times[0]: "time", sweep: "point"})
    names = {"point": sweep, "realization": "realization", "time": times[0], "site": "site", want: want}
    for c in df.columns:
        if not pd.api.types.is_numeric_dtype(df[c]):
            i = int(np.nonzero(pd.to_numeric(df[c], errors="coerce").isna().to_numpy())[0][0])
            raise ValueError(f"{path}: column {names[c]!r} must hold numbers; {where(i)} has {_show(df[c].iloc[i])!r}")
    df, where = _without_absent(path, df, want, sweep, where)
    for c in df.columns:
        bad = ~np.isfinite(df[c].to_numpy(dtype=float))
        if bad.any():
            i = int(np.nonzero(bad)[0][0])
            raise ValueError(
                f"{path}: column {names[c]!r} holds {_show(df[c].iloc[i])!r} at {where(i)} ({int(bad.sum())} such "
                "entries); NaN inside a trace and infinite entries are refused (a realization not measured at a "
                "point: leave its rows out, or make its whole trace NaN)"
            )
    v = df[want].to_numpy(dtype=float)
    outside = np.abs(v) > 1 + RANGE_TOLERANCE
    if outside.any():
        i = int(np.nonzero(outside)[0][0])
        raise ValueError(
            f"{path}: column {want!r} holds {_show(v[i])!r} at {where(i)}, outside [-1, 1] (an expectation of sigma^z "
            f"or an imbalance); {int(outside.sum())} such values"
        )
    for c in ("realization", "site") if want == "magnetization" else ("realization",):
        x = df[c].to_numpy(dtype=float)
        bad = (x != np.round(x)) | (x < 0) | ((x > L - 1) if c == "site" else False)
        if bad.any():
            i = int(np.nonzero(bad)[0][0])
            allowed = f"0 … {L - 1} ({model}.L = {L})" if c == "site" else "non-negative integers"
            raise ValueError(f"{path}: column {c!r} holds {_show(x[i])!r} at {where(i)}; it must hold {allowed}")
    key = [c for c in df.columns if c != want]
    dup = df.duplicated(key, keep=False)
    if dup.any():
        rows = np.nonzero(dup.to_numpy())[0]
        first = df.iloc[rows[0]]
        same = rows[(df.iloc[rows][key] == first[key]).all(axis=1).to_numpy()]
        raise ValueError(
            f"{path}: duplicate rows: {', '.join(where(int(i)) for i in same[:5])} all have "
            + ", ".join(f"{names[c]} = {_show(first[c])}" for c in key)
            + f" ({int(dup.sum())} rows repeat a combination of {[names[c] for c in key]})"
        )
    counts = df.groupby("point")["realization"].nunique()
    grid = np.unique(df["time"].to_numpy(dtype=float))
    n_times = df.groupby(["point", "realization"])["time"].nunique()
    short = n_times[n_times != grid.size]
    if len(short):
        (point, real), have = short.index[0], short.iloc[0]
        held = df[(df["point"] == point) & (df["realization"] == real)]["time"].to_numpy(dtype=float)
        lacking = np.setdiff1d(grid, held)
        raise ValueError(
            f"{path}: {sweep} = {_show(point)}, realization {_show(real)} has {have} of the file's {grid.size} "
            f"times; it lacks {names['time']} = {lacking[:5].tolist()} (every trace of a file needs the same time grid)"
        )
    if want == "magnetization":
        n_sites = df.groupby(["point", "realization", "time"])["site"].nunique()
        short = n_sites[n_sites != L]
        if len(short):
            (point, real, t), have = short.index[0], short.iloc[0]
            held = df[(df["point"] == point) & (df["realization"] == real) & (df["time"] == t)]["site"]
            lacking = np.setdiff1d(np.arange(L), held.to_numpy(dtype=float))
            raise ValueError(
                f"{path}: missing sites: {sweep} = {_show(point)}, realization {_show(real)}, {names['time']} = "
                f"{_show(t)} has {have} of the {L} sites ({model}.L); it lacks site {lacking[:5].astype(int).tolist()}"
            )
    df = df.sort_values(key, kind="stable")
    points = np.unique(df["point"].to_numpy(dtype=float))
    n = counts.to_numpy(dtype=np.int64)  # groupby sorts: the order of points
    R, per_trace = int(n.max()), grid.size * (L if want == "magnetization" else 1)
    values = np.full((points.size, R, per_trace), np.nan)
    labels = np.full((points.size, R), -1, dtype=np.int64)
    held = df.drop_duplicates(["point", "realization"])["realization"].to_numpy(dtype=np.int64)
    traces = df[want].to_numpy(dtype=np.float64).reshape(-1, per_trace)  # one row per (point, realization)
    real = np.arange(R)[None, :] < n[:, None]  # (point, realization) in the file, in sorted order
    values[real], labels[real] = traces, held
    return {
        "values": values.reshape(points.size, R, grid.size, *((L,) if want == "magnetization" else ())),
        "counts": n,
        "points": points,
        "realizations": labels,
        "times": grid,
    }


def import_job(config: dict, model: str, name: str, source: str, output: str) -> None:
    """One file of ``model``'s section (``name``: as in its job's path) → a validated store with its digest."""
    m = get(model)
    cfg = config[model]
    files = m.files(cfg)
    if files.get(name) != source:
        raise ValueError(f"{model}: import {name!r} of {source!r} is not one of the config's files {list(files)}")
    arrays = read_measured(source, cfg, model)
    write_arrays(
        output,
        arrays,
        {
            "model": model,
            "stage": "import",
            "L": cfg["L"],
            "source": source,
            "source_sha256": sha256(source),
            "version": __version__,
        }
        | record(settings(config, "import", model, file=name)),
    )


def dataset_job(config: dict, model: str, inputs: list[str], output: str) -> None:
    """Every file's imported store → the labeled dataset, refused (naming the files) where the stores' points are
    outside the configured ``points``, a point holds fewer realizations than ``measured.realizations`` in all the
    files together, a realization of a point is in two files (a point's realizations may come
    from several: one file per round of measurements), a configured point is in no file, a file's time grid differs
    from the first file's, or a file changed since its import."""
    m = get(model)
    cfg = config[model]
    sweep = cfg["sweep"]["name"]
    points = np.asarray(cfg["points"], dtype=float) + 0.0
    stores, held = [], {}  # held[i]: {realization label: file} of configured point i
    for path in inputs:
        arrays, attrs = read_arrays(path)
        require_same(path, attrs, settings(config, "import", model, file=file_name(attrs["source"])))
        source = attrs["source"]
        if Path(source).exists() and sha256(source) != attrs["source_sha256"]:
            raise ValueError(
                f"{source} changed since it was imported into {path} (SHA-256 {attrs['source_sha256'][:12]}…); rerun "
                "the workflow, which imports it again"
            )
        exact = []
        for i, w in enumerate(arrays["points"]):
            near = np.nonzero(np.abs(points - w) <= 1e-9 * max(1.0, abs(w)))[0]
            if not near.size:
                raise ValueError(
                    f"{source}: the sweep value {sweep} = {_show(w)} is not one of {model}.points {points.tolist()} "
                    "(add it there)"
                )
            labels = held.setdefault(int(near[0]), {})
            for label in arrays["realizations"][i, : arrays["counts"][i]].tolist():
                if label in labels:
                    raise ValueError(
                        f"{source}: the sweep value {sweep} = {_show(w)}, realization {label} is in {labels[label]} "
                        "too (duplicate rows across files: a point's realizations may come from several files, each "
                        "realization from one)"
                    )
                labels[label] = source
            exact.append(points[near[0]])
        if stores and not np.array_equal(arrays["times"], stores[0][0]["times"]):
            first, here = stores[0][0]["times"], arrays["times"]
            raise ValueError(
                f"{source}: its time grid ({here.size} times, {here[:6].tolist()}{' …' if here.size > 6 else ''}) "
                f"differs from {stores[0][1]['source']}'s ({first.size} times, {first[:6].tolist()}"
                f"{' …' if first.size > 6 else ''}); the dataset needs one time grid for all files (the recurrent "
                "network could read others, the dataset and the other kinds cannot): resample or split the sweep"
            )
        stores.append((arrays | {"points": np.asarray(exact)}, attrs))
    lacking = [float(points[i]) for i in range(points.size) if i not in held]
    if lacking:
        raise ValueError(
            f"{model}: the sweep value(s) {sweep} = {lacking} of {model}.points have no realizations in any of the "
            f"files {list(m.files(cfg).values())}"
        )
    few = [(i, labels) for i, labels in sorted(held.items()) if len(labels) < cfg["realizations"]]
    if few:
        i, labels = few[0]
        raise ValueError(
            f"{', '.join(sorted(set(labels.values())))}: the sweep value {sweep} = {_show(points[i])} has "
            f"{len(labels)} realization(s); {model}.realizations = {cfg['realizations']} is the least a point may "
            "hold (lower it, or measure more at that point)"
        )
    ds = m.dataset(config, stores)
    ds.attrs |= {"model": model, "seed": config["seed"], "phasetrace_version": __version__}
    ds.attrs |= record(settings(config, "dataset", model))
    write_dataset(output, ds)
