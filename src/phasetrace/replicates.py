"""The replicate study: what a boundary's interval means, measured against independent reruns of the whole pipeline.

``replicates.n`` reruns of a small configuration — the config with ``replicates.model``'s section at chain length
``L``, one training set (``eps``, for the chains) and ``max(realizations)`` realizations per sweep point — each with
its own root seed spawned from the config's ``seed`` (:func:`replicate_seed`): new disorder, initial states, hold-out,
resamples and member keys. A replicate job (:func:`replicate_job`) simulates in-process with the model's own stages,
then for each R of ``replicates.realizations`` fits the phase diagram's classifier on the first R realizations of
every point (training and averaging both, nested as in the convergence study) and records each transition's boundary
with its interval, exactly as the workflow's confusion job makes them (:func:`phasetrace.training.fit_boundaries`).

:func:`summarize` gathers them per (R, transition): the replicates' mean, their spread (SD) and the standard error
of the mean; the mean 68% half-width h; the standardized deviations z_i = (x*_i − mean)/h_i · √(n/(n − 1)) (the
factor removes the mean's own share of x*_i − mean) and their SD, which is 1 for calibrated intervals, above 1 for
too narrow and below 1 for too wide ones; the member-spread half-width for comparison; and the cross-coverage, the
fraction of ordered pairs i ≠ j whose 95% (68%) interval of i holds the estimate of j (0.834 and 0.520 for
calibrated Gaussian errors: x*_j − x*_i has twice the variance).
"""

from __future__ import annotations

import csv

import numpy as np
from matplotlib.figure import Figure
from scipy import stats

from .boundaries import BOUNDS
from .figures import boundary_with_intervals
from .measurement import measured
from .models import get, grids, points, training_sets
from .models import stage as model_stage
from .runner import configure
from .seeds import stream_sequence
from .training import fit_boundaries, fit_set, hyper, set_samples, transitions, write_csv

COLUMNS = [
    "replicate",
    "seed",
    "realizations",
    "transition",
    "boundary",
    "se",
    "dof",
    *BOUNDS,
    "member_lo68",
    "member_hi68",
]
SUMMARY_COLUMNS = [
    "model",
    "L",
    "classifier",
    "realizations",
    "transition",
    "replicates",
    "mean",
    "sd",
    "se_of_mean",
    "h68_mean",
    "sd_z",
    "member_h68_mean",
    "sd_z_member",
    "cross_coverage95",
    "cross_coverage68",
]
CALIBRATED_CROSS_COVERAGE = {95: 0.834, 68: 0.520}  # P(|Z| ≤ z_q/√2) for Gaussian errors


def replicate_seed(seed: int, replicate: int) -> int:
    """The root seed of replicate ``replicate``, spawned from the config's root seed (stream ``replicates``)."""
    return int(stream_sequence(seed, "replicates", replicate).generate_state(1, dtype=np.uint32)[0])


def replicate_config(config: dict, replicate: int) -> dict:
    """The config of one replicate: its own root seed, the study's model section reduced to the study's size."""
    rep = config["replicates"]
    m = get(rep["model"])
    section = config[m.name] | {
        "L": rep["L"],
        "realizations": max(rep["realizations"]),
        "realizations_per_job": max(rep["realizations"]),
    }
    if m.set_dims:
        section[m.set_dims[0]] = [float(rep["eps"])]
    return config | {"seed": replicate_seed(config["seed"], replicate), m.name: section}


def simulate(config: dict, model: str):
    """The model's labeled dataset of ``config``, every stage run in-process over one block of all realizations."""
    m = get(model)
    cfg = config[model]
    block = (0, cfg["realizations"] - 1)
    done: dict[str, dict] = {}
    for st in m.stages:
        need = model_stage(m, st.needs) if st.needs else None
        done[st.name] = {}
        for point in points(grids(m, cfg, st.dims)):
            inputs = []
            if need is not None:
                key = tuple(point[d] for d in need.dims)
                inputs = [(done[need.name][key], {})]
            done[st.name][tuple(point.values())] = m.run_stage(config, st.name, point, block, inputs)
    last = m.stages[-1]
    stores = [
        (arrays, dict(zip(last.dims, key, strict=True)) | {"realizations": list(block)})
        for key, arrays in done[last.name].items()
    ]
    return m.dataset(config, stores)


def replicate_job(config: dict, replicate: int, output: str) -> None:
    """One replicate: simulate, then the boundary with its interval at each R of ``replicates.realizations``."""
    configure()
    cfg = replicate_config(config, replicate)
    ds = simulate(cfg, config["replicates"]["model"])
    write_csv(output, COLUMNS, replicate_rows(cfg, replicate, ds))


def replicate_rows(cfg: dict, replicate: int, ds) -> list[list]:
    """Rows (:data:`COLUMNS`) of one replicate's dataset ``ds`` as simulated from its config ``cfg``
    (:func:`replicate_config`): each transition's boundary at each R of ``replicates.realizations``."""
    model = cfg["replicates"]["model"]
    m = get(model)
    ds = measured(cfg, model, ds)
    ((_, point),) = training_sets(cfg, model)
    t = cfg["training"]
    hp = hyper(cfg, len(ds["label"].attrs["classes"]))
    values = ds[m.label_dim].values
    set_labels = ds["label"].sel(point).values if point else ds["label"].values
    trans = transitions(ds)
    rows = []
    for R in cfg["replicates"]["realizations"]:
        x, labels, shape, context = set_samples(model, ds.isel(realization=slice(0, R)), point)
        fit = fit_set(
            x, labels, hp, t["members"], cfg["seed"], t["holdout"], *context, shape=shape, resamples=t["resamples"]
        )
        for (_, _, name), found in zip(trans, fit_boundaries(values, set_labels, fit, trans), strict=True):
            rows.append(
                [replicate, cfg["seed"], R, name, *(f"{v:.6g}" for v in (found.value, found.se, found.dof))]
                + [f"{v:.6g}" for v in (*found.interval, *found.member_band)]
            )
    return rows


