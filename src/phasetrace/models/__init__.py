"""The models phasetrace simulates and learns from, by config section name (see :mod:`.base` for the interface).

A new model is a module here with a ``MODEL`` object, one line in :data:`MODELS`, a config section (its
``schema``) and its tests; its random streams are keyed by an id derived from its name
(:func:`phasetrace.seeds.model_id`). Sweep dimensions other than ``eps`` and ``W`` also
need their path format in :data:`phasetrace.sweep.FORMATS`.
"""

from __future__ import annotations

import numpy as np

from ..sweep import ALL_SETS, blocks, point_name, points, realizations_per_job
from .base import Model, Stage, grids, stage
from .fixed import MBL_FIXED, QUASIPERIODIC_FIXED
from .floquet import MODEL as FLOQUET
from .mbl import MODEL as MBL
from .measured import MODEL as MEASURED
from .quasiperiodic import MODEL as QUASIPERIODIC

MODELS: dict[str, Model] = {m.name: m for m in (MBL, FLOQUET, QUASIPERIODIC, MBL_FIXED, QUASIPERIODIC_FIXED, MEASURED)}


def get(name: str) -> Model:
    if name not in MODELS:
        raise ValueError(f"model = {name!r} is not allowed: one of {sorted(MODELS)}")
    return MODELS[name]


def enabled(config: dict) -> list[Model]:
    """The models the config's ``models`` list builds, in its order."""
    return [get(name) for name in config["models"]]


def training_sets(config: dict, model: str) -> list[tuple[str, dict[str, float]]]:
    """(name, point) of each training set of ``model``: one per point of its set dimensions (``eps0.5000``), or
    one over the whole sweep (``all``)."""
    m = get(model)
    if not m.set_dims:
        return [(ALL_SETS, {})]
    return [(point_name(p), p) for p in points(grids(m, config[model], m.set_dims))]


def convergence_sweep(config: dict) -> tuple[str, int, dict, list[tuple[int, int]]]:
    """(model, L, section, blocks) of the realization-convergence study (``scaling.convergence``): the mbl section
    at its L with only the ε of ``scaling.eps`` and realizations enough for the largest R, and the realization
    blocks that hold them: the main sweep's blocks, then blocks of the same size past them, so that the jobs the main
    sweep computes are shared."""
    conv, cfg = config["scaling"]["convergence"], config["mbl"]
    eps = grids(MBL, cfg, ("eps",))["eps"]
    value = float(eps[np.argmin(np.abs(eps - config["scaling"]["eps"]))])
    held = blocks(cfg["realizations"], realizations_per_job(cfg), max(conv["realizations"]))
    section = cfg | {"L": conv["L"], "eps": [value], "realizations": held[-1][1] + 1}
    return "mbl", conv["L"], section, held


__all__ = ["MODELS", "Model", "Stage", "convergence_sweep", "enabled", "get", "grids", "stage", "training_sets"]
