"""The sweep a config describes: grids, realization blocks, training windows, and the one home of the target paths.

Target paths (all under ``results/``), for every model (:mod:`.models`):

===================================================  ===========================================================
``{model}/L{L}/{stage}/{point}/r{a}-{b}.zarr.zip``   one simulation job: ``stage`` of the model (``bounds``,
                                                     ``traces``) at a sweep point (``eps0.5000/W3.000``), for
                                                     realizations a … b
``{model}/L{L}/imported/{file}.zarr.zip``           one measured file, validated (the ``measured`` model)
``{model}/L{L}/traces.zarr``                         the labeled dataset of the model's whole sweep
``{model}/L{L}/{kind}/networks/{set}.zarr.zip``      k classifiers of one kind for one training set (``eps0.5000``
                                                     where the model trains one set per ε, ``all`` otherwise)
``{model}/L{L}/{kind}/confusion.zarr``, ``…/boundary.csv``  confusion and boundaries with intervals
``{model}/L{L}/{kind}/{scheme}.zarr``                a detection scheme (``scan``, ``regression``) with one kind:
                                                     indicator curves and boundaries (:mod:`.schemes`)
``{model}/L{L}/optimal.zarr``                        every scheme's optimal predictor on the late-time imbalance
``{model}/L{L}/robustness/{variant}.csv``            boundaries under one measurement variant (``site-N100-t1``:
                                                     observable, shots or ``inf``, time stride)
``replicates/{model}/L{L}/rep{i}.csv``               one rerun of the replicate study (:mod:`.replicates`)
``phase_diagram.png``                                the main figure (kind: ``training.classifier``)
===================================================  ===========================================================

A point is written dimension by dimension with the formats of :data:`FORMATS` (W with three decimals, ε with
four) and blocks with zero-padded inclusive realization indices (``r000-019``). One job writes one zip file, so a
paper-scale run costs one inode per job.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

FORMATS = {"eps": "{:.4f}", "W": "{:.3f}"}  # how each sweep dimension is written in paths
GRID_TOLERANCE = 1e-12  # a grid value on a window's edge belongs to the window

TEMPLATES = {
    "job": "{root}/{model}/L{L}/{stage}/{point}/{block}.zarr.zip",
    "import": "{root}/{model}/L{L}/imported/{file}.zarr.zip",
    "dataset": "{root}/{model}/L{L}/traces.zarr",
    "network": "{root}/{model}/L{L}/{classifier}/networks/{set}.zarr.zip",
    "confusion": "{root}/{model}/L{L}/{classifier}/confusion.zarr",
    "boundary": "{root}/{model}/L{L}/{classifier}/boundary.csv",
    "scheme": "{root}/{model}/L{L}/{classifier}/{scheme}.zarr",
    "scheme_networks": "{root}/{model}/L{L}/{classifier}/{scheme}/networks",  # one {set}.zarr.zip per compared set
    "optimal": "{root}/{model}/L{L}/optimal.zarr",
    "robustness_variant": "{root}/{model}/L{L}/robustness/{variant}.csv",
    "replicate": "{root}/replicates/{model}/L{L}/rep{replicate}.csv",
    "adaptive_round": "{root}/adaptive/{model}/L{L}/rep{replicate}/round{round}.zarr.zip",
    "adaptive_uniform": "{root}/adaptive/{model}/L{L}/rep{replicate}/uniform.csv",
}
ALL_SETS = "all"  # the set name of a model trained once over its whole sweep
# The dataset variable (over the labeled dimension) of the realizations each point holds, where points hold different
# numbers (the measured model's): the realization dimension is as long as the most, the rest of a point is NaN padding.
# A dataset without it holds every realization at every point (the simulated models).
REALIZATIONS = "realizations"


def path(kind: str, root: str = "results", **fields) -> str:
    """A target path of :data:`TEMPLATES`; fields left out stay wildcards (``{model}``) for the rules."""
    names = re.findall(r"{(\w+)}", TEMPLATES[kind])
    return TEMPLATES[kind].format(**({n: f"{{{n}}}" for n in names} | {"root": root} | fields))


def grid(spec) -> np.ndarray:
    """A grid from ``{start, stop, num}`` (inclusive linspace) or from an explicit list of values; ``-0.0`` is
    read as 0.0 (it would be written ``-0.000`` in paths, a point no rule makes)."""
    if isinstance(spec, dict):
        values = np.linspace(float(spec["start"]), float(spec["stop"]), int(spec["num"]))
    else:
        values = np.asarray(spec, dtype=float)
    return values + 0.0  # IEEE 754: -0.0 + 0.0 = +0.0; every other value unchanged


def sizes(cfg: dict) -> list[int]:
    """The chain lengths of one model's config section: ``L`` is one length or an increasing list (a
    finite-size study: every L is its own folder ``L{L}`` with its own jobs, dataset and classifiers)."""
    L = cfg["L"]
    return [int(v) for v in L] if isinstance(L, list) else [int(L)]


def at_size(config: dict, model: str, L: int | str) -> dict:
    """The config as the jobs of ``model`` at chain length ``L`` see it: ``config[model]["L"]`` that one length.

    Every stage reads a single L; a config listing several is the union of one such config per length, so a job
    at L records (and is reused under) exactly the settings a single-L config with that L gives."""
    allowed = sizes(config[model])
    if int(L) not in allowed:
        raise ValueError(
            f"{model}.L = {config[model]['L']} in the config; the target asks for L{L} "
            f"(add {L} to {model}.L to build it)"
        )
    return config | {model: config[model] | {"L": int(L)}}


def main_size(cfg: dict) -> int:
    """The length the phase diagram and the paper's checks use: the largest of the section's ``L``."""
    return max(sizes(cfg))


def at_main_sizes(config: dict, models) -> dict:
    """The config with every one of ``models`` at its :func:`main_size` (figures over several models)."""
    for m in models:
        if m in config:
            config = at_size(config, m, main_size(config[m]))
    return config


def realizations_per_job(cfg: dict) -> int:
    """Realizations per job of one model's config section (``"all"``: every realization in one job)."""
    n = cfg["realizations_per_job"]
    return cfg["realizations"] if n == "all" else min(int(n), cfg["realizations"])


