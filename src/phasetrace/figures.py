"""Figures: the phase diagram of both models from their confusion datasets."""

from __future__ import annotations

from matplotlib.figure import Figure
import numpy as np

from .provenance import require_same, settings
from .store import open_dataset
from .sweep import floquet_windows, mbl_windows

CLASS_COLORS = {"time_crystal": "tab:purple", "ergodic": "tab:red", "floquet_mbl": "tab:blue", "localized": "tab:blue"}


def _window_bands(ax, windows):
    """Shade each training window [low, high] along x in its class colour."""
    for w in windows:
        ax.axvspan(w.low, w.high, color=CLASS_COLORS.get(w.name, "grey"), alpha=0.12, lw=0)


def _edges(centers: np.ndarray, single: float) -> np.ndarray:
    """Cell edges around grid points (midpoints; ± half the smallest spacing, or ``single``/2, at the ends)."""
    if centers.size == 1:
        return np.array([centers[0] - 0.5 * single, centers[0] + 0.5 * single])
    mid = 0.5 * (centers[1:] + centers[:-1])
    return np.concatenate([[centers[0] - (mid[0] - centers[0])], mid, [centers[-1] + (centers[-1] - mid[-1])]])


def phase_diagram(config: dict, mbl_confusion: str, floquet_confusion: str, floquet_traces: str, output: str) -> None:
    """results/phase_diagram.png: MBL confusion over (W, ε) with its boundary | Floquet outputs, C and imbalance."""
    mbl, flq, tr = open_dataset(mbl_confusion), open_dataset(floquet_confusion), open_dataset(floquet_traces)
    for path, ds, stage in ((mbl_confusion, mbl, "mbl_network"), (floquet_confusion, flq, "floquet_network"),
                            (floquet_traces, tr, "floquet_dataset")):
        require_same(path, ds.attrs, settings(config, stage))

    fig = Figure(figsize=(13, 5.2), layout="constrained")
    gs = fig.add_gridspec(2, 2, width_ratios=[1.15, 1], height_ratios=[2, 1])
    ax = fig.add_subplot(gs[:, 0])
    W, eps = mbl["W"].values, mbl["eps"].values
    dW = np.min(np.diff(W))  # W has ≥ 2 points (one per training window); ε may have a single one
    de = np.min(np.diff(eps)) if eps.size > 1 else 0.1
    mesh = ax.pcolormesh(_edges(W, dW), _edges(eps, de), mbl["confusion"].values, cmap="magma", vmin=0, vmax=1)
    fig.colorbar(mesh, ax=ax, label="confusion C (seed mean)")
    ax.errorbar(mbl["boundary_W"].values, eps, xerr=mbl["boundary_W_seed_std"].values, fmt="o", color="cyan",
                ms=4, capsize=2, label="max confusion (± seed spread)")
    for w in mbl_windows(config["mbl"]):
        lo, hi = max(w.low, W.min()), min(w.high, W.max())
        ax.axvspan(lo - 0.5 * dW, hi + 0.5 * dW, fill=False, hatch="//", ec="white", lw=0)
        ax.text(0.5 * (lo + hi), eps.max() + 0.5 * de, f"train: {w.name}", ha="center", va="bottom",
                fontsize=8)
    ax.set_xlabel("disorder strength W")
    ax.set_ylabel("energy density ε")
    ax.set_title(f"Random-field Heisenberg chain, L = {mbl.attrs['L']}", pad=16)
    ax.legend(loc="lower right", fontsize=8)

    top = fig.add_subplot(gs[0, 1])
    feps = flq["eps"].values
    pm = flq["p"].mean("realization")  # (seed, eps, class)
    for c, name in enumerate(flq["class"].values):
        m, s = pm.isel({"class": c}).mean("seed").values, pm.isel({"class": c}).std("seed").values
        top.plot(feps, m, color=CLASS_COLORS[str(name)], label=f"p({str(name).replace('_', ' ')})")
        top.fill_between(feps, m - s, m + s, color=CLASS_COLORS[str(name)], alpha=0.25, lw=0)
    top.plot(feps, flq["confusion"].values, "k--", label="confusion C")
    for i, e in enumerate(flq.attrs["boundary_eps"]):
        top.axvline(e, color="k", lw=0.8, alpha=0.6, label="confusion peaks" if i == 0 else None)
    _window_bands(top, floquet_windows(config["floquet"]))
    top.set_ylim(-0.02, 1.02)
    top.set_ylabel("network output / C")
    top.set_title(f"Binary Floquet drive, L = {flq.attrs['L']} (shaded: training windows)")
    top.legend(fontsize=8, ncol=2, loc="center", bbox_to_anchor=(0.5, 0.5), framealpha=0.9)
    top.tick_params(labelbottom=False)

    bottom = fig.add_subplot(gs[1, 1], sharex=top)
    periods = tr["period"].values
    odd = periods[(periods % 2 == 1) & (periods >= periods.max() // 2)]
    imb = tr["imbalance"].sel(period=odd).mean("period")
    bottom.plot(feps, imb.mean("realization").values, "o-", ms=3, color="tab:green")
    bottom.axhline(0, color="grey", lw=0.6)
    _window_bands(bottom, floquet_windows(config["floquet"]))
    bottom.set_ylabel(f"I (odd n ≥ {odd.min()})")
    bottom.set_xlabel("kick detuning ε")
    fig.savefig(output, dpi=130)

