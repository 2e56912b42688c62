"""The boundaries as an experiment would measure them: results/checks/robustness.csv and figures/robustness.png.

For each measurement variant of the config's ``robustness`` section (:func:`phasetrace.measurement.robustness_variants`:
the observable, N shots, a time stride; every other key of ``measurement`` as configured), :func:`variant_job`
fits the phase diagram's classifier and the imbalance baseline on the mbl set at ``robustness.eps`` and on the
floquet set, exactly as the main network sets are fitted (same samples, hold-out, resamples and member keys: a
variant differs from the phase diagram's set only by what is measured), and writes each transition's boundary with
its calibrated 68%/95% intervals, and the digest of the settings it was made from. :func:`robustness_job` gathers the
variants into the table and the figure, refusing a variant made from other settings. Each is split as every study
is: ``compute_*`` (the numbers, an xarray Dataset the table is written from), ``plot_*`` and the job.
"""

from __future__ import annotations

import numpy as np
import xarray as xr
from matplotlib.figure import Figure

from .boundaries import BOUNDS
from .figures import save_figure
from .kinds import KINDS, scaling_kinds
from .measurement import parse_variant, variant_name
from .models import get, training_sets
from .provenance import digest, settings
from .store import records, rows_dataset, write_csv
from .training import dataset_for, locate

COLUMNS = [
    "model",
    "L",
    "classifier",
    "observable",
    "shots",
    "time_stride",
    "n_times",
    "n_features",
    "set",
    "transition",
    "boundary",
    *BOUNDS,
    "width95",
    "accuracy_mean",
    "settings_digest",
]


def study_set(config: dict, model: str) -> tuple[str, dict]:
    """The training set of ``model`` the study refits: the mbl set at robustness.eps, the drive's only set."""
    sets = training_sets(config, model)
    if get(model).set_dims:
        return next((n, p) for n, p in sets if np.isclose(p["eps"], config["robustness"]["eps"]))
    return sets[0]


def compute_variant(config: dict, model: str, variant: str, dataset: str) -> xr.Dataset:
    """One measurement variant of ``model``: the boundaries with their intervals of each classifier kind of the
    study (:func:`phasetrace.training.locate`), over (classifier, transition), with what was measured and the digest
    of the settings it was made from."""
    meas = config["measurement"] | parse_variant(variant)
    ds = dataset_for(config | {"measurement": meas}, model, dataset)
    name, point = study_set(config, model)
    kinds = scaling_kinds(config)
    out = xr.concat([locate(config, model, ds, point, kind) for kind in kinds], dim="classifier")
    iv = out["boundary_interval"]
    return out.assign(
        {b: iv.sel(bound=b, drop=True) for b in BOUNDS}
        | {"width95": iv.sel(bound="hi95", drop=True) - iv.sel(bound="lo95", drop=True)}
    ).assign_coords(
        classifier=kinds,
        model=model,
        L=ds.attrs["L"],
        observable=meas["observable"],
        shots="inf" if meas["shots"] is None else meas["shots"],
        time_stride=meas["time_stride"],
        n_times=out.attrs["n_times"],
        n_features=out.attrs["n_features"],
        set=name,
        settings_digest=digest(settings(config, "robustness_variant", model, variant=variant)),
    )


def variant_job(config: dict, model: str, variant: str, dataset: str, output: str) -> None:
    """One measurement variant of ``model``: boundaries with intervals of each classifier kind of the study."""
    write_csv(output, COLUMNS, compute_variant(config, model, variant, dataset))


def _read(config: dict, paths: list[str]) -> list[dict]:
    """The rows of every variant table, each refused unless it was made from the settings ``config`` gives it."""
    import csv

    rows = []
    for path in paths:
        with open(path, newline="") as f:
            these = list(csv.DictReader(f))
        for r in these:
            shots = None if r["shots"] == "inf" else int(r["shots"])
            variant = variant_name(r["observable"], shots, int(r["time_stride"]))
            expected = digest(settings(config, "robustness_variant", r["model"], variant=variant))
            if r.get("settings_digest") != expected:
                raise ValueError(
                    f"{path} was made from another configuration (settings digest {r.get('settings_digest')}, the "
                    f"config gives {expected}). Rerun the workflow, which rebuilds outputs whose configuration changed"
                )
        rows += these
    return rows


FLOATS = ("boundary", *BOUNDS, "width95", "accuracy_mean")
INTEGERS = ("L", "time_stride", "n_times", "n_features")


