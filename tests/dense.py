"""Independent dense references: Hamiltonians from Kronecker products of Pauli matrices, numpy/scipy only.

Nothing here imports phasetrace. Site i is the i-th tensor factor from the right, so that the full-space index
of a product state has bit i = site i and bit 1 = spin up (σᶻ = +1), matching the package's documented
convention; the tests compare physical observables, which do not depend on that choice anyway.
"""

from __future__ import annotations

from functools import reduce

import numpy as np
import scipy.linalg
import scipy.sparse as sp

X = np.array([[0, 1], [1, 0]], dtype=complex)
Y = np.array([[0, -1j], [1j, 0]], dtype=complex)
# basis order per site: index 0 = down (σᶻ=-1), index 1 = up (σᶻ=+1)
Z = np.array([[-1, 0], [0, 1]], dtype=complex)
I2 = np.eye(2, dtype=complex)


def site_op(op, i, L):
    """op on site i of L as a sparse matrix (site 0 = rightmost Kronecker factor = least significant bit)."""
    factors = [sp.csr_matrix(op if L - 1 - k == i else I2) for k in range(L)]
    return reduce(lambda a, b: sp.kron(a, b, format="csr"), factors)


def heisenberg_sparse(L, J, fields, periodic=True):
    """Full 2^L sparse matrix of Σ J S·S + Σ w Sᶻ with S = σ/2."""
    H = sp.csr_matrix((2**L, 2**L), dtype=complex)
    last = L if periodic else L - 1
    for i in range(last):
        j = (i + 1) % L
        for P in (X, Y, Z):
            H = H + 0.25 * J * (site_op(P, i, L) @ site_op(P, j, L))
    for i in range(L):
        H = H + 0.5 * fields[i] * site_op(Z, i, L)
    return H


def sz_values(L):
    """σᶻ of site i in full-space state s: array (2^L, L)."""
    s = np.arange(2**L)
    return 2 * ((s[:, None] >> np.arange(L)) & 1) - 1


def heisenberg_sector_dense(L, J, fields, periodic=True):
    """(H restricted to the Sᶻ=0 states, the full-space integers of those states in increasing order)."""
    H = heisenberg_sparse(L, J, fields, periodic)
    keep = np.nonzero(sz_values(L).sum(axis=1) == 0)[0]
    Hs = H[keep][:, keep].toarray()
    assert np.abs(Hs.imag).max() == 0
    return Hs.real, keep


def evolve_dense(H, psi0, times):
    """ψ(t) for each t via the eigendecomposition of a dense Hermitian H: array (T, dim)."""
    vals, vecs = np.linalg.eigh(H)
    coeff = vecs.conj().T @ psi0
    return np.stack([vecs @ (np.exp(-1j * vals * t) * coeff) for t in times])


def dense_traces(L, fields, eps_list, times, periodic=True):
    """Everything the Heisenberg kernel computes, from dense matrices: E₀, E_max, the product state whose diagonal
    energy is nearest E₀ + ε(E_max − E₀) for each ε (full-space integers), and its ⟨σᶻᵢ⟩(t)."""
    H, keep = heisenberg_sector_dense(L, 1.0, fields, periodic)
    vals = np.linalg.eigvalsh(H)
    E0, Emax = vals[0], vals[-1]
    diag = np.diag(H)
    sz = sz_values(L)[keep]
    traces, picks = [], []
    for eps in eps_list:
        k = int(np.argmin(np.abs(diag - (E0 + eps * (Emax - E0)))))
        psi0 = np.zeros(len(keep), complex)
        psi0[k] = 1
        traces.append((np.abs(evolve_dense(H, psi0, times)) ** 2) @ sz)
        picks.append(keep[k])
    return E0, Emax, np.array(picks), np.array(traces)


def floquet_dense(L, eps, J, B, T1, T2, g, periodic=False):
    """One-period unitary exp(-i H2 T2) exp(-i H1 T1) from dense matrix exponentials."""
    H1 = (g - eps) * sum(site_op(X, i, L) for i in range(L)).toarray()
    last = L if periodic else L - 1
    H2 = sum(J[i] * site_op(Z, i, L) @ site_op(Z, (i + 1) % L, L) for i in range(last))
    H2 = (H2 + sum(B[i] * site_op(Z, i, L) for i in range(L))).toarray()
    return scipy.linalg.expm(-1j * H2 * T2) @ scipy.linalg.expm(-1j * H1 * T1)
