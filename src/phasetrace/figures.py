"""Figures generic over the models: the phase diagram (one panel per model, drawn by the panel its model names:
:data:`PANELS`) and the comparison of classifiers; and what every study's figure shares: the training windows'
shading (:func:`window_bands`), boundaries with their intervals (:func:`boundary_with_intervals`) and the atomic save
(:func:`save_figure`)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from .boundaries import BOUNDS
from .kinds import KINDS
from .provenance import require_same, settings
from .store import atomic_path, open_dataset, rows_dataset, write_csv

SYMBOLS = {"eps": "ε", "W": "W"}  # how sweep dimensions are written on axes
CLASS_COLORS = {"time_crystal": "tab:purple", "ergodic": "tab:red", "floquet_mbl": "tab:blue", "localized": "tab:blue"}


def window_bands(ax, windows, x=None, pad: float = 0.0, alpha: float = 0.12, color=None, label=None, hatch=False):
    """Shade each training window [low, high] along the x axis, the one way every figure draws them: in its class
    colour (``color(window)`` instead, where given), with ``label(window)`` as its legend entry; clipped to the range
    of the grid ``x`` where given and widened by ``pad`` on each side; ``hatch``: white hatching without fill (over a
    colour map). Returns each band's (low, high) before the padding."""
    spans = []
    for w in windows:
        lo, hi = (w.low, w.high) if x is None else (max(w.low, np.min(x)), min(w.high, np.max(x)))
        if hatch:
            style = {"fill": False, "hatch": "//", "ec": "white"}
        else:
            style = {"color": color(w) if color else CLASS_COLORS.get(w.name, "grey"), "alpha": alpha}
        ax.axvspan(lo - pad, hi + pad, lw=0, **style, **({"label": label(w)} if label else {}))
        spans.append((lo, hi))
    return spans


