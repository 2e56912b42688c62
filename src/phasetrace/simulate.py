"""The public entry points the pipeline calls: one block of realizations of one sweep point, from seeds to traces.

Randomness: realization r of the MBL sweep at disorder W draws, from
``seeds.realization_rng(seed, "mbl", L, point_key(W), r)``, first its L fields and then the seed of its Lanczos
starting vector; realization r of the Floquet sweep draws its fields, couplings and initial state from
``realization_rng(seed, "floquet", L, 0, r)``. Neither depends on ε or on how realizations are grouped in blocks.
"""

from __future__ import annotations

import numpy as np

from . import floquet, heisenberg
from .runner import configure
from .checks import check_finite, require
from .seeds import point_key, realization_rng


def default_times(t_max: float = 500.0, n_times: int = 50) -> np.ndarray:
    """``n_times`` equally spaced times on [0, t_max], t = 0 included."""
    return np.linspace(0.0, t_max, n_times)


def _realization_range(realizations) -> np.ndarray:
    r = np.atleast_1d(np.asarray(realizations))
    require(r.ndim == 1 and r.size > 0 and bool(np.all(r >= 0)), "realizations", "non-negative indices", realizations)
    return r.astype(int)


def mbl_disorder(seed: int, L: int, W: float, realizations) -> tuple[np.ndarray, np.ndarray]:
    """Fields w (n, L) ~ U[−W, W] and Lanczos start seeds (n,) of the given realization indices."""
    check_finite("W", W, 0.0)
    fields, starts = [], []
    for r in _realization_range(realizations):
        rng = realization_rng(seed, "mbl", L, point_key(W), int(r))
        fields.append(heisenberg.draw_fields(rng, L, W))
        starts.append(int(rng.integers(2**63 - 1)))
    return np.stack(fields), np.asarray(starts, dtype=np.int64)


def mbl_bounds(seed: int, L: int, W: float, realizations, J: float = 1.0, boundary: str = "periodic"):
    """E₀, E_max (and their Lanczos error bounds) of each realization at disorder W: shared by every ε."""
    configure()
    chain = heisenberg.heisenberg_chain(L, J, boundary)
    fields, starts = mbl_disorder(seed, L, W, realizations)
    return heisenberg.spectral_bounds(chain, fields, starts)


def simulate_mbl(
    seed: int,
    L: int,
    W: float,
    eps,
    realizations,
    times=None,
    J: float = 1.0,
    boundary: str = "periodic",
    bounds: heisenberg.SpectralBounds | None = None,
) -> dict[str, np.ndarray]:
    """Traces of realizations ``realizations`` at disorder W for every energy density in ``eps``.

    Returns arrays: ``magnetization (n, E, T, L)`` = ⟨σᶻᵢ⟩(t); ``field (n, L)``; ``initial_state (n, E, L)`` ±1;
    ``initial_energy (n, E)``; ``E0, Emax, E0_error, Emax_error (n,)``; ``times (T,)``; plus health figures.
    ``bounds`` (from :func:`mbl_bounds` for the same realizations) skips the Lanczos step.
    """
    configure()
    times = default_times() if times is None else np.asarray(times, dtype=float)
    chain = heisenberg.heisenberg_chain(L, J, boundary)
    fields, starts = mbl_disorder(seed, L, W, realizations)
    if bounds is None:
        bounds = heisenberg.spectral_bounds(chain, fields, starts)
    require(bounds.E0.shape == (fields.shape[0],), "bounds", f"one entry per realization ({fields.shape[0]})", bounds.E0.shape)
    index, energy = heisenberg.initial_states(chain, fields, eps, bounds.E0, bounds.Emax)
    evo = heisenberg.evolve(chain, fields, index, times, bounds.E0, bounds.Emax)
    return {
        "magnetization": evo.magnetization,
        "field": fields,
        "initial_state": chain.sector.spins[index],
        "initial_energy": energy,
        "E0": bounds.E0,
        "Emax": bounds.Emax,
        "E0_error": bounds.err0,
        "Emax_error": bounds.errmax,
        "times": times,
        "norm_drift": evo.norm_drift,
        "energy_drift": evo.energy_drift,
        "matvecs": np.asarray(evo.matvecs + int(bounds.iterations.max())),
    }


def simulate_floquet(
    seed: int,
    L: int,
    eps,
    realizations,
    periods: int = 100,
    T1: float = 1.0,
    T2: float = 1.0,
    g: float = floquet.G_DEFAULT,
    boundary: str = "open",
) -> dict[str, np.ndarray]:
    """Stroboscopic traces of realizations ``realizations`` for every ε in ``eps``.

    Returns ``magnetization (E, n, N + 1, L)``, ``imbalance (E, n, N + 1)``, ``coupling (n, n_bonds)``,
    ``field (n, L)``, ``initial_state (n, L)`` and ``norm_drift (E, n)``.
    """
    configure()
    draws = [
        floquet.draw_realization(realization_rng(seed, "floquet", L, 0, int(r)), L, boundary)
        for r in _realization_range(realizations)
    ]
    couplings, fields, initial = (np.stack(x) for x in zip(*draws, strict=True))
    evo = floquet.evolve_floquet(eps, couplings, fields, initial, periods, T1, T2, g, boundary)
    return {
        "magnetization": evo.magnetization,
        "imbalance": evo.imbalance,
        "coupling": couplings,
        "field": fields,
        "initial_state": initial,
        "norm_drift": evo.norm_drift,
    }
