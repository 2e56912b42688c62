"""What each workflow job asks a scheduler for: memory (MB) and wall time (minutes), from the config.

Used by the rules' ``resources:`` (so SLURM requests scale with L and the block size) and by the README's
projection of the paper preset. Imported when the workflow is parsed: no JAX.

The figures are calibrated on measurements (2-core x86 CPU):
- memory (an upper estimate, ``python -m phasetrace.bench --jobs`` measures each job's peak RSS against it): a
  job holds ≈ 330–370 MB at start-up (Python, JAX, XLA), plus per (basis state × column) ≈ 100 bytes for the
  columns of its widest kernel call and ≈ 56–76 bytes for all its columns (the states, diagonals and outputs the
  job keeps), fitted to MBL traces jobs of 16–50 realizations at L = 14–20; the bounds' Lanczos holds all columns
  in one call at ≈ 65–100 bytes per element in all. We ask BASE_MB plus BYTES_PER_CALL_ELEMENT per element of the
  widest call plus BYTES_PER_JOB_ELEMENT per element of the job: 1.9–3.3× the measured peaks. BASE_MB keeps
  ≈ 650 MB over the CPU start-up for what a GPU job's CUDA runtime adds (not measured: no GPU was lent).
- time (a typical estimate; ``python -m phasetrace.bench --jobs`` times traces jobs against it): a job costs
  JOB_SECONDS (start-up and the kernel's compilation) plus, per Chebyshev matvec, SECONDS_PER_ELEMENT_MATVEC
  per (basis state × realization) on one core, by the kernel's precision and L. The matvecs to ``t_max`` are the
  spectral half-width times ``t_max`` plus the measurements; the typical half-width of the random-field chain
  is hypot(HALF_WIDTH_BOND · J · bonds, HALF_WIDTH_FIELD · W · L), fitted to the Lanczos bounds of 25
  realizations at L = 14, 16, 18 and W = 0.5, 3, 8 (within 4% of each). Requests are SAFETY times the
  estimate, at least 5 minutes, and double with every retry (``attempt``).
- the memory bus (``membus``: 1 or 0): a job of the Heisenberg kernel (``Work.gathers``: its far bonds' scattered
  gathers) whose kernel call holds more than MEMBUS_BYTES of vectors waits on memory, and a second such job on the
  same machine adds no throughput (two L = 16 traces jobs at once on 2 cores: each 2-2.5x slower than alone; docs:
  Benchmarks, "Jobs that share a memory bus"). The Floquet drive's passes over the state were not measured to wait
  so, and its L = 14 jobs run ≈ 1 s each: holding the token put all 66 of them behind the 192 L = 16 jobs (Snakemake
  hands a free token to the job with the larger input), so the drive's training waited until the end of the lane
  (``config/scaling.yaml``, 2026-12-04). ``snakemake --resources
  membus=1`` runs one at a time, so the other core takes the small jobs and the training beside it
  (``config/scaling.yaml`` on 2 cores). Not in a profile: a global resource also caps the jobs a cluster run keeps
  in flight.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .kernels.batching import widest_call
from .kernels.precision import check_precision

# Memory of a simulation job: BASE_MB plus, per (basis state × column), BYTES_PER_CALL_ELEMENT for the columns one
# kernel call holds at once and BYTES_PER_JOB_ELEMENT for all the job's columns (fits: the module's docstring)
BASE_MB = 1024
BYTES_PER_CALL_ELEMENT = 128
BYTES_PER_JOB_ELEMENT = 96
# Seconds per (basis state × realization) per modeled matvec on one core, by precision and chain length: the entry
# of the smallest tabulated L ≥ the job's (the largest beyond). Fitted (geometric mean over W = 0.5, 3, 8) to traces
# jobs of 16 realizations at L = 16, 18 and of 8 at L = 20 (W = 3 only; measured before the kernel's Chebyshev
# weights were cached again, ≈ 3% slower), by bench --jobs. From L = 18 the kernel runs a job's realizations 8 at a
# time (CPU_COLUMNS_PER_CALL), so the figure does not depend on the job's size there
SECONDS_PER_ELEMENT_MATVEC = {
    "float64": {16: 5.2e-9, 18: 6.1e-9, 20: 9.9e-9},
    "mixed": {16: 3.2e-9, 18: 3.9e-9, 20: 5.3e-9},
}
JOB_SECONDS = 1.5
HALF_WIDTH_BOND, HALF_WIDTH_FIELD = 0.36, 0.236
SAFETY = 2.0
MIN_MINUTES = 5
# A job whose widest kernel call's vectors (four Clenshaw vectors, [Re | Im] per realization, in the precision's
# dtype) exceed this takes the memory bus: a quarter of the 32 MB shared cache of the machine it was measured on (at
# the default sizes: the L = 16 traces jobs of 25 realizations, 10-20 MB, and everything larger; L = 14, 3-6 MB, not)
MEMBUS_BYTES = 8 * 2**20


@dataclass(frozen=True)
class Work:
    """What one simulation job computes: ``matvecs`` passes over ``dim`` basis states × ``columns`` (realizations),
    ``call_columns`` of them held by one kernel call at a time, in ``precision``, for a chain of ``L`` sites
    (None: the per-element time of the smallest tabulated L); ``gathers``: the Heisenberg kernel's scattered gathers
    (what ``membus`` was measured for)."""

    dim: int
    columns: int
    matvecs: float
    call_columns: int
    precision: str = "float64"
    L: int | None = None
    gathers: bool = False


def _minutes(seconds: float, attempt: int) -> int:
    return int(max(MIN_MINUTES, SAFETY * seconds / 60.0) * 2 ** (attempt - 1) + 0.999)


def _mb(nbytes: float, attempt: int) -> int:
    return int((BASE_MB + nbytes / 2**20) * (1.0 + 0.5 * (attempt - 1)) + 0.999)


def seconds(work: Work) -> float:
    """The estimated time (before SAFETY) of a job."""
    table = SECONDS_PER_ELEMENT_MATVEC[work.precision]
    per = table[min([k for k in table if work.L is None or k >= work.L], default=max(table))]
    return JOB_SECONDS + work.matvecs * work.dim * work.columns * per


def half_width(J: float, bonds: int, W: float, L: int) -> float:
    """The typical spectral half-width (E_max − E₀)/2 of the Heisenberg chain with fields of strength W."""
    return float(np.hypot(HALF_WIDTH_BOND * J * bonds, HALF_WIDTH_FIELD * W * L))


def job(work: Work, attempt: int = 1) -> dict[str, int]:
    """A simulation job's request; the models count its work (:meth:`phasetrace.models.Model.work`)."""
    nbytes = work.dim * (
        widest_call(work.columns, work.call_columns) * BYTES_PER_CALL_ELEMENT + work.columns * BYTES_PER_JOB_ELEMENT
    )
    return {"mem_mb": _mb(nbytes, attempt), "runtime": _minutes(seconds(work), attempt), "membus": membus(work)}


