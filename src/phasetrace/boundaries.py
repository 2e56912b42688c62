"""From predictions to phase boundaries with calibrated error bars.

Confusion C = −log₂[p₁/(p₁ + p₂)] (p₁ ≥ p₂ the two largest outputs) is 1 where the two most likely phases are
equally likely, so the transition between neighbouring phases a and b is where their realization-averaged
probabilities cross.

**The estimate** (:func:`fitted_crossing`): the crossing of a logistic curve q(x) = σ((x − x*)/w) fitted to the
share q = p̄_b/(p̄_a + p̄_b) at every grid point between the two windows, each point weighted by p̄_a + p̄_b (where a
third phase dominates, the a|b share is noise and does not count). Every point near the transition contributes,
so the realization-averaged curve's point-to-point wiggle (±0.1 at 20 realizations) moves it far less than the
crossing between two neighbouring grid points (:func:`crossing`, kept for the grid diagnostics), which jumps
between the sign changes of a wiggling curve.

**The interval** (:func:`estimate`): a bootstrap of the whole estimate, retrained. The k members of a set come in
G groups of m = k/G (``training.resamples`` = G). Group g is trained on its own resample of the training
realizations, drawn with replacement at each labeled sweep point, and averages its predictions over its own resample
of the realizations at every sweep point (:func:`phasetrace.training.realization_resamples`), so its estimate x*_g
is one bootstrap replicate of the whole pipeline: new training data, new averaging data, new optimizer noise. The
variance of the reported value is estimated by the variance of the replicates,

    V = var_g(x*_g),   ν = G − 1 degrees of freedom,

and the intervals are Student-t intervals centred on the reported value, x* ± t_ν(q) √V, clipped to the search range
(the estimate never leaves it). So the value lies inside its own intervals by construction. The reported value
averages k members, a replicate m, so V overstates the optimizer's share by (1/m − 1/k)·v₁ (v₁: one member's
optimizer variance): the intervals err on the wide side where the optimizer's noise dominates. Subtracting that
share, estimated from the difference of each group's halves (phasetrace 0.2–0.3), left V with Satterthwaite's
ν ≈ 2 at G = 10 (the difference of two noisy terms) and 95% intervals up to 12.7 standard errors wide; measured
against independent replicates of the whole pipeline (docs: results, calibration) the plain variance of the
replicates is the better calibrated of the two: SD of the standardized deviations 0.87–1.17 over four settings.

**The member spread** (``members``): single members' estimates on all realizations, kept as a named diagnostic of
how much one network varies — it is not the uncertainty of the reported value, which averages k of them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

from .sweep import GRID_TOLERANCE

LEVELS = {"lo95": 0.025, "lo68": 0.16, "hi68": 0.84, "hi95": 0.975}
BOUNDS = list(LEVELS)  # the interval coordinate of every output: lo95, lo68, hi68, hi95


def confusion(p: np.ndarray) -> np.ndarray:
    """C = −log₂[p₁/(p₁ + p₂)] over the last axis, p₁ ≥ p₂ the two largest outputs: 0 when certain, 1 when torn."""
    p = np.asarray(p, dtype=np.float64)
    top = -np.sort(-p, axis=-1)
    return -np.log2(top[..., 0] / (top[..., 0] + top[..., 1]))


def _inside(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return np.nonzero((x >= lo - GRID_TOLERANCE) & (x <= hi + GRID_TOLERANCE))[0]


def crossing(x: np.ndarray, pa: np.ndarray, pb: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Where p_a − p_b changes sign on the grid x within [lo, hi], linearly interpolated; over leading axes.

    Several sign changes: the one next to the grid point where min(p_a, p_b) is largest (both phases likely and
    balanced: the largest a|b confusion; with a third phase dominating, min(p_a, p_b) is small and its noise
    does not count). None: the grid point in [lo, hi] where min(p_a, p_b) is largest.
    """
    x = np.asarray(x, dtype=np.float64)
    inside = _inside(x, lo, hi)
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


