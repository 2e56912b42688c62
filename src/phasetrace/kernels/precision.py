"""The arithmetic the Heisenberg evolution kernel runs in: one entry per value of a model's ``precision`` key.

Imported when the workflow is parsed (the config schema lists the names): no JAX. The kernel is
:func:`phasetrace.kernels.heisenberg.evolve`; the error figures behind each entry's tolerances are measured in the
documentation (Physics and kernels) and by ``python -m phasetrace.bench --budget``.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Precision:
    """``vectors``: dtype of the Clenshaw vectors b_k = c_k ψ + 2H̃ b_{k+1} − b_{k+2} and of the series' weights,
    what the recurrence's gathers read and write (the memory traffic). The state between output times, the
    Hamiltonian's diagonal (in float32 as a hi + lo pair), the phases e^{−i b dt} and every measurement are
    float64 in both.
    ``renormalize``: divide the state by its norm after every output step (removes the norm's share of the
    rounding error, which otherwise accumulates coherently); the norm check then bounds each step's drift.
    ``norm_tol``, ``energy_tol``: the health check's bounds on max_t |‖ψ(t)‖² − 1| (per step when
    renormalizing) and on max_t |⟨H⟩(t) − ⟨H⟩(0)| / (E_max − E₀).
    ``series_tol``: where the Chebyshev series of each step is truncated (its coefficients' magnitude): far below
    the arithmetic's own error, so that truncation adds nothing measurable, and no further (1e-12 takes 3-10% more
    terms than 1e-9 at a·dt = 300 … 5)."""

    vectors: str
    renormalize: bool
    norm_tol: float
    energy_tol: float
    series_tol: float


PRECISIONS = {
    "float64": Precision("float64", False, norm_tol=1e-8, energy_tol=1e-8, series_tol=1e-12),
    # Tolerances: measured ≤ 2.7e-6 (norm, per step), ≤ 2.2e-7 (energy) at L = 12 … 20, W ≤ 8 to t = 500
    "mixed": Precision("float32", True, norm_tol=1e-4, energy_tol=1e-5, series_tol=1e-9),
}


def check_precision(name) -> Precision:
    if name not in PRECISIONS:
        raise ValueError(f"precision = {name!r} is outside the allowed range: one of {list(PRECISIONS)}")
    return PRECISIONS[name]
