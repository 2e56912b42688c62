"""The sweep a config describes: grids, realization blocks, training windows, and the one place target paths are built.

Target paths (all under ``results/``):

==========================================================  ==============================================
``mbl/L{L}/bounds/W{W}/r{a}-{b}.zarr.zip``                  E₀, E_max of realizations a … b at W (shared by every ε)
``mbl/L{L}/traces/eps{eps}/W{W}/r{a}-{b}.zarr.zip``         traces of one (ε, W, block) job
``mbl/L{L}/traces.zarr``                                    the labeled dataset of the whole MBL sweep
``floquet/L{L}/traces/eps{eps}/r{a}-{b}.zarr.zip``          traces of one (ε, block) Floquet job
``floquet/L{L}/traces.zarr``                                the labeled dataset of the whole Floquet sweep
``mbl/L{L}/{kind}/networks/eps{eps}.zarr.zip``              k classifiers of one kind at one ε, their predictions
``mbl/L{L}/{kind}/confusion.zarr``, ``.../boundary.csv``    confusion over (ε, W); boundary per ε with intervals
``floquet/L{L}/{kind}/networks.zarr.zip``                   k classifiers of one kind over the Floquet sweep
``floquet/L{L}/{kind}/confusion.zarr``, ``.../boundary.csv``  confusion over ε; the two transitions
``phase_diagram.png``                                       the main figure (kind: ``training.classifier``)
==========================================================  ==============================================

W is written with three decimals (``W3.000``), ε with four (``eps0.5000``) and blocks with zero-padded inclusive
realization indices (``r000-019``). One job writes one zip file, so a paper-scale run costs one inode per job.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

W_FMT, EPS_FMT = "{:.3f}", "{:.4f}"
CLASSIFIER_KINDS = ("lstm", "mlp", "logistic", "imbalance")  # phasetrace.classifiers implements each


def grid(spec) -> np.ndarray:
    """A grid from ``{start, stop, num}`` (inclusive linspace) or from an explicit list of values."""
    if isinstance(spec, dict):
        return np.linspace(float(spec["start"]), float(spec["stop"]), int(spec["num"]))
    return np.asarray(spec, dtype=float)


def realizations_per_job(cfg: dict) -> int:
    """Realizations per job of one model's config section (``"all"``: every realization in one job)."""
    n = cfg["realizations_per_job"]
    return cfg["realizations"] if n == "all" else min(int(n), cfg["realizations"])


def blocks(realizations: int, per_job: int) -> list[tuple[int, int]]:
    """Inclusive (first, last) realization indices of each job's block."""
    return [(a, min(a + per_job, realizations) - 1) for a in range(0, realizations, per_job)]


def block_name(block: tuple[int, int], realizations: int) -> str:
    width = max(3, len(str(realizations - 1)))
    return f"r{block[0]:0{width}d}-{block[1]:0{width}d}"


def parse_block(name: str) -> tuple[int, int]:
    a, b = name.lstrip("r").split("-")
    return int(a), int(b)


def lookup(values: np.ndarray, fmt: str, text: str, name: str) -> float:
    """The grid value whose formatted form is ``text`` (paths carry formatted values; jobs use exact ones)."""
    for v in values:
        if fmt.format(v) == text:
            return float(v)
    raise ValueError(f"{name} = {text} is not a point of the configured grid {[fmt.format(v) for v in values]}")


@dataclass(frozen=True)
class Window:
    """A labeled interval [low, high] of the sweep parameter, with its class index and name."""

    name: str
    label: int
    low: float
    high: float


def mbl_windows(cfg: dict) -> list[Window]:
    w = cfg["windows"]
    return [Window("ergodic", 0, 0.0, float(w["ergodic_W_max"])), Window("localized", 1, float(w["localized_W_min"]), np.inf)]


def floquet_windows(cfg: dict) -> list[Window]:
    names = ("time_crystal", "ergodic", "floquet_mbl")
    return [Window(n, k, float(cfg["windows"][n][0]), float(cfg["windows"][n][1])) for k, n in enumerate(names)]


def labels(values: np.ndarray, windows: list[Window]) -> np.ndarray:
    """Class index of each grid value, −1 where it lies in no window (blanked)."""
    out = np.full(values.shape, -1, dtype=np.int8)
    for w in windows:
        out[(values >= w.low - 1e-12) & (values <= w.high + 1e-12)] = w.label
    return out


def check_windows(values: np.ndarray, windows: list[Window], key: str) -> None:
    """Windows must not overlap and each must contain at least one grid point."""
    for i, a in enumerate(windows):
        if not np.any((values >= a.low - 1e-12) & (values <= a.high + 1e-12)):
            raise ValueError(
                f"{key}.windows.{a.name} = [{a.low}, {a.high}] contains no point of the {key} grid "
                f"[{values.min()}, {values.max()}]; widen the window or extend the grid"
            )
        for b in windows[i + 1 :]:
            if a.low <= b.high and b.low <= a.high:
                raise ValueError(f"{key}.windows.{a.name} and {key}.windows.{b.name} overlap; windows must be disjoint")


def mbl_targets(config: dict, root: str = "results") -> dict[str, list[str]]:
    """Every job output of the MBL sweep, by rule (the only place these paths are expanded)."""
    cfg = config["mbl"]
    L, R = cfg["L"], cfg["realizations"]
    bl = [block_name(b, R) for b in blocks(R, realizations_per_job(cfg))]
    Ws = [W_FMT.format(w) for w in grid(cfg["W"])]
    epss = [EPS_FMT.format(e) for e in grid(cfg["eps"])]
    return {
        "bounds": [f"{root}/mbl/L{L}/bounds/W{w}/{b}.zarr.zip" for w in Ws for b in bl],
        "traces": [f"{root}/mbl/L{L}/traces/eps{e}/W{w}/{b}.zarr.zip" for e in epss for w in Ws for b in bl],
        "dataset": [f"{root}/mbl/L{L}/traces.zarr"],
    }


def classifier_kinds(config: dict) -> list[str]:
    """The phase diagram's classifier first, then the others of ``training.compare``."""
    t = config["training"]
    return [t["classifier"]] + [c for c in t["compare"] if c != t["classifier"]]


def network_targets(config: dict, model: str, kind: str, root: str = "results") -> list[str]:
    """The saved sets of one classifier kind: one per ε (MBL) or one over the sweep (Floquet)."""
    L = config[model]["L"]
    if model == "floquet":
        return [f"{root}/floquet/L{L}/{kind}/networks.zarr.zip"]
    return [f"{root}/mbl/L{L}/{kind}/networks/eps{EPS_FMT.format(e)}.zarr.zip" for e in grid(config["mbl"]["eps"])]


def floquet_targets(config: dict, root: str = "results") -> dict[str, list[str]]:
    cfg = config["floquet"]
    L, R = cfg["L"], cfg["realizations"]
    bl = [block_name(b, R) for b in blocks(R, realizations_per_job(cfg))]
    epss = [EPS_FMT.format(e) for e in grid(cfg["eps"])]
    return {
        "traces": [f"{root}/floquet/L{L}/traces/eps{e}/{b}.zarr.zip" for e in epss for b in bl],
        "dataset": [f"{root}/floquet/L{L}/traces.zarr"],
    }
