"""A model for measured data: an experiment's own sweep, read from its files instead of simulated.

A user may enable any number of measured models, each under a name of its own (``measured`` or ``measured_<name>``,
:data:`phasetrace.models.MEASURED_NAME`), each with a section of the keys below, its own results folder, jobs,
dataset, classifiers and phase-diagram panel; the model's ``name`` is its section's.

The config section ``measured`` names the files (long-form CSV, NetCDF or Zarr, as ``classify`` reads them), the
sweep's name and units as the files and the figures write them, the time unit, the observable (``site``:
⟨σᶻᵢ⟩(t) per site; ``imbalance``: one value per time), the shots behind each value (recorded only), the sweep
points the files hold together, the least realizations a point may hold (points may hold different numbers: the
dataset pads them with NaN and records each point's count, see :data:`phasetrace.sweep.REALIZATIONS`), and the
two labeled ends of the sweep.

One workflow job per file reads and validates it into a store (:mod:`phasetrace.measured_data`), recording the
file's SHA-256 digest; the dataset job gathers the stores into the labeled dataset, and training, confusion,
boundaries and the phase-diagram panel are the generic machinery's. Adding a file reruns its import and what
gathers the stores; a changed file (Snakemake sees it as an input) reruns its import.

The dataset's sweep dimension is always named ``W`` inside phasetrace (the models' sweep dimensions are class-level:
the registry, the path formats and the training code key on them); the files' own name and its units are
carried in the dataset's attrs ``sweep_name`` and ``sweep_units``, which the figure and the tables use. Nothing here
reads files: reading and validating them is a job's (jobs layer).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

import numpy as np
import xarray as xr

from ..sweep import REALIZATIONS, Window, labels
from .base import Stage, check_grid, check_model_windows, classes_attr

IMPORT_KEYS = ("sweep", "observable", "L")  # what one file's import depends on (besides the file)
OBSERVABLE_VARIABLES = {"site": "magnetization", "imbalance": "imbalance"}  # as in phasetrace.measurement

_WINDOW = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name"],
    "properties": {"name": {"type": "string", "pattern": r"^[a-z][a-z0-9_]*$"}},
}
SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["files", "sweep", "points", "L", "realizations", "time_unit", "observable", "shots", "windows"],
    "properties": {
        "files": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "string", "minLength": 1}},
        "sweep": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "units"],
            "properties": {
                "name": {"type": "string", "pattern": r"^[A-Za-z_][A-Za-z0-9_]*$"},
                "units": {"type": "string"},
            },
        },
        "points": {"type": "array", "minItems": 2, "items": {"type": "number"}},
        "L": {"type": "integer", "minimum": 1, "maximum": 1000},
        "realizations": {
            "type": "integer",
            "minimum": 1,
            "description": "the least realizations a sweep point may hold (points may hold different numbers)",
        },
        "time_unit": {"type": "string"},
        "observable": {"enum": list(OBSERVABLE_VARIABLES)},
        "shots": {"type": ["integer", "null"], "minimum": 1},
        "windows": {
            "type": "object",
            "additionalProperties": False,
            "required": ["low", "high"],
            "properties": {
                "low": {**_WINDOW, "required": ["name", "max"], "properties": {**_WINDOW["properties"],
                                                                              "max": {"type": "number"}}},
                "high": {**_WINDOW, "required": ["name", "min"], "properties": {**_WINDOW["properties"],
                                                                               "min": {"type": "number"}}},
            },
        },
    },
}  # fmt: skip


def file_name(path: str) -> str:
    """A file's name in the paths of its import job (``imported/{name}.zarr.zip``): its path relative to the working
    directory with every character other than letters, digits, ``.``, ``_``, ``-`` written ``_``."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", str(PurePosixPath(path)))