def fitted_crossing(
    x: np.ndarray, pa: np.ndarray, pb: np.ndarray, lo: float, hi: float, counts: np.ndarray | None = None
) -> float:
    """x* of the logistic σ((x − x*)/w) fitted (weighted least squares) to q = p_b/(p_a + p_b) on the grid points
    of [lo, hi], weights p_a + p_b (times the realizations behind each point, ``counts``, where they differ: a
    uniform factor does not move the fit); x* ∈ [lo, hi], w ∈ [10⁻³, 1]·(hi − lo). Starts from :func:`crossing`."""
    x = np.asarray(x, dtype=np.float64)
    inside = _inside(x, lo, hi)
    xs = x[inside]
    pa, pb = np.asarray(pa, dtype=np.float64)[inside], np.asarray(pb, dtype=np.float64)[inside]
    total = np.maximum(pa + pb, 1e-12)
    n = np.ones(xs.size) if counts is None else np.asarray(counts, dtype=np.float64)[inside]
    q, weight = pb / total, np.sqrt(total * n)
    span = hi - lo
    start = float(np.clip(crossing(xs, pa, pb, lo, hi), lo, hi))
    if span <= 0 or xs.size < 3:
        return start

    def residuals(theta):
        z = np.clip((xs - theta[0]) / theta[1], -500, 500)
        return weight * (1.0 / (1.0 + np.exp(-z)) - q)

    fit = optimize.least_squares(residuals, [start, 0.1 * span], bounds=([lo, 1e-3 * span], [hi, span]))
    return float(fit.x[0])


@dataclass(frozen=True)
class Boundary:
    """One transition's boundary: ``value`` (every member, every realization), its calibrated standard error
    ``se`` with ``dof`` degrees of freedom, the centred ``interval`` (lo95, lo68, hi68, hi95), the G resampled
    replicates and the k single members' estimates (the member-spread diagnostic)."""

    value: float
    se: float
    dof: float
    interval: np.ndarray
    replicates: np.ndarray
    members: np.ndarray

    @property
    def member_band(self) -> tuple[float, float]:
        """16–84% percentiles of the single members' estimates (a diagnostic, not an error bar)."""
        lo, hi = np.percentile(self.members, [16.0, 84.0])
        return float(lo), float(hi)


def replicate_variance(replicates: np.ndarray) -> tuple[float, float]:
    """(V, ν): the variance of the G group replicates and its degrees of freedom G − 1 (see the module)."""
    G = replicates.size
    return (float(np.var(replicates, ddof=1)) if G > 1 else 0.0), float(max(G - 1, 1))


def standardized_sd(x: np.ndarray, scale: np.ndarray) -> float:
    """SD of the standardized deviations zᵢ = (xᵢ − x̄)/sᵢ · √(n/(n − 1)) of n independent estimates xᵢ with reported
    1σ scales sᵢ (standard errors or 68% half-widths): 1 for calibrated intervals, above 1 for intervals too narrow
    (the factor makes E[zᵢ²] = 1, as x̄ shares each xᵢ). Estimates whose scale is not positive are left out (NaN
    with fewer than two left); the mean is over all n."""
    x, scale = np.asarray(x, dtype=np.float64), np.asarray(scale, dtype=np.float64)
    n = x.size
    if n < 2:
        return np.nan
    z = (x - x.mean()) / np.where(scale > 0, scale, np.nan) * np.sqrt(n / (n - 1))
    return float(np.nanstd(z, ddof=1)) if np.isfinite(z).sum() > 1 else np.nan


