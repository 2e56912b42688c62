"""The finite-size study: several L in one config (one DAG, the same rules and per-point caching), the confusion
peak's height and width, the per-L and drift tables read from the stored confusion datasets, and the boundary
against the number of realizations."""

from __future__ import annotations

import copy
import csv
import re
import shutil
import subprocess

import numpy as np
import pytest
import xarray as xr
import yaml
from scipy import stats

from phasetrace.boundaries import gap, peak
from phasetrace.config import validate
from phasetrace.models import MODELS
from phasetrace.pipeline import CONVERGENCE
from phasetrace.pipeline import SCALING as SCALING_OUT
from phasetrace.sweep import at_main_sizes, at_size, labels, main_size, sizes
from tiny import ROOT, SNAKEMAKE, TINY, snakemake

SCALING = copy.deepcopy(TINY)  # the tiny sweep at two lengths per model; L = 6 (mbl), 4 (floquet) as in TINY
SCALING["mbl"]["L"] = [4, 6]
SCALING["floquet"]["L"] = [4, 6]
SCALING["scaling"]["eps"] = 0.7  # the second ε: the convergence study keys its draws by the ε's index in the grid


def rows(path) -> list[dict]:
    with open(path) as f:
        return list(csv.DictReader(f))


# --- the numerics and the config ----------------------------------------------------------------------------------


def test_peak_height_and_half_maximum_extent():
    x = np.arange(11.0)
    tri = np.maximum(0.0, 1 - np.abs(x - 5) / 4)  # height 1, half maximum at 3 and 7
    assert peak(x, tri, 0, 10) == (1.0, 3.0, 7.0)
    assert peak(x, tri, 4, 10) == (1.0, 4.0, 7.0)  # clipped at the searched range
    skew = np.interp(x, [0, 2, 3, 10], [0.0, 0.2, 0.8, 0.0])  # max 0.8 at 3; 0.4 reached at 2 + 1/3 and 3 + 3.5
    height, left, right = peak(x, skew, 0, 10)
    assert height == pytest.approx(0.8) and left == pytest.approx(2 + 1 / 3) and right == pytest.approx(6.5)
    height, left, right = peak(x, np.zeros(11), 0, 10)  # a certain classifier: no peak on the grid
    assert height == 0.0 and np.isnan(left) and np.isnan(right)


def test_a_config_lists_lengths_and_each_job_reads_one():
    cfg = copy.deepcopy(SCALING)
    validate(cfg)
    assert sizes(cfg["mbl"]) == [4, 6] and sizes(TINY["mbl"]) == [6] and main_size(cfg["mbl"]) == 6
    four = at_size(cfg, "mbl", "4")
    assert four["mbl"]["L"] == 4 and four["floquet"] is cfg["floquet"] and cfg["mbl"]["L"] == [4, 6]
    assert at_main_sizes(cfg, MODELS)["floquet"]["L"] == 6
    with pytest.raises(ValueError, match=r"mbl\.L = \[4, 6\] in the config; the target asks for L8 \(add 8 to mbl\.L"):
        at_size(cfg, "mbl", 8)


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("mbl.L", [6, 4], r"mbl\.L = \[6, 4\] is not allowed: a list of lengths must be increasing"),
        ("mbl.L", [4, 5], r"mbl\.L\.1 = 5 is not allowed: it must be a multiple of 2"),
        ("floquet.L", [4, 4], r"floquet\.L = \[4, 4\] is not allowed: it must be a list without repeats"),
        ("floquet.L", [2, 4], None),  # an open chain of two sites is allowed
        ("scaling.eps", 0.5, r"scaling\.eps = 0\.5 is not allowed: a point of mbl\.eps \[0\.3, 0\.7\]"),
        ("scaling.convergence.L", 8, r"scaling\.convergence\.L = 8 is not allowed: one of mbl\.L \[4, 6\]"),
        ("scaling.convergence.realizations", [4, 2], r"realizations = \[4, 2\] is not allowed: it must be increasing"),
    ],
)
def test_bad_scaling_config_names_key_and_allowed_values(key, value, message):
    cfg = copy.deepcopy(SCALING)
    *head, last = key.split(".")
    node = cfg
    for k in head:
        node = node[k]
    node[last] = value
    if message is None:
        validate(cfg)
        return
    with pytest.raises(ValueError, match=message):
        validate(cfg)


