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

from math import comb

from .sweep import grid, realizations_per_job

BASE_MB = 1024
BYTES_PER_ELEMENT = 640
SECONDS_PER_ELEMENT_MATVEC = 1.5e-8
SAFETY = 2.0
MIN_MINUTES = 5


def _minutes(seconds: float, attempt: int) -> int:
    return int(max(MIN_MINUTES, SAFETY * seconds / 60.0) * 2 ** (attempt - 1) + 0.999)


def _mb(nbytes: float, attempt: int) -> int:
    return int((BASE_MB + nbytes / 2**20) * (1.0 + 0.5 * (attempt - 1)) + 0.999)


def mbl_dim(L: int) -> int:
    return comb(L, L // 2)


def mbl_bonds(cfg: dict) -> int:
    return cfg["L"] if cfg["boundary"] == "periodic" else cfg["L"] - 1


def mbl_matvecs(cfg: dict, W: float) -> float:
    """Upper estimate of Chebyshev matvecs from t = 0 to t_max at disorder W (plus Lanczos and measurements)."""
    half_width = 0.75 * cfg["J"] * mbl_bonds(cfg) + 0.25 * W * cfg["L"]
    return half_width * cfg["t_max"] + 2 * cfg["n_times"] + 300


def mbl_traces(config: dict, attempt: int = 1, W: float = 8.0) -> dict[str, int]:
    cfg = config["mbl"]
    elements = mbl_dim(cfg["L"]) * realizations_per_job(cfg)
    seconds = mbl_matvecs(cfg, W) * elements * SECONDS_PER_ELEMENT_MATVEC
    return {"mem_mb": _mb(elements * BYTES_PER_ELEMENT, attempt), "runtime": _minutes(seconds, attempt)}


def mbl_bounds(config: dict, attempt: int = 1) -> dict[str, int]:
    cfg = config["mbl"]
    elements = mbl_dim(cfg["L"]) * realizations_per_job(cfg)
    seconds = 600 * elements * SECONDS_PER_ELEMENT_MATVEC  # ≤ 300 Lanczos steps for each end
    return {"mem_mb": _mb(elements * BYTES_PER_ELEMENT, attempt), "runtime": _minutes(seconds, attempt)}


def floquet_traces(config: dict, attempt: int = 1) -> dict[str, int]:
    cfg = config["floquet"]
    elements = 2 ** cfg["L"] * realizations_per_job(cfg)
    # one period: L single-site rotations and one diagonal phase, each a pass over the state
    seconds = cfg["periods"] * (cfg["L"] + 1) * elements * SECONDS_PER_ELEMENT_MATVEC
    return {"mem_mb": _mb(elements * BYTES_PER_ELEMENT, attempt), "runtime": _minutes(seconds, attempt)}


def _samples(config: dict) -> dict[str, int]:
    m, f = config["mbl"], config["floquet"]
    return {
        "mbl": len(grid(m["eps"])) * len(grid(m["W"])) * m["realizations"] * m["n_times"] * m["L"],
        "floquet": len(grid(f["eps"])) * f["realizations"] * (f["periods"] + 1) * f["L"],
    }


def aggregate(config: dict, model: str, attempt: int = 1) -> dict[str, int]:
    """Gathering every job's store into one dataset: the traces in memory twice, float64."""
    values = _samples(config)[model]
    return {"mem_mb": _mb(16 * values, attempt), "runtime": _minutes(60 + values * 2e-7, attempt)}


def training(config: dict, model: str, attempt: int = 1, sets: float = 1.0) -> dict[str, int]:
    """``sets`` sets of k LSTMs over the whole dataset (an MBL network job trains on one ε: 1/len(ε) of a set).

    Measured: 3.6e-8 s per (value, epoch, seed) on 2 cores (default config, vmapped seeds); we count 1e-7.
    """
    values = _samples(config)[model]
    t = config["training"]
    seconds = 120 + sets * values * t["epochs"] * t["seeds"] * 1e-7
    return {"mem_mb": _mb(16 * values + 2**30, attempt), "runtime": _minutes(seconds, attempt)}
