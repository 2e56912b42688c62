"""Computational basis conventions and the Sᶻ_total = 0 sector.

Convention (used by every module of phasetrace, written down once here):

=====================  ==================================================================
integer state ``s``    a product state of L spins-1/2 in the z basis
bit ``i`` of ``s``     site ``i`` (0-based, site 0 is the least significant bit)
bit = 1                spin up, σᶻᵢ = +1 (Sᶻᵢ = +1/2)
bit = 0                spin down, σᶻᵢ = −1
full 2^L space         amplitude of state ``s`` is stored at index ``s``
Sᶻ=0 sector            states with exactly L/2 bits set, in increasing integer order;
                       the sector index of a state is its rank in that order
=====================  ==================================================================
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np

from ..validation import MAX_L_HEISENBERG, check_even_length, check_memory


def spins_of(states: np.ndarray, L: int) -> np.ndarray:
    """σᶻ of every site: int8 array of shape ``states.shape + (L,)`` with entries ±1."""
    bits = (np.asarray(states, dtype=np.int64)[..., None] >> np.arange(L, dtype=np.int64)) & 1
    return (2 * bits - 1).astype(np.int8)


def states_of(spins: np.ndarray) -> np.ndarray:
    """Inverse of :func:`spins_of`: integers from ±1 site values of shape ``(..., L)``."""
    spins = np.asarray(spins)
    L = spins.shape[-1]
    return ((spins > 0).astype(np.int64) << np.arange(L, dtype=np.int64)).sum(axis=-1)


@dataclass(frozen=True, eq=False)
class SzSector:
    """The Sᶻ_total = 0 sector of an even chain of L spins-1/2: C(L, L/2) product states.

    ``states[k]`` is the integer of the k-th basis state; :meth:`index` maps integers back to k.
    """

    L: int

    def __post_init__(self):
        check_even_length(self.L, MAX_L_HEISENBERG, "periodic")
        check_memory(2**self.L * 8 * 2, "enumerating the Sᶻ=0 sector")

    @cached_property
    def states(self) -> np.ndarray:
        """Sorted int64 array of shape (dim,)."""
        s = np.arange(1 << self.L, dtype=np.int64)
        return s[np.bitwise_count(s) == self.L // 2]

    @property
    def dim(self) -> int:
        return int(self.states.size)

    @cached_property
    def spins(self) -> np.ndarray:
        """σᶻ of every basis state and site: int8 array (dim, L) of ±1."""
        return spins_of(self.states, self.L)

    def index(self, states) -> np.ndarray:
        """Sector index of each integer state; ValueError if a state is not in the sector."""
        states = np.asarray(states, dtype=np.int64)
        k = np.searchsorted(self.states, states)
        k_clipped = np.minimum(k, self.dim - 1)
        bad = (k >= self.dim) | (self.states[k_clipped] != states)
        if np.any(bad):
            raise ValueError(
                f"state = {states[bad].ravel()[:5].tolist()} is outside the allowed range: "
                f"integers < 2**{self.L} with exactly {self.L // 2} bits set (the Sᶻ=0 sector)"
            )
        return k_clipped


def n_bonds(L: int, boundary: str) -> int:
    """Nearest-neighbour bonds of a chain of L sites: L with periodic boundaries, L − 1 with open ones."""
    return L if boundary == "periodic" else L - 1