class MeasuredModel:
    """Traces an experiment measured: sweep ``W`` (the files' sweep, renamed; see the module), one training set over
    the whole sweep, stage ``import`` (one job per file, not per sweep point), panel ``measured_curve``."""

    title = "measured sweep"
    sweep_dims = ("W",)
    label_dim = "W"
    set_dims = ()
    time_dim = "time"
    grid_keys = {"W": "points"}  # the section key that holds the grid of each sweep dimension
    stages = (Stage("import", (), IMPORT_KEYS),)
    dataset_keys = ("files", *IMPORT_KEYS, "points", "realizations", "time_unit", "shots", "windows")
    schema = SCHEMA
    plateaus: dict = {}
    reference = None
    panel = "measured_curve"
    simulated = False  # its traces are measured already: the config's measurement section does not apply

    def __init__(self, name: str = "measured"):
        self.name = name
        if name != "measured":  # the figures' titles tell several measured models apart
            self.title = f"measured sweep ({name})"

    def files(self, cfg: dict) -> dict[str, str]:
        """{name in paths: path} of the section's files."""
        return {file_name(f): f for f in cfg["files"]}

    def windows(self, cfg: dict) -> list[Window]:
        w = cfg["windows"]
        return [
            Window(w["low"]["name"], 0, -np.inf, float(w["low"]["max"])),
            Window(w["high"]["name"], 1, float(w["high"]["min"]), np.inf),
        ]

    def times(self, cfg: dict) -> np.ndarray:
        raise ValueError(f"{self.name}: the times are the files', known once they are imported")

    def validate(self, config: dict) -> None:
        cfg = config[self.name]
        points = np.asarray(cfg["points"], dtype=float)
        check_grid(f"{self.name}.points", points, -np.inf, np.inf, "{:.3f}")
        names = {}
        for f in cfg["files"]:
            if PurePosixPath(f).is_absolute() or ".." in PurePosixPath(f).parts:
                raise ValueError(
                    f"invalid config: {self.name}.files: {f!r} is not allowed: paths are relative to the working "
                    "directory and stay inside it (copy or link the file there)"
                )
            if file_name(f) in names:
                raise ValueError(
                    f"invalid config: {self.name}.files: {names[file_name(f)]!r} and {f!r} are both written "
                    f"{file_name(f)!r} in the paths of their import jobs; rename one"
                )
            names[file_name(f)] = f
        w = cfg["windows"]
        if w["low"]["name"] == w["high"]["name"]:
            raise ValueError(f"invalid config: {self.name}.windows: low and high need different names")
        if w["low"]["max"] >= w["high"]["min"]:
            raise ValueError(
                f"invalid config: {self.name}.windows.low.max must be < {self.name}.windows.high.min (windows overlap)"
            )
        check_model_windows(self.name, self.windows(cfg), points)

    def run_stage(self, config, stage, point, block, inputs):
        raise ValueError(f"{self.name} simulates nothing: its stage 'import' reads files (phasetrace.measured_data)")

    def dataset(self, config: dict, stores: list[tuple[dict, dict]]) -> xr.Dataset:
        """The imported stores (one per file, checked by :func:`phasetrace.measured_data.dataset_job`: together the
        configured points, no realization of a point in two files, one time grid) → dims (W, realization, time[,
        site]). A point's realizations are those of every file holding it, in the order of their labels; the
        realization dimension is as long as the most any point holds, a point's realizations past its own count
        (``realizations`` (W)) NaN."""
        cfg = config[self.name]
        W = np.asarray(cfg["points"], dtype=float) + 0.0
        L, per_site = cfg["L"], cfg["observable"] == "site"
        times = stores[0][0]["times"]
        held: dict[int, list] = {k: [] for k in range(W.size)}  # per point: (label, trace) of every file
        digests, sources = {}, {}
        for arrays, attrs in stores:
            for i, w in enumerate(arrays["points"]):
                c = int(arrays["counts"][i])
                pairs = zip(arrays["realizations"][i, :c], arrays["values"][i, :c], strict=True)
                held[int(np.nonzero(W == w)[0][0])] += pairs
            digests[attrs["source"]] = attrs["source_sha256"]
            sources[attrs["source"]] = [float(w) for w in arrays["points"]]
        counts = np.array([len(held[k]) for k in range(W.size)], dtype=np.int64)
        R = int(counts.max())
        shape = (W.size, R, times.size, L) if per_site else (W.size, R, times.size)
        values, source = np.full(shape, np.nan), np.full((W.size, R), -1, dtype=np.int64)
        for k, traces in held.items():
            for j, (label, trace) in enumerate(sorted(traces, key=lambda t: t[0])):
                values[k, j], source[k, j] = trace, label
        windows = self.windows(cfg)
        variable = OBSERVABLE_VARIABLES[cfg["observable"]]
        dims = ("W", "realization", "time", "site") if per_site else ("W", "realization", "time")
        coords = {"W": W, "realization": np.arange(R), "time": times} | ({"site": np.arange(L)} if per_site else {})
        name, units = cfg["sweep"]["name"], cfg["sweep"]["units"]
        return xr.Dataset(
            {
                variable: (dims, values, {"long_name": variable, "shots": cfg["shots"] or 0}),
                "source_realization": (
                    ("W", "realization"),
                    source,
                    {"long_name": "realization label in the file (-1: padding)"},
                ),
                REALIZATIONS: (("W",), counts, {"long_name": "realizations held at the point (the rest: NaN padding)"}),
                "label": (("W",), labels(W, windows), classes_attr(windows)),
            },
            coords=coords,
            attrs={
                "L": L,
                "observable": cfg["observable"],
                "measured_data": True,
                "sweep_name": name,
                "sweep_units": units,
                "time_unit": cfg["time_unit"],
                "shots": cfg["shots"] or 0,
                "source_sha256": digests,  # {file: SHA-256 of its bytes}
                "source_points": sources,  # {file: the sweep points it holds}
            },
        )

    def work(self, config, stage, point):
        raise ValueError(f"{self.name} simulates nothing")

    def values(self, config: dict) -> int:
        """An estimate for the resource requests (the number of times is the files'): the files' sizes over the ~16
        bytes of a CSV value, at least the points × realizations × sites of 100 times."""
        import os

        cfg = config[self.name]
        size = sum(os.path.getsize(f) for f in cfg["files"] if os.path.isfile(f))
        return max(size // 16, len(cfg["points"]) * cfg["realizations"] * cfg["L"] * 100)


MODEL = MeasuredModel()
