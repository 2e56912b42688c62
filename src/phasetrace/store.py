"""Zarr (v3) I/O that never leaves a half-written output, and the reader of traces files of every format that
``phasetrace classify`` accepts (:func:`open_traces`: Zarr, NetCDF, CSV).

A job's store is one zip file (``*.zarr.zip``): written under a temporary name beside the target and renamed into
place only once complete, so a crash leaves either no output or a whole one. Aggregated datasets are Zarr
directory stores written by xarray the same way (temporary directory, then rename), with consolidated metadata
so that ``xarray.open_zarr(path)`` opens them in one read and without warnings.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
import warnings
from pathlib import Path

import numpy as np
import zarr
from zarr.storage import ZipStore


def _tmp_beside(path: Path) -> Path:
    """A fresh temporary name beside ``path``, after removing the temporaries of earlier, killed writes of it.

    A SIGKILLed job cannot clean up after itself; the next write of the same target does (Snakemake's lock ensures
    that no other process is writing it at the same time).
    """
    for pattern in (f".{path.name}.tmp-*", f".{path.name}.old-*"):
        for stale in path.parent.glob(pattern):
            shutil.rmtree(stale) if stale.is_dir() else stale.unlink()
    return path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex[:8]}")


def write_arrays(path: str | os.PathLike, arrays: dict[str, np.ndarray], attrs: dict) -> None:
    """Write ``arrays`` (name → ndarray) and ``attrs`` (JSON-serializable) to a zip Zarr store, atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_beside(path)
    try:
        store = ZipStore(tmp, mode="w")
        root = zarr.create_group(store=store, zarr_format=3, attributes=attrs)
        for name, value in arrays.items():
            value = np.asarray(value)
            root.create_array(name, shape=value.shape, dtype=value.dtype, chunks=value.shape or None)[...] = value
        store.close()
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


class DamagedFileError(ValueError):
    """A file phasetrace should read is missing, truncated or not what it claims to be (the path is named)."""


def _unreadable(path, err: Exception, what: str) -> DamagedFileError:
    if isinstance(err, FileNotFoundError) or not Path(path).exists():
        return DamagedFileError(f"{path}: no such {what}")
    return DamagedFileError(
        f"{path}: cannot be read as a {what} ({type(err).__name__}: {err}); it is damaged or not a phasetrace "
        "output: delete it and rebuild it (snakemake rebuilds a deleted target)"
    )