def test_the_l18_overlay_extends_the_scaling_preset_and_the_study_section_is_checked_where_built():
    """config.yaml's scaling section does not refuse the paper preset's L = 20 (tests/test_config.py); where the
    study is built, it is checked."""
    from snakemake.utils import update_config

    cfg = yaml.safe_load((ROOT / "config.yaml").read_text())
    for overlay in ("scaling.yaml", "scaling-L18.yaml"):
        update_config(cfg, yaml.safe_load((ROOT / "config" / overlay).read_text()))
    assert validate(cfg)["mbl"]["L"] == [10, 12, 14, 16, 18] and cfg["mbl"]["realizations"] == 50
    cfg["scaling"]["convergence"]["L"] = 20  # where the study is built, its section is checked
    with pytest.raises(ValueError, match=r"scaling\.convergence\.L = 20 is not allowed: one of mbl\.L"):
        validate(cfg)


def test_the_convergence_blocks_are_the_sweeps_then_more_of_the_same_size():
    from phasetrace.models import convergence_sweep

    cfg = yaml.safe_load((ROOT / "config" / "scaling.yaml").read_text())
    assert convergence_sweep(cfg)[3] == [(0, 24), (25, 49), (50, 74), (75, 99)]
    cfg["mbl"]["realizations_per_job"] = "all"  # the GPU profiles: one block of the 50, then one of the next 50
    model, L, section, held = convergence_sweep(cfg)
    assert (model, L, held, section["realizations"], section["eps"]) == ("mbl", 12, [(0, 49), (50, 99)], 100, [0.5])
    cfg["scaling"]["convergence"]["realizations"] = [10, 20]  # fewer than the sweep's: its first block holds them
    assert convergence_sweep(cfg)[3] == [(0, 49)] and convergence_sweep(cfg)[2]["realizations"] == 50


def test_the_fewest_realizations_of_the_convergence_study_keep_training_samples():
    cfg = copy.deepcopy(SCALING)
    cfg["training"]["holdout"] = 0.8  # 8 labeled samples per class at R = 4 keep 2; at R = 1, 2 keep none
    validate(cfg)
    cfg["scaling"]["convergence"]["realizations"] = [1, 4]
    with pytest.raises(
        ValueError, match=r"training\.holdout = 0\.8 .*class 'ergodic' of mbl\.windows .*1 realizations"
    ):
        validate(cfg)


# --- the workflow ---------------------------------------------------------------------------------------------------


def planned_outputs(d, config: dict) -> list[str]:
    """The outputs of the jobs a dry run of the default target in ``d`` would run with ``config``."""
    path = d.parent / f"{d.name}-scaling.yaml"
    path.write_text(yaml.safe_dump(config))
    cmd = SNAKEMAKE + ["--directory", str(d), "--configfile", str(path), "-n"]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = re.findall(r"^\s+output: (.+)$", proc.stdout + proc.stderr, flags=re.M)
    return [p for line in lines for p in line.split(", ")]


