"""The random-field Heisenberg chain of the paper: wᵢ ~ U[−W, W] independently on every site."""

from __future__ import annotations

import numpy as np

from .base import HeisenbergChainModel


class RandomField(HeisenbergChainModel):
    title = "Random-field Heisenberg chain"
    field_name = "random field w_i ~ U[-W, W]"

    def draw_fields(self, rng: np.random.Generator, L: int, W: float) -> np.ndarray:
        return rng.uniform(-W, W, size=L)


MODEL = RandomField("mbl")
