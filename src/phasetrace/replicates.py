"""The replicate study: what a boundary's interval means, measured against independent reruns of the whole pipeline.

``replicates.n`` reruns of a small configuration — the config with ``replicates.model``'s section at chain length
``L``, one training set (``eps``, for the chains) and ``max(realizations)`` realizations per sweep point — each with
its own root seed spawned from the config's ``seed`` (:func:`phasetrace.seeds.replicate_seed`): new disorder,
initial states, hold-out, resamples and member keys. A replicate job (:func:`replicate_job`) simulates in-process
with the model's own stages, then for each R of ``replicates.realizations`` fits the phase diagram's classifier on
the first R realizations of every point (averaged; trained on the first ``training.realizations`` of them; nested as
in the convergence study) and records each transition's boundary with its interval, exactly as the workflow's
confusion job makes them (:func:`phasetrace.training.fit_boundaries`).

:func:`summarize` gathers them per (R, transition): the replicates' mean, their spread (SD) and the standard error
of the mean; the mean 68% half-width h; the standardized deviations z_i = (x*_i − mean)/h_i · √(n/(n − 1)) (the
factor removes the mean's own share of x*_i − mean) and their SD, which is 1 for calibrated intervals, above 1 for
too narrow and below 1 for too wide ones; the member-spread half-width for comparison; and the cross-coverage, the
fraction of ordered pairs i ≠ j whose 95% (68%) interval of i holds the estimate of j (0.834 and 0.520 for
calibrated Gaussian errors: x*_j − x*_i has twice the variance). As every study: ``compute_*`` (the numbers, an xarray
Dataset the tables are written from), :func:`plot_replicates` and the jobs.
"""

from __future__ import annotations

import csv

import numpy as np
import xarray as xr
from matplotlib.figure import Figure
from scipy import stats

from .boundaries import BOUNDS, standardized_sd
from .figures import boundary_with_intervals, save_figure
from .measurement import measured
from .models import get, training_sets
from .runner import configure
from .seeds import replicate_seed
from .simulation import run_sweep
from .store import write_csv
from .training import locate

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


def replicate_job(config: dict, replicate: int, output: str) -> None:
    """One replicate: simulate, then the boundary with its interval at each R of ``replicates.realizations``."""
    configure()
    cfg = replicate_config(config, replicate)
    ds = run_sweep(cfg, config["replicates"]["model"])
    write_csv(output, COLUMNS, compute_replicate(cfg, replicate, ds), {c: ".6g" for c in COLUMNS[4:]})


def compute_replicate(cfg: dict, replicate: int, ds: xr.Dataset) -> xr.Dataset:
    """Each transition's boundary at each R of ``replicates.realizations`` of one replicate's dataset ``ds`` as
    simulated from its config ``cfg`` (:func:`replicate_config`), over (realizations, transition), with the columns
    of :data:`COLUMNS`."""
    model = cfg["replicates"]["model"]
    ds = measured(cfg, model, ds)
    ((_, point),) = training_sets(cfg, model)
    Rs = cfg["replicates"]["realizations"]
    out = xr.concat([locate(cfg, model, ds.isel(realization=slice(0, R)), point) for R in Rs], dim="realizations")
    iv, band = out["boundary_interval"], out["boundary_member_band"]
    return (
        out.rename(boundary_se="se", boundary_dof="dof")
        .assign({b: iv.sel(bound=b, drop=True) for b in BOUNDS})
        .assign({b: band.sel(band=b, drop=True) for b in band["band"].values})
        .assign_coords(realizations=Rs, replicate=replicate, seed=cfg["seed"])
    )


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
                "sd_z": standardized_sd(x, h68),
                "member_h68_mean": member.mean(),
                "sd_z_member": standardized_sd(x, member),
                "cross_coverage95": float(((lo95[:, None] <= x[None]) & (x[None] <= hi95[:, None]))[pairs].mean()),
                "cross_coverage68": float(((lo68[:, None] <= x[None]) & (x[None] <= hi68[:, None]))[pairs].mean()),
            }
        )
    return out


