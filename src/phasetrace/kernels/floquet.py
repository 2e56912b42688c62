"""Binary Floquet drive (discrete time crystal) in the full 2^L space, batched over (ε, realization).

    H(t) = (g − ε) Σ_i σˣ_i                       for 0 < t < T₁
         = Σ_b J_b σᶻ_i σᶻ_j + Σ_i B_i σᶻ_i        for T₁ < t < T₁ + T₂

One period is U = exp(−i H₂ T₂) · ⊗_i exp(−i θ σˣ_i), θ = (g − ε) T₁: L single-site rotations (each a pass
over the state vector reshaped so that site i is an axis of length 2) followed by a diagonal phase. No matrix is
built. The basis convention is documented in :mod:`phasetrace.kernels.basis` (amplitude of integer state s at index s).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from ..runner import require_configured
from ..validation import MAX_L_FLOQUET, HealthCheckError, check_finite, check_length, check_memory, require
from .basis import n_bonds, spins_of, states_of

G_DEFAULT = np.pi / 2


def draw_realization(rng: np.random.Generator, L: int, boundary: str = "open"):
    """Couplings J_b ~ U[0, 0.5] (n_bonds,), fields B_i ~ U[0, 0.5] (L,), initial σᶻ (L,) ±1 from one generator.

    The generator always draws L couplings, so a realization's fields and initial state do not depend on the
    boundary condition; an open chain uses the first L − 1.
    """
    fields = rng.uniform(0.0, 0.5, size=L)
    couplings = rng.uniform(0.0, 0.5, size=L)[: n_bonds(L, boundary)]
    initial = 2 * rng.integers(0, 2, size=L) - 1
    return couplings, fields, initial.astype(np.int8)


def diagonal_energies(L: int, couplings: np.ndarray, fields: np.ndarray, boundary: str) -> np.ndarray:
    """H₂ on every z-basis state: (n, 2^L) = Σ_b J_b σᶻ_i σᶻ_j + Σ_i B_i σᶻ_i."""
    couplings, fields = np.atleast_2d(couplings), np.atleast_2d(fields)
    s = spins_of(np.arange(1 << L), L).astype(np.float64)  # (2^L, L)
    bonds = [(i, (i + 1) % L) for i in range(n_bonds(L, boundary))]
    zz = np.stack([s[:, i] * s[:, j] for i, j in bonds], axis=1)  # (2^L, n_bonds)
    return couplings @ zz.T + fields @ s.T


def _rotate_all(psi, c, s, L: int):
    """Apply ⊗_i [[c, −i s], [−i s, c]] to psi (C, 2^L); c, s of shape (C,)."""
    C = psi.shape[0]
    c = c[:, None, None]
    ms = (-1j * s)[:, None, None]
    for i in range(L):
        v = psi.reshape(C, 1 << (L - 1 - i), 2, 1 << i)
        a, b = v[:, :, 0, :], v[:, :, 1, :]
        psi = jnp.stack([c * a + ms * b, ms * a + c * b], axis=2).reshape(C, 1 << L)
    return psi


def _magnetization(p, L: int):
    """⟨σᶻ_i⟩ for probabilities p (C, 2^L): (C, L), from two half-chain marginals (two passes over p)."""
    C = p.shape[0]
    lo = L // 2
    q = p.reshape(C, 1 << (L - lo), 1 << lo)
    marg_lo = q.sum(axis=1)  # (C, 2^lo) marginal over sites 0..lo-1
    marg_hi = q.sum(axis=2)  # (C, 2^(L-lo)) over sites lo..L-1
    s_lo = jnp.asarray(spins_of(np.arange(1 << lo), lo), dtype=p.dtype)
    s_hi = jnp.asarray(spins_of(np.arange(1 << (L - lo)), L - lo), dtype=p.dtype)
    return jnp.concatenate([marg_lo @ s_lo, marg_hi @ s_hi], axis=1)


@partial(jax.jit, static_argnames=("L", "periods"))
def _floquet_scan(psi0, cos_t, sin_t, phase, L: int, periods: int):
    def period(psi, _):
        psi = phase * _rotate_all(psi, cos_t, sin_t, L)
        p = psi.real**2 + psi.imag**2
        return psi, (_magnetization(p, L), jnp.sum(p, axis=1))

    _, (mag, norm) = jax.lax.scan(period, psi0, None, length=periods)
    return mag, norm


@dataclass(frozen=True)
class FloquetEvolution:
    """``magnetization[e, r, n, i]`` = ⟨σᶻᵢ⟩ after n periods; ``imbalance[e, r, n]`` = m(n)·m(0)/L."""

    magnetization: np.ndarray  # (E, n, N + 1, L)
    imbalance: np.ndarray  # (E, n, N + 1)
    norm_drift: np.ndarray  # (E, n)


def evolve_floquet(
    eps,
    couplings: np.ndarray,
    fields: np.ndarray,
    initial: np.ndarray,
    periods: int = 100,
    T1: float = 1.0,
    T2: float = 1.0,
    g: float = G_DEFAULT,
    boundary: str = "open",
    norm_tol: float = 1e-8,
    max_batch_bytes: float = 2**30,
) -> FloquetEvolution:
    """Stroboscopic ⟨σᶻᵢ⟩(n T), n = 0 … periods, for every ε and realization (couplings (n, n_bonds),
    fields (n, L), initial σᶻ (n, L) ±1). Columns are processed in batches of at most ``max_batch_bytes``."""
    require_configured("evolve_floquet")
    fields = np.atleast_2d(np.asarray(fields, dtype=np.float64))
    n, L = fields.shape
    check_length(L, MAX_L_FLOQUET, boundary)
    couplings = np.atleast_2d(np.asarray(couplings, dtype=np.float64))
    initial = np.atleast_2d(np.asarray(initial))
    require(
        couplings.shape == (n, n_bonds(L, boundary)),
        "couplings",
        f"shape ({n}, {n_bonds(L, boundary)})",
        couplings.shape,
    )
    require(
        initial.shape == (n, L) and bool(np.all(np.abs(initial) == 1)),
        "initial",
        f"±1 of shape ({n}, {L})",
        initial.shape,
    )
    require(isinstance(periods, int | np.integer) and periods >= 1, "periods", "an integer >= 1", periods)
    eps = np.atleast_1d(np.asarray(eps, dtype=np.float64))
    for e in eps:
        check_finite("eps", float(e), 0.0, np.pi)
    check_finite("T1", T1, 0.0, np.inf, open_low=True)
    check_finite("T2", T2, 0.0, np.inf, open_low=True)
    check_finite("g", g)
    column_bytes = 16 * (1 << L) * 6
    check_memory(column_bytes, "one Floquet state vector and its work space")

    phase_all = np.exp(-1j * T2 * diagonal_energies(L, couplings, fields, boundary))  # (n, 2^L)
    start = states_of(initial)  # (n,)
    E = eps.size
    col_eps, col_real = np.repeat(eps, n), np.tile(np.arange(n), E)  # column c = e * n + r
    batch = max(1, int(max_batch_bytes // column_bytes))
    mags, norms = [], []
    for lo in range(0, E * n, batch):
        cols = slice(lo, min(lo + batch, E * n))
        r = col_real[cols]
        theta = (g - col_eps[cols]) * T1
        psi0 = np.zeros((r.size, 1 << L), complex)
        psi0[np.arange(r.size), start[r]] = 1.0
        mag, norm = _floquet_scan(
            jnp.asarray(psi0),
            jnp.asarray(np.cos(theta)),
            jnp.asarray(np.sin(theta)),
            jnp.asarray(phase_all[r]),
            L=L,
            periods=int(periods),
        )
        mags.append(np.asarray(mag).transpose(1, 0, 2))
        norms.append(np.asarray(norm).T)
    mag = np.concatenate(mags, axis=0)  # (E*n, N, L)
    norm_drift = np.max(np.abs(np.concatenate(norms, axis=0) - 1.0), axis=1)
    bad = (norm_drift > norm_tol) | ~np.isfinite(norm_drift)
    if np.any(bad):
        c = np.where(bad)[0][:5]
        raise HealthCheckError(
            f"Floquet evolution failed its health check for (eps, realization) "
            f"{[(float(col_eps[k]), int(col_real[k])) for k in c]}: norm drift {norm_drift[c].tolist()} "
            f"(tolerance {norm_tol})"
        )
    m0 = np.broadcast_to(initial.astype(np.float64), (E, n, L)).reshape(E * n, 1, L)
    mag = np.concatenate([m0, mag], axis=1).reshape(E, n, periods + 1, L)
    imbalance = np.einsum("ernl,erl->ern", mag, mag[:, :, 0, :]) / L
    return FloquetEvolution(mag, imbalance, norm_drift.reshape(E, n))