def test_the_length_sweep_is_one_dag_over_the_same_rules(tmp_path):
    d = tmp_path / "dag"
    d.mkdir()
    out = planned_outputs(d, SCALING)
    jobs = [p for p in out if p.endswith(".zarr.zip") and "/networks/" not in p]
    per = {}
    for p in jobs:
        model, L, stage = p.split("/")[1:4]
        per[(model, L, stage)] = per.get((model, L, stage), 0) + 1
    # mbl: 5 W × 2 blocks of bounds, 2 ε × 5 W × 2 blocks of traces at each L; the convergence study (R = 6 at L = 6,
    # ε = 0.7) adds the third block at every W; floquet: 5 ε × 2 blocks at each L
    assert per == {
        ("mbl", "L4", "bounds"): 10,
        ("mbl", "L4", "traces"): 20,
        ("mbl", "L6", "bounds"): 15,
        ("mbl", "L6", "traces"): 25,
        ("floquet", "L4", "traces"): 10,
        ("floquet", "L6", "traces"): 10,
    }
    assert {f"results/{m}/L{L}/traces.zarr" for m in ("mbl", "floquet") for L in (4, 6)} <= set(out)
    # every L trains the phase diagram's classifier and the baseline; the largest L also the compared kinds
    for model, L in (("mbl", 4), ("floquet", 4), ("mbl", 6), ("floquet", 6)):
        kinds = {"lstm", "threshold"} | ({"mlp", "logistic"} if L == 6 else set())
        assert {p.split("/")[3] for p in out if p.startswith(f"results/{model}/L{L}/") and "confusion" in p} == kinds
    assert {"results/checks/scaling.csv", "results/figures/scaling.png", "results/checks/convergence.csv"} <= set(out)
    assert not [p for p in planned_outputs(d, TINY) if "scaling" in p or "convergence" in p]  # one L: no study


