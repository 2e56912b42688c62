"""From predictions to phase boundaries with error bars.

Confusion C = −log₂[p₁/(p₁ + p₂)] (p₁ ≥ p₂ the two largest outputs) is 1 where the two most likely phases are
equally likely, so the transition between neighbouring phases a and b is where their realization-averaged
probabilities cross: :func:`crossing` finds the zero of p̄_a − p̄_b by linear interpolation between grid points
(the maximum of C resolved between grid points; at a grid point where they are equal it is that point).

Intervals (:func:`bootstrap_crossings`): each of the k members was fitted on its own bootstrap resample (within
each class) of the training samples, one per (W point, realization), with its own seed; for each member, B
resamples (with replacement) of the realizations that enter the average give B crossings. The k·B values carry the
seed spread, the training-sample noise and the averaging noise; their 16–84% and 2.5–97.5% percentiles are the
68% and 95% intervals.
"""

from __future__ import annotations

import numpy as np

from .sweep import GRID_TOLERANCE

LEVELS = {"lo95": 2.5, "lo68": 16.0, "hi68": 84.0, "hi95": 97.5}
BOUNDS = list(LEVELS)  # the interval coordinate of every output: lo95, lo68, hi68, hi95


def confusion(p: np.ndarray) -> np.ndarray:
    """C = −log₂[p₁/(p₁ + p₂)] over the last axis, p₁ ≥ p₂ the two largest outputs: 0 when certain, 1 when torn."""
    p = np.asarray(p, dtype=np.float64)
    top = -np.sort(-p, axis=-1)
    return -np.log2(top[..., 0] / (top[..., 0] + top[..., 1]))


def crossing(x: np.ndarray, pa: np.ndarray, pb: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Where p_a − p_b changes sign on the grid x within [lo, hi], linearly interpolated; over leading axes.

    Several sign changes: the one next to the grid point where min(p_a, p_b) is largest (both phases likely and
    balanced: the largest a|b confusion; with a third phase dominating, min(p_a, p_b) is small and its noise
    does not count). None: the grid point in [lo, hi] where min(p_a, p_b) is largest.
    """
    x = np.asarray(x, dtype=np.float64)
    inside = np.nonzero((x >= lo - GRID_TOLERANCE) & (x <= hi + GRID_TOLERANCE))[0]
    xs = x[inside]
    pa, pb = np.asarray(pa)[..., inside], np.asarray(pb)[..., inside]
    d = pa - pb
    lead = d.shape[:-1]
    d = d.reshape(-1, xs.size)
    both = np.minimum(pa, pb).reshape(-1, xs.size)
    out = np.empty(d.shape[0])
    for i, di in enumerate(d):
        change = np.nonzero(np.sign(di[:-1]) * np.sign(di[1:]) <= 0)[0]
        if change.size == 0:
            out[i] = xs[np.argmax(both[i])]
            continue
        j = change[np.argmax(np.maximum(both[i][change], both[i][change + 1]))]
        a, b = di[j], di[j + 1]
        out[i] = xs[j] if a == b else xs[j] + (xs[j + 1] - xs[j]) * a / (a - b)
    return out.reshape(lead)


def bootstrap_crossings(
    x: np.ndarray, p: np.ndarray, a: int, b: int, lo: float, hi: float, resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Crossings (k, B) of members' predictions p (k, n_x, R, classes), each averaged over B resamples of R."""
    k, _, R, _ = p.shape
    idx = rng.integers(0, R, size=(k, resamples, R))
    out = np.empty((k, resamples))
    for j in range(k):
        mean = p[j][:, idx[j]].mean(axis=2)  # (n_x, B, classes)
        out[j] = crossing(x, mean[..., a].T, mean[..., b].T, lo, hi)
    return out


def gap(values: np.ndarray, labels: np.ndarray, a: int, b: int) -> tuple[float, float]:
    """The search range of the a|b transition: from the last grid point of window a to the first of window b."""
    return float(values[labels == a].max()), float(values[labels == b].min())


def transition(
    x: np.ndarray, p: np.ndarray, a: int, b: int, lo: float, hi: float, resamples: int, rng: np.random.Generator
) -> tuple[float, np.ndarray]:
    """The a|b boundary of members' predictions p (k, n_x, R, classes) and its bootstrap samples (k, B)."""
    mean = p.mean(axis=(0, 2))
    return float(crossing(x, mean[:, a], mean[:, b], lo, hi)), bootstrap_crossings(x, p, a, b, lo, hi, resamples, rng)


def intervals(samples: np.ndarray) -> np.ndarray:
    """(..., 4) percentiles lo95, lo68, hi68, hi95 over the last two axes (k·B) of bootstrap samples (..., k, B)."""
    flat = samples.reshape(*samples.shape[:-2], -1)
    return np.stack([np.percentile(flat, LEVELS[b], axis=-1) for b in BOUNDS], axis=-1)


def peak(x: np.ndarray, C: np.ndarray, lo: float, hi: float) -> tuple[float, float, float]:
    """Height and half-maximum extent of a confusion peak: (max C on [lo, hi], x_left, x_right), where x_left and
    x_right are where C, walking out from the maximum, first falls below half of it (linear interpolation between
    grid points; the edge of [lo, hi] where it stays above). ``x_right − x_left`` is the width of the peak; a curve
    that is 0 throughout (a certain classifier whose decision jumps between two grid points) has no peak on the grid:
    its extent is NaN."""
    x, C = np.asarray(x, dtype=np.float64), np.asarray(C, dtype=np.float64)
    inside = np.nonzero((x >= lo - GRID_TOLERANCE) & (x <= hi + GRID_TOLERANCE))[0]
    xs, cs = x[inside], C[inside]
    top = int(np.argmax(cs))
    half = 0.5 * cs[top]
    if half == 0:
        return 0.0, np.nan, np.nan

    def edge(step: int) -> float:
        j = top
        while 0 <= j + step < xs.size:
            if cs[j + step] < half:  # C crosses half between j and j + step
                return float(xs[j] + (xs[j + step] - xs[j]) * (cs[j] - half) / (cs[j] - cs[j + step]))
            j += step
        return float(xs[j])

    return float(cs[top]), edge(-1), edge(+1)
