"""Where to simulate or measure next: the sweep points, new or existing, and the realizations at each, that narrow a
boundary's interval most per trace (the paper's closing proposal: "measurements performed on the experiment are
chosen to improve the phase boundary").

The boundary is the crossing x* of a logistic fitted to the realization-averaged share q̄ᵢ = p̄_b/(p̄_a + p̄_b) at the
sweep points xᵢ between the training windows (:func:`phasetrace.boundaries.fitted_crossing`). To first order its
variance from the disorder average is

    Var(x*) ≈ Σᵢ gᵢ² sᵢ² / Rᵢ,   gᵢ = ∂x*/∂q̄ᵢ,

with sᵢ² the variance of a single realization's share at xᵢ and Rᵢ its realizations. gᵢ is computed by
differentiating the fit itself (central differences), so it is large only near the crossing, where the fit is
sensitive to q̄ᵢ, and it accounts for the points' weights p̄_a + p̄_b. The chooser (:func:`plan`) is greedy: it adds
``block`` realizations at a time where the predicted variance falls most per trace, among the existing points and
candidate new points (midpoints between neighbouring points inside the current 95% interval, whose q̄ and s² are
taken from the fitted curve and the neighbours); each choice updates the design before the next. It spends the
budget of traces, or stops early where the predicted 95% half-width reaches ``target``.

The chooser ranks by a first-order prediction; the interval the workflow reports is the calibrated one
(:mod:`phasetrace.boundaries`), which a new round's data re-estimates.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import xarray as xr

from .boundaries import fitted_crossing

STEP = 1e-3  # the central-difference step in q̄ of the influence gᵢ


@dataclass
class Design:
    """The points of one labeled sweep between two windows: values ``x``, realization counts ``R``, the
    realization-averaged share ``q``, its per-realization variance ``s2`` and the weight ``total`` = p̄_a + p̄_b."""

    x: np.ndarray
    R: np.ndarray
    q: np.ndarray
    s2: np.ndarray
    total: np.ndarray

    def crossing(self, lo: float, hi: float, q: np.ndarray | None = None) -> float:
        q = self.q if q is None else q
        return fitted_crossing(self.x, (1 - q) * self.total, q * self.total, lo, hi, counts=self.R)

    def influence(self, lo: float, hi: float) -> np.ndarray:
        """gᵢ = ∂x*/∂q̄ᵢ of every point (0 outside [lo, hi])."""
        g = np.zeros(self.x.size)
        for i in range(self.x.size):
            up, down = self.q.copy(), self.q.copy()
            up[i], down[i] = min(self.q[i] + STEP, 1.0), max(self.q[i] - STEP, 0.0)
            if up[i] > down[i]:
                g[i] = (self.crossing(lo, hi, up) - self.crossing(lo, hi, down)) / (up[i] - down[i])
        return g

    def variance(self, lo: float, hi: float) -> float:
        """The predicted Var(x*) from the disorder average."""
        g = self.influence(lo, hi)
        return float(np.sum(g**2 * self.s2 / np.maximum(self.R, 1)))

    def with_point(self, x: float, q: float, s2: float, total: float, R: int) -> Design:
        order = np.argsort(np.append(self.x, x), kind="stable")
        pick = lambda a, v: np.append(a, v)[order]  # noqa: E731
        return Design(pick(self.x, x), pick(self.R, R), pick(self.q, q), pick(self.s2, s2), pick(self.total, total))

    def with_more(self, i: int, r: int) -> Design:
        R = self.R.copy()
        R[i] += r
        return Design(self.x, R, self.q, self.s2, self.total)


def design(x: np.ndarray, pa: np.ndarray, pb: np.ndarray) -> Design:
    """The design of a sweep from per-realization probabilities pa, pb (points, realizations), NaN where a point
    has fewer realizations than the most."""
    pa, pb = np.asarray(pa, dtype=np.float64), np.asarray(pb, dtype=np.float64)
    total = pa + pb
    share = pb / np.maximum(total, 1e-12)
    R = np.sum(np.isfinite(share), axis=1)
    q = np.nanmean(share, axis=1)
    s2 = np.nanvar(share, axis=1, ddof=1) if share.shape[1] > 1 else np.zeros(len(x))
    return Design(np.asarray(x, dtype=np.float64), R, q, np.nan_to_num(s2), np.nanmean(total, axis=1))


def _candidates(d: Design, within: tuple[float, float]) -> list[tuple[float, float, float]]:
    """New points: the midpoints between neighbouring points that lie in ``within`` (the current interval), with q
    and s² the neighbours' means; the cell holding the interval if no midpoint does."""
    mids = 0.5 * (d.x[1:] + d.x[:-1])
    cells = [i for i, m in enumerate(mids) if within[0] <= m <= within[1]]
    if not cells:
        cells = [i for i in range(mids.size) if d.x[i] <= within[1] and d.x[i + 1] >= within[0]][:1]
    return [(float(mids[i]), 0.5 * (d.q[i] + d.q[i + 1]), 0.5 * (d.s2[i] + d.s2[i + 1])) for i in cells]


