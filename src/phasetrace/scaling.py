"""How the learned boundary moves with the chain length L and with the number of realizations R.

- :func:`scaling_job`: the confusion datasets of every enabled model at every L of its section (the phase
  diagram's classifier and the baselines, :func:`phasetrace.kinds.scaling_kinds`) → per L and training set
  the boundary with its 68%/95% intervals, the height of the confusion peak between the windows and its width at
  half maximum (:func:`phasetrace.boundaries.peak`); per (model, kind, set, transition) the drift from the smallest
  to the largest L with a 95% interval and whether the boundary moves monotonically. Everything is read from the
  stored confusion datasets (their member- and realization-averaged C, boundaries and their standard errors), never
  re-fitted.
- :func:`convergence_job`: the mbl chain at ``scaling.convergence.L`` and ``scaling.eps``, simulated for the largest R
  of ``scaling.convergence.realizations``; for each R, the classifiers are fitted and averaged on the first R
  realizations of each W only, as a user with R realizations would. A set fitted on all of a dataset's realizations
  has the same members as that dataset's network set (same samples, hold-out, resamples and keys).
  The traces go through the config's measurement model, as every classifier input does.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from scipy import stats

from .boundaries import BOUNDS, gap, peak
from .figures import CLASS_COLORS, SYMBOLS, boundary_with_intervals
from .kinds import KINDS, scaling_kinds
from .measurement import measured
from .models import convergence_sweep, get, grids
from .provenance import require_same, settings
from .seeds import model_id
from .store import open_dataset, read_arrays
from .sweep import at_size, labels
from .training import fit_boundaries, fit_set, hyper, set_samples, write_csv


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


def summarize(config: dict, confs: list[xr.Dataset]) -> tuple[list[dict], list[dict]]:
    """Per-L rows (:data:`ROW_COLUMNS`) and drift rows (:data:`DRIFT_COLUMNS`) of confusion datasets of one or more
    models and L.

    The peak's half-maximum extent is searched between the two windows (``peak_clipped``: it reached an end of that
    range). The drift is boundary(L_max) − boundary(L_min); its 95% interval is the Student-t interval of the
    difference of two independent estimates (:func:`difference_interval`). ``monotonic`` compares the point estimates
    of consecutive sizes (``steps``), without their uncertainty: read it beside the intervals.
    """
    rows, drift = [], []
    groups: dict[tuple[str, str], dict[int, xr.Dataset]] = {}
    for ds in confs:
        groups.setdefault((ds.attrs["model"], ds.attrs["classifier"]), {})[int(ds.attrs["L"])] = ds
    for (model, kind), by_L in groups.items():
        m = get(model)
        lab = m.label_dim
        Ls = sorted(by_L)
        for L in Ls:
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
        if len(Ls) < 2:
            continue
        first, last = by_L[Ls[0]], by_L[Ls[-1]]
        grouped = series(rows)
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
    return rows, drift


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


def _csv(path: str, columns: list[str], rows: list[dict]) -> None:
    fmt = lambda v: "" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)  # noqa: E731
    write_csv(path, columns, [[fmt(r[c]) for c in columns] for r in rows])


def scaling_job(config: dict, confusions: list[str], table: str, drift_table: str, figure: str) -> None:
    """results/checks/scaling.csv (per L), scaling_drift.csv (smallest → largest L) and figures/scaling.png."""
    confs = []
    for path in confusions:
        ds = open_dataset(path)
        model, L, kind = ds.attrs["model"], ds.attrs["L"], ds.attrs["classifier"]
        require_same(path, ds.attrs, settings(at_size(config, model, L), "confusion", model, classifier=kind))
        confs.append(ds)
    rows, drift = summarize(config, confs)
    _csv(table, ROW_COLUMNS, rows)
    _csv(drift_table, DRIFT_COLUMNS, drift)
    _scaling_figure(config, confs, rows, figure)


def _scaling_figure(config: dict, confs: list[xr.Dataset], rows: list[dict], output: str) -> None:
    """One row per model: C along the labeled dimension for every L; the boundary vs 1/L in two panels (a chain:
    at scaling.eps with the known transition, then at every ε; the Floquet drive: one transition each); the width
    and the height of the confusion peak vs 1/L."""
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
        for w in m.windows(config[model]):
            x = mine[0][lab].values
            ax_c.axvspan(max(w.low, x.min()), min(w.high, x.max()), color=CLASS_COLORS.get(w.name, "grey"), alpha=0.1)
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
    fig.savefig(output, dpi=110)


# ------------------------------------------------------------------------------------------- realizations


def convergence_job(config: dict, inputs: list[str], table: str, figure: str) -> None:
    """results/checks/convergence.csv and figures/convergence.png: the boundary at scaling.eps for each R."""
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
    t = config["training"]
    W = ds["W"].values
    label_W = ds["label"].values[0]
    rows = []
    for kind in scaling_kinds(config):
        for R in config["scaling"]["convergence"]["realizations"]:
            x, lab, (n, _), _ = set_samples(model, ds.isel(realization=slice(0, R)), {"eps": eps})
            fit = fit_set(
                x,
                lab,
                hyper(config, 2, kind),
                t["members"],
                config["seed"],
                t["holdout"],
                *context,
                shape=(n, R),
                resamples=t["resamples"],
            )
            (found,) = fit_boundaries(W, label_W, fit, [(0, 1, "")])
            boundary = found.value
            iv = dict(zip(BOUNDS, map(float, found.interval), strict=True))
            rows.append(
                {
                    "classifier": kind,
                    "L": L,
                    "eps": eps,
                    "realizations": R,
                    "boundary": boundary,
                    **iv,
                    "width68": iv["hi68"] - iv["lo68"],
                    "width95": iv["hi95"] - iv["lo95"],
                    "accuracy_mean": float(np.mean(fit["accuracy"])),
                }
            )
    _csv(table, CONVERGENCE_COLUMNS, rows)
    fig = Figure(figsize=(6.5, 4.2), layout="constrained")
    ax = fig.subplots()
    for i, kind in enumerate(scaling_kinds(config)):
        pts = [r for r in rows if r["classifier"] == kind]
        R = np.array([r["realizations"] for r in pts], dtype=float)
        iv = xr.DataArray([[r[b] for b in BOUNDS] for r in pts], dims=("R", "bound"), coords={"bound": BOUNDS})
        boundary_with_intervals(
            ax, np.array([r["boundary"] for r in pts]), R * (1 + 0.04 * (i - 0.5)), iv, SIZE_COLORS[i], kind, False
        )
    ax.set_xscale("log")
    ax.minorticks_off()
    ax.set_xticks(R, [str(int(v)) for v in R])
    ax.set_xlabel("realizations R per W (training and averaging)")
    ax.set_ylabel("boundary W* (68% thick, 95% thin)")
    ax.set_title(f"{m.title}, L = {L}, ε = {eps:.2f}: boundary vs realizations", fontsize=10)
    ax.legend(fontsize=8)
    fig.savefig(figure, dpi=130)