def membus(work: Work) -> int:
    """1 where the job runs the gather kernel and its widest call holds more than MEMBUS_BYTES of vectors (it waits
    on memory), else 0."""
    if not work.gathers:
        return 0
    call = widest_call(work.columns, work.call_columns)
    itemsize = np.dtype(check_precision(work.precision).vectors).itemsize
    return int(4 * work.dim * 2 * call * itemsize > MEMBUS_BYTES)


def stage_seconds(config: dict, model, stage: str, point: dict) -> float:
    """The estimated time (before SAFETY) of one ``stage`` job of ``model`` (a :class:`phasetrace.models.Model`) at
    ``point``."""
    return seconds(model.work(config, stage, point))


def simulation(config: dict, model, stage: str, attempt: int = 1, **point: float) -> dict[str, int]:
    """One job of ``stage`` of ``model`` (a :class:`phasetrace.models.Model`) at ``point`` (the W of a traces job
    sets its length)."""
    return job(model.work(config, stage, point), attempt)


def aggregate(config: dict, model, attempt: int = 1) -> dict[str, int]:
    """Gathering every job's store of ``model`` (a :class:`phasetrace.models.Model`) into one dataset: the traces in
    memory twice, float64."""
    values = model.values(config)
    return {"mem_mb": _mb(16 * values, attempt), "runtime": _minutes(60 + values * 2e-7, attempt)}


def training(config: dict, model, attempt: int = 1, sets: float = 1.0) -> dict[str, int]:
    """``sets`` sets of k LSTMs over the whole dataset (an MBL network job trains on one ε: 1/len(ε) of a set).

    Measured: 3.6e-8 s per (value, epoch, seed) on 2 cores (default config, vmapped seeds); we count 1e-7, and a
    step as half an epoch (the default set has 2 batches per epoch; larger sets have more, so this over-counts). At
    the default size with 40 members: 6.5 s measured per set, 38 s counted.
    """
    values = model.values(config)
    t = config["training"]
    seconds = 120 + sets * values * (t["steps"] / 2) * t["members"] * 1e-7
    return {"mem_mb": _mb(16 * values + 2**30, attempt), "runtime": _minutes(seconds, attempt)}