def compute_replicates(config: dict, inputs: list[str]) -> xr.Dataset:
    """Every replicate's table (:func:`replicate_job`): each replicate's boundary and interval over (replicate,
    realizations, transition), and their calibration figures per (transition, realizations) (:func:`summarize`);
    attrs ``transitions``: the transitions in the classes' order (the coordinate is sorted, as the table is)."""
    rep = config["replicates"]
    rows = []
    for path in inputs:
        with open(path, newline="") as f:
            rows += list(csv.DictReader(f))
    reps = sorted({int(r["replicate"]) for r in rows})
    Rs = sorted({int(r["realizations"]) for r in rows})
    order = list(dict.fromkeys(r["transition"] for r in rows))
    names = sorted(order)
    value = np.full((len(reps), len(Rs), len(names), 1 + len(BOUNDS)), np.nan)
    for r in rows:
        at = reps.index(int(r["replicate"])), Rs.index(int(r["realizations"])), names.index(r["transition"])
        value[at] = [float(r[c]) for c in ("boundary", *BOUNDS)]
    summary = {(s["transition"], s["realizations"]): s for s in summarize(rows)}
    figures = [c for c in SUMMARY_COLUMNS if c not in ("model", "L", "classifier", "realizations", "transition")]
    per = ("transition", "realizations")
    return xr.Dataset(
        {c: (per, np.array([[summary[(t, R)][c] for R in Rs] for t in names])) for c in figures}
        | {
            "boundary": (("replicate", *per[::-1]), value[..., 0]),
            "boundary_interval": (("replicate", *per[::-1], "bound"), value[..., 1:]),
        },
        coords={
            "replicate": reps,
            "realizations": Rs,
            "transition": names,
            "bound": BOUNDS,
            "model": rep["model"],
            "L": rep["L"],
            "classifier": config["training"]["classifier"],
        },
        attrs={"transitions": order},
    )


def summary_job(config: dict, inputs: list[str], table: str, figure: str) -> None:
    """results/checks/replicates.csv and figures/replicates.png from every replicate's table."""
    ds = compute_replicates(config, inputs)
    write_csv(table, SUMMARY_COLUMNS, ds, dims=("transition", "realizations"))
    save_figure(plot_replicates(config, ds), figure, dpi=120)


def plot_replicates(config: dict, ds: xr.Dataset) -> Figure:
    """Left: every replicate's boundary with its 68%/95% intervals at each R; right: SD of the standardized
    deviations against R (1: calibrated), for the calibrated intervals and for the member spread."""
    rep = config["replicates"]
    names = ds.attrs["transitions"]
    Rs = [int(R) for R in ds["realizations"].values]
    fig = Figure(figsize=(11, 3.6 * len(names)), layout="constrained")
    axes = fig.subplots(len(names), 2, squeeze=False)
    for row, name in zip(axes, names, strict=True):
        ax, ax_z = row
        mine = ds.sel(transition=name)
        for i, R in enumerate(Rs):
            at = mine.sel(realizations=R).dropna("replicate", subset=["boundary"])
            y = i + np.linspace(-0.35, 0.35, at.sizes["replicate"])
            boundary_with_intervals(ax, at["boundary"].values, y, at["boundary_interval"], f"C{i}", f"R = {R}", True)
        ax.set_yticks(range(len(Rs)), [f"R = {R}" for R in Rs])
        ax.set_xlabel(f"boundary ({get(rep['model']).label_dim}); 68% thick, 95% thin")
        ax.set_title(f"{ds.sizes['replicate']} independent replicates, {name}", fontsize=10)
        ax_z.plot(Rs, mine["sd_z"].values, "o-", label="calibrated intervals")
        ax_z.plot(Rs, mine["sd_z_member"].values, "s--", color="gray", label="member spread (16–84% of single members)")
        n = int(mine["replicates"].values[0])
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