def save_figure(fig: Figure, path: str | os.PathLike, dpi: int) -> None:
    """Write ``fig`` to ``path`` (in the format its suffix names) atomically (:func:`phasetrace.store.atomic_path`)."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format=Path(path).suffix.lstrip("."))


def _edges(centers: np.ndarray, single: float) -> np.ndarray:
    """Cell edges around grid points (midpoints; ± half the smallest spacing, or ``single``/2, at the ends)."""
    if centers.size == 1:
        return np.array([centers[0] - 0.5 * single, centers[0] + 0.5 * single])
    mid = 0.5 * (centers[1:] + centers[:-1])
    return np.concatenate([[centers[0] - (mid[0] - centers[0])], mid, [centers[-1] + (centers[-1] - mid[-1])]])


def boundary_with_intervals(ax, boundary, y, interval, color, label, horizontal: bool, offset: float = 0.0):
    """Boundary points with thick 68% and thin 95% interval bars (``interval``: (…, bound) lo95 lo68 hi68 hi95)."""
    iv = {b: interval.sel(bound=b).values for b in ("lo95", "lo68", "hi68", "hi95")}
    for lo, hi, lw in ((iv["lo95"], iv["hi95"], 1.0), (iv["lo68"], iv["hi68"], 3.0)):  # need not hold the point
        (ax.hlines if horizontal else ax.vlines)(y + offset, lo, hi, color=color, lw=lw, alpha=0.9)
    ax.plot(
        boundary if horizontal else y + offset,
        y + offset if horizontal else boundary,
        "o",
        color=color,
        ms=4,
        label=label,
    )


def _checked(config: dict, path: str, stage: str, load: bool = True, **point):
    ds = open_dataset(path, load)
    require_same(path, ds.attrs, settings(config, stage, ds.attrs["model"], **point))
    return ds


def map_panel(fig, spec, conf, windows, title: str, xlabel: str, ylabel: str) -> None:
    """Confusion over (set dimension, labeled dimension) with the boundary and its intervals at each set point."""
    ax = fig.add_subplot(spec)
    lab, (sd,) = conf.attrs["label_dim"], conf.attrs["set_dims"]
    x, y = conf[lab].values, conf[sd].values
    dx = np.min(np.diff(x))  # the labeled dimension has ≥ 2 points (one per training window); a set may have one
    dy = np.min(np.diff(y)) if y.size > 1 else 0.1
    mesh = ax.pcolormesh(
        _edges(x, dx), _edges(y, dy), conf["confusion"].transpose(sd, lab).values, cmap="magma", vmin=0, vmax=1
    )
    fig.colorbar(mesh, ax=ax, label="confusion C (member mean)")
    for t in range(conf.sizes["transition"]):
        boundary_with_intervals(
            ax,
            conf["boundary"].isel(transition=t).values,
            y,
            conf["boundary_interval"].isel(transition=t),
            "cyan",
            f"boundary ({conf.attrs['classifier']}; 68%, 95% intervals)" if t == 0 else None,
            horizontal=True,
        )
    for w, (lo, hi) in zip(windows, window_bands(ax, windows, x, pad=0.5 * dx, hatch=True), strict=True):
        ax.text(0.5 * (lo + hi), y.max() + 0.5 * dy, f"train: {w.name}", ha="center", va="bottom", fontsize=8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, pad=16)
    ax.legend(loc="lower right", fontsize=8)


def curves_panel(ax, conf, windows, title: str) -> None:
    """Mean p of each class (± the member spread), C, and the boundaries with their 95% intervals, along the
    labeled dimension of a model trained once over its sweep."""
    lab = conf.attrs["label_dim"]
    x = conf[lab].values
    pm = conf["p"].mean("realization")  # (member, x, class)
    for c, name in enumerate(conf["class"].values):
        m, s = pm.isel({"class": c}).mean("member").values, pm.isel({"class": c}).std("member").values
        color = CLASS_COLORS.get(str(name), "grey")
        ax.plot(x, m, color=color, label=f"p({str(name).replace('_', ' ')})")
        ax.fill_between(x, m - s, m + s, color=color, alpha=0.25, lw=0)
    ax.plot(x, conf["confusion"].values, "k--", label="confusion C")
    for i, (e, iv) in enumerate(zip(conf["boundary"].values, conf["boundary_interval"].values, strict=True)):
        ax.axvline(e, color="k", lw=0.8, alpha=0.6, label="boundaries (95% interval)" if i == 0 else None)
        ax.axvspan(iv[0], iv[-1], color="k", alpha=0.12, lw=0)
    window_bands(ax, windows, x)  # clipped to the grid: a window may be open-ended (W ≥ localized_W_min)
    ax.set_ylim(-0.02, 1.02)
    ax.set_ylabel("network output / C")
    ax.set_title(title)
    ax.legend(fontsize=8, ncol=2, loc="center", bbox_to_anchor=(0.5, 0.5), framealpha=0.9)


def map_model_panel(model, fig, spec, config, confusion, traces) -> None:
    """A chain trained per ε: the confusion map over (W, ε) with the boundary at each ε."""
    map_panel(
        fig,
        spec,
        confusion,
        model.windows(config[model.name]),
        f"{model.title}, L = {confusion.attrs['L']}",
        xlabel="strength W",
        ylabel="energy density ε",
    )


def drive_panel(model, fig, spec, config, confusion, traces) -> None:
    """Mean p of each class with its member spread, C and the boundaries (top); the late odd-period imbalance,
    whose sign is the time crystal's period doubling (bottom)."""
    top, bottom = spec.subgridspec(2, 1, height_ratios=[2, 1]).subplots(sharex=True)
    windows = model.windows(config[model.name])
    curves_panel(top, confusion, windows, f"{model.title}, L = {confusion.attrs['L']} (shaded: training windows)")
    top.tick_params(labelbottom=False)
    periods = traces["period"].values
    odd = periods[(periods % 2 == 1) & (periods >= periods.max() // 2)]
    imb = traces["imbalance"].sel(period=odd).mean("period")
    bottom.plot(traces["eps"].values, imb.mean("realization").values, "o-", ms=3, color="tab:green")
    bottom.axhline(0, color="grey", lw=0.6)
    window_bands(bottom, windows)
    bottom.set_ylabel(f"I (odd n ≥ {odd.min()})")
    bottom.set_xlabel("kick detuning ε")


def late_imbalance(traces: xr.Dataset) -> xr.Dataset:
    """The late-time imbalance along the sweep, the cold-atom experiments' observable: I = Σᵢ mᵢ(t) mᵢ(0)/L of a
    chain started from one fixed state (or a measured ``imbalance`` as recorded), averaged over the last half of the
    recorded times (t ≥ the middle time) of each realization, then its realization ``mean`` and standard error
    ``sem``; attrs ``t_from``: the first time averaged."""
    times = traces["time"].values
    late = times[times.size // 2 :]
    if "imbalance" in traces:
        imb = traces["imbalance"].sel(time=late).mean("time")
    else:
        mag = traces["magnetization"]
        imb = (mag.sel(time=late) * mag.isel(time=0)).mean("site").mean("time")  # (W, realization)
    mean, R = imb.mean("realization"), imb.count("realization")  # NaN padding (the measured model's) is skipped
    sem = (imb.std("realization", ddof=1) / np.sqrt(R)).where(R > 1)  # one realization: no error
    return xr.Dataset({"mean": mean, "sem": sem}, attrs={"t_from": float(late[0])}).compute()


def late_imbalance_axes(ax, traces: xr.Dataset, windows, time_unit: str, xlabel: str) -> None:
    """The lower part of a panel trained once over W: :func:`late_imbalance` with its standard error, the windows."""
    imb = late_imbalance(traces)
    W = imb["W"].values
    ax.errorbar(W, imb["mean"].values, yerr=imb["sem"].values, fmt="o-", ms=3, color="tab:green", capsize=2)
    ax.axhline(0, color="grey", lw=0.6)
    window_bands(ax, windows, W)
    ax.set_ylabel(f"I (t ≥ {imb.attrs['t_from']:.4g}{time_unit})")
    ax.set_xlabel(xlabel)


def chain_curve_panel(model, fig, spec, config, confusion, traces) -> None:
    """A chain from one fixed state, trained once over W: mean p of each class with its member spread, C and the
    boundaries with their 95% intervals (top); the late-time imbalance with its standard error (bottom)."""
    top, bottom = spec.subgridspec(2, 1, height_ratios=[2, 1]).subplots(sharex=True)
    windows = model.windows(config[model.name])
    state = config[model.name]["initial_state"]
    name = "Néel" if isinstance(state, str) else "".join("↑" if v > 0 else "↓" for v in state)
    curves_panel(top, confusion, windows, f"{model.family.title}, {name} state, L = {confusion.attrs['L']}")
    top.tick_params(labelbottom=False)
    late_imbalance_axes(bottom, traces, windows, "", "strength W")


def measured_curve_panel(model, fig, spec, config, confusion, traces) -> None:
    """An experiment's own sweep, trained once over its sweep: the curves and boundaries with their 95% intervals
    (top), the late-time imbalance with its standard error (bottom), along the sweep named and in the units of the
    config (the dataset's ``sweep_name``, ``sweep_units``, ``time_unit``)."""
    top, bottom = spec.subgridspec(2, 1, height_ratios=[2, 1]).subplots(sharex=True)
    cfg = config[model.name]
    windows = model.windows(cfg)
    name, units = traces.attrs["sweep_name"], traces.attrs["sweep_units"]
    shots = f", {traces.attrs['shots']} shots" if traces.attrs.get("shots") else ""
    title = f"{model.name}: {traces.attrs['observable']}, L = {traces.attrs['L']}{shots}"  # several: told apart
    curves_panel(top, confusion, windows, title)
    top.tick_params(labelbottom=False)
    unit = f" {traces.attrs['time_unit']}" if traces.attrs.get("time_unit") else ""
    late_imbalance_axes(bottom, traces, windows, unit, f"{name} ({units})" if units else name)


# The phase-diagram panel of each model (its ``panel`` attribute names one)
PANELS = {
    "map": map_model_panel,
    "drive": drive_panel,
    "chain_curve": chain_curve_panel,
    "measured_curve": measured_curve_panel,
}


PANELS_PER_ROW = 3  # more panels than this (several measured models beside the chains) wrap into rows


def panel_grid(n: int) -> tuple[int, int]:
    """(rows, columns) of n panels: one row of up to :data:`PANELS_PER_ROW`, else the fewest rows of at most that
    many, filled as evenly as they go (4: 2 × 2, 5: 2 × 3)."""
    rows = -(-n // PANELS_PER_ROW)
    return rows, -(-n // rows)


def plot_phase_diagram(config: dict, confs: list[xr.Dataset], traces: list[xr.Dataset]) -> Figure:
    """One panel per model: its confusion dataset and its traces dataset, drawn by its model's panel, in rows of
    :func:`panel_grid` (the models' order, row by row)."""
    from .models import get

    rows, cols = panel_grid(len(confs))
    fig = Figure(figsize=(6.5 * cols, 5.2 * rows), layout="constrained")
    specs = fig.add_gridspec(rows, cols)
    for i, (conf, ds) in enumerate(zip(confs, traces, strict=True)):
        model = get(conf.attrs["model"])
        PANELS[model.panel](model, fig, specs[i // cols, i % cols], config, conf, ds)
    return fig


def phase_diagram(config: dict, confusions: list[str], traces: list[str], output: str) -> None:
    """results/phase_diagram.png: one panel per model of ``config["models"]`` (its confusion dataset of the kind
    ``training.classifier`` and its traces dataset, in that order), each drawn by its model."""
    kind = config["training"]["classifier"]
    confs = [_checked(config, path, "confusion", classifier=kind) for path in confusions]
    dss = [_checked(config, path, "dataset", load=False) for path in traces]  # panels read a few variables
    save_figure(plot_phase_diagram(config, confs, dss), output, dpi=130)


CLASSIFIERS_COLUMNS = [
    "classifier",
    "model",
    "set",
    "transition",
    "boundary",
    *BOUNDS,
    "accuracy_min",
    "accuracy_mean",
    "confusion_peak",
]


def compute_classifiers(config: dict, confs: list[xr.Dataset]) -> xr.Dataset:
    """Per classifier, model, training set (for models with several: ``set``, e.g. ``eps=0.3000``) and transition:
    the boundary with its interval, the held-out accuracy (min and mean over members), the peak of the confusion
    and its mean over each plateau of the models (a column per plateau name; None where the plateau holds no grid
    point), along ``row``; attrs ``plateaus``: those names."""
    from .models import get

    models = list(dict.fromkeys(ds.attrs["model"] for ds in confs))
    plateaus = list(dict.fromkeys(name for m in models for name in get(m).plateaus))
    rows = []
    for name in models:
        m = get(name)
        lab = m.label_dim
        for ds in (ds for ds in confs if ds.attrs["model"] == name):
            if m.set_dims:  # one row per set point and transition
                sd = m.set_dims[0]
                where = [(f"{sd}={v:.4f}", {sd: j}) for j, v in enumerate(ds[sd].values)]
            else:  # one row per transition
                where = [("", {})]
            for text, sel in where:
                acc = ds["accuracy"].isel(sel).values
                conf = ds["confusion"].isel(sel).values
                x = ds[lab].values
                inside = {n: (x >= lo) & (x <= hi) for n, (lo, hi) in m.plateaus.items()}
                means = {n: conf[mask].mean() for n, mask in inside.items() if mask.any()}  # none: no grid point
                for t, tname in enumerate(ds["transition"].values):
                    iv = ds["boundary_interval"].isel(sel).values[t]
                    rows.append(
                        {
                            "classifier": ds.attrs["classifier"],
                            "model": name,
                            "set": text,
                            "transition": str(tname),
                            "boundary": ds["boundary"].isel(sel).values[t],
                            **dict(zip(BOUNDS, iv, strict=True)),
                            "accuracy_min": acc.min(),
                            "accuracy_mean": acc.mean(),
                            "confusion_peak": conf.max(),
                            **{n: means.get(n) for n in plateaus},
                        }
                    )
    return rows_dataset(rows, CLASSIFIERS_COLUMNS + plateaus).assign_attrs(plateaus=plateaus)


def plot_classifiers(config: dict, confs: list[xr.Dataset]) -> Figure:
    """Every classifier's boundaries with their intervals per model (top), and its confusion along the labeled
    dimension (bottom; for models with one training set per ε, at the ε nearest ``checks.units_eps``)."""
    from .models import get

    models = list(dict.fromkeys(ds.attrs["model"] for ds in confs))
    fig = Figure(figsize=(5.2 * len(models), 8), layout="constrained")
    axes = fig.subplots(2, len(models), squeeze=False)
    eps_c = config["checks"]["units_eps"]
    for col, name in enumerate(models):
        m = get(name)
        group = [ds for ds in confs if ds.attrs["model"] == name]
        ax_b, ax_c = axes[0, col], axes[1, col]
        lab = m.label_dim
        for i, ds in enumerate(group):
            kind = ds.attrs["classifier"]
            color = KINDS[kind].color
            b, iv = ds["boundary"], ds["boundary_interval"]
            if m.set_dims:  # one row per set point (the set dimension on the y axis)
                sd = m.set_dims[0]
                y = ds[sd].values
                offset = (i - (len(group) - 1) / 2) * 0.15 * (np.min(np.diff(y)) if y.size > 1 else 0.1)
                for t in range(ds.sizes["transition"]):
                    boundary_with_intervals(
                        ax_b,
                        b.isel(transition=t).values,
                        y,
                        iv.isel(transition=t),
                        color,
                        kind if t == 0 else None,
                        horizontal=True,
                        offset=offset,
                    )
                ax_b.set_ylabel({"eps": "energy density ε"}.get(sd, sd))
                at = int(np.argmin(np.abs(y - eps_c))) if sd == "eps" else y.size // 2
                ax_c.plot(ds[lab].values, ds["confusion"].isel({sd: at}).values, "o-", ms=3, color=color, label=kind)
                ax_c.set_title(f"{m.title}: confusion at {SYMBOLS.get(sd, sd)} = {y[at]:.3g}", fontsize=10)
            else:  # one row per transition
                y = np.arange(ds.sizes["transition"])
                boundary_with_intervals(
                    ax_b, b.values, y, iv, color, kind, horizontal=True, offset=0.12 * (i - (len(group) - 1) / 2)
                )
                ax_b.set_yticks(y, [str(t).replace("_", " ").replace("|", " | ") for t in ds["transition"].values])
                ax_b.set_ylim(-0.6, y.size - 0.4)
                ax_c.plot(ds[lab].values, ds["confusion"].values, "o-", ms=3, color=color, label=kind)
                ax_c.set_title(f"{m.title}: confusion", fontsize=10)
        ax_b.set_xlabel(f"boundary {SYMBOLS.get(lab, lab)} (68% thick, 95% thin)")
        ax_b.set_title(f"{m.title}, L = {group[0].attrs['L']}", fontsize=10)
        ax_b.legend(fontsize=8)
        ax_c.set_xlabel(SYMBOLS.get(lab, lab))
        ax_c.set_ylabel("confusion C (member mean)")
        ax_c.set_ylim(0, 1.02)
        window_bands(ax_c, m.windows(config[name]), group[0][lab].values, alpha=0.1)
        ax_c.legend(fontsize=8)
    return fig


def classifiers_figure(config: dict, confusions: list[str], table: str, output: str) -> None:
    """results/checks/classifiers.csv (:func:`compute_classifiers`) and results/figures/classifiers.png
    (:func:`plot_classifiers`) from every classifier's confusion dataset."""
    confs = [open_dataset(p) for p in confusions]
    for path, ds in zip(confusions, confs, strict=True):
        require_same(
            path, ds.attrs, settings(config, "confusion", ds.attrs["model"], classifier=ds.attrs["classifier"])
        )
    ds = compute_classifiers(config, confs)
    write_csv(table, CLASSIFIERS_COLUMNS + ds.attrs["plateaus"], ds)
    save_figure(plot_classifiers(config, confs), output, dpi=130)
