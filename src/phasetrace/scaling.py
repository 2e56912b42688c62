"""How the learned boundary moves with the chain length L and with the number of realizations R.

- :func:`scaling_job`: the confusion datasets of every enabled model at every L of its section (the phase
  diagram's classifier and the baselines, :func:`phasetrace.kinds.scaling_kinds`) → per L and training set
  the boundary with its 68%/95% intervals, the height of the confusion peak between the windows and its width at
  half maximum (:func:`phasetrace.boundaries.peak`); per (model, kind, set, transition) the drift from the smallest
  to the largest L with a 95% interval and whether the boundary moves monotonically. Everything is read from the
  stored confusion datasets (their member- and realization-averaged C, boundaries and their standard errors), never
  re-fitted.
- :func:`convergence_job`: the mbl chain at ``scaling.convergence.L`` and ``scaling.eps``, simulated for the largest R
  of ``scaling.convergence.realizations``; for each R, the classifiers average the first R realizations of each W
  only, as a user with R realizations would, and train on the first ``training.realizations`` of them (all R where
  that is null, as in config/scaling.yaml). A set fitted on all of a dataset's realizations
  has the same members as that dataset's network set (same samples, hold-out, resamples and keys).
  The traces go through the config's measurement model, as every classifier input does.

Each is split as every study is: ``compute_*`` (the numbers, an xarray Dataset the tables are written from),
``plot_*`` (the figure) and the job the workflow runs.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from scipy import stats

from .boundaries import BOUNDS, gap, peak
from .figures import SYMBOLS, boundary_with_intervals, save_figure, window_bands
from .kinds import KINDS, scaling_kinds
from .measurement import measured
from .models import convergence_sweep, get, grids
from .provenance import require_same, settings
from .seeds import model_id
from .store import open_dataset, read_arrays, records, rows_dataset, write_csv
from .sweep import at_size, labels
from .training import locate


def kind_style(kind: str) -> tuple[str, str]:
    """Line and marker of a kind's curves: baselines dashed with squares, the phase diagram's classifier solid with
    circles."""
    return ("--", "s") if KINDS[kind].baseline else ("-", "o")


SIZE_COLORS = ("tab:blue", "tab:orange", "tab:green", "tab:red", "tab:purple", "tab:brown", "tab:pink", "tab:cyan")


def _set_values(ds: xr.Dataset) -> list[float | None]:
    (sd,) = ds.attrs["set_dims"] or (None,)
    return [None] if sd is None else [float(v) for v in ds[sd].values]


def _curve(ds: xr.Dataset, value: float | None) -> np.ndarray:
    """The member-mean C along the labeled dimension of the set at ``value`` (the only one if None)."""
    (sd,) = ds.attrs["set_dims"] or (None,)
    return ds["confusion"].values if sd is None else ds["confusion"].sel({sd: value}).values


def _by_size(confs: list[xr.Dataset]) -> dict[tuple[str, str], dict[int, xr.Dataset]]:
    """Confusion datasets by (model, classifier), then by L."""
    groups: dict[tuple[str, str], dict[int, xr.Dataset]] = {}
    for ds in confs:
        groups.setdefault((ds.attrs["model"], ds.attrs["classifier"]), {})[int(ds.attrs["L"])] = ds
    return groups


def compute_scaling(config: dict, confs: list[xr.Dataset]) -> xr.Dataset:
    """Per (model, kind, L, training set, transition) of confusion datasets of one or more models and L, along
    ``row`` (:data:`ROW_COLUMNS`): the boundary with its interval, the confusion peak between the windows (height,
    half-maximum extent and width; ``peak_clipped``: the extent reached an end of that range) and the mean held-out
    accuracy."""
    rows = []
    for (model, kind), by_L in _by_size(confs).items():
        m = get(model)
        lab = m.label_dim
        for L in sorted(by_L):
            ds = by_L[L]
            x = ds[lab].values
            label = labels(x, m.windows(config[model]))
            for s, value in enumerate(_set_values(ds)):
                sel = {} if value is None else {ds.attrs["set_dims"][0]: s}
                C = _curve(ds, value)
                for t, (a, b, name) in enumerate(transitions_of(ds)):
                    lo, hi = gap(x, label, a, b)
                    height, left, right = peak(x, C, lo, hi)
                    iv = ds["boundary_interval"].isel(sel).values[t]
                    rows.append(
                        {
                            "model": model,
                            "classifier": kind,
                            "L": L,
                            "set": value,
                            "transition": name,
                            "boundary": float(ds["boundary"].isel(sel).values[t]),
                            **dict(zip(BOUNDS, map(float, iv), strict=True)),
                            "peak_height": height,
                            "peak_left": left,
                            "peak_right": right,
                            "peak_width": right - left,
                            "peak_clipped": "yes" if left == lo or right == hi else "no",
                            "accuracy_mean": float(ds["accuracy"].isel(sel).values.mean()),
                        }
                    )
    return rows_dataset(rows, ROW_COLUMNS)


def compute_drift(confs: list[xr.Dataset], scaling: xr.Dataset) -> xr.Dataset:
    """Per (model, kind, training set, transition) with two or more L, along ``row`` (:data:`DRIFT_COLUMNS`):
    the drift boundary(L_max) − boundary(L_min) of the per-L rows ``scaling`` (:func:`compute_scaling`) with its 95%
    interval, the Student-t interval of the difference of two independent estimates (:func:`difference_interval`),
    and whether the boundary moves monotonically: ``monotonic`` compares the point estimates of consecutive sizes
    (``steps``), without their uncertainty: read it beside the intervals."""
    grouped = series(records(scaling))
    drift = []
    for (model, kind), by_L in _by_size(confs).items():
        Ls = sorted(by_L)
        if len(Ls) < 2:
            continue
        first, last = by_L[Ls[0]], by_L[Ls[-1]]
        for s, value in enumerate(_set_values(last)):
            for t, (_, _, name) in enumerate(transitions_of(last)):
                path = grouped[(model, kind, value, name)]
                steps = np.diff([r["boundary"] for r in path])
                sel = {} if value is None else {last.attrs["set_dims"][0]: s}  # the same set grid at every L
                moved = path[-1]["boundary"] - path[0]["boundary"]
                lo_drift, hi_drift = difference_interval(
                    *(float(ds[v].isel(sel).values[t]) for ds in (last, first) for v in ("boundary_se", "boundary_dof"))
                )
                drift.append(
                    {
                        "model": model,
                        "classifier": kind,
                        "set": value,
                        "transition": name,
                        "L_min": Ls[0],
                        "L_max": Ls[-1],
                        "boundary_L_min": path[0]["boundary"],
                        "boundary_L_max": path[-1]["boundary"],
                        "drift": moved,
                        "drift_lo95": moved + lo_drift,
                        "drift_hi95": moved + hi_drift,
                        "monotonic": "increasing" if np.all(steps > 0) else "decreasing" if np.all(steps < 0) else "no",
                        "steps": " ".join(f"{v:+.3f}" for v in steps),
                    }
                )
    return rows_dataset(drift, DRIFT_COLUMNS)


def difference_interval(se_a: float, dof_a: float, se_b: float, dof_b: float, level: float = 0.95):
    """(lo, hi) offsets of a ``level`` interval of the difference of two independent estimates with standard errors
    se and degrees of freedom dof (Welch–Satterthwaite)."""
    va, vb = se_a**2, se_b**2
    dof = (va + vb) ** 2 / (va**2 / dof_a + vb**2 / dof_b) if va + vb > 0 else 1.0
    half = float(stats.t.ppf(0.5 + level / 2, dof)) * np.sqrt(va + vb)
    return -half, half


def series(rows: list[dict]) -> dict[tuple, list[dict]]:
    """Per-L rows grouped by (model, classifier, set, transition), each group in increasing L."""
    out: dict[tuple, list[dict]] = {}
    for r in sorted(rows, key=lambda r: r["L"]):
        out.setdefault((r["model"], r["classifier"], r["set"], r["transition"]), []).append(r)
    return out


def transitions_of(ds: xr.Dataset) -> list[tuple[int, int, str]]:
    """(a, b, name) of a confusion dataset's transitions (neighbouring classes, in order)."""
    return [(t, t + 1, str(name)) for t, name in enumerate(ds["transition"].values)]


