"""The models phasetrace simulates and learns from, by config section name (see :mod:`.base` for the interface).

A new model is a module here with a ``MODEL`` object, one line in :data:`MODELS`, a config section and its tests.
"""

from __future__ import annotations

from .base import Model, Stage, grids, stage
from .floquet import MODEL as FLOQUET
from .mbl import MODEL as MBL
from .quasiperiodic import MODEL as QUASIPERIODIC

MODELS: dict[str, Model] = {m.name: m for m in (MBL, FLOQUET, QUASIPERIODIC)}


def get(name: str) -> Model:
    if name not in MODELS:
        raise ValueError(f"model = {name!r} is not allowed: one of {sorted(MODELS)}")
    return MODELS[name]


def enabled(config: dict) -> list[Model]:
    """The models the config's ``models`` list builds, in its order."""
    return [get(name) for name in config["models"]]


__all__ = ["MODELS", "Model", "Stage", "enabled", "get", "grids", "stage"]
