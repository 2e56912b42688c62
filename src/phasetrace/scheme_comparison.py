"""The detection schemes compared on the same traces (``schemes`` section; :mod:`phasetrace.schemes`):
``results/checks/schemes.csv`` (:func:`compute_schemes`) and ``results/figures/schemes.png``
(:func:`plot_schemes`), per model and compared set, every scheme's boundary with its intervals for every kind of
``schemes.kinds`` and for the optimal predictors, and the indicator curves."""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from .boundaries import BOUNDS
from .figures import SYMBOLS, boundary_with_intervals, save_figure, window_bands
from .kinds import KINDS
from .models import get
from .provenance import require_same, settings
from .schemes import compared
from .store import open_dataset, rows_dataset, write_csv

COLUMNS = ["model", "L", "set", "transition", "scheme", "kind", "boundary", "se", *BOUNDS]
OPTIMAL = "optimal"  # the kind column of the optimal predictors' rows
OPTIMAL_COLOR = "black"


def _sets(ds: xr.Dataset) -> list[tuple[str, dict]]:
    """(label, selection) of each compared set a dataset holds: ``eps=0.5000`` along a set dimension, or one."""
    sd = ds.attrs["set_dims"]
    if not sd:
        return [("", {})]
    return [(f"{sd[0]}={v:.4f}", {sd[0]: v}) for v in ds[sd[0]].values]


def _row(ds: xr.Dataset, sel: dict, t: int, **fields) -> dict:
    one = ds.sel(sel).isel(transition=t)
    return fields | {
        "transition": str(one["transition"].values),
        "boundary": float(one["boundary"]),
        "se": float(one["boundary_se"]),
        **dict(zip(BOUNDS, one["boundary_interval"].values.tolist(), strict=True)),
    }


def compute_schemes(config: dict, confs: list[xr.Dataset], trained: list[xr.Dataset], optimal: list[xr.Dataset]):
    """One row per (model, set, transition, scheme, kind): the boundary, its standard error and its 68%/95%
    intervals; the supervised rows are the confusion datasets' at the compared sets, the optimal predictors' have
    kind ``optimal``."""
    rows = []
    for opt in optimal:
        model = opt.attrs["model"]
        for text, sel in _sets(opt):
            base = {"model": model, "L": int(opt.attrs["L"]), "set": text}
            for t in range(opt.sizes["transition"]):
                for scheme in compared(config):
                    if scheme == "supervised":
                        for ds in (c for c in confs if c.attrs["model"] == model):
                            pick = {d: ds[d].sel({d: v}, method="nearest").item() for d, v in sel.items()}
                            rows.append(_row(ds, pick, t, **base, scheme=scheme, kind=ds.attrs["classifier"]))
                    else:
                        for ds in (d for d in trained if d.attrs["model"] == model and d.attrs["scheme"] == scheme):
                            rows.append(_row(ds, sel, t, **base, scheme=scheme, kind=ds.attrs["classifier"]))
                    rows.append(_row(opt.sel(scheme=scheme), sel, t, **base, scheme=scheme, kind=OPTIMAL))
    return rows_dataset(rows, COLUMNS)


def _interval(values) -> xr.DataArray:
    return xr.DataArray(np.asarray(values, dtype=np.float64), dims="bound", coords={"bound": BOUNDS})


