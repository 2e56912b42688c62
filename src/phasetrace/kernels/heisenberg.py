"""Disordered Heisenberg chain in the Sᶻ_total = 0 sector: structure, spectral bounds, initial states, dynamics.

    H = Σ_b J S_i·S_j + Σ_i w_i Sᶻ_i,   S = σ/2,   bonds b = (i, i+1) (and (L−1, 0) when periodic)

splits into a disorder-independent flip-flop part (J/2)(S⁺_i S⁻_j + h.c.), whose flipped indices the kernels
compute from the states' bit ranks (:func:`hopping_structure`), and a diagonal
D_s = (J/4) Σ_b σᶻ_i σᶻ_j + (1/2) Σ_i w_i σᶻ_i that is the only thing a realization changes (the fields wᵢ come
from the model: :mod:`phasetrace.models`). Nothing of size dim² is ever built.

The batched kernels act on a matrix of vectors, one column per (realization, initial state); the Hamiltonian of
column c is H_c = H_xy + diag(D_{r(c)}). The basis convention is documented in :mod:`phasetrace.kernels.basis`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property, lru_cache, partial
from math import comb

import jax
import jax.numpy as jnp
import numpy as np
import scipy.linalg
import scipy.special

from ..runner import require_configured
from ..validation import (
    MAX_L_HEISENBERG,
    HealthCheckError,
    check_even_length,
    check_finite,
    check_memory,
    check_times,
    require,
)
from .basis import SzSector, n_bonds
from .batching import call_edges, cpu_columns_per_call, widest_call
from .precision import check_precision


@dataclass(frozen=True, eq=False)
class HeisenbergChain:
    """Disorder-independent structure of the chain (build with :func:`heisenberg_chain`, which caches it)."""

    L: int
    J: float
    boundary: str

    @cached_property
    def sector(self) -> SzSector:
        return SzSector(self.L)

    @property
    def dim(self) -> int:
        return self.sector.dim

    @property
    def bonds(self) -> tuple[tuple[int, int], ...]:
        return tuple((i, (i + 1) % self.L) for i in range(n_bonds(self.L, self.boundary)))

    @cached_property
    def neighbors(self) -> np.ndarray:
        """int32 (dim, n_bonds): sector index of the state with bond b flipped, or ``dim`` where bond b is aligned,
        found by search. The kernels compute these instead (:func:`hopping_structure`); the table is the
        reference they are tested against and what the benchmark's scipy/QuSpin peers are built from."""
        return np.stack([self.flipped_index(i, j) for i, j in self.bonds], axis=1)

    def flipped_index(self, i: int, j: int) -> np.ndarray:
        """int32 (dim,): sector index of every state with sites i, j exchanged, ``dim`` where they are aligned."""
        states = self.sector.states
        anti = ((states >> i) & 1) != ((states >> j) & 1)
        flipped = states ^ ((1 << i) | (1 << j))
        return np.where(anti, np.searchsorted(states, flipped), self.dim).astype(np.int32)

    @cached_property
    def hopping(self) -> dict[str, np.ndarray]:
        """The flip-flop structure the JAX kernels use (see :func:`hopping_structure`), built once per chain."""
        return hopping_structure(self)

    @cached_property
    def zz(self) -> np.ndarray:
        """float64 (dim,): Σ_b σᶻ_i σᶻ_j of every basis state."""
        s = self.sector.spins.astype(np.int64)
        return sum(s[:, i] * s[:, j] for i, j in self.bonds).astype(np.float64)

    def diagonal(self, fields: np.ndarray) -> np.ndarray:
        """D (n, dim) = (J/4) Σ_b σᶻσᶻ + (1/2) Σ_i w_i σᶻ_i for fields w of shape (n, L)."""
        fields = np.atleast_2d(np.asarray(fields, dtype=np.float64))
        require(fields.shape[-1] == self.L, "fields", f"an array of shape (n, L={self.L})", fields.shape)
        return 0.25 * self.J * self.zz[None, :] + 0.5 * fields @ self.sector.spins.T.astype(np.float64)

    def bandwidth_bound(self, fields: np.ndarray) -> np.ndarray:
        """A crude upper bound on E_max − E₀ per realization (Gershgorin on the Pauli terms)."""
        fields = np.atleast_2d(fields)
        return 2 * (0.75 * abs(self.J) * len(self.bonds) + 0.5 * np.abs(fields).sum(axis=-1))