def read_arrays(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
    """(arrays, attrs) of a store written by :func:`write_arrays`; :class:`DamagedFileError` names an unreadable one."""
    path = Path(path)
    try:
        store = ZipStore(path, mode="r")
        try:
            root = zarr.open_group(store=store, mode="r")
            return {name: np.asarray(arr[...]) for name, arr in root.arrays()}, dict(root.attrs)
        finally:
            with contextlib.suppress(Exception):  # a store that never opened fails to close too
                store.close()
    except Exception as err:  # zipfile.BadZipFile, FileNotFoundError, IsADirectoryError, missing arrays, ...
        raise _unreadable(path, err, "zip Zarr store (*.zarr.zip)") from err


def open_dataset(path: str | os.PathLike, load: bool = True):
    """An xarray Dataset from a Zarr directory store, loaded (``load=False``: read lazily, for a few variables of a
    large one); :class:`DamagedFileError` names an unreadable one."""
    import xarray as xr

    try:
        if not load:
            return xr.open_zarr(path)
        with xr.open_zarr(path) as ds:
            return ds.load()
    except Exception as err:
        raise _unreadable(path, err, "Zarr dataset") from err


def write_dataset(path: str | os.PathLike, ds) -> None:
    """Write an xarray Dataset as a Zarr v3 directory store, atomically (temporary directory, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_beside(path)
    try:
        with warnings.catch_warnings():  # consolidated metadata is a zarr-python extension to v3; readers use it
            warnings.filterwarnings("ignore", "Consolidated metadata", UserWarning)
            ds.to_zarr(tmp, mode="w", zarr_format=3, consolidated=True)
        old = path.with_name(f".{path.name}.old-{uuid.uuid4().hex[:8]}")
        if path.exists():  # moved aside, not deleted, until the new dataset is in place
            os.replace(path, old)
        os.replace(tmp, path)
        if old.exists():
            shutil.rmtree(old)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


NETCDF_SUFFIXES = (".nc", ".nc4", ".netcdf", ".cdf")
_NUMERIC = ("time", "period", "site")  # coordinates a classifier reads as numbers


def open_traces(path: str | os.PathLike):
    """A traces file as an xarray Dataset, by its name: ``*.csv`` (:func:`read_traces_csv`), NetCDF
    (``*.nc``, ``*.nc4``, ``*.netcdf``, ``*.cdf``; NetCDF-4 or 3), else a Zarr directory store."""
    import xarray as xr

    path = Path(path)
    if path.suffix.lower() == ".csv":
        return read_traces_csv(path)
    if not path.exists():
        raise DamagedFileError(f"{path}: no such file or directory")
    try:
        if path.suffix.lower() in NETCDF_SUFFIXES:
            with xr.open_dataset(path) as ds:
                return ds.load()
        with xr.open_zarr(path) as ds:
            return ds.load()
    except Exception as err:
        kind = "NetCDF file" if path.suffix.lower() in NETCDF_SUFFIXES else "Zarr dataset (a directory)"
        raise DamagedFileError(
            f"{path}: cannot be read as a {kind} ({type(err).__name__}: {err}); traces are read as CSV (*.csv), "
            "NetCDF (*.nc, *.nc4, *.netcdf, *.cdf) or Zarr, by the file name"
        ) from err


def read_traces_csv(path: str | os.PathLike):
    """A CSV of traces in long form, one row per measured value, as an xarray Dataset.

    One column holds the values and is named for them: ``magnetization`` (⟨σᶻᵢ⟩, with a ``site`` column) or
    ``imbalance`` (one value per time). Every other column is a coordinate: the time axis (``time``, or ``period``
    for the drive), ``site``, and any labels of the samples (e.g. ``W``, ``realization``, ``sample``); each distinct
    combination of coordinates must appear exactly once, and the rows must cover the full grid of them.
    """
    import pandas as pd

    from .measurement import VARIABLES

    path = Path(path)
    try:
        df = pd.read_csv(path)
    except FileNotFoundError as err:
        raise _unreadable(path, err, "CSV file") from err
    except Exception as err:
        raise DamagedFileError(f"{path}: cannot be read as CSV ({type(err).__name__}: {err})") from err
    values = [c for c in df.columns if c in VARIABLES.values()]
    if len(values) != 1:
        raise ValueError(
            f"{path}: a traces CSV needs exactly one value column, magnetization or imbalance; it has the "
            f"columns {list(df.columns)}"
        )
    coords = [c for c in df.columns if c != values[0]]
    if not coords:
        raise ValueError(f"{path}: no coordinate columns (time or period, and site for magnetization)")
    bad = [c for c in df.columns if not pd.api.types.is_numeric_dtype(df[c]) and c in (values[0], *_NUMERIC)]
    if bad:
        raise ValueError(f"{path}: column(s) {bad} must hold numbers")
    dup = df.duplicated(coords)
    if dup.any():
        row = df[dup].iloc[0]
        raise ValueError(
            f"{path}: {int(dup.sum())} row(s) repeat a combination of {coords}, e.g. "
            + ", ".join(f"{c} = {row[c]}" for c in coords)
        )
    index = pd.MultiIndex.from_frame(df[coords])
    full = pd.MultiIndex.from_product([index.unique(c) for c in coords], names=coords)
    if len(full) != len(df):
        first = full.difference(index)[0]
        raise ValueError(
            f"{path}: the rows cover {len(df)} of the {len(full)} combinations of {coords} (every combination of the "
            "coordinates' values needs a row); no row for "
            + ", ".join(f"{c} = {v}" for c, v in zip(coords, first, strict=True))
        )
    return df.set_index(coords).to_xarray()


def write_traces_csv(ds, path: str | os.PathLike, variable: str) -> None:
    """``ds[variable]`` in the long form :func:`read_traces_csv` reads: a column per dimension, then the values."""
    path = Path(path)
    da = ds[variable]
    df = da.to_dataframe(name=variable).reset_index()[[*da.dims, variable]]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_beside(path)
    try:
        df.to_csv(tmp, index=False)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