def plot_schemes(
    config: dict, confs: list[xr.Dataset], trained: list[xr.Dataset], optimal: list[xr.Dataset], table: xr.Dataset
) -> Figure:
    """One row per (model, compared set). Left: every (scheme, kind)'s boundaries with their 68% (thick) and 95%
    (thin) intervals. Middle: learning by confusion's accuracy vs split point. Right: the prediction-based method's
    mean prediction (solid, scaled to [0, 1]) and its derivative (dashed, scaled to its maximum)."""
    panels = [(opt, text, sel) for opt in optimal for text, sel in _sets(opt)]
    fig = Figure(figsize=(15, 3.2 * len(panels)), layout="constrained")
    axes = fig.subplots(len(panels), 3, squeeze=False)
    records = {k: table[k].values for k in COLUMNS}
    for row, (opt, text, sel) in enumerate(panels):
        model = get(opt.attrs["model"])
        lab = model.label_dim
        ax_b, ax_a, ax_r = axes[row]
        here = (records["model"] == model.name) & (records["set"] == text)
        entries = list(dict.fromkeys(zip(records["scheme"][here], records["kind"][here], strict=True)))
        for y, (scheme, kind) in enumerate(entries):
            color = OPTIMAL_COLOR if kind == OPTIMAL else KINDS[kind].color
            for i in np.nonzero(here & (records["scheme"] == scheme) & (records["kind"] == kind))[0]:
                iv = _interval([records[b][i] for b in BOUNDS])
                boundary_with_intervals(ax_b, np.float64(records["boundary"][i]), np.float64(y), iv, color, None, True)
        ax_b.set_yticks(range(len(entries)), [f"{s} · {k}" for s, k in entries], fontsize=7)
        ax_b.set_ylim(len(entries) - 0.5, -0.5)
        ax_b.set_xlabel(f"boundary {SYMBOLS.get(lab, lab)} (68% thick, 95% thin)")
        where = f", {text.replace('eps=', 'ε = ')}" if text else ""
        ax_b.set_title(f"{model.title}, L = {opt.attrs['L']}{where}", fontsize=10)
        ax_b.grid(axis="x", alpha=0.3)
        sets = [d for d in trained if d.attrs["model"] == model.name]
        curves = [(d.attrs["scheme"], d.attrs["classifier"], d.sel(sel)) for d in sets]
        curves += [("scan", OPTIMAL, opt.sel(sel)), ("regression", OPTIMAL, opt.sel(sel))]
        for scheme, kind, d in curves:
            color = OPTIMAL_COLOR if kind == OPTIMAL else KINDS[kind].color
            if scheme == "scan":
                ax_a.plot(d["split"].values, d["accuracy"].values, "-", marker="s", ms=2.5, color=color, label=kind)
            elif scheme == "regression":
                v = d[lab].values if lab in d.dims else d["value"].values
                pred = d["prediction"].values
                ax_r.plot(v, (pred - v.min()) / np.ptp(v), "-", color=color, label=kind)
                der = d["derivative"].values
                ax_r.plot(v, der / max(np.abs(der).max(), 1e-300), "--", color=color, lw=1)
        for ax, what in ((ax_a, "held-out accuracy (scan)"), (ax_r, "mean prediction, d/dv (regression)")):
            ax.set_xlabel(SYMBOLS.get(lab, lab))
            ax.set_title(what, fontsize=9)
            window_bands(ax, model.windows(config[model.name]), alpha=0.08)
            ax.legend(fontsize=7)
    return fig


def schemes_figure(
    config: dict, confusions: list[str], trained: list[str], optimal: list[str], table: str, output: str
) -> None:
    """results/checks/schemes.csv and results/figures/schemes.png from the supervised confusion datasets, the
    trained schemes' datasets and the optimal predictors' datasets, each checked against the config."""
    confs = [open_dataset(p) for p in confusions]
    for path, ds in zip(confusions, confs, strict=True):
        require_same(
            path, ds.attrs, settings(config, "confusion", ds.attrs["model"], classifier=ds.attrs["classifier"])
        )
    schemes = [open_dataset(p) for p in trained]
    for path, ds in zip(trained, schemes, strict=True):
        point = {"classifier": ds.attrs["classifier"], "scheme": ds.attrs["scheme"]}
        require_same(path, ds.attrs, settings(config, "scheme", ds.attrs["model"], **point))
    opts = [open_dataset(p) for p in optimal]
    for path, ds in zip(optimal, opts, strict=True):
        require_same(path, ds.attrs, settings(config, "optimal", ds.attrs["model"]))
    ds = compute_schemes(config, confs, schemes, opts)
    write_csv(table, COLUMNS, ds)
    save_figure(plot_schemes(config, confs, schemes, opts, ds), output, dpi=110)
