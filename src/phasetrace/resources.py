"""What each workflow job asks a scheduler for: memory (MB) and wall time (minutes), from the config.

Used by the rules' ``resources:`` (so SLURM requests scale with L and the block size) and by the README's
projection of the paper preset. Imported when the workflow is parsed: no JAX.

The figures are upper estimates calibrated on measurements (2-core x86 CPU, double precision):
- memory: peak RSS of an MBL traces job is ≈ 350 MB (Python, JAX, XLA) plus ≈ 480 bytes per
  (basis state × column) at L = 16–18; we ask for 1 GiB plus 640 bytes per (basis state × column).
- time: one Chebyshev matvec costs ≤ 1.5e-8 s per (basis state × column) on one core (L = 20: 1.2e-8),
  and the number of matvecs to ``t_max`` is the spectral half-width times ``t_max``; the half-width is
  bounded by (3/4)·J per bond + W/4 per site for the typical field (measured widths are 60–75% of it).
  Requests are twice the estimate, at least 5 minutes, and double with every retry (``attempt``).
"""

from __future__ import annotations

BASE_MB = 1024
BYTES_PER_ELEMENT = 640
SECONDS_PER_ELEMENT_MATVEC = {"float64": 1.5e-8, "mixed": 1.5e-8}  # by the kernel's precision
SAFETY = 2.0
MIN_MINUTES = 5


def _minutes(seconds: float, attempt: int) -> int:
    return int(max(MIN_MINUTES, SAFETY * seconds / 60.0) * 2 ** (attempt - 1) + 0.999)


def _mb(nbytes: float, attempt: int) -> int:
    return int((BASE_MB + nbytes / 2**20) * (1.0 + 0.5 * (attempt - 1)) + 0.999)


def seconds(elements: float, matvecs: float, precision: str = "float64") -> float:
    """The estimated time (before SAFETY) of ``matvecs`` passes over ``elements`` amplitudes."""
    return matvecs * elements * SECONDS_PER_ELEMENT_MATVEC[precision]


def job(elements: float, matvecs: float, attempt: int = 1, precision: str = "float64") -> dict[str, int]:
    """A simulation job of ``matvecs`` passes over ``elements`` amplitudes (basis states × columns); the models
    count both (:meth:`phasetrace.models.Model.resources`)."""
    return {
        "mem_mb": _mb(elements * BYTES_PER_ELEMENT, attempt),
        "runtime": _minutes(seconds(elements, matvecs, precision), attempt),
    }


def traces_seconds(config: dict, model: str, W: float) -> float:
    """The estimated time (before SAFETY) of one traces job of a Heisenberg-chain ``model`` at W."""
    from .models import get

    elements, matvecs = get(model).work(config, "traces", {"W": W})
    return seconds(elements, matvecs, config[model]["precision"])


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
