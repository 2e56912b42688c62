"""Zarr (v3) I/O that never leaves a half-written output, and the reader of traces files of every format that
``phasetrace classify`` accepts (:func:`open_traces`: Zarr, NetCDF, CSV).

Every file phasetrace writes is written under a temporary name beside the target and renamed into place only once
complete (:func:`atomic_path`), so a crash leaves either no output or a whole one: a job's store, one zip file
(``*.zarr.zip``); aggregated datasets, Zarr directory stores written by xarray (with consolidated metadata so that
``xarray.open_zarr(path)`` opens them in one read and without warnings); the tables (:func:`write_csv`, the one
CSV writer) and the figures.

Every store written here carries a manifest (:data:`MANIFEST`, written last): each key of the store (metadata and
chunks) with its size and BLAKE2b digest, the names of its arrays, and a digest of the manifest itself. Every
reader checks it before use (:func:`verify_store`), so a missing or truncated chunk, a missing array or a chunk
from another store is a :class:`DamagedFileError` naming the store and what is wrong, never fill values read as
data. A store without a manifest (written before phasetrace recorded them) is refused by the workflow's readers;
``python -m phasetrace verify --adopt`` accepts such stores as they are (see :mod:`.verify`).
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import json
import os
import shutil
import uuid
import warnings
import zipfile
from collections.abc import Iterator, Mapping, Sequence
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


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary name beside ``path`` to write a file or directory to; renamed onto ``path`` once the block
    completes (an existing directory is moved aside, not deleted, until the new one is in place), removed if the
    block fails. The one atomic-write scheme of every output: stores, datasets, tables and figures."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _tmp_beside(path)
    try:
        yield tmp
        if tmp.is_dir() and path.exists():
            old = path.with_name(f".{path.name}.old-{uuid.uuid4().hex[:8]}")
            os.replace(path, old)
            os.replace(tmp, path)
            shutil.rmtree(old)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp)
        elif tmp.exists():
            tmp.unlink()


MANIFEST = "phasetrace-manifest.json"  # the key of a store's manifest, in zip and directory stores alike
MANIFEST_FORMAT = 1
REBUILD = "snakemake --cores all --forcerun {path}"  # rebuilds a workflow output and everything made from it


class DamagedFileError(ValueError):
    """A file phasetrace should read is missing, truncated or not what it claims to be (the path is named).

    ``path``: the damaged file or store; ``problem``: what is wrong with it. The message ends with how to rebuild
    it: the workflow's jobs replace the generic advice by the exact command of the run (:meth:`with_command`).
    """

    def __init__(self, message: str, path: str | os.PathLike | None = None, problem: str | None = None):
        super().__init__(message)
        self.path, self.problem = (None if path is None else str(path)), problem

    @classmethod
    def of(cls, path, problem: str, command: str | None = None) -> DamagedFileError:
        """``{path}: {problem}; rebuild it and everything made from it: {command}``."""
        command = command or REBUILD.format(path=path)
        return cls(f"{path}: {problem}; rebuild it and everything made from it: {command}", path, problem)

    def with_command(self, command: str) -> DamagedFileError:
        """The same error, advising ``command`` (which must rebuild :attr:`path`)."""
        if self.path is None or self.problem is None:
            return self
        return DamagedFileError.of(self.path, self.problem, command)


def _digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class _DirKeys:
    """The keys of a Zarr directory store (paths relative to it, '/'-separated), their sizes and bytes; hidden files
    (Snakemake's ``.snakemake_timestamp`` in a directory output) are no keys of the store."""

    def __init__(self, root: Path):
        self.root = root

    def keys(self) -> list[str]:
        keys = (p.relative_to(self.root) for p in self.root.rglob("*") if p.is_file())
        return sorted(k.as_posix() for k in keys if k.name != MANIFEST and not k.name.startswith("."))

    def size(self, key: str) -> int | None:
        with contextlib.suppress(FileNotFoundError):
            return (self.root / key).stat().st_size
        return None

    def read(self, key: str) -> bytes:
        return (self.root / key).read_bytes()

    def manifest(self) -> bytes | None:
        with contextlib.suppress(FileNotFoundError, NotADirectoryError):
            return (self.root / MANIFEST).read_bytes()
        return None


class _ZipKeys:
    """The keys of a zip Zarr store (its entries; the last of repeated names, as zipfile reads them)."""

    def __init__(self, zf: zipfile.ZipFile):
        self.zf, self.info = zf, {i.filename: i for i in zf.infolist() if not i.is_dir()}

    def keys(self) -> list[str]:
        return sorted(k for k in self.info if k != MANIFEST)

    def size(self, key: str) -> int | None:
        return self.info[key].file_size if key in self.info else None

    def read(self, key: str) -> bytes:
        return self.zf.read(self.info[key])

    def manifest(self) -> bytes | None:
        return self.read(MANIFEST) if MANIFEST in self.info else None


def _arrays_of(src) -> list[str]:
    """Names (paths) of the arrays of a store: the keys ``<name>/zarr.json`` whose node_type is array."""
    out = []
    for key in src.keys():
        if key.endswith("/zarr.json") and json.loads(src.read(key)).get("node_type") == "array":
            out.append(key.removesuffix("/zarr.json"))
    return out


def _sealed(body: dict) -> dict:
    return body | {"digest": _digest(json.dumps(body, sort_keys=True).encode())}


def manifest_of(src) -> dict:
    """The manifest of a store as it is now: every key with [size, digest], its arrays, and the manifest's digest."""
    entries = {key: [src.size(key), _digest(src.read(key))] for key in src.keys()}
    return _sealed({"format": MANIFEST_FORMAT, "arrays": _arrays_of(src), "entries": entries})


def _manifest_bytes(src) -> bytes:
    return json.dumps(manifest_of(src), sort_keys=True, indent=0).encode()


def _where(key: str, arrays: list[str]) -> str:
    """``chunk c/0/0 of array 'magnetization'`` or ``metadata zarr.json`` of a store key."""
    owner = max((a for a in arrays if key.startswith(a + "/")), key=len, default=None)
    if owner is None or key == f"{owner}/zarr.json":
        return f"metadata {key}"
    return f"chunk {key} of array {owner!r}"


def store_problems(src, content: bool = True) -> list[str]:
    """What is wrong with a store against its manifest (empty: nothing): missing manifest, arrays or chunks, chunks
    of another size, (``content``) chunks whose bytes differ from those written, keys the manifest does not list."""
    raw = src.manifest()
    if raw is None:
        return [
            f"it has no integrity manifest ({MANIFEST}): it was written before phasetrace recorded one, or not by "
            "phasetrace, so lost chunks cannot be detected (adopt such stores as they are with `python -m phasetrace "
            "verify --adopt`, or rebuild it)"
        ]
    try:
        man = json.loads(raw)
        body = {k: man[k] for k in ("format", "arrays", "entries")}
        intact = man["digest"] == _digest(json.dumps(body, sort_keys=True).encode())
    except (ValueError, KeyError, TypeError):
        intact = False
    if not intact:
        return [f"its manifest ({MANIFEST}) is damaged"]
    arrays, entries = man["arrays"], man["entries"]
    present = set(src.keys())
    problems = [f"array {a!r} is missing" for a in arrays if f"{a}/zarr.json" not in present]
    gone = {a for a in arrays if f"{a}/zarr.json" not in present}
    for key, (size, digest) in entries.items():
        if any(key.startswith(a + "/") for a in gone):
            continue
        have = src.size(key)
        if have is None:
            problems.append(f"{_where(key, arrays)} is missing")
        elif have != size:
            problems.append(f"{_where(key, arrays)} is truncated or altered ({have} bytes; {size} were written)")
        elif content and _digest(src.read(key)) != digest:
            problems.append(
                f"{_where(key, arrays)} is not the one written (its digest differs: altered, or copied "
                "from another store)"
            )
    problems += [
        f"{_where(key, arrays)} is not one this store was written with (copied from another store?)"
        for key in sorted(present - set(entries))
    ]
    return problems


def _raise_problems(path, problems: list[str]) -> None:
    if problems:
        more = f" (and {len(problems) - 3} more problems)" if len(problems) > 3 else ""
        raise DamagedFileError.of(path, "; ".join(problems[:3]) + more)


def verify_store(path: str | os.PathLike, content: bool = True, required: bool = True) -> None:
    """Check a zip or directory Zarr store against its manifest; :class:`DamagedFileError` names it and what is
    wrong. ``content``: compare every key's digest (else sizes only); ``required``: a store without a manifest is
    damaged (else it is accepted: traces from elsewhere, for ``classify``)."""
    path = Path(path)
    if not path.exists():
        raise DamagedFileError.of(path, "no such file or directory")
    if path.is_dir():
        problems = store_problems(_DirKeys(path), content)
    else:
        try:
            with zipfile.ZipFile(path) as zf:
                problems = store_problems(_ZipKeys(zf), content)
        except (zipfile.BadZipFile, OSError) as err:
            raise _unreadable(path, err, "zip Zarr store (*.zarr.zip)") from err
    if not required and problems and problems[0].startswith("it has no integrity manifest"):
        return
    _raise_problems(path, problems)


def seal(path: str | os.PathLike) -> None:
    """Write the manifest of the store at ``path`` (zip or directory) as it is now, last; mtimes are kept as they
    were (Snakemake must not see a sealed store as newer than what was made from it)."""
    path = Path(path)
    stat = path.stat()
    if path.is_dir():
        newest = max((p.stat().st_mtime_ns for p in path.rglob("*")), default=stat.st_mtime_ns)
        (path / MANIFEST).write_bytes(_manifest_bytes(_DirKeys(path)))
        os.utime(path / MANIFEST, ns=(newest, newest))
    else:
        with zipfile.ZipFile(path, "a") as zf:
            zf.writestr(zipfile.ZipInfo(MANIFEST, date_time=(1980, 1, 1, 0, 0, 0)), _manifest_bytes(_ZipKeys(zf)))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _sorted_within(attrs: dict) -> dict:
    """``attrs`` with every mapping inside them in sorted key order (a section of the config is recorded as the
    config file ordered it; sorted, the store's bytes do not depend on the order of keys in a config file)."""

    def canon(v):
        if isinstance(v, dict):
            return {k: canon(v[k]) for k in sorted(v)}
        return [canon(x) for x in v] if isinstance(v, list | tuple) else v

    return {k: canon(v) for k, v in attrs.items()}


def write_arrays(path: str | os.PathLike, arrays: dict[str, np.ndarray], attrs: dict) -> None:
    """Write ``arrays`` (name → ndarray) and ``attrs`` (JSON-serializable; mappings inside them in sorted key
    order) to a zip Zarr store, atomically, with its manifest."""
    with atomic_path(path) as tmp:
        store = ZipStore(tmp, mode="w")
        root = zarr.create_group(store=store, zarr_format=3, attributes=_sorted_within(attrs))
        for name, value in arrays.items():
            value = np.asarray(value)
            root.create_array(name, shape=value.shape, dtype=value.dtype, chunks=value.shape or None)[...] = value
        store.close()
        with zipfile.ZipFile(tmp, "a") as zf:
            zf.writestr(zipfile.ZipInfo(MANIFEST, date_time=(1980, 1, 1, 0, 0, 0)), _manifest_bytes(_ZipKeys(zf)))


def _unreadable(path, err: Exception, what: str) -> DamagedFileError:
    if isinstance(err, FileNotFoundError) or not Path(path).exists():
        return DamagedFileError.of(path, f"no such {what}")
    return DamagedFileError.of(
        path, f"cannot be read as a {what} ({type(err).__name__}: {err}); it is damaged or not a phasetrace output"
    )


def read_arrays(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict]:
    """(arrays, attrs) of a store written by :func:`write_arrays`, after checking it against its manifest;
    :class:`DamagedFileError` names an unreadable or damaged one and what is wrong."""
    path = Path(path)
    if path.is_dir():
        raise _unreadable(path, IsADirectoryError(f"{path} is a directory"), "zip Zarr store (*.zarr.zip)")
    verify_store(path)
    try:
        store = ZipStore(path, mode="r")
        try:
            root = zarr.open_group(store=store, mode="r")
            with warnings.catch_warnings():  # the manifest is a key of the store, not a node of the hierarchy
                warnings.filterwarnings("ignore", f"Object at {MANIFEST} is not recognized", UserWarning)
                return {name: np.asarray(arr[...]) for name, arr in root.arrays()}, dict(root.attrs)
        finally:
            with contextlib.suppress(Exception):  # a store that never opened fails to close too
                store.close()
    except Exception as err:  # zipfile.BadZipFile, FileNotFoundError, IsADirectoryError, missing arrays, ...
        raise _unreadable(path, err, "zip Zarr store (*.zarr.zip)") from err


def open_dataset(path: str | os.PathLike, load: bool = True):
    """An xarray Dataset from a Zarr directory store, loaded (``load=False``: read lazily, for a few variables of a
    large one, after checking its chunks' sizes only), after checking it against its manifest;
    :class:`DamagedFileError` names an unreadable or damaged one and what is wrong."""
    import xarray as xr

    verify_store(path, content=load)
    try:
        if not load:
            return xr.open_zarr(path)
        with xr.open_zarr(path) as ds:
            return ds.load()
    except Exception as err:
        raise _unreadable(path, err, "Zarr dataset") from err


def write_dataset(path: str | os.PathLike, ds) -> None:
    """Write an xarray Dataset as a Zarr v3 directory store with its manifest, atomically (temporary directory,
    then rename)."""
    with atomic_path(path) as tmp:
        with warnings.catch_warnings():  # consolidated metadata is a zarr-python extension to v3; readers use it
            warnings.filterwarnings("ignore", "Consolidated metadata", UserWarning)
            ds.to_zarr(tmp, mode="w", zarr_format=3, consolidated=True)
        (tmp / MANIFEST).write_bytes(_manifest_bytes(_DirKeys(tmp)))


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
        if path.is_dir():  # a phasetrace output is checked; traces from elsewhere have no manifest
            verify_store(path, required=False)
        with xr.open_zarr(path) as ds:
            return ds.load()
    except DamagedFileError:
        raise
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
    if df.empty:
        raise ValueError(
            f"{path}: no data rows (only the header {list(df.columns)}); a traces CSV needs one row per measured value"
        )
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
    da = ds[variable]
    df = da.to_dataframe(name=variable).reset_index()[[*da.dims, variable]]
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False)


