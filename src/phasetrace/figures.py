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


def _boundary_with_intervals(ax, boundary, y, interval, color, label, horizontal: bool, offset: float = 0.0):
    """Boundary points with thick 68% and thin 95% interval bars (``interval``: (…, bound) lo95 lo68 hi68 hi95)."""
    iv = {b: interval.sel(bound=b).values for b in ("lo95", "lo68", "hi68", "hi95")}
    for lo, hi, lw in ((iv["lo95"], iv["hi95"], 1.0), (iv["lo68"], iv["hi68"], 3.0)):  # need not hold the point
        (ax.hlines if horizontal else ax.vlines)(y + offset, lo, hi, color=color, lw=lw, alpha=0.9)
    ax.plot(boundary if horizontal else y + offset, y + offset if horizontal else boundary, "o", color=color,
            ms=4, label=label)


def phase_diagram(config: dict, mbl_confusion: str, floquet_confusion: str, floquet_traces: str, output: str) -> None:
    """results/phase_diagram.png: MBL confusion over (W, ε) with its boundary | Floquet outputs, C and imbalance."""
    mbl, flq, tr = open_dataset(mbl_confusion), open_dataset(floquet_confusion), open_dataset(floquet_traces)
    kind = config["training"]["classifier"]
    for path, ds, stage, point in ((mbl_confusion, mbl, "mbl_confusion", {"classifier": kind}),
                                   (floquet_confusion, flq, "floquet_confusion", {"classifier": kind}),
                                   (floquet_traces, tr, "floquet_dataset", {})):
        require_same(path, ds.attrs, settings(config, stage, **point))

    fig = Figure(figsize=(13, 5.2), layout="constrained")
    gs = fig.add_gridspec(2, 2, width_ratios=[1.15, 1], height_ratios=[2, 1])
    ax = fig.add_subplot(gs[:, 0])
    W, eps = mbl["W"].values, mbl["eps"].values
    dW = np.min(np.diff(W))  # W has ≥ 2 points (one per training window); ε may have a single one
    de = np.min(np.diff(eps)) if eps.size > 1 else 0.1
    mesh = ax.pcolormesh(_edges(W, dW), _edges(eps, de), mbl["confusion"].values, cmap="magma", vmin=0, vmax=1)
    fig.colorbar(mesh, ax=ax, label="confusion C (seed mean)")
    _boundary_with_intervals(ax, mbl["boundary_W"].values, eps, mbl["boundary_W_interval"], "cyan",
                             f"boundary ({mbl.attrs['classifier']}; 68%, 95% intervals)", horizontal=True)
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
    for i, (e, iv) in enumerate(zip(flq["boundary_eps"].values, flq["boundary_eps_interval"].values, strict=True)):
        top.axvline(e, color="k", lw=0.8, alpha=0.6, label="boundaries (95% interval)" if i == 0 else None)
        top.axvspan(iv[0], iv[-1], color="k", alpha=0.12, lw=0)
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


CLASSIFIER_COLORS = {"lstm": "tab:blue", "mlp": "tab:orange", "logistic": "tab:green", "imbalance": "black"}


def classifiers_figure(config: dict, mbl_confusions: list[str], floquet_confusions: list[str], table: str,
                       output: str) -> None:
    """results/figures/classifiers.png and results/checks/classifiers.csv: every classifier's boundary with its
    intervals, on the same data (MBL boundary vs ε; C vs W at ε = checks.units_eps; Floquet transitions)."""
    from .learn import write_csv

    mbl = [open_dataset(p) for p in mbl_confusions]
    flq = [open_dataset(p) for p in floquet_confusions]
    for path, ds in zip(mbl_confusions + floquet_confusions, mbl + flq, strict=True):
        stage = f"{ds.attrs['model']}_confusion"
        require_same(path, ds.attrs, settings(config, stage, classifier=ds.attrs["classifier"]))
    fig = Figure(figsize=(15, 4.6), layout="constrained")
    ax_b, ax_c, ax_f = fig.subplots(1, 3, width_ratios=[1.2, 1.2, 1])
    eps_c = config["checks"]["units_eps"]
    rows = []
    for i, (m, f) in enumerate(zip(mbl, flq, strict=True)):
        kind = m.attrs["classifier"]
        color = CLASSIFIER_COLORS.get(kind, "grey")
        eps = m["eps"].values
        offset = (i - (len(mbl) - 1) / 2) * 0.006
        _boundary_with_intervals(ax_b, m["boundary_W"].values, eps, m["boundary_W_interval"], color, kind,
                                 horizontal=True, offset=offset)
        e = int(np.argmin(np.abs(eps - eps_c)))
        ax_c.plot(m["W"].values, m["confusion"].isel(eps=e).values, "o-", ms=3, color=color, label=kind)
        _boundary_with_intervals(ax_f, f["boundary_eps"].values, np.arange(2), f["boundary_eps_interval"], color,
                                 kind, horizontal=True, offset=0.12 * (i - (len(flq) - 1) / 2))
        W = m["W"].values
        plateaus = {name: m["confusion"].values[:, sel].mean(axis=1) for name, sel in
                    (("C_W_le_1", W <= 1.0), ("C_W_5_to_7.25", (W >= 5.0) & (W <= 7.25)))}
        for j, ev in enumerate(eps):
            iv = m["boundary_W_interval"].values[j]
            rows.append([kind, "mbl", f"eps={ev:.4f}", f"{m['boundary_W'].values[j]:.4f}", *[f"{v:.4f}" for v in iv],
                         f"{m['accuracy'].values[:, j].min():.4f}", f"{m['accuracy'].values[:, j].mean():.4f}",
                         *[f"{plateaus[n][j]:.4f}" for n in plateaus]])
        for j, name in enumerate(f["transition"].values):
            iv = f["boundary_eps_interval"].values[j]
            rows.append([kind, "floquet", str(name), f"{f['boundary_eps'].values[j]:.4f}",
                         *[f"{v:.4f}" for v in iv], f"{f['accuracy'].values.min():.4f}",
                         f"{f['accuracy'].values.mean():.4f}", "", ""])
    write_csv(table, ["classifier", "model", "where", "boundary", "lo95", "lo68", "hi68", "hi95", "accuracy_min",
                      "accuracy_mean", "C_W_le_1", "C_W_5_to_7.25"], rows)
    ax_b.set_xlabel("boundary W (68% thick, 95% thin)")
    ax_b.set_ylabel("energy density ε")
    ax_b.set_title(f"MBL boundary per classifier, L = {mbl[0].attrs['L']}")
    ax_b.legend(fontsize=8)
    ax_c.set_xlabel("disorder strength W")
    ax_c.set_ylabel("confusion C (member mean)")
    ax_c.set_ylim(0, 1.02)
    ax_c.set_title(f"Confusion at ε = {eps_c}")
    for w in mbl_windows(config["mbl"]):
        ax_c.axvspan(w.low, min(w.high, mbl[0]["W"].values.max()), color=CLASS_COLORS[w.name], alpha=0.1, lw=0)
    ax_f.set_yticks([0, 1], ["time crystal | ergodic", "ergodic | Floquet-MBL"])
    ax_f.set_ylim(-0.6, 1.6)
    ax_f.set_xlabel("boundary ε")
    ax_f.set_title(f"Floquet transitions, L = {flq[0].attrs['L']}")
    fig.savefig(output, dpi=130)