def blocks(realizations: int, per_job: int, upto: int | None = None) -> list[tuple[int, int]]:
    """Inclusive (first, last) realization indices of each job's block; with ``upto``, the blocks that hold the
    first ``upto`` realizations: those of the sweep (the last may hold more), then blocks of the same size past it."""
    out = [(a, min(a + per_job, realizations) - 1) for a in range(0, realizations, per_job)]
    if upto is None:
        return out
    return [b for b in out if b[0] < upto] + [
        (a, min(a + per_job, upto) - 1) for a in range(realizations, upto, per_job)
    ]


def block_name(block: tuple[int, int], realizations: int) -> str:
    width = max(3, len(str(realizations - 1)))
    return f"r{block[0]:0{width}d}-{block[1]:0{width}d}"


def parse_block(name: str) -> tuple[int, int]:
    a, b = name.lstrip("r").split("-")
    return int(a), int(b)


def check_block(name: str, held: list[tuple[int, int]], realizations: int, key: str) -> tuple[int, int]:
    """The (first, last) realizations of block ``name``, refused unless it is one of the blocks ``held`` that the
    config builds (a target outside them would simulate realizations no dataset reads)."""
    block = parse_block(name)
    if block not in held:
        names = [block_name(b, realizations) for b in held]
        shown = ", ".join(names[:6]) + (f", … ({len(names)} blocks)" if len(names) > 6 else "")
        raise ValueError(
            f"realization block {name} is not one of this config's ({key}.realizations = {realizations}, "
            f"{key}.realizations_per_job: blocks {shown})"
        )
    return block


def lookup(values: np.ndarray, fmt: str, text: str, name: str) -> float:
    """The grid value whose formatted form is ``text`` (paths carry formatted values; jobs use exact ones)."""
    for v in values:
        if fmt.format(v) == text:
            return float(v)
    raise ValueError(f"{name} = {text} is not a point of the configured grid {[fmt.format(v) for v in values]}")


def point_name(point: dict[str, float]) -> str:
    """``{"eps": 0.5, "W": 3}`` → ``eps0.5000/W3.000`` (dimensions in the given order)."""
    return "/".join(f"{dim}{FORMATS[dim].format(v + 0.0)}" for dim, v in point.items())  # + 0.0: no -0.000


def parse_point(text: str, grids: dict[str, np.ndarray]) -> dict[str, float]:
    """The exact grid values of a point written by :func:`point_name`, over the dimensions of ``grids`` (in order)."""
    parts = text.split("/")
    if len(parts) != len(grids) or not all(p.startswith(d) for p, d in zip(parts, grids, strict=False)):
        raise ValueError(f"sweep point {text!r} is not of the form {point_name(dict.fromkeys(grids, 0.0))}")
    return {d: lookup(grids[d], FORMATS[d], p[len(d) :], d) for p, d in zip(parts, grids, strict=True)}


def points(grids: dict[str, np.ndarray]) -> list[dict[str, float]]:
    """Every point of the product of ``grids`` (the first dimension outermost)."""
    mesh = np.meshgrid(*grids.values(), indexing="ij")
    return (
        [dict(zip(grids, (float(m.flat[i]) for m in mesh), strict=True)) for i in range(mesh[0].size)]
        if grids
        else [{}]
    )


@dataclass(frozen=True)
class Window:
    """A labeled interval [low, high] of the sweep parameter, with its class index and name."""

    name: str
    label: int
    low: float
    high: float


def labels(values: np.ndarray, windows: list[Window]) -> np.ndarray:
    """Class index of each grid value, −1 where it lies in no window (blanked)."""
    out = np.full(values.shape, -1, dtype=np.int8)
    for w in windows:
        out[(values >= w.low - GRID_TOLERANCE) & (values <= w.high + GRID_TOLERANCE)] = w.label
    return out


def check_windows(values: np.ndarray, windows: list[Window], key: str) -> None:
    """Windows must not overlap and each must contain at least one grid point."""
    for i, a in enumerate(windows):
        if not np.any((values >= a.low - GRID_TOLERANCE) & (values <= a.high + GRID_TOLERANCE)):
            raise ValueError(
                f"{key}.windows.{a.name} = [{a.low}, {a.high}] contains no point of the {key} grid "
                f"[{values.min()}, {values.max()}]; widen the window or extend the grid"
            )
        for b in windows[i + 1 :]:
            if a.low <= b.high and b.low <= a.high:
                raise ValueError(f"{key}.windows.{a.name} and {key}.windows.{b.name} overlap; windows must be disjoint")


def finite_size_study(config: dict) -> bool:
    """Whether the config asks for the finite-size study: a ``scaling`` section and an enabled model listing
    several L (then the default target builds it, and its section is checked against the models')."""
    return "scaling" in config and any(len(sizes(config[m])) > 1 for m in config["models"])
