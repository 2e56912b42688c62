from math import comb

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from phasetrace.kernels.basis import SzSector, spins_of, states_of


@pytest.mark.parametrize("L", [4, 6, 8, 10, 12, 14])
def test_sector_size_and_magnetization(L):
    sector = SzSector(L)
    assert sector.dim == comb(L, L // 2)
    assert np.all(sector.spins.sum(axis=1) == 0)
    assert np.all(np.diff(sector.states) > 0)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([4, 6, 8, 10, 12, 16]), st.data())
def test_index_round_trip(L, data):
    sector = SzSector(L)
    k = data.draw(st.lists(st.integers(0, sector.dim - 1), min_size=1, max_size=20))
    assert np.array_equal(sector.index(sector.states[k]), k)


@settings(max_examples=200, deadline=None)
@given(st.integers(2, 20).flatmap(lambda L: st.tuples(st.just(L), st.integers(0, 2**L - 1))))
def test_spins_states_round_trip(L_and_state):
    L, s = L_and_state
    spins = spins_of(np.array([s]), L)
    assert spins.shape == (1, L)
    assert set(np.unique(spins)) <= {-1, 1}
    assert states_of(spins)[0] == s
    # the documented convention: bit i of s is site i, bit 1 is spin up
    assert all((spins[0, i] == 1) == bool((s >> i) & 1) for i in range(L))


def test_index_rejects_states_outside_sector():
    with pytest.raises(ValueError, match="state = .*Sᶻ=0 sector"):
        SzSector(6).index([0b111111])