def plan(
    d: Design,
    lo: float,
    hi: float,
    budget: int,
    block: int,
    target: float | None = None,
    within: tuple[float, float] | None = None,
) -> list[dict]:
    """The next realizations to simulate or measure: rows {value, realizations, new, influence} (``realizations``
    to add at ``value``; ``new``: a sweep point not yet measured), greedy by the predicted variance drop per trace,
    in blocks of ``block``, within ``budget`` traces or until the predicted 95% half-width is ``target``; new points
    are proposed inside ``within`` (the boundary's current 95% interval; default: the whole search range [lo, hi]),
    and then between the points they make. The last row: {predicted_half95, traces}."""
    within = (lo, hi) if within is None else (max(lo, within[0]), min(hi, within[1]))
    if budget < block or block < 1:
        raise ValueError(f"budget = {budget} must hold at least one block of {block} realizations (block >= 1)")
    added: dict[float, list] = {}
    spent, var = 0, d.variance(lo, hi)
    while spent + block <= budget:
        if target is not None and 1.96 * np.sqrt(var) <= target:
            break
        options = [(d.with_more(i, block), float(d.x[i]), False) for i in range(d.x.size) if lo <= d.x[i] <= hi]
        total = float(np.mean(d.total))
        for x, q, s2 in _candidates(d, within):
            options.append((d.with_point(x, q, s2, total, block), x, True))
        scored = [(o.variance(lo, hi), o, x, new) for o, x, new in options]
        best_var, best, x, new = min(scored, key=lambda t: t[0])
        if best_var >= var:  # nothing left that helps
            break
        row = added.setdefault(x, [0, new])
        row[0] += block
        d, var, spent = best, best_var, spent + block
    g = dict(zip(d.x.tolist(), d.influence(lo, hi).tolist(), strict=True))
    return [{"value": x, "realizations": r, "new": new, "influence": g[x]} for x, (r, new) in sorted(added.items())] + [
        {"predicted_half95": float(1.96 * np.sqrt(var)), "traces": spent}
    ]


def suggest(confusion: xr.Dataset, budget: int, block: int, target: float | None = None) -> list[dict]:
    """The plan of every training set and transition of a workflow confusion dataset (``p`` (member, [set
    dimension,] labeled dimension, realization, class), its model's windows in its ``settings``): one row per
    sweep value to add realizations at, and per (set, transition) a summary row with the predicted 95% half-width
    after the plan and the reported one before it."""
    from .boundaries import gap
    from .models import get
    from .sweep import labels

    m = get(confusion.attrs["model"])
    windows = m.windows(json.loads(confusion.attrs["settings"])[m.name])
    lab, sd = confusion.attrs["label_dim"], list(confusion.attrs.get("set_dims", []))
    x = confusion[lab].values
    classes = [str(c) for c in confusion["class"].values]
    set_labels = labels(x, windows)
    p = confusion["p"].mean("member")  # the reported value's average over members
    rows = []
    for point in [{}] if not sd else [{sd[0]: float(v)} for v in confusion[sd[0]].values]:
        for t, name in enumerate(str(n) for n in confusion["transition"].values):
            a, b = (classes.index(c) for c in name.split("|"))
            lo, hi = gap(x, set_labels, a, b)
            pp = p.sel(point).transpose(lab, "realization", "class").values
            d = design(x, pp[..., a], pp[..., b])
            here = {**point, "transition": name}
            iv = confusion["boundary_interval"].sel(point).isel(transition=t).values
            out = plan(d, lo, hi, budget, block, target, within=(iv[0], iv[-1]))
            rows += [here | r for r in out[:-1]]
            rows.append(
                here
                | {"value": None, "realizations": out[-1]["traces"], "new": None, "influence": None}
                | {"predicted_half95": out[-1]["predicted_half95"], "reported_half95": (iv[-1] - iv[0]) / 2}
            )
    return rows
