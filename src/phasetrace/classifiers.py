"""Classifiers: one contract for every way phasetrace turns labeled traces into phase probabilities.

Every kind takes inputs x (n, T, F) (T times, F sites, values ⟨σᶻᵢ⟩(t) ∈ [−1, 1]) and returns p (n, classes).
A *set* is k members fitted at once (:func:`fit_members`): member j draws its own bootstrap resample of the
training samples (``train_idx[j]``), and, for the networks, its own initialization, shuffling and dropout (``keys[j]``),
so the spread over members carries both the training noise and the disorder-sampling noise of the training data.

Kinds (``training.classifier`` / ``training.compare`` in the config) are registered in :data:`phasetrace.kinds.KINDS`:
``lstm`` (the paper's network), ``mlp``, ``logistic`` and ``threshold`` (no training: the nearest class mean of the
late-time imbalance), each implemented by its module of :mod:`phasetrace.kinds`.

The networks share one training loop (:mod:`phasetrace.kinds.network`); a saved set records its kind and
hyper-parameters (:class:`Hyper`), so :mod:`phasetrace.__main__`'s ``classify`` rebuilds any kind.

Input encoding (``training.input``): ``raw`` feeds mᵢ(t) as the paper did; ``aligned`` feeds mᵢ(t)·mᵢ(0), the
trace relative to the initial product state (which an experiment prepares and knows, and which the trace's first
point holds: mᵢ(0) = ±1). See the README for what each encoding measured.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .kinds import implementation
from .runner import require_configured

INPUTS = ("aligned", "raw")


@dataclass(frozen=True)
class Hyper:
    """A classifier's kind and every hyper-parameter (a config key each, see config.yaml)."""

    n_classes: int
    kind: str = "lstm"
    input: str = "aligned"
    units: int = 32
    dropout: float = 0.2
    l2: float = 0.01
    learning_rate: float = 1e-3
    batch_size: int = 64
    steps: int = 50
    confidence_weight: float = 0.0
    late_times: int = 10


def encode(x: np.ndarray, encoding: str) -> np.ndarray:
    """The network input of traces x (n, T, F): ``raw`` mᵢ(t), or ``aligned`` mᵢ(t)·mᵢ(0)."""
    x = np.asarray(x, dtype=np.float32)
    if encoding == "raw":
        return x
    if encoding == "aligned":
        return x * x[:, :1, :]
    raise ValueError(f"input = {encoding!r} is outside the allowed range: one of {list(INPUTS)}")


def fit_members(keys, x: np.ndarray, y: np.ndarray, train_idx: np.ndarray, x_unlabeled: np.ndarray, hp: Hyper):
    """Fit k members (keys (k, 2), train_idx (k, n_train)) of kind ``hp.kind`` on raw traces x (n, T, F) and labels
    y (n,); ``x_unlabeled``: traces of the unlabeled points (the networks' optional confidence term).

    Returns (params, loss (k, epochs)); params are stacked over members (a pytree of (k, ...) arrays).
    """
    require_configured("fit_members")
    return implementation(hp.kind).fit(keys, x, y, train_idx, x_unlabeled, hp)


def predict_members(params, x: np.ndarray, hp: Hyper) -> np.ndarray:
    """p (k, n, classes) of every member of a set on raw traces x (n, T, F)."""
    require_configured("predict_members")
    return implementation(hp.kind).predict(params, x, hp)


def member_keys(seed: int, k: int, *context: int):
    """k member keys derived from the root seed and the identity of the set (model id, ε index; not the kind, so
    every kind of a comparison starts from the same keys)."""
    import jax.numpy as jnp

    from .seeds import stream_sequence

    seq = stream_sequence(seed, "training", *context)
    return jnp.asarray(seq.generate_state(2 * k, dtype=np.uint32).reshape(k, 2))


def flat_params(params, hp: Hyper) -> dict[str, np.ndarray]:
    """A set's parameter arrays by name (for storage)."""
    return implementation(hp.kind).flat(params)


def unflat_params(arrays: dict[str, np.ndarray], n_time: int, n_features: int, hp: Hyper):
    """Inverse of :func:`flat_params` for a stacked set of kind ``hp.kind``."""
    return implementation(hp.kind).unflat(arrays, n_time, n_features, hp)


def hyper_attrs(hp: Hyper) -> dict:
    return asdict(hp)