ROW_COLUMNS = [
    "model",
    "classifier",
    "L",
    "set",
    "transition",
    "boundary",
    *BOUNDS,
    "peak_height",
    "peak_left",
    "peak_right",
    "peak_width",
    "peak_clipped",
    "accuracy_mean",
]
DRIFT_COLUMNS = [
    "model",
    "classifier",
    "set",
    "transition",
    "L_min",
    "L_max",
    "boundary_L_min",
    "boundary_L_max",
    "drift",
    "drift_lo95",
    "drift_hi95",
    "monotonic",
    "steps",
]
CONVERGENCE_COLUMNS = [
    "classifier",
    "L",
    "eps",
    "realizations",
    "boundary",
    *BOUNDS,
    "width68",
    "width95",
    "accuracy_mean",
]


def scaling_job(config: dict, confusions: list[str], table: str, drift_table: str, figure: str) -> None:
    """results/checks/scaling.csv (per L), scaling_drift.csv (smallest → largest L) and figures/scaling.png."""
    confs = []
    for path in confusions:
        ds = open_dataset(path)
        model, L, kind = ds.attrs["model"], ds.attrs["L"], ds.attrs["classifier"]
        require_same(path, ds.attrs, settings(at_size(config, model, L), "confusion", model, classifier=kind))
        confs.append(ds)
    ds = compute_scaling(config, confs)
    write_csv(table, ROW_COLUMNS, ds)
    write_csv(drift_table, DRIFT_COLUMNS, compute_drift(confs, ds))
    save_figure(plot_scaling(config, confs, ds), figure, dpi=110)


