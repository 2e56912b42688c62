"""What each workflow job asks a scheduler for: memory (MB) and wall time (minutes), from the config.

Used by the rules' ``resources:`` (so SLURM requests scale with L and the block size) and by the README's
projection of the paper preset. Imported when the workflow is parsed: no JAX.

The figures are calibrated on measurements (2-core x86 CPU):
- memory (an upper estimate): peak RSS of an MBL traces job is ≈ 350 MB (Python, JAX, XLA) plus ≈ 480 bytes per
  (basis state × column) at L = 16–18, float64; we ask for 1 GiB plus 640 bytes per (basis state × column).
- time (a typical estimate; ``python -m phasetrace.bench --jobs`` times traces jobs against it): a job costs
  JOB_SECONDS (start-up and the kernel's compilation) plus, per Chebyshev matvec, SECONDS_PER_ELEMENT_MATVEC
  per (basis state × realization) on one core, by the kernel's precision and L. The matvecs to ``t_max`` are the
  spectral half-width times ``t_max`` plus the measurements; the typical half-width of the random-field chain
  is hypot(HALF_WIDTH_BOND · J · bonds, HALF_WIDTH_FIELD · W · L), fitted to the Lanczos bounds of 25
  realizations at L = 14, 16, 18 and W = 0.5, 3, 8 (within 4% of each). Requests are SAFETY times the
  estimate, at least 5 minutes, and double with every retry (``attempt``).
"""

from __future__ import annotations

import numpy as np

BASE_MB = 1024
BYTES_PER_ELEMENT = 640
# Seconds per (basis state × realization) per modeled matvec on one core, by precision and chain length: the entry
# of the smallest tabulated L ≥ the job's (the largest beyond). Fitted (geometric mean over W = 0.5, 3, 8) to traces
# jobs of 16 realizations at L = 16, 18 and of 8 at L = 20 (W = 3 only; measured before the kernel's Chebyshev
# weights were cached again, ≈ 3% slower), by bench --jobs. From L = 18 the kernel runs a job's realizations 8 at a
# time (heisenberg.CPU_COLUMNS_PER_CALL), so the figure does not depend on the job's size there
SECONDS_PER_ELEMENT_MATVEC = {
    "float64": {16: 5.2e-9, 18: 6.1e-9, 20: 9.9e-9},
    "mixed": {16: 3.2e-9, 18: 3.9e-9, 20: 5.3e-9},
}
JOB_SECONDS = 1.5
HALF_WIDTH_BOND, HALF_WIDTH_FIELD = 0.36, 0.236
SAFETY = 2.0
MIN_MINUTES = 5


def _minutes(seconds: float, attempt: int) -> int:
    return int(max(MIN_MINUTES, SAFETY * seconds / 60.0) * 2 ** (attempt - 1) + 0.999)


def _mb(nbytes: float, attempt: int) -> int:
    return int((BASE_MB + nbytes / 2**20) * (1.0 + 0.5 * (attempt - 1)) + 0.999)


def seconds(elements: float, matvecs: float, precision: str = "float64", L: int | None = None) -> float:
    """The estimated time (before SAFETY) of a job of ``matvecs`` passes over ``elements`` amplitudes of a chain of
    length ``L`` (None: the smallest tabulated)."""
    table = SECONDS_PER_ELEMENT_MATVEC[precision]
    per = table[min([k for k in table if L is None or k >= L], default=max(table))]
    return JOB_SECONDS + matvecs * elements * per


def half_width(J: float, bonds: int, W: float, L: int) -> float:
    """The typical spectral half-width (E_max − E₀)/2 of the Heisenberg chain with fields of strength W."""
    return float(np.hypot(HALF_WIDTH_BOND * J * bonds, HALF_WIDTH_FIELD * W * L))


def job(
    elements: float, matvecs: float, attempt: int = 1, precision: str = "float64", L: int | None = None
) -> dict[str, int]:
    """A simulation job of ``matvecs`` passes over ``elements`` amplitudes (basis states × columns) of a chain of
    length ``L``; the models count them (:meth:`phasetrace.models.Model.resources`)."""
    return {
        "mem_mb": _mb(elements * BYTES_PER_ELEMENT, attempt),
        "runtime": _minutes(seconds(elements, matvecs, precision, L), attempt),
    }


def traces_seconds(config: dict, model: str, W: float) -> float:
    """The estimated time (before SAFETY) of one traces job of a Heisenberg-chain ``model`` at W."""
    from .models import get

    elements, matvecs = get(model).work(config, "traces", {"W": W})
    return seconds(elements, matvecs, config[model]["precision"], config[model]["L"])


def simulation(config: dict, model: str, stage: str, attempt: int = 1, **point: float) -> dict[str, int]:
    """One job of ``stage`` of ``model`` at ``point`` (the W of a traces job sets its length)."""
    from .models import get

    return get(model).resources(config, stage, attempt, point)


def aggregate(config: dict, model: str, attempt: int = 1) -> dict[str, int]:
    """Gathering every job's store into one dataset: the traces in memory twice, float64."""
    from .models import get

    values = get(model).values(config)
    return {"mem_mb": _mb(16 * values, attempt), "runtime": _minutes(60 + values * 2e-7, attempt)}


def training(config: dict, model: str, attempt: int = 1, sets: float = 1.0) -> dict[str, int]:
    """``sets`` sets of k LSTMs over the whole dataset (an MBL network job trains on one ε: 1/len(ε) of a set).

    Measured: 3.6e-8 s per (value, epoch, seed) on 2 cores (default config, vmapped seeds); we count 1e-7.
    """
    from .models import get

    values = get(model).values(config)
    t = config["training"]
    seconds = 120 + sets * values * t["epochs"] * t["seeds"] * 1e-7
    return {"mem_mb": _mb(16 * values + 2**30, attempt), "runtime": _minutes(seconds, attempt)}
