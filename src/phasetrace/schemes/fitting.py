"""What the trained schemes share with the supervised one: the same members, hold-out, resample groups and member
keys (:func:`phasetrace.training.fit_set`), over every point of the sweep instead of the windows only.

The samples x (n · R, T, F) are ordered (point, realization) as :func:`phasetrace.training.set_samples` gives them;
the networks see the first ``training.realizations`` of every point (:func:`phasetrace.training.pool_samples`), the
hold-out is stratified by sweep point (``round(holdout · R)`` realizations of each point held out), each of the
G member groups trains on its own bootstrap resample of the training realizations at every point
(:func:`phasetrace.training.realization_resamples`, the same stream) and is evaluated on its own resample: of the
held-out realizations at every point (``evaluation`` (G, n, h), stream ``schemes``; the scan's accuracy) and of all
realizations (``averaging`` (G, n, R); the regression's mean prediction).
"""

from __future__ import annotations

import numpy as np

from ..classifiers import member_keys
from ..kinds import KINDS, implementation
from ..runner import configure
from ..seeds import stream_rng
from ..training import _XLA_TRAINING, holdout_split, hyper, pool_samples, realization_resamples


def require_network(kind: str, scheme: str) -> None:
    """Only the network kinds train on other targets than classes (the threshold kind has no training)."""
    if "steps" not in KINDS[kind].keys:
        trainable = [k.name for k in KINDS.values() if "steps" in k.keys]
        raise ValueError(f"scheme {scheme!r} trains networks: classifier kind {kind!r} is not one of {trainable}")


def prepare(config: dict, shape: tuple[int, int], context: tuple[int, ...]) -> dict:
    """The split, resamples, evaluation resamples and member keys of one set of the sweep (see the module)."""
    n, R = shape
    t = config["training"]
    k, G, seed = t["members"], t["resamples"], config["seed"]
    point = np.repeat(np.arange(n), R)
    mine = pool_samples(shape, t["realizations"])  # the realizations the networks see: as for a sweep of P
    P = mine.size // n
    train, held = holdout_split(point[mine], t["holdout"], seed, *context)
    if held.size == 0:
        raise ValueError(
            f"training.holdout = {t['holdout']} holds out no realization of {P} at a sweep point: the schemes "
            "measure accuracy on held-out realizations of every point"
        )
    group_idx, averaging = realization_resamples(train, (n, P), G, seed, *context, averaged=R)
    train, held, group_idx = mine[train], mine[held], mine[group_idx]
    held_points = (held % R).reshape(n, -1)  # held is sorted, and every point holds out the same number
    rng = stream_rng(seed, "schemes", *context)
    evaluation = np.stack(
        [np.stack([rng.choice(row, size=row.size) for row in held_points]) for _ in range(G)]
    )  # (G, n, h)
    return {
        "point": point,
        "train_idx": np.repeat(group_idx, k // G, axis=0),
        "held": held_points,
        "averaging": averaging,
        "evaluation": evaluation,
        "keys": member_keys(seed, k, *context),
        "members": k,
    }


def train(config: dict, kind: str, x: np.ndarray, y: np.ndarray, outputs: int, prep: dict, objective: str):
    """k networks of ``kind`` with ``outputs`` outputs trained on ``objective`` (:data:`phasetrace.kinds.network.
    OBJECTIVES`), each member on its group's resample; returns (outputs (k, n, outputs), loss (k, epochs), the
    stacked parameters, the hyper-parameters)."""
    configure()
    hp = hyper(config, outputs, kind)
    impl = implementation(kind)
    x = np.asarray(x, dtype=np.float32)
    with _XLA_TRAINING:
        params, loss = impl.fit(prep["keys"], x, y, prep["train_idx"], x[:1], hp, objective=objective)
        out = impl.predict(params, x, hp, objective=objective)
    if not (np.isfinite(loss).all() and np.isfinite(out).all()):
        raise FloatingPointError(
            f"training diverged ({kind}, {objective}): non-finite losses or outputs; lower training.learning_rate"
        )
    return np.asarray(out, dtype=np.float64), np.asarray(loss), params, hp