def plot_scaling(config: dict, confs: list[xr.Dataset], scaling: xr.Dataset) -> Figure:
    """One row per model: C along the labeled dimension for every L; the boundary vs 1/L in two panels (a chain:
    at scaling.eps with the known transition, then at every ε; the Floquet drive: one transition each); the width
    and the height of the confusion peak vs 1/L (``scaling``: :func:`compute_scaling` of ``confs``)."""
    rows = records(scaling)
    models = list(dict.fromkeys(ds.attrs["model"] for ds in confs))
    fig = Figure(figsize=(24, 4.8 * len(models)), layout="constrained")
    axes = fig.subplots(len(models), 5, squeeze=False)
    for row, model in enumerate(models):
        m = get(model)
        lab = m.label_dim
        sym = SYMBOLS.get(lab, lab)
        ax_c, ax_b, ax_all, ax_w, ax_h = axes[row]
        mine = [ds for ds in confs if ds.attrs["model"] == model]
        Ls = sorted({int(ds.attrs["L"]) for ds in mine})
        colors = {L: SIZE_COLORS[i % len(SIZE_COLORS)] for i, L in enumerate(Ls)}
        shown = None
        for ds in sorted(mine, key=lambda d: (d.attrs["classifier"] != scaling_kinds(config)[0], d.attrs["L"])):
            kind, L = ds.attrs["classifier"], int(ds.attrs["L"])
            values = _set_values(ds)
            if values[0] is not None:  # the set nearest scaling.eps
                shown = values[int(np.argmin([abs(v - config["scaling"]["eps"]) for v in values]))]
            style, _ = kind_style(kind)
            ax_c.plot(ds[lab].values, _curve(ds, shown), style, marker=".", color=colors[L], label=f"{kind}, L = {L}")
        window_bands(ax_c, m.windows(config[model]), mine[0][lab].values, alpha=0.1)
        where = "" if shown is None else f" at {SYMBOLS.get(m.set_dims[0], m.set_dims[0])} = {shown:.2f}"
        ax_c.set_title(f"{m.title}\nconfusion{where} (shaded: training windows)", fontsize=10)
        ax_c.set_xlabel(sym)
        ax_c.set_ylabel("C (member mean)")
        ax_c.set_ylim(0, 1.02)
        ax_c.legend(fontsize=7, ncol=2)
        lines = {key[1:]: pts for key, pts in series(rows).items() if key[0] == model}  # (classifier, set, transition)
        curves = list(lines)
        names = [name for _, _, name in transitions_of(mine[0])]
        if shown is not None:  # a chain: the set at scaling.eps, then every set
            panels = [(ax_b, [c for c in curves if c[1] == shown], where), (ax_all, curves, "")]
        else:  # one panel per transition (each on its own scale)
            panels = [
                (ax, [c for c in curves if c[2] == n], f", {n}") for ax, n in zip((ax_b, ax_all), names, strict=False)
            ]
            if len(names) == 1:
                ax_all.set_visible(False)
        gaps = -np.diff([1 / L for L in Ls])
        for ax, group, title in panels:
            spread = 0.3 * (gaps.min() if gaps.size else 0.05) / max(len(group), 1)  # side by side within a size
            for i, curve in enumerate(group):
                kind, value, name = curve
                pts = lines[curve]
                inv = np.array([1 / r["L"] for r in pts])
                color = SIZE_COLORS[curves.index(curve) % len(SIZE_COLORS)]  # one colour per curve in every panel
                style, marker = kind_style(kind)
                label = kind + ("" if value is None else f", ε = {value:.2f}")
                iv = xr.DataArray([[r[b] for b in BOUNDS] for r in pts], dims=("L", "bound"), coords={"bound": BOUNDS})
                offset = (i - (len(group) - 1) / 2) * spread
                boundary = np.array([r["boundary"] for r in pts])
                boundary_with_intervals(ax, boundary, inv, iv, color, label, False, offset)
                ax.plot(inv + offset, boundary, style, color=color, lw=0.8)
            if m.reference is not None and ax is ax_b:
                ax.axhline(m.reference["value"], color="grey", ls=":", lw=1.2, label=m.reference["label"])
            ax.set_title(f"{m.title}\nboundary {sym}* vs 1/L{title}", fontsize=10)
            ax.set_ylabel(f"boundary {sym}* (68% thick, 95% thin)")
            ax.legend(fontsize=7)
        for i, curve in enumerate(curves):
            kind, value, name = curve
            pts = lines[curve]
            style, marker = kind_style(kind)
            label = kind + ("" if value is None else f", ε = {value:.2f}") + (f", {name}" if len(names) > 1 else "")
            inv = [1 / r["L"] for r in pts]
            for ax, key in ((ax_w, "peak_width"), (ax_h, "peak_height")):
                ax.plot(
                    inv,
                    [r[key] for r in pts],
                    style,
                    marker=marker,
                    color=SIZE_COLORS[i % len(SIZE_COLORS)],
                    label=label,
                )
        ax_w.set_ylabel(f"width of the C peak in {sym} (C > max/2)")
        ax_h.set_ylabel("height of the C peak")
        ax_w.set_title(f"{m.title}\nwidth of the confusion peak vs 1/L", fontsize=10)
        ax_h.set_title(f"{m.title}\nheight of the confusion peak vs 1/L", fontsize=10)
        ax_w.legend(fontsize=7)
        for ax in (ax_b, ax_all, ax_w, ax_h):
            ax.set_xticks([1 / L for L in Ls], [f"1/{L}" for L in Ls])
            ax.set_xlabel("1/L")
    return fig


