"""Derivation of every random draw from a recorded root seed: the one home of the ``SeedSequence`` spawn keys.

A realization's generator is ``numpy.random.default_rng(SeedSequence(root_seed, spawn_key=key))`` where ``key``
is ``(model id, L, point key, realization index)``:

==============  ========  ========================================================================
model           model id  point key
==============  ========  ========================================================================
mbl             1         ``round(W * 10**6)``: disorder depends on W, never on ε, so every ε of the
                          sweep sees the same realization r at a given W
floquet         2         0: the couplings, fields and initial state of realization r are shared by
                          every ε of the sweep
quasiperiodic   7         ``round(W * 10**6)``, as for mbl (the phase φ of realization r at W)
==============  ========  ========================================================================

Any other model's id is derived from its name (:func:`model_id`). The chains from a fixed initial state
(``mbl_fixed``, ``quasiperiodic_fixed``: :mod:`.models.fixed`) draw their disorder from their family's stream (id 1
or 7, the same point key), so they see the very fields of ``mbl`` / ``quasiperiodic``; their training streams are
keyed by their own (derived) id.

Keying on the value of W (in micro-units) rather than its grid index keeps realizations stable when a grid is
refined or extended. Because each realization has its own stream, results do not depend on how realizations are
batched into jobs.

The learning stage's draws come from ``SeedSequence(root_seed, spawn_key=(stream, *context))``: one stream per
purpose (:data:`STREAMS`, ids 3–5 and 8–12, which no model id takes), followed by the training set's context
(model id, ε index, and for the paper's checks an offset from :data:`CHECK_CONTEXT`); the measurement model's
shots follow their stream id with the trace's identity (:mod:`.measurement`).
"""

from __future__ import annotations

import zlib

import numpy as np

# The first element of every spawn key. The built-in models keep the ids they were published with; any other model
# (a new module, or a model a user names) gets an id derived from its name (:func:`model_id`), so adding one edits
# nothing here. Ids are never reused: 3–5 and 8–12 are the streams below, 6 was the retired averaging stream
# (phasetrace < 0.2).
MODEL_IDS = {"mbl": 1, "floquet": 2, "quasiperiodic": 7}
DERIVED_IDS = 2**20  # derived ids start here, far above every fixed id and stream
STREAMS = {
    "training": 3,  # member keys: network initialization, shuffling, dropout
    "holdout": 4,  # which labeled samples are held out
    "bootstrap": 5,  # each member's resample of the training samples
    "shots": 8,  # projective-shot noise of the measurement model (phasetrace.measurement)
    "replicates": 9,  # root seeds of the replicate study's reruns (phasetrace.replicates)
    "adaptive": 10,  # the adaptive sweep's member groups' resamples of the realizations (phasetrace.adaptive)
    "schemes": 11,  # the schemes' member groups' resamples of the held-out realizations (phasetrace.schemes)
    "optimal": 12,  # the optimal predictors' resamples of the realizations (phasetrace.schemes.optimal)
}
# Context offsets that keep the paper's checks' training sets apart from the main ones (added to the last element;
# checks.units ≤ 999 and fewer than 1000 blanking variants keep the ranges apart). 4000 and 6000 were the convergence
# and robustness studies' averaging streams (phasetrace < 0.2): retired, never reused.
CHECK_CONTEXT = {
    "units": 1000,
    "blanking": 2000,
    "unseen_phase": 3000,
    "single_neuron": 5000,
}


def model_id(model: str) -> int:
    """The spawn-key id of a model: its fixed id (:data:`MODEL_IDS`), or ``DERIVED_IDS`` + CRC-32 of its name."""
    if not isinstance(model, str) or not model:
        raise ValueError(f"model = {model!r} is outside the allowed range: a non-empty name")
    return MODEL_IDS.get(model, DERIVED_IDS + zlib.crc32(model.encode()))


def point_key(W: float) -> int:
    """The integer key of a disorder strength: W in micro-units."""
    return int(round(float(W) * 10**6))


def _seed(root_seed) -> int:
    if not (isinstance(root_seed, int | np.integer) and not isinstance(root_seed, bool) and root_seed >= 0):
        raise ValueError(f"seed = {root_seed!r} is outside the allowed range: a non-negative integer")
    return int(root_seed)


def realization_rng(root_seed: int, model: str, L: int, point: int, realization: int) -> np.random.Generator:
    """The generator of one realization; ``point`` is :func:`point_key` (MBL) or 0 (Floquet)."""
    if realization < 0:
        raise ValueError(f"realization = {realization!r} is outside the allowed range: a non-negative integer")
    key = (model_id(model), int(L), int(point), int(realization))
    return np.random.default_rng(np.random.SeedSequence(_seed(root_seed), spawn_key=key))


def stream_sequence(root_seed: int, stream: str, *context: int) -> np.random.SeedSequence:
    """The seed sequence of one purpose of the learning stage (:data:`STREAMS`) for one training set."""
    return np.random.SeedSequence(_seed(root_seed), spawn_key=(STREAMS[stream], *map(int, context)))


def stream_rng(root_seed: int, stream: str, *context: int) -> np.random.Generator:
    return np.random.default_rng(stream_sequence(root_seed, stream, *context))


def replicate_seed(seed: int, replicate: int) -> int:
    """The root seed of replicate ``replicate`` of a study of independent reruns (the replicate study, the adaptive
    sweep), spawned from the config's root seed (stream ``replicates``)."""
    return int(stream_sequence(seed, "replicates", replicate).generate_state(1, dtype=np.uint32)[0])
