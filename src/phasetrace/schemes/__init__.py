"""Detection schemes: how a classifier kind is turned into a boundary, the second axis beside the kinds.

- ``supervised`` (the paper's): train on the two labeled windows deep inside known phases, read the boundary off
  the confusion in between (the ``network`` and ``confusion`` rules, :mod:`phasetrace.training`).
- ``scan`` (learning by confusion: van Nieuwenburg, Liu, Huber, Nat. Phys. 13, 435 (2017)): for every trial split
  point of the sweep, label every point below it as one phase and every point above as the other, train, and record
  the held-out accuracy; the accuracy curve is W-shaped and its inner maximum marks the transition. No window is
  used. Multi-task by default (one network with one sigmoid output per split, trained once); ``schemes.scan:
  single`` trains one set per split, the original method, to check the multi-task one.
- ``regression`` (the prediction-based method: Schäfer & Lörch, PRE 99, 062107 (2019)): regress the sweep
  parameter itself from each trace; the transition is where the mean prediction changes fastest (the peak of its
  derivative). No window is used.

The names avoid "confusion", which names the confusion datasets (``confusion.zarr``) and their variables: ``scan``
is the scan over split points, ``regression`` what the network is trained to do.

Every scheme also has its optimal predictor (Arnold & Schäfer, PRX 12, 031044 (2022)), the output of a perfectly
trained network computed from the data distribution without training, here of the late-time imbalance
(:mod:`.optimal`): a no-training reference beside the networks.

This registry imports no JAX: the workflow reads it when it is parsed. A scheme's implementation (``fit`` and
``indicator``) is a module of this package, imported by the jobs (:mod:`.jobs`).
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType


@dataclass(frozen=True)
class Scheme:
    """A detection scheme: its name (config value, path component), its implementation module (None: the
    workflow's network and confusion rules), the ``schemes.*`` keys its outputs depend on, its colour and marker in
    the figures, whether it reads the labeled windows, and what its indicator curve is."""

    name: str
    module: str | None
    keys: tuple[str, ...]
    color: str
    marker: str
    windows: bool
    indicator: str
    description: str


SCHEMES: dict[str, Scheme] = {
    s.name: s
    for s in (
        Scheme(
            "supervised", None, (), "tab:blue", "o", True, "confusion C and the share p_b/(p_a + p_b)",
            "train on the labeled windows, confusion between (the paper's)",
        ),
        Scheme(
            "scan", "scan", ("scan",), "tab:red", "s", False, "held-out accuracy vs split point (W-shaped)",
            "learning by confusion: a network per trial split point (multi-task: one output per split)",
        ),
        Scheme(
            "regression", "regression", (), "tab:green", "^", False, "mean prediction of the sweep parameter and its "
            "derivative", "prediction-based: regress the sweep parameter, transition at the peak of the derivative",
        ),
    )
}  # fmt: skip
SCAN_MODES = ("multi", "single")


def get(name: str) -> Scheme:
    if name not in SCHEMES:
        raise ValueError(f"scheme {name!r} is not one of {list(SCHEMES)}")
    return SCHEMES[name]


def trained() -> list[str]:
    """The schemes with jobs of their own (every one but ``supervised``, which is the network and confusion rules)."""
    return [s.name for s in SCHEMES.values() if s.module is not None]


def implementation(name: str) -> ModuleType:
    """The module of scheme ``name`` (imports JAX)."""
    scheme = get(name)
    if scheme.module is None:
        raise ValueError(f"scheme {name!r} is the workflow's network and confusion rules (phasetrace.training)")
    return importlib.import_module(f"{__name__}.{scheme.module}")


def compared(config: dict) -> list[str]:
    """The schemes of the comparison: ``supervised`` first, then ``schemes.compare``."""
    return list(dict.fromkeys(["supervised", *config["schemes"]["compare"]]))


def scheme_sets(config: dict, model) -> list[tuple[str, dict[str, float]]]:
    """(name, point) of the training sets of ``model`` (a :class:`~phasetrace.models.Model`) that the comparison
    fits: the points of ``schemes.eps`` for a model with one set per ε, the one set otherwise."""
    from ..models import training_sets

    sets = training_sets(config, model.name)
    if not model.set_dims:
        return sets
    wanted = [float(v) for v in config["schemes"]["eps"]]
    return [(name, p) for name, p in sets if any(abs(p[model.set_dims[0]] - v) < 1e-9 for v in wanted)]