# --- tables ----------------------------------------------------------------------------------------------------------


def cell(value, spec: str | None = None) -> str:
    """A table cell: ``format(value, spec)`` where a format is given; else a float with 4 decimals, None empty,
    anything else as ``str``."""
    if spec is not None:
        return format(value, spec)
    if value is None:
        return ""
    if isinstance(value, float | np.floating):
        return f"{value:.4f}"
    return str(value)


def table_rows(ds, columns: Sequence[str], formats: Mapping[str, str] | None = None, dims=None) -> list[list[str]]:
    """The rows of a table drawn from the xarray Dataset ``ds``: one per point of the dimensions its columns span
    (``dims``, in that order; by default in the order the columns first use them), one cell per column, each a
    variable or coordinate of ``ds`` broadcast over those dimensions and written by :func:`cell` with
    ``formats[column]``."""
    import xarray as xr

    formats = formats or {}
    if dims is None:
        dims = list(dict.fromkeys(d for c in columns for d in ds[c].dims))
    flat = [a.transpose(*dims).values.ravel() for a in xr.broadcast(*(ds[c] for c in columns))]
    return [[cell(v, formats.get(c)) for c, v in zip(columns, row, strict=True)] for row in zip(*flat, strict=True)]


def write_csv(
    path: str | os.PathLike, columns: Sequence[str], table, formats: Mapping[str, str] | None = None, dims=None
) -> None:
    """The one CSV writer, atomic (:func:`atomic_path`): a header of ``columns``, then the rows of ``table``, an
    xarray Dataset (:func:`table_rows`, with ``formats`` and ``dims``) or rows already formatted (sequences in the
    order of ``columns``, written as the csv module writes them: None empty, anything else ``str``)."""
    rows = table_rows(table, columns, formats, dims) if hasattr(table, "data_vars") else table
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(columns)
        w.writerows(rows)


def column(values: Sequence) -> np.ndarray:
    """An array of one table column: numeric or string where every value is of one such type, else of objects
    (which keeps each value as it is: None, or a mix of ints and floats)."""
    kinds = {
        bool if isinstance(v, bool | np.bool_) else int if isinstance(v, int | np.integer) else
        float if isinstance(v, float | np.floating) else str if isinstance(v, str) else object
        for v in values
    }  # fmt: skip
    if len(kinds) == 1 and object not in kinds:
        return np.asarray(values)
    out = np.empty(len(values), dtype=object)
    out[:] = list(values)
    return out


def rows_dataset(records: Sequence[Mapping], columns: Sequence[str], dim: str = "row"):
    """Table rows (mappings by column name) as an xarray Dataset: one variable per column along ``dim``."""
    import xarray as xr

    return xr.Dataset({c: (dim, column([r[c] for r in records])) for c in columns})


def records(ds, dim: str = "row") -> list[dict]:
    """The rows along ``dim`` of a Dataset of table columns (:func:`rows_dataset`), as mappings by column name."""
    names = [v for v in ds.variables if ds[v].dims == (dim,)]
    return [dict(zip(names, row, strict=True)) for row in zip(*(ds[v].values for v in names), strict=True)]
