"""The classifier kinds: one registry entry each, from which the config schema's choices, the provenance of a set,
the colours of the figures and the workflow's ``{classifier}`` paths are derived.

A kind is a module of this package (its implementation: ``fit``, ``predict`` and ``unflat``, see
:mod:`phasetrace.classifiers` for the contract) and one line in :data:`KINDS` below. The registry imports no JAX:
the workflow reads it when it is parsed; the implementation is imported by the jobs that train or apply a set.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from types import ModuleType

# The training.* keys every kind's sets depend on (members, their resamples, the held-out share and the realizations
# trained on), and those of the networks (phasetrace.kinds.network: input encoding, architecture, optimizer)
SET_KEYS = ("members", "resamples", "holdout", "realizations")
NETWORK_KEYS = (
    "input",
    "units",
    "dropout",
    "l2",
    "learning_rate",
    "batch_size",
    "steps",
    *SET_KEYS,
    "confidence_weight",
)


@dataclass(frozen=True)
class Kind:
    """A classifier kind: its name (config value, path component), the module implementing it, the training.*
    keys its sets depend on, its colour in figures; ``baseline``: a reference without training that the finite-size
    and robustness studies fit beside the phase diagram's kind; ``imbalance_only``: it reads only the imbalance of
    the traces, so it gives the same from either measured observable."""

    name: str
    module: str
    keys: tuple[str, ...]
    color: str
    description: str
    baseline: bool = False
    imbalance_only: bool = False


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("lstm", "lstm", NETWORK_KEYS, "tab:blue", "the paper's network: LSTM over time, dropout, dense softmax"),
        Kind("mlp", "mlp", NETWORK_KEYS, "tab:orange", "feed-forward on the flattened trace"),
        Kind("logistic", "logistic", NETWORK_KEYS, "tab:green", "multinomial logistic regression"),
        Kind(
            "threshold",
            "threshold",
            (*SET_KEYS, "late_times"),
            "black",
            "no training: nearest class mean of the late-time imbalance",
            baseline=True,
            imbalance_only=True,
        ),
    )
}


def get(name: str) -> Kind:
    if name not in KINDS:
        raise ValueError(f"classifier kind {name!r} is not one of {list(KINDS)}")
    return KINDS[name]


def implementation(name: str) -> ModuleType:
    """The module that fits and applies sets of kind ``name`` (imports JAX for the networks)."""
    return importlib.import_module(f"{__name__}.{get(name).module}")


def classifier_kinds(config: dict) -> list[str]:
    """The phase diagram's classifier first, then the others of ``training.compare``."""
    t = config["training"]
    return [t["classifier"]] + [c for c in t["compare"] if c != t["classifier"]]


def scaling_kinds(config: dict) -> list[str]:
    """The kinds of the finite-size and robustness studies: the phase diagram's and every baseline."""
    return list(dict.fromkeys([config["training"]["classifier"], *(k.name for k in KINDS.values() if k.baseline)]))