@pytest.mark.workflow
def test_a_larger_sweep_reuses_computed_points_and_its_tables_come_from_the_stored_predictions(reference_run, tmp_path):
    d = tmp_path / "scaling"
    shutil.copytree(reference_run, d)  # with .snakemake: its recorded params must match the new config's too
    done = {str(p.relative_to(d)) for p in (d / "results").rglob("*.zarr.zip") if "/networks/" not in str(p)}
    assert done  # the single-L reference run's jobs
    larger = copy.deepcopy(SCALING)
    larger["mbl"]["W"] = TINY["mbl"]["W"] + [9.0]  # and a new W (in the localized window)
    planned = [p for p in planned_outputs(d, larger) if p.endswith(".zarr.zip") and "/networks/" not in p]
    assert not set(planned) & done  # a point computed with the same physics settings is reused
    L6 = [p for p in planned if p.startswith("results/mbl/L6/")]
    # the new W: its bounds (3 blocks), traces at 2 ε (2 blocks) and at the convergence's ε = 0.7 (its third block)
    assert len([p for p in L6 if "/W9.000/" in p]) == 3 + 2 * 2 + 1
    assert len([p for p in L6 if "/r004-005" in p]) == 6 + 6  # the convergence block at every W: bounds, traces
    assert not [p for p in planned if p.startswith("results/floquet/L4/")]

    # the study's outputs (the default target would also build every length's checks, robustness and schemes)
    snakemake(d, *SCALING_OUT, *CONVERGENCE, "--cores", "2", "--configfile", str(d.parent / "scaling-scaling.yaml"))
    per_L = rows(d / "results/checks/scaling.csv")
    drift = rows(d / "results/checks/scaling_drift.csv")
    cfg = yaml.safe_load((d.parent / "scaling-scaling.yaml").read_text())
    for model in ("mbl", "floquet"):
        m = MODELS[model]
        for kind in ("lstm", "threshold"):
            stored = {L: xr.open_zarr(d / f"results/{model}/L{L}/{kind}/confusion.zarr") for L in (4, 6)}
            mine = [r for r in per_L if r["model"] == model and r["classifier"] == kind]
            assert len(mine) == 2 * 2  # 2 L × (2 ε sets | 2 transitions)
            for r in mine:
                ds = stored[int(r["L"])]
                x = ds[m.label_dim].values
                sel = {"eps": float(r["set"])} if model == "mbl" else {}
                t = list(ds["transition"].values).index(r["transition"])
                assert float(r["boundary"]) == pytest.approx(float(ds["boundary"].sel(sel).values[t]), abs=5e-5)
                assert float(r["hi95"]) == pytest.approx(
                    float(ds["boundary_interval"].sel(sel).values[t, -1]), abs=5e-5
                )
                C = ds["confusion"].sel(sel).values
                height, left, right = peak(x, C, *gap(x, labels(x, m.windows(cfg[model])), t, t + 1))
                assert float(r["peak_height"]) == pytest.approx(height, abs=5e-5)
                if np.isfinite(left):
                    assert float(r["peak_width"]) == pytest.approx(right - left, abs=1e-4)
            theirs = [r for r in drift if r["model"] == model and r["classifier"] == kind]
            assert len(theirs) == 2  # (2 ε sets | 2 transitions), from L = 4 to 6
            for r in theirs:
                sel = {"eps": float(r["set"])} if model == "mbl" else {}
                t = list(stored[6]["transition"].values).index(r["transition"])
                se, dof = (
                    {L: float(stored[L][v].sel(sel).values[t]) for L in (4, 6)} for v in ("boundary_se", "boundary_dof")
                )
                if se[4] == se[6] == 0:  # both sizes' replicates agree exactly (a pinned crossing): no spread
                    half = 0.0
                else:
                    welch = (se[4] ** 2 + se[6] ** 2) ** 2 / (se[4] ** 4 / dof[4] + se[6] ** 4 / dof[6])
                    half = stats.t.ppf(0.975, welch) * np.hypot(se[4], se[6])
                assert float(r["drift_lo95"]) == pytest.approx(float(r["drift"]) - half, abs=2e-4)
                assert float(r["drift_hi95"]) == pytest.approx(float(r["drift"]) + half, abs=2e-4)
                pts = {
                    int(q["L"]): float(q["boundary"])
                    for q in mine
                    if (q["set"], q["transition"]) == (r["set"], r["transition"])
                }
                assert float(r["drift"]) == pytest.approx(pts[6] - pts[4], abs=2e-4)
                expected = "increasing" if pts[6] > pts[4] else "decreasing" if pts[6] < pts[4] else "no"
                assert r["monotonic"] == expected
    # the convergence row with every realization of the L = 6 dataset is that dataset's own network set: same boundary
    conv = rows(d / "results/checks/convergence.csv")
    assert [(r["classifier"], r["realizations"]) for r in conv] == [
        (k, R) for k in ("lstm", "threshold") for R in "246"
    ]
    for kind in ("lstm", "threshold"):
        ds = xr.open_zarr(d / f"results/mbl/L6/{kind}/confusion.zarr")
        (row,) = [r for r in conv if r["classifier"] == kind and r["realizations"] == "4"]
        assert float(row["boundary"]) == pytest.approx(float(ds["boundary"].sel(eps=0.7).values[0]), abs=5e-5)
    for name in ("scaling", "convergence"):
        assert (d / "results" / "figures" / f"{name}.png").stat().st_size > 10_000


@pytest.mark.workflow
def test_the_scaling_preset_plans_every_length(tmp_path):
    proc = subprocess.run(
        SNAKEMAKE
        + [
            "-n",
            "--quiet",
            "rules",
            "--configfile",
            str(ROOT / "config" / "scaling.yaml"),
            "--directory",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    stats = dict(re.findall(r"^(\w+)\s+(\d+)$", proc.stdout + proc.stderr, flags=re.M))
    # mbl: 4 L × (32 W × 2 blocks of bounds + 3 ε × 32 W × 2 blocks of traces) + the convergence's 2 more blocks at
    # L = 12, ε = 0.5 (bounds and traces); floquet: 4 L × 33 ε × 2 blocks
    assert int(stats["simulate"]) == 4 * (64 + 192) + 2 * 64 + 4 * 66
    assert int(stats["dataset"]) == 8 and stats["scaling"] == "1" and stats["convergence"] == "1"
