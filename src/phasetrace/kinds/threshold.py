"""threshold: no training. The late-time imbalance I = Σᵢ mᵢ(t) mᵢ(0)/L averaged over the last ``late_times`` points
(and its period-doubled part, the mean of (−1)ⁿ I(tₙ)), assigned to the nearest class mean of the training windows:
halfway thresholds between the windows' means; p is one-hot."""

from __future__ import annotations

import numpy as np

from ..classifiers import Hyper
from ..measurement import imbalance


def imbalance_features(x: np.ndarray, late_times: int) -> np.ndarray:
    """(n, 2): the late-time mean of I(t) = Σᵢ mᵢ(t) mᵢ(0)/L, and of (−1)ⁿ I(tₙ) (period doubling), over the
    last ``late_times`` points of raw traces x (n, T, F)."""
    x = np.asarray(x, dtype=np.float64)
    imb = imbalance(x)  # (n, T)
    n_late = min(late_times, x.shape[1] - 1)
    late = imb[:, -n_late:]
    sign = (-1.0) ** np.arange(x.shape[1])[-n_late:]
    return np.stack([late.mean(axis=1), (late * sign).mean(axis=1)], axis=1)


def _nearest_mean(features: np.ndarray, means: np.ndarray) -> np.ndarray:
    """One-hot p (k, n, classes) of the nearest class mean; means (k, classes, 2)."""
    d = ((features[None, :, None, :] - means[:, None, :, :]) ** 2).sum(-1)  # (k, n, classes)
    return np.eye(means.shape[1])[d.argmin(-1)]


def fit(keys, x: np.ndarray, y: np.ndarray, train_idx: np.ndarray, x_unlabeled: np.ndarray, hp: Hyper):
    """Each member's class means (k, classes, 2) on its resample, and its training error (k, 1)."""
    f = imbalance_features(x, hp.late_times)
    means = np.stack([[f[idx][y[idx] == c].mean(axis=0) for c in range(hp.n_classes)] for idx in train_idx])
    p = _nearest_mean(f, means)
    errors = np.stack([(p[j, idx].argmax(-1) != y[idx]).mean() for j, idx in enumerate(train_idx)])
    return {"means": means}, errors[:, None]


def predict(params, x: np.ndarray, hp: Hyper) -> np.ndarray:
    return _nearest_mean(imbalance_features(x, hp.late_times), np.asarray(params["means"]))


def flat(params) -> dict[str, np.ndarray]:
    return {"means": np.asarray(params["means"])}


def unflat(arrays: dict[str, np.ndarray], n_time: int, n_features: int, hp: Hyper):
    means = arrays.get("means")
    if means is None or means.ndim != 3 or means.shape[1:] != (hp.n_classes, 2):
        raise ValueError(f"a saved threshold set needs means of shape (k, {hp.n_classes}, 2)")
    return {"means": means}