@lru_cache(maxsize=8)
def heisenberg_chain(L: int, J: float = 1.0, boundary: str = "periodic") -> HeisenbergChain:
    """The chain's structure, built once per (L, J, boundary) and shared by every realization."""
    check_even_length(L, MAX_L_HEISENBERG, boundary)
    check_finite("J", J, 0.0, np.inf, open_low=True)
    check_memory(comb(L, L // 2) * (4 * n_bonds(L, boundary) + 8 * (L + 8)), "the Heisenberg chain's structure")
    return HeisenbergChain(int(L), float(J), boundary)


# --------------------------------------------------------------------------------------------- JAX kernels
def hopping_structure(chain: HeisenbergChain) -> dict[str, np.ndarray]:
    """What the JAX kernels need to apply the flip-flop term without a neighbour table.

    The sector index of a state is the colex rank Σ_j C(p_j, j + 1) of its up-spin positions p_0 < p_1 < …
    (= its rank in increasing integer order). Moving the up-spin at site i to i + 1, with j up-spins below site i,
    changes the rank by C(i + 1, j + 1) − C(i, j + 1) = C(i, j); the reverse move by −C(i, j). So for the bonds
    (i, i + 1) the flipped index is ``row ± binom[i, popcount(s & (2^i − 1))]``: computed, not read from memory.
    Only the periodic bond (L − 1, 0) keeps a table column (``wrap``). Arrays carry one padding row (index dim,
    state 0: no up-spin, so no flips) that absent bonds point at.
    """
    L = chain.L
    out = {
        "states": np.append(chain.sector.states, 0).astype(np.int32),
        "binom": np.array([[comb(i, j) for j in range(L)] for i in range(L - 1)], dtype=np.int32),
    }
    if chain.boundary == "periodic":
        out["wrap"] = np.append(chain.flipped_index(L - 1, 0), chain.dim).astype(np.int32)
    return out


def _flipped(hopping, i: int) -> jax.Array:
    """Row index of every state with bond (i, i + 1) flipped; the padding row where the bond is aligned."""
    s = hopping["states"]
    rows = jnp.arange(s.shape[0], dtype=s.dtype)
    low, high = (s >> i) & 1, (s >> (i + 1)) & 1
    step = hopping["binom"][i][jax.lax.population_count(s & ((1 << i) - 1))]
    return jnp.where(low == high, s.shape[0] - 1, jnp.where(low == 1, rows + step, rows - step))


def _apply(x: jax.Array, hopping, diag, hop) -> jax.Array:
    """y = hop · Σ_b x[flip_b(row)] + diag ⊙ x for x (dim + 1, C); one fused gather per bond, the bonds summed
    before the one multiplication by ``hop`` (measured 5-11% faster at L = 20 than a multiply-add per bond).

    ``diag`` is (dim + 1, C), or (dim + 1, C/2) for packed [Re | Im] columns, whose two halves share a diagonal
    (read once per row; the products are the same numbers); or a tuple (hi, lo) of such arrays, the diagonal
    hi + lo split so that a float32 pair carries it to ≈ float64 accuracy (:func:`_split`).
    The padding row of x (index dim) is zero with diag 0, and every bond of the padding row points at itself, so
    that row stays exactly zero through any recursion built from this function.
    """
    parts = diag if isinstance(diag, tuple) else (diag,)
    parts = [d if d.shape[1] == x.shape[1] else jnp.concatenate([d, d], axis=1) for d in parts]
    acc = parts[0] * x
    for d in parts[1:]:
        acc = acc + d * x
    flips = [_flipped(hopping, i) for i in range(hopping["binom"].shape[0])]
    flips += [hopping["wrap"]] if "wrap" in hopping else []
    gathered = x[flips[0]]
    for f in flips[1:]:
        gathered = gathered + x[f]
    return acc + hop * gathered


def _column_sums(a: jax.Array) -> jax.Array:
    """Σ over rows of ``a`` (dim + 1, C), as a dot with ones: XLA's CPU backend fuses a row reduction with the
    gathers that produce its operand and then runs 30-40x slower than the gathers alone (measured 64 ms against
    1.6 ms for one energy at L = 18, 16 columns: most of each output step's time); a dot is not fused."""
    return jnp.ones(a.shape[0], a.dtype) @ a


def _pad_rows(columns: np.ndarray) -> np.ndarray:
    """Append the zero padding row the JAX kernels expect."""
    return np.vstack([columns, np.zeros((1, columns.shape[1]))])


def _jax_hopping(chain: HeisenbergChain):
    return {k: jnp.asarray(v) for k, v in chain.hopping.items()}


def _split(values: np.ndarray, dtype: str) -> tuple[jax.Array, ...]:
    """float64 ``values`` as a tuple of ``dtype`` arrays whose sum is them: (values,) in float64; (hi, lo) with
    hi = round(values), lo = round(values − hi) in a narrower dtype, so that a constant matrix rounded once does
    not perturb H by the same error at every step (that error, coherent over t, would dominate the traces')."""
    if np.dtype(dtype) == np.float64:
        return (jnp.asarray(values),)
    hi = values.astype(dtype)
    return jnp.asarray(hi), jnp.asarray((values - hi).astype(dtype))


@partial(jax.jit, static_argnames=("steps",))
def _lanczos_chunk(v_prev, v, beta, hopping, diag, hop, steps: int):
    """``steps`` Lanczos iterations on every column at once; returns the new state and (alpha, beta) rows."""

    def body(carry, _):
        v_prev, v, beta = carry
        w = _apply(v, hopping, diag, hop) - beta * v_prev
        alpha = jnp.sum(v * w, axis=0)
        w = w - alpha * v
        beta_new = jnp.sqrt(jnp.sum(w * w, axis=0))
        v_new = w / jnp.where(beta_new > 0, beta_new, 1.0)
        return (v, v_new, beta_new), (alpha, beta_new)

    (v_prev, v, beta), (alphas, betas) = jax.lax.scan(body, (v_prev, v, beta), None, length=steps)
    return v_prev, v, beta, alphas, betas


@dataclass(frozen=True)
class SpectralBounds:
    """Extremal eigenvalues per realization, with rigorous Lanczos residual bounds |θ − λ| ≤ err."""

    E0: np.ndarray  # (n,)
    Emax: np.ndarray  # (n,)
    err0: np.ndarray  # (n,)
    errmax: np.ndarray  # (n,)
    iterations: np.ndarray  # (n,) Lanczos steps (= matvecs) used per realization


def spectral_bounds(
    chain: HeisenbergChain,
    fields: np.ndarray,
    start_seeds: np.ndarray,
    rtol: float = 1e-10,
    chunk: int = 32,
    max_iter: int = 4000,
) -> SpectralBounds:
    """E₀ and E_max of every realization by batched Lanczos (no reorthogonalization).

    A column stops when the residual bound β_m |s_m| of both extremal Ritz pairs is ≤ rtol·max(1, |θ|), or at
    breakdown (invariant Krylov space, exact). Starting vectors are Gaussian, drawn from ``start_seeds``.
    """
    require_configured("spectral_bounds")
    fields = np.atleast_2d(np.asarray(fields, dtype=np.float64))
    n = fields.shape[0]
    start_seeds = np.atleast_1d(start_seeds)
    require(start_seeds.shape == (n,), "start_seeds", f"one seed per realization (shape ({n},))", start_seeds.shape)
    hopping, diag = _jax_hopping(chain), jnp.asarray(_pad_rows(chain.diagonal(fields).T))
    v0 = np.stack([np.random.default_rng(int(s)).standard_normal(chain.dim) for s in start_seeds], axis=1)
    v = jnp.asarray(np.vstack([v0 / np.linalg.norm(v0, axis=0), np.zeros((1, n))]))
    v_prev = jnp.zeros_like(v)
    beta = jnp.zeros(n)
    alphas, betas = np.zeros((0, n)), np.zeros((0, n))
    done = np.zeros(n, bool)
    out = np.zeros((4, n))
    iters = np.zeros(n, int)
    scale = chain.bandwidth_bound(fields)
    while not done.all():
        if alphas.shape[0] >= max_iter:
            raise HealthCheckError(
                f"Lanczos did not reach rtol={rtol} in {max_iter} iterations for realizations {np.where(~done)[0]}"
            )
        v_prev, v, beta, a, b = _lanczos_chunk(v_prev, v, beta, hopping, diag, 0.5 * chain.J, steps=chunk)
        alphas, betas = np.vstack([alphas, np.asarray(a)]), np.vstack([betas, np.asarray(b)])
        for c in np.where(~done)[0]:
            al, be = alphas[:, c], betas[:, c]
            small = np.nonzero(be < 1e-12 * scale[c])[0]
            m = small[0] + 1 if small.size else al.size
            vals0, vecs0 = scipy.linalg.eigh_tridiagonal(al[:m], be[: m - 1], select="i", select_range=(0, 0))
            valsm, vecsm = scipy.linalg.eigh_tridiagonal(al[:m], be[: m - 1], select="i", select_range=(m - 1, m - 1))
            beta_m = 0.0 if small.size else be[m - 1]
            e0, em = beta_m * abs(vecs0[-1, 0]), beta_m * abs(vecsm[-1, 0])
            if small.size or (e0 <= rtol * max(1.0, abs(vals0[0])) and em <= rtol * max(1.0, abs(valsm[0]))):
                done[c] = True
                out[:, c] = vals0[0], valsm[0], e0, em
                iters[c] = m
    return SpectralBounds(out[0], out[1], out[2], out[3], iters)


def initial_states(chain: HeisenbergChain, fields: np.ndarray, eps, E0, Emax) -> tuple[np.ndarray, np.ndarray]:
    """The product state of each (realization, ε) whose energy ⟨s|H|s⟩ is closest to E₀ + ε (E_max − E₀).

    ⟨s|H|s⟩ is the diagonal D_s (the flip-flop part has no diagonal). Ties go to the lowest sector index.
    Returns ``(index (n, E) int64, energy (n, E) float64)``.
    """
    eps = np.atleast_1d(np.asarray(eps, dtype=np.float64))
    for e in eps:
        check_finite("eps", float(e), 0.0, 1.0)
    diag = chain.diagonal(fields)  # (n, dim)
    target = np.asarray(E0)[:, None] + eps[None, :] * (np.asarray(Emax) - np.asarray(E0))[:, None]
    index = np.stack([np.argmin(np.abs(diag - target[:, e : e + 1]), axis=1) for e in range(eps.size)], axis=1)
    return index, np.take_along_axis(diag, index, axis=1)


def chebyshev_weights(half_width: np.ndarray, dt: float, tol: float) -> tuple[np.ndarray, int]:
    """Real weights w_k of e^{−iH dt} = e^{−i b dt} [Σ_{k even} w_k T_k(H̃) + i Σ_{k odd} w_k T_k(H̃)], H̃ = (H − b)/a.

    From c_k = (2 − δ_k0) (−i)^k J_k(a dt): w_k = Re c_k for even k and Im c_k for odd k (the other part is 0).
    K, the number of terms, is the smallest even order with 2|J_k(a dt)| < tol for all k ≥ K (J_k decays faster
    than exponentially for k > a dt). Returns ``(w (K, n), K)``.
    """
    x = np.asarray(half_width) * dt
    kmax = int(np.max(x) + 30 + 10 * np.max(x) ** (1 / 3)) + 2
    k = np.arange(kmax)
    jk = scipy.special.jv(k[:, None], x[None, :])
    above = np.nonzero(np.any(2 * np.abs(jk) >= tol, axis=1))[0]
    K = max(int(above[-1]) + 1 if above.size else 1, 2)
    K += K % 2
    c = np.where(k[:K, None] == 0, 1.0, 2.0) * (-1j) ** k[:K, None] * jk[:K]
    return np.where(k[:K, None] % 2 == 0, c.real, c.imag), K


# Code generation for the evolution kernel: the vector width LLVM may use, by the bytes of one row of a call's
# vectors. At L = 20, one thread: 512 bits make float64 rows of 8 columns (128 bytes) 6% faster than XLA's default
# of 256, leave mixed rows of 8 columns (64 bytes) unchanged, and make single-column rows (16 bytes) 15% slower.
# Where the CPU has no AVX-512, LLVM uses what it has. Set per compilation, so that every entry point compiles the
# same code for the same call.
WIDE_ROW_BYTES = 64


def _scan_for(row_bytes: int):
    """The jitted :func:`_evolve_scan` compiled with the vector width for rows of ``row_bytes``."""
    return _EVOLVE_SCAN[512 if row_bytes >= WIDE_ROW_BYTES else 256]


def _evolve_scan(
    x0, hopping, diag2, hop2, diag, hop, spins, weights, phase_cos, phase_sin, npairs, vectors, renormalize
):
    """Propagate x0 (dim + 1, 2C) = [Re ψ | Im ψ] (float64) through the steps; measure after each.

    diag2 (dim + 1, C) (or its (hi, lo) split), hop2 (2C,): 2(D − b)/a and J/a per column, in the vectors' dtype,
    so that 2H̃t = _apply(t, hopping, diag2, hop2).
    weights (S, Kpad, 2C): Chebyshev weights per step (:func:`chebyshev_weights`); phase_* (S, 2C): cos, sin of
    b dt; npairs (S,): terms/2. ``vectors``: the dtype the Clenshaw vectors are stored and computed in.
    ``renormalize``: divide each column by its norm after every step (the norm returned is then the one before,
    ‖ψ(t_s)‖² given a unit ψ(t_{s−1})).

    Each step sums Σ_k c_k T_k(H̃) ψ, c_k = w_k for even k and i w_k for odd k, by Clenshaw's recurrence
    b_k = c_k ψ + 2H̃ b_{k+1} − b_{k+2} (b_K = b_{K+1} = 0), Σ = c_0 ψ + H̃ b_1 − b_2: one fused pass per term that
    reads b_{k+1} (gathered), b_{k+2} and ψ and writes b_k, where the forward recurrence T_{k+1} = 2H̃T_k − T_{k−1}
    needs a second pass to add w_k T_k into the sums. Same number of matvecs (K − 1).
    Returns magnetization (S, L, C), norm (S, C), energy (S, C), all from the float64 state.
    """
    C = x0.shape[1] // 2

    def measure(x):
        p = x[:-1, :C] ** 2 + x[:-1, C:] ** 2
        energy = _column_sums(x * _apply(x, hopping, diag, hop))
        return spins.T @ p, _column_sums(p), energy[:C] + energy[C:]

    def step(x, inputs):
        w, cos, sin, pairs = inputs
        psi = x.astype(vectors)
        ipsi = jnp.concatenate([-psi[:, C:], psi[:, :C]], axis=1)  # i ψ in packed form
        top = 2 * pairs - 1
        b1 = (w[top] * ipsi).astype(vectors)  # b_{K−1} (K − 1 is odd)

        def body(j, carry):
            b1, b2 = carry  # b_{k+1}, b_{k+2} for even k = K − 2 − 2j; then odd k − 1
            k = top - 1 - 2 * j
            b0 = (w[k] * psi + _apply(b1, hopping, diag2, hop2) - b2).astype(vectors)
            return (w[k - 1] * ipsi + _apply(b0, hopping, diag2, hop2) - b1).astype(vectors), b0

        b1, b2 = jax.lax.fori_loop(0, pairs - 1, body, (b1, jnp.zeros_like(b1)))

        def last(j, carry):  # Σ = c_0 ψ + H̃ b_1 − b_2, written over b_2
            b1, b2 = carry
            return b1, (w[0] * psi + 0.5 * _apply(b1, hopping, diag2, hop2) - b2).astype(vectors)

        # A loop of one pass (its count is not known to XLA) so that Σ is one fused pass written to memory: outside a
        # loop XLA writes each bond's gather to memory and recomputes Σ in every consumer (L = 18, 8 columns: 40 ms
        # against 2 ms per output step, most of a step at t_max / 50 = 10)
        _, f = jax.lax.fori_loop(0, jnp.minimum(pairs, 1), last, (b1, b2))
        f = f.astype(x.dtype)
        # e^{−i b dt} Σ, in packed real form [re | im]
        re, im = f[:, :C], f[:, C:]
        c, s = cos[:C], sin[:C]
        y = jnp.concatenate([c * re + s * im, c * im - s * re], axis=1)
        if not renormalize:
            return y, measure(y)
        n2 = _column_sums(y[:-1, :C] ** 2 + y[:-1, C:] ** 2)
        y = y / jnp.sqrt(jnp.concatenate([n2, n2]))
        mag, _, energy = measure(y)
        return y, (mag, n2, energy)

    _, (mag, norm, energy) = jax.lax.scan(step, x0, (weights, phase_cos, phase_sin, npairs))
    return mag, norm, energy


_EVOLVE_SCAN = {
    width: jax.jit(
        _evolve_scan,
        static_argnames=("vectors", "renormalize"),
        compiler_options={"xla_cpu_prefer_vector_width": str(width)},
    )
    for width in (256, 512)
}


def _platform() -> str:
    """The platform of the device new arrays go to (``jax.default_device``, else the default backend)."""
    device = jax.config.jax_default_device
    if device is None:
        return jax.default_backend()
    return device.platform if hasattr(device, "platform") else str(device).split(":")[0]


@dataclass(frozen=True)
class Evolution:
    """Result of :func:`evolve`: ``magnetization[r, e, t, i]`` = ⟨σᶻᵢ⟩(t) of realization r, initial state e."""

    magnetization: np.ndarray  # (n, E, T, L)
    norm_drift: np.ndarray  # (n, E) max_t | ‖ψ(t)‖² − 1 |
    energy_drift: np.ndarray  # (n, E) max_t |⟨H⟩(t) − ⟨H⟩(0)|
    matvecs: int  # Hamiltonian applications per column, most of any call (Chebyshev terms + one measurement per time)


def evolve(
    chain: HeisenbergChain,
    fields: np.ndarray,
    state_index: np.ndarray,
    times,
    E0,
    Emax,
    *,
    precision: str = "float64",
    tol: float | None = None,
    margin: float = 1e-3,
    norm_tol: float | None = None,
    energy_tol: float | None = None,
    columns_per_call: int | None = None,
) -> Evolution:
    """⟨σᶻᵢ⟩(t) for every realization r (fields (n, L)) and initial product state ``state_index[r, e]``.

    Chebyshev propagation between consecutive output times: the series is rescaled to the spectrum
    [E₀, E_max] widened by ``margin`` of its width on each side and truncated at coefficient ``tol`` (default: the
    precision's ``series_tol``).
    ``precision``: a name of :data:`phasetrace.kernels.precision.PRECISIONS` (the dtype of the Clenshaw vectors; float64
    elsewhere). The columns (realization, initial state) are propagated ``columns_per_call`` at a time, in calls
    of near-equal width (default: :data:`.batching.CPU_COLUMNS_PER_CALL` on the CPU for chains of more than
    :data:`.batching.CPU_SPLIT_DIM` states, else all at once, as on an accelerator).
    Health checks: a column whose norm drifts by more than ``norm_tol`` or whose energy drifts by more than
    ``energy_tol`` · (E_max − E₀) raises :class:`HealthCheckError` (defaults: the precision's tolerances).
    """
    require_configured("evolve")
    prec = check_precision(precision)
    norm_tol = prec.norm_tol if norm_tol is None else norm_tol
    energy_tol = prec.energy_tol if energy_tol is None else energy_tol
    tol = prec.series_tol if tol is None else tol
    fields = np.atleast_2d(np.asarray(fields, dtype=np.float64))
    n = fields.shape[0]
    state_index = np.asarray(state_index).reshape(n, -1)
    E = state_index.shape[1]
    check_times(times)
    times = np.asarray(times, dtype=np.float64)
    E0, Emax = np.broadcast_to(np.asarray(E0, float), (n,)), np.broadcast_to(np.asarray(Emax, float), (n,))
    require(bool(np.all(Emax > E0)), "Emax", "strictly greater than E0 for every realization", Emax)
    C = n * E

    # columns: c = r * E + e, for r in realizations, e in initial states
    real = np.repeat(np.arange(n), E)
    width = (Emax - E0)[real]
    a = 0.5 * width * (1 + 2 * margin)
    if np.dtype(prec.vectors) != np.float64:  # widen a by < 1 ulp so that J/a is exact in the vectors' dtype
        hop = (chain.J / a).astype(prec.vectors)
        hop = np.where(hop > chain.J / a, np.nextafter(hop, np.zeros_like(hop)), hop)
        a = chain.J / hop.astype(np.float64)
    b = 0.5 * (Emax + E0)[real]
    diag = chain.diagonal(fields)[real].T  # (dim, C)
    steps = np.diff(np.concatenate([[0.0], times]))
    per_call = columns_per_call or (cpu_columns_per_call(chain.dim, C) if _platform() == "cpu" else C)
    edges = call_edges(C, per_call)
    chunks = [slice(lo, hi) for lo, hi in zip(edges[:-1], edges[1:], strict=True)]
    series = []
    for cols in chunks:  # the weights of each distinct step length, computed once (the Bessel functions cost)
        weights_of = {dt: chebyshev_weights(a[cols], dt, tol) for dt in np.unique(steps)}
        series.append([weights_of[dt] for dt in steps])
    kpad = 64 * (-(-max(K for chunk in series for _, K in chunk) // 64))  # nearby spectra share one compilation
    hopping, spins = _jax_hopping(chain), jnp.asarray(chain.sector.spins, dtype=jnp.float64)
    check_memory(
        chain.dim * (8 * 2 * widest_call(C, per_call) * 9 + 4 * len(chain.bonds)),
        "the evolution's working set",
        "the batch",
    )
    out = []
    for cols, chunk in zip(chunks, series, strict=True):
        width_c = cols.stop - cols.start
        weights = np.zeros((len(steps), kpad, 2 * width_c))
        for s, (w, K) in enumerate(chunk):
            weights[s, :K] = np.concatenate([w, w], axis=1)
        phase = np.concatenate([b[cols], b[cols]])[None, :] * steps[:, None]
        x0 = np.zeros((chain.dim, 2 * width_c))
        x0[state_index.reshape(-1)[cols], np.arange(width_c)] = 1.0
        out.append(
            _scan_for(2 * width_c * np.dtype(prec.vectors).itemsize)(
                jnp.asarray(_pad_rows(x0)),
                hopping,
                _split(_pad_rows(2 * (diag[:, cols] - b[cols]) / a[cols]), prec.vectors),
                jnp.asarray(chain.J / np.concatenate([a[cols], a[cols]]), dtype=prec.vectors),
                jnp.asarray(_pad_rows(diag[:, cols])),
                0.5 * chain.J,
                spins,
                jnp.asarray(weights, dtype=prec.vectors),
                jnp.asarray(np.cos(phase)),
                jnp.asarray(np.sin(phase)),
                jnp.asarray([K // 2 for _, K in chunk], dtype=np.int32),
                vectors=prec.vectors,
                renormalize=prec.renormalize,
            )
        )
    mag, norm, energy = (np.concatenate([np.asarray(o[i]) for o in out], axis=-1) for i in range(3))
    e_init = diag[state_index.reshape(-1), np.arange(C)]
    norm_drift = np.max(np.abs(norm - 1.0), axis=0)
    energy_drift = np.max(np.abs(energy - e_init[None, :]), axis=0)
    bad = (
        (norm_drift > norm_tol)
        | ~np.isfinite(norm_drift)
        | (energy_drift > energy_tol * width)
        | ~np.isfinite(energy_drift)
    )
    if np.any(bad):
        cols = np.where(bad)[0]
        raise HealthCheckError(
            "time evolution failed its health check for (realization, initial state) "
            f"{[(int(c // E), int(c % E)) for c in cols[:5]]}: norm drift {norm_drift[cols[:5]].tolist()} "
            f"(tolerance {norm_tol}), energy drift {energy_drift[cols[:5]].tolist()} "
            f"(tolerance {energy_tol} x bandwidth)"
        )
    magnetization = mag.transpose(2, 0, 1).reshape(n, E, times.size, chain.L)
    return Evolution(
        magnetization,
        norm_drift.reshape(n, E),
        energy_drift.reshape(n, E),
        max(sum(K for _, K in chunk) for chunk in series) + times.size,
    )
