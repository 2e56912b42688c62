"""The random-field Heisenberg chain of the paper: wᵢ ~ U[−W, W] independently on every site."""

from __future__ import annotations

import numpy as np

from .base import HeisenbergChainModel


class RandomField(HeisenbergChainModel):
    title = "Random-field Heisenberg chain"
    field_name = "random field w_i ~ U[-W, W]"
    # Exact diagonalization at ε = 0.5, periodic chains L ≤ 22, S = σ/2 (Luitz, Laflorencie, Alet, PRB 91, 081103(R))
    reference = {"value": 3.7, "label": "ED W_c ≈ 3.7 at ε = 0.5 (Luitz et al. 2015)"}

    def draw_fields(self, rng: np.random.Generator, L: int, W: float) -> np.ndarray:
        return rng.uniform(-W, W, size=L)


MODEL = RandomField("mbl")