def estimate(
    x: np.ndarray,
    p: np.ndarray,
    a: int,
    b: int,
    lo: float,
    hi: float,
    averaging: np.ndarray,
    counts: np.ndarray | None = None,
) -> Boundary:
    """The a|b boundary of members' predictions p (k, n_x, R, classes) with its calibrated interval.

    ``averaging`` (G, n_x, R): each member group's resample of the realizations at every sweep point (members
    g·m … g·m + m − 1 form group g and were trained on that group's resample; see :mod:`phasetrace.training`).
    ``counts`` (n_x,): the realizations each point holds where points hold different numbers (p past a point's count
    is padding, and its resample is the first ``counts[i]`` of ``averaging[g, i]``): the estimate is
    :func:`estimate_ragged`'s, which weights each point by its count.
    """
    if counts is not None and np.any(np.asarray(counts) != np.shape(p)[2]):
        per_point = [np.asarray(p, dtype=np.float64)[:, i, :c] for i, c in enumerate(counts)]
        groups = [[group[i, :c] for i, c in enumerate(counts)] for group in averaging]
        return estimate_ragged(x, per_point, a, b, lo, hi, groups)
    p = np.asarray(p, dtype=np.float64)
    k, n, _, _ = p.shape
    G = averaging.shape[0]
    if k % G:
        raise ValueError(f"{k} members do not form {G} equal groups")
    m = k // G

    def at(curve: np.ndarray) -> float:  # curve (n_x, classes)
        return fitted_crossing(x, curve[:, a], curve[:, b], lo, hi)

    value = at(p.mean(axis=(0, 2)))
    rows = np.arange(n)[:, None]
    replicates = np.empty(G)
    for g in range(G):  # group g's members on group g's realizations
        replicates[g] = at(p[g * m : (g + 1) * m][:, rows, averaging[g]].mean(axis=(0, 2)))
    members = np.array([at(curve) for curve in p.mean(axis=2)])
    return from_replicates(value, replicates, lo, hi, members)


def estimate_ragged(
    x: np.ndarray, p: list[np.ndarray], a: int, b: int, lo: float, hi: float, averaging: list[list[np.ndarray]]
) -> Boundary:
    """:func:`estimate` for sweep points with different numbers of realizations: ``p``, one (k, R_i, classes) array
    per point of x; ``averaging``, per member group, one resample (R_i,) of each point's realizations. The fit
    weights each point by its realizations (:func:`fitted_crossing` ``counts``)."""
    k = p[0].shape[0]
    G = len(averaging)
    if k % G:
        raise ValueError(f"{k} members do not form {G} equal groups")
    m = k // G
    counts = np.array([q.shape[1] for q in p])

    def at(curves: list[np.ndarray]) -> float:  # per point (classes,)
        curve = np.stack(curves)
        return fitted_crossing(x, curve[:, a], curve[:, b], lo, hi, counts=counts)

    value = at([q.mean(axis=(0, 1)) for q in p])
    replicates = np.empty(G)
    for g in range(G):
        replicates[g] = at(
            [point[g * m : (g + 1) * m][:, idx].mean(axis=(0, 1)) for point, idx in zip(p, averaging[g], strict=True)]
        )
    members = np.array([at([q[j].mean(axis=0) for q in p]) for j in range(k)])
    return from_replicates(value, replicates, lo, hi, members)


def from_replicates(value: float, replicates: np.ndarray, lo: float, hi: float, members: np.ndarray) -> Boundary:
    """The :class:`Boundary` of the reported ``value`` from its G group replicates (see the module), its intervals
    clipped to the search range [lo, hi]; ``members``: the single members' estimates (the diagnostic)."""
    V, dof = replicate_variance(replicates)
    se = float(np.sqrt(V))
    t = stats.t.ppf([LEVELS[name] for name in BOUNDS], dof)
    interval = np.clip(value + se * t, lo, hi)
    return Boundary(value, se, dof, interval, replicates, members)


def gap(values: np.ndarray, labels: np.ndarray, a: int, b: int) -> tuple[float, float]:
    """The search range of the a|b transition: from the last grid point of window a to the first of window b."""
    return float(values[labels == a].max()), float(values[labels == b].min())


def peak(x: np.ndarray, C: np.ndarray, lo: float, hi: float) -> tuple[float, float, float]:
    """Height and half-maximum extent of a confusion peak: (max C on [lo, hi], x_left, x_right), where x_left and
    x_right are where C, walking out from the maximum, first falls below half of it (linear interpolation between
    grid points; the edge of [lo, hi] where it stays above). ``x_right − x_left`` is the width of the peak; a curve
    that is 0 throughout (a certain classifier whose decision jumps between two grid points) has no peak on the grid:
    its extent is NaN."""
    x, C = np.asarray(x, dtype=np.float64), np.asarray(C, dtype=np.float64)
    inside = _inside(x, lo, hi)
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
