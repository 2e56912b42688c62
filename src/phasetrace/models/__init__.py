"""The models phasetrace simulates and learns from, by config section name (see :mod:`.base` for the interface).

A new model is a module here with a ``MODEL`` object, one line in :data:`MODELS`, a config section (its
``schema``) and its tests; its random streams are keyed by an id derived from its name
(:func:`phasetrace.seeds.model_id`). Sweep dimensions other than ``eps`` and ``W`` also
need their path format in :data:`phasetrace.sweep.FORMATS`.

The measured model is the one model a user may enable under names of their own, any number of them: ``measured``
or ``measured_<name>`` (:data:`MEASURED_NAME`), each with its own section of the same keys, its own results folder,
jobs, dataset, classifiers and panel. :data:`MODELS` holds ``measured`` as their representative (the lists of
models that docs and messages show); :func:`get` makes the others on first use, so every job that knows a model
only by its name (a dataset's ``model`` attribute) finds it without a config.
"""

from __future__ import annotations

import re

import numpy as np

from ..sweep import ALL_SETS, blocks, point_name, points, realizations_per_job
from .base import Model, Stage, grids, stage
from .fixed import MBL_FIXED, QUASIPERIODIC_FIXED
from .floquet import MODEL as FLOQUET
from .mbl import MODEL as MBL
from .measured import MODEL as MEASURED
from .measured import MeasuredModel
from .quasiperiodic import MODEL as QUASIPERIODIC

MODELS: dict[str, Model] = {m.name: m for m in (MBL, FLOQUET, QUASIPERIODIC, MBL_FIXED, QUASIPERIODIC_FIXED, MEASURED)}

# The names of measured models: ``measured``, or ``measured_`` and lowercase letters, digits or underscores (a path
# component, a config section and a wildcard value that no other model's path can take)
_OWN_NAME = r"_[a-z0-9_]+"
MEASURED_NAME = rf"measured(?:{_OWN_NAME})?"
MEASURED_SECTION = rf"^measured{_OWN_NAME}$"  # the sections of the ones besides ``measured`` (the config schema's)
MEASURED_RULE = f"measured_<name> (<name>: lowercase letters, digits and _; {MEASURED_SECTION})"
_MEASURED: dict[str, MeasuredModel] = {MEASURED.name: MEASURED}


def is_measured(name) -> bool:
    """Whether ``name`` names a measured model (:data:`MEASURED_NAME`)."""
    return isinstance(name, str) and re.fullmatch(MEASURED_NAME, name) is not None


def known(name) -> bool:
    """Whether ``name`` names a model: one of :data:`MODELS` or a measured model's name."""
    return name in MODELS or is_measured(name)


def get(name: str) -> Model:
    """The model of that name; a measured model's name gives its :class:`MeasuredModel`, one object per name."""
    if name in MODELS:
        return MODELS[name]
    if is_measured(name):
        return _MEASURED.setdefault(name, MeasuredModel(name))
    raise ValueError(f"model = {name!r} is not allowed: one of {sorted(MODELS)} or {MEASURED_RULE}")


def sections(config: dict) -> list[str]:
    """The names of the models whose sections the config holds (validated even where not built): those of
    :data:`MODELS`, then the measured models' under names of their own, in the config's order."""
    return [n for n in MODELS if n in config] + [n for n in config if n not in MODELS and is_measured(n)]


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


__all__ = [
    "MEASURED_NAME",
    "MEASURED_RULE",
    "MEASURED_SECTION",
    "MODELS",
    "Model",
    "Stage",
    "convergence_sweep",
    "enabled",
    "get",
    "grids",
    "is_measured",
    "known",
    "sections",
    "stage",
    "training_sets",
]
