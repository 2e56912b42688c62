"""Indicator curves → boundaries with intervals, for the schemes that read a peak off a curve (learning by
confusion's accuracy vs split point; the prediction-based method's derivative of the mean prediction).

A transition is the inner maximum of the indicator: the ``n`` most prominent interior peaks of a curve are the
transitions, each searched for within its *region*, from the curve's minimum before it to the minimum after it
(so the W-shaped accuracy curve's edges, where a split leaves one side almost empty and every classifier is
trivially right, are never taken for the transition). Every bootstrap replicate picks its own peaks. Within its
region a curve's maximum is refined to a sub-grid position by the parabola through it and its neighbours; a flat
top (several grid points at the same maximum) gives the middle of the top.

The interval is the supervised scheme's (:mod:`phasetrace.boundaries`): the members come in G groups, each
trained on its own bootstrap resample of the realizations and evaluated on its own resample of the evaluation
data, so each group's estimate is a bootstrap replicate of the whole estimate; :func:`replicated_boundaries`
turns the G replicates into a :class:`~phasetrace.boundaries.Boundary` with the same variance and Student-t
intervals.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.signal import find_peaks

from ..boundaries import Boundary, from_replicates


def peak_regions(curve: np.ndarray, n: int) -> list[tuple[int, int]]:
    """The index ranges [i0, i1] of the ``n`` transitions of an indicator ``curve``: its ``n`` most prominent
    interior peaks (fewer found: the highest interior points not next to a chosen one, then any), in order, each
    from the curve's minimum between it and the previous peak (or the start) to the minimum between it and the next
    (or the end)."""
    curve = np.asarray(curve, dtype=np.float64)
    size = curve.size
    if size < 3:
        return [(0, size - 1)] * n
    peaks, props = find_peaks(curve, prominence=0)
    chosen = list(peaks[np.argsort(-props["prominences"], kind="stable")][:n])
    for j in np.argsort(-curve[1:-1], kind="stable") + 1:
        if len(chosen) >= n:
            break
        if all(abs(int(j) - c) > 1 for c in chosen):
            chosen.append(int(j))
    for j in np.argsort(-curve, kind="stable"):  # a grid too coarse for n separate peaks: any point left
        if len(chosen) >= n:
            break
        if int(j) not in chosen:
            chosen.append(int(j))
    chosen = sorted(int(c) for c in chosen)
    cuts = [0] + [a + int(np.argmin(curve[a : b + 1])) for a, b in zip(chosen[:-1], chosen[1:], strict=True)]
    cuts += [size - 1]
    first = int(np.argmin(curve[: chosen[0] + 1]))
    last = chosen[-1] + int(np.argmin(curve[chosen[-1] :]))
    cuts[0], cuts[-1] = first, last
    return [(cuts[i], cuts[i + 1]) for i in range(len(chosen))]


def peak_position(x: np.ndarray, curve: np.ndarray, region: tuple[int, int]) -> float:
    """The maximum of ``curve`` on the grid ``x`` within ``region``, refined: the middle of a flat top, else the
    vertex of the parabola through the maximum and its neighbours (at most half a grid step from it); clipped to
    the region."""
    x, curve = np.asarray(x, dtype=np.float64), np.asarray(curve, dtype=np.float64)
    i0, i1 = region
    part = curve[i0 : i1 + 1]
    top = float(part.max())
    j = i0 + int(np.argmax(part))
    end = j
    while end + 1 <= i1 and curve[end + 1] >= top - 1e-12:
        end += 1
    if end > j:  # a flat top: its middle
        return float(0.5 * (x[j] + x[end]))
    if 0 < j < curve.size - 1:
        a, b, c = curve[j - 1], curve[j], curve[j + 1]
        denom = a - 2 * b + c
        if denom < 0:
            d = float(np.clip(0.5 * (a - c) / denom, -0.5, 0.5))
            step = (x[j + 1] - x[j]) if d > 0 else (x[j] - x[j - 1])
            return float(np.clip(x[j] + d * step, x[i0], x[i1]))
    return float(x[j])


def replicated_boundaries(
    estimate: Callable[[np.ndarray | None, np.ndarray | None], np.ndarray],
    k: int,
    selections: np.ndarray,
    ranges: list[tuple[float, float]],
) -> list[Boundary]:
    """Each transition's :class:`~phasetrace.boundaries.Boundary` from its estimates (``estimate(members,
    selection)`` → one value per transition) with ``k`` members in G = len(``selections``) groups.

    ``members``: member indices (None: no members, a reference without training, k = 1); ``selection``: a group's
    resample of the evaluation data (None: all of it). The reported value is every member on all data; group g's
    replicate its own members on its own resample (:func:`phasetrace.boundaries.from_replicates`). ``ranges``: each
    transition's search range, which clips its intervals."""
    everyone = None if k == 1 else np.arange(k)
    value = np.asarray(estimate(everyone, None), dtype=np.float64)
    if k == 1:  # no optimizer: the replicates are the resamples themselves
        replicates = np.array([estimate(None, s) for s in selections], dtype=np.float64)
        return [
            from_replicates(value[t], replicates[:, t], lo, hi, value[t : t + 1]) for t, (lo, hi) in enumerate(ranges)
        ]
    G = len(selections)
    if k % G:
        raise ValueError(f"{k} members do not form {G} equal groups")
    m = k // G
    replicates = np.array(
        [estimate(np.arange(g * m, (g + 1) * m), s) for g, s in enumerate(selections)], dtype=np.float64
    )
    members = np.array([estimate(np.array([j]), None) for j in range(k)], dtype=np.float64)
    return [from_replicates(value[t], replicates[:, t], lo, hi, members[:, t]) for t, (lo, hi) in enumerate(ranges)]


def locate(x: np.ndarray, curve_of: Callable, n: int):
    """(regions, ranges, estimate) of an indicator: the regions of the full curve ``curve_of(None, None)`` (every
    member, all data), the search ranges (the whole grid) and the ``estimate(members, selection)`` that
    :func:`replicated_boundaries` calls. Every replicate picks its own ``n`` most prominent peaks (matched to the
    full estimate's in order along the sweep), so the interval carries the uncertainty of which peak wins, not only
    where the chosen one lies."""
    regions = peak_regions(curve_of(None, None), n)
    ranges = [(float(x[0]), float(x[-1]))] * n

    def estimate(members, selection):
        curve = curve_of(members, selection)
        return np.array([peak_position(x, curve, r) for r in peak_regions(curve, n)])

    return regions, ranges, estimate
