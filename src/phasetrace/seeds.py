"""Derivation of every random draw from a recorded root seed and the identity of the sweep point.

A realization's generator is ``numpy.random.default_rng(SeedSequence(root_seed, spawn_key=key))`` where ``key``
is ``(model id, L, point key, realization index)``:

=========  ========  ==========================================================================
model      model id  point key
=========  ========  ==========================================================================
mbl        1         ``round(W * 10**6)``: disorder depends on W, never on ε, so every ε of the
                     sweep sees the same realization r at a given W
floquet    2         0: the couplings, fields and initial state of realization r are shared by
                     every ε of the sweep
=========  ========  ==========================================================================

Keying on the value of W (in micro-units) rather than its grid index keeps realizations stable when a grid is
refined or extended. Because each realization has its own stream, results do not depend on how realizations are
batched into jobs.
"""

from __future__ import annotations

import numpy as np

MODEL_IDS = {"mbl": 1, "floquet": 2}

# The first element of every spawn key: one stream per purpose, so no two draws ever share a stream. Model ids
# (above) key the disorder; the rest key the learning stage, followed by the set's context (model id, ε index, …).
STREAMS = {
    "training": 3,  # member keys: network initialization, shuffling, dropout
    "holdout": 4,  # which labeled samples are held out
    "bootstrap": 5,  # each member's resample of the training samples
    "averaging": 6,  # resamples of the realizations averaged for the boundary intervals
}
# Context offsets that keep the paper's checks' training sets apart from the main ones (added to the last element;
# checks.units ≤ 999 and fewer than 1000 blanking variants keep the ranges apart).
CHECK_CONTEXT = {"units": 1000, "blanking": 2000, "unseen_phase": 3000}


def point_key(W: float) -> int:
    """The integer key of a disorder strength: W in micro-units."""
    return int(round(float(W) * 10**6))


def realization_rng(root_seed: int, model: str, L: int, point: int, realization: int) -> np.random.Generator:
    """The generator of one realization; ``point`` is :func:`point_key` (MBL) or 0 (Floquet)."""
    if model not in MODEL_IDS:
        raise ValueError(f"model = {model!r} is outside the allowed range: one of {sorted(MODEL_IDS)}")
    if not (isinstance(root_seed, int | np.integer) and root_seed >= 0):
        raise ValueError(f"seed = {root_seed!r} is outside the allowed range: a non-negative integer")
    if realization < 0:
        raise ValueError(f"realization = {realization!r} is outside the allowed range: a non-negative integer")
    seq = np.random.SeedSequence(int(root_seed), spawn_key=(MODEL_IDS[model], int(L), int(point), int(realization)))
    return np.random.default_rng(seq)