# ------------------------------------------------------------------------------------------- realizations


def compute_convergence(config: dict, inputs: list[str]) -> xr.Dataset:
    """The boundary at scaling.eps for each kind of the study and each R of scaling.convergence.realizations, from
    the classifiers averaged (and trained, up to ``training.realizations``) on the first R realizations of each W
    (:func:`phasetrace.training.locate` with the main network set's draws at that ε): over (classifier,
    realizations), with the widths of its intervals and the mean held-out accuracy."""
    model, L, section, _ = convergence_sweep(config)
    m = get(model)
    sized = at_size(config, model, L)
    stores = []
    for path in inputs:
        arrays, attrs = read_arrays(path)
        require_same(path, attrs, settings(sized, "traces", model, eps=attrs["eps"], W=attrs["W"]))
        stores.append((arrays, attrs))
    ds = m.dataset(sized | {model: section}, stores)
    if np.isnan(ds["magnetization"].values).any():
        raise ValueError(f"convergence: the inputs do not cover {section['realizations']} realizations of every W")
    ds = measured(config, model, ds)
    (eps,) = section["eps"]
    index = int(np.nonzero(grids(m, config[model], ("eps",))["eps"] == eps)[0][0])
    context = (model_id(model), index)  # the main network set's at this ε: the same draws for the same samples
    Rs = config["scaling"]["convergence"]["realizations"]
    kinds = scaling_kinds(config)
    fitted = [
        xr.concat(
            [locate(config, model, ds.isel(realization=slice(0, R)), {"eps": eps}, kind, context) for R in Rs],
            dim="realizations",
        )
        for kind in kinds
    ]
    out = xr.concat(fitted, dim="classifier").assign_coords(classifier=kinds, realizations=Rs)
    out = out.isel(transition=0)  # the chain's one transition
    iv = out["boundary_interval"]
    return out.assign(
        {b: iv.sel(bound=b, drop=True) for b in BOUNDS}
        | {
            "width68": iv.sel(bound="hi68", drop=True) - iv.sel(bound="lo68", drop=True),
            "width95": iv.sel(bound="hi95", drop=True) - iv.sel(bound="lo95", drop=True),
        }
    ).assign_coords(L=L, eps=eps, model=model)


def plot_convergence(ds: xr.Dataset) -> Figure:
    fig = Figure(figsize=(6.5, 4.2), layout="constrained")
    ax = fig.subplots()
    R = ds["realizations"].values.astype(float)
    for i, kind in enumerate(ds["classifier"].values):
        pts = ds.sel(classifier=kind)
        boundary_with_intervals(
            ax,
            pts["boundary"].values,
            R * (1 + 0.04 * (i - 0.5)),
            pts["boundary_interval"],
            SIZE_COLORS[i],
            str(kind),
            False,
        )
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(R, [str(int(v)) for v in R])
    ax.set_xlabel("realizations R per W (training and averaging)")
    ax.set_ylabel("boundary W* (68% thick, 95% thin)")
    L, eps = ds["L"].item(), ds["eps"].item()
    ax.set_title(f"{get(ds['model'].item()).title}, L = {L}, ε = {eps:.2f}: boundary vs realizations", fontsize=10)
    ax.legend(fontsize=8)
    return fig


def convergence_job(config: dict, inputs: list[str], table: str, figure: str) -> None:
    """results/checks/convergence.csv and figures/convergence.png: the boundary at scaling.eps for each R."""
    ds = compute_convergence(config, inputs)
    write_csv(table, CONVERGENCE_COLUMNS, ds)
    save_figure(plot_convergence(ds), figure, dpi=130)