def summarize(rows: list[dict]) -> list[dict]:
    """Per (R, transition) of replicate rows (:data:`COLUMNS`, values as read from CSV): the calibration figures."""
    out = []
    keys = sorted({(int(r["realizations"]), r["transition"]) for r in rows}, key=lambda k: (k[1], k[0]))
    for R, name in keys:
        mine = [r for r in rows if int(r["realizations"]) == R and r["transition"] == name]
        x = np.array([float(r["boundary"]) for r in mine])
        lo95, lo68, hi68, hi95 = (np.array([float(r[b]) for r in mine]) for b in BOUNDS)
        member = np.array([(float(r["member_hi68"]) - float(r["member_lo68"])) / 2 for r in mine])
        n = x.size
        h68 = (hi68 - lo68) / 2
        scale = np.sqrt(n / (n - 1)) if n > 1 else np.nan
        z = (x - x.mean()) / h68 * scale
        zm = (x - x.mean()) / member * scale
        pairs = ~np.eye(n, dtype=bool)
        out.append(
            {
                "realizations": R,
                "transition": name,
                "replicates": n,
                "mean": x.mean(),
                "sd": x.std(ddof=1) if n > 1 else np.nan,
                "se_of_mean": x.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan,
                "h68_mean": h68.mean(),
                "sd_z": z.std(ddof=1) if n > 1 else np.nan,
                "member_h68_mean": member.mean(),
                "sd_z_member": zm.std(ddof=1) if n > 1 else np.nan,
                "cross_coverage95": float(((lo95[:, None] <= x[None]) & (x[None] <= hi95[:, None]))[pairs].mean()),
                "cross_coverage68": float(((lo68[:, None] <= x[None]) & (x[None] <= hi68[:, None]))[pairs].mean()),
            }
        )
    return out


def summary_job(config: dict, inputs: list[str], table: str, figure: str) -> None:
    """results/checks/replicates.csv and figures/replicates.png from every replicate's table."""
    rep = config["replicates"]
    rows = []
    for path in inputs:
        with open(path, newline="") as f:
            rows += list(csv.DictReader(f))
    summary = summarize(rows)
    fixed = {"model": rep["model"], "L": rep["L"], "classifier": config["training"]["classifier"]}
    write_csv(table, SUMMARY_COLUMNS, [[_fmt((fixed | s)[c]) for c in SUMMARY_COLUMNS] for s in summary])
    plot(config, rows, summary).savefig(figure, dpi=120)


def _fmt(v) -> str:
    return f"{v:.4f}" if isinstance(v, float | np.floating) else str(v)


def plot(config: dict, rows: list[dict], summary: list[dict]) -> Figure:
    """Left: every replicate's boundary with its 68%/95% intervals at each R; right: SD of the standardized
    deviations against R (1: calibrated), for the calibrated intervals and for the member spread."""
    import xarray as xr

    rep = config["replicates"]
    names = list(dict.fromkeys(r["transition"] for r in rows))
    Rs = sorted({int(r["realizations"]) for r in rows})
    fig = Figure(figsize=(11, 3.6 * len(names)), layout="constrained")
    axes = fig.subplots(len(names), 2, squeeze=False)
    for row, name in zip(axes, names, strict=True):
        ax, ax_z = row
        for i, R in enumerate(Rs):
            mine = sorted((r for r in rows if int(r["realizations"]) == R and r["transition"] == name),
                          key=lambda r: int(r["replicate"]))  # fmt: skip
            y = i + np.linspace(-0.35, 0.35, len(mine))
            iv = xr.DataArray([[float(r[b]) for b in BOUNDS] for r in mine], dims=("r", "bound"),
                              coords={"bound": BOUNDS})  # fmt: skip
            boundary_with_intervals(ax, np.array([float(r["boundary"]) for r in mine]), y, iv, f"C{i}",
                                    f"R = {R}", True)  # fmt: skip
        ax.set_yticks(range(len(Rs)), [f"R = {R}" for R in Rs])
        ax.set_xlabel(f"boundary ({get(rep['model']).label_dim}); 68% thick, 95% thin")
        ax.set_title(f"{len({r['replicate'] for r in rows})} independent replicates, {name}", fontsize=10)
        mine = [s for s in summary if s["transition"] == name]
        ax_z.plot([s["realizations"] for s in mine], [s["sd_z"] for s in mine], "o-", label="calibrated intervals")
        ax_z.plot([s["realizations"] for s in mine], [s["sd_z_member"] for s in mine], "s--", color="gray",
                  label="member spread (16–84% of single members)")  # fmt: skip
        n = mine[0]["replicates"]
        lo, hi = (np.sqrt(stats.chi2.ppf(q, n - 1) / (n - 1)) for q in (0.025, 0.975))
        ax_z.axhspan(lo, hi, color="tab:green", alpha=0.15, label=f"95% range of SD(z) for {n} calibrated replicates")
        ax_z.axhline(1.0, color="k", lw=0.8)
        ax_z.set_xscale("log")
        ax_z.minorticks_off()
        ax_z.set_xticks(Rs, [str(R) for R in Rs])
        ax_z.set_xlabel("realizations R per sweep point")
        ax_z.set_ylabel("SD of (x*ᵢ − mean)/h₆₈,ᵢ")
        ax_z.legend(fontsize=7)
    title = f"{get(rep['model']).title}, L = {rep['L']}"
    fig.suptitle(f"Replicate study: {title}, classifier {config['training']['classifier']}", fontsize=11)
    return fig
