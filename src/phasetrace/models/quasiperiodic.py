"""The Heisenberg chain in a quasi-periodic field, the potential of the cold-atom MBL experiments (Schreiber et al.,
Science 349, 842 (2015)): wᵢ = W cos(2πβi + φ), β = (√5 − 1)/2, one phase φ ~ U[0, 2π) per realization.

Known physics to check against: without the Sᶻ Sᶻ term the chain is the Aubry–André model with hopping J/2, whose
single-particle states all localize at W = J (self-duality); the interaction moves the many-body transition to
larger W. Everything else (sector, initial states, kernels, stages, dataset) is the family's
(:class:`.base.HeisenbergChainModel`).
"""

from __future__ import annotations

import numpy as np

from .base import HeisenbergChainModel

BETA = (np.sqrt(5.0) - 1.0) / 2.0  # the inverse golden ratio: the most irrational incommensurate wave number


class QuasiPeriodic(HeisenbergChainModel):
    title = "Quasi-periodic Heisenberg chain"
    field_name = "quasi-periodic field w_i = W cos(2 pi beta i + phi)"

    def draw_fields(self, rng: np.random.Generator, L: int, W: float) -> np.ndarray:
        phi = rng.uniform(0.0, 2.0 * np.pi)
        return W * np.cos(2.0 * np.pi * BETA * np.arange(L) + phi)


MODEL = QuasiPeriodic("quasiperiodic")
