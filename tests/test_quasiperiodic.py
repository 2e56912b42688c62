"""The third model, the Heisenberg chain in a quasi-periodic (Aubry–André) field, against independent references:
its fields, and the known localization point of its non-interacting limit. Its traces are checked against dense
exact diagonalization with the random-field chain's (tests/test_heisenberg.py::test_traces_match_dense_ed)."""

import numpy as np

from phasetrace.models import MBL, QUASIPERIODIC
from phasetrace.models.quasiperiodic import BETA


def test_fields_are_the_quasi_periodic_potential_with_one_phase_per_realization():
    L, W = 12, 2.5
    fields, _ = QUASIPERIODIC.disorder(3, L, W, [0, 1, 2])
    i = np.arange(L)
    phases = []
    for w in fields:  # w_i = W cos(2πβi + φ): recover φ from site 0 and its sign from site 1
        phi0 = np.arccos(w[0] / W)
        fits = [phi for phi in (phi0, -phi0) if np.allclose(w, W * np.cos(2 * np.pi * BETA * i + phi), atol=1e-12)]
        assert fits, "the fields are not W cos(2πβi + φ) for any φ"
        phases.append(fits[0] % (2 * np.pi))
    assert len(set(np.round(phases, 12))) == 3  # every realization draws its own phase
    again, _ = QUASIPERIODIC.disorder(3, L, W, [1])
    assert np.array_equal(again[0], fields[1])  # realization r is the same whichever block asks for it
    random_field, _ = MBL.disorder(3, L, W, [0])
    assert not np.allclose(random_field[0], fields[0])  # the models draw from their own streams


def _mean_ipr(W: float, L: int = 610, J: float = 1.0) -> float:
    """Mean inverse participation ratio of the single-particle eigenstates of the non-interacting limit: one
    fermion (one up spin) hopping with J/2 in the model's own fields w_i (H = J/2 Σ c†c + h.c. + Σ w_i n_i)."""
    fields, _ = QUASIPERIODIC.disorder(1, L, W, [0])
    H = np.diag(fields[0]) + 0.5 * J * (np.eye(L, k=1) + np.eye(L, k=-1))
    _, vecs = np.linalg.eigh(H)
    return float((vecs**4).sum(axis=0).mean())


def test_non_interacting_limit_localizes_at_W_equal_J():
    """Aubry–André self-duality: with hopping t = J/2 every state is extended for W < 2t = J, localized above."""
    L = 610
    extended = [_mean_ipr(W, L) for W in (0.5, 0.8, 0.9)]
    localized = [_mean_ipr(W, L) for W in (1.1, 1.2, 1.5)]
    assert max(extended) < 10 / L  # extended: IPR ~ 1/L
    assert min(localized) > 0.05  # localized: IPR of order the inverse localization length, independent of L
    assert localized == sorted(localized)  # deeper in the localized phase, more localized