def compute_robustness(config: dict, inputs: list[str]) -> xr.Dataset:
    """Every variant's rows (every model's; :func:`variant_job`), each refused unless it was made from the settings
    ``config`` gives it, along ``row`` (:data:`COLUMNS`; numbers as numbers, ``shots`` as written: a number or
    ``inf``)."""
    typed = lambda c, v: float(v) if c in FLOATS else int(v) if c in INTEGERS else v  # noqa: E731
    return rows_dataset([{c: typed(c, r[c]) for c in COLUMNS} for r in _read(config, inputs)], COLUMNS)


def robustness_job(config: dict, inputs: list[str], table: str, figure: str) -> None:
    """Gather the variants (every model's) into results/checks/robustness.csv and draw figures/robustness.png."""
    ds = compute_robustness(config, inputs)
    write_csv(table, COLUMNS, ds)
    save_figure(plot_robustness(config, ds), figure, dpi=120)


def _shots(value: str) -> float:
    return np.inf if value == "inf" else float(value)


def plot_robustness(config: dict, ds: xr.Dataset) -> Figure:
    """Top row: boundary vs N shots (all times); bottom row: vs the number of time points (exact values). One column
    per (model, transition); the phase diagram's classifier on each observable, and the imbalance baseline."""
    rows = records(ds)
    panels = list(dict.fromkeys((r["model"], r["transition"]) for r in rows))
    kinds = scaling_kinds(config)
    fig = Figure(figsize=(4.2 * len(panels), 7.4), layout="constrained")
    axes = fig.subplots(2, len(panels), squeeze=False)
    shots = sorted({_shots(r["shots"]) for r in rows})
    finite = [s for s in shots if np.isfinite(s)]
    at_inf = (max(finite) if finite else 1.0) * 4  # where N = ∞ is drawn
    styles = {
        (kinds[0], "site"): ("tab:blue", "o", "-", f"{kinds[0]}, site-resolved"),
        (kinds[0], "imbalance"): ("tab:orange", "s", "-", f"{kinds[0]}, imbalance only"),
    }
    baseline = lambda kind: ("black", "D", ":", f"{kind} (either observable)")  # noqa: E731
    for col, (model, tname) in enumerate(panels):
        m = get(model)
        for row, (vary, exact) in enumerate((("shots", "time_stride"), ("n_times", "shots"))):
            ax = axes[row, col]
            fixed = 1 if exact == "time_stride" else "inf"
            for j, kind in enumerate(kinds):
                once = KINDS[kind].imbalance_only  # the same features from either observable: drawn once
                observables = ["site"] if once else list(config["robustness"]["observables"])
                for obs in observables:
                    sel = [
                        r
                        for r in rows
                        if (r["model"], r["transition"], r["classifier"]) == (model, tname, kind)
                        and (r["observable"] == obs or once)
                        and r[exact] == fixed
                    ]
                    if once:
                        sel = list({r[vary]: r for r in sel}.values())
                    if not sel:
                        continue
                    xv = np.array([_shots(r[vary]) for r in sel])
                    xv = np.where(np.isfinite(xv), xv, at_inf)
                    order = np.argsort(xv)
                    y = np.array([float(sel[i]["boundary"]) for i in order])
                    lo = np.array([[float(sel[i][b]) for i in order] for b in BOUNDS])
                    color, marker, line, label = baseline(kind) if once else styles[(kind, obs)]
                    shift = 1 + 0.05 * (j + (obs == "imbalance") - 1)
                    xs = xv[order] * shift
                    ax.vlines(xs, lo[0], lo[3], color=color, lw=1)
                    ax.vlines(xs, lo[1], lo[2], color=color, lw=3)
                    ax.plot(xs, y, line, marker=marker, color=color, ms=4, label=label)
            ax.set_xscale("log")
            ax.minorticks_off()
            if vary == "shots":
                ticks = finite + [at_inf]
                ax.set_xticks(ticks, [f"{int(s)}" for s in finite] + ["∞"])
                ax.set_xlabel("projective shots N per (site, time)")
            else:
                ticks = sorted({int(r["n_times"]) for r in rows if r["model"] == model})
                ax.set_xticks(ticks, [str(v) for v in ticks])
                ax.set_xlabel(f"recorded {m.time_dim}s (every k-th; exact values)")
            sym = "W" if m.label_dim == "W" else "ε"
            ax.set_ylabel(f"boundary {sym}* (68% thick, 95% thin)")
            where = f", ε = {config['robustness']['eps']}" if m.set_dims else ""
            ax.set_title(f"{m.title}{where}: {tname.replace('_', ' ')}", fontsize=9)
            if row == 0 and col == 0:
                ax.legend(fontsize=7)
    fig.suptitle("Learned boundaries under an experiment's measurement", fontsize=11)
    return fig
