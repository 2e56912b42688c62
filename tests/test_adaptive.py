"""The chooser of the next simulations or measurements (phasetrace.adaptive) on synthetic data with a known
transition: its traces go near the transition, and the boundary's spread falls round by round, faster than with the
same traces spread uniformly."""

from __future__ import annotations

import numpy as np
import pytest

from phasetrace.adaptive import design, plan, reference_value, summarize
from phasetrace.boundaries import fitted_crossing
from phasetrace.store import read_arrays

X0, WIDTH, NOISE = 3.4, 0.4, 0.15  # the true crossing, its width, a single realization's spread of q
LO, HI = 0.0, 8.0


def measure(rng: np.random.Generator, x: float, n: int) -> np.ndarray:
    """n realizations' share q at x: the logistic plus disorder noise."""
    return np.clip(1 / (1 + np.exp(-(x - X0) / WIDTH)) + NOISE * rng.standard_normal(n), 0, 1)


def estimate(samples: dict[float, np.ndarray], rng: np.random.Generator, boot: int = 60) -> tuple[float, float]:
    """The fitted crossing with the realizations behind each point as weights, and its bootstrap SE (realizations
    resampled within each point)."""
    x = np.array(sorted(samples))
    counts = np.array([samples[v].size for v in x])

    def fit(q: np.ndarray) -> float:
        return fitted_crossing(x, 1 - q, q, LO, HI, counts=counts)

    value = fit(np.array([samples[v].mean() for v in x]))
    reps = [fit(np.array([rng.choice(samples[v], samples[v].size).mean() for v in x])) for _ in range(boot)]
    return value, float(np.std(reps, ddof=1))


def as_design(samples: dict[float, np.ndarray]):
    x = np.array(sorted(samples))
    longest = max(s.size for s in samples.values())
    q = np.full((x.size, longest), np.nan)
    for i, v in enumerate(x):
        q[i, : samples[v].size] = samples[v]
    return design(x, 1 - q, q)


def run(seed: int, rounds: int, adaptive: bool) -> tuple[list[float], dict[float, int]]:
    rng = np.random.default_rng(seed)
    samples = {float(v): measure(rng, v, 8) for v in np.linspace(LO, HI, 9)}
    added: dict[float, int] = {}
    ses = []
    for _ in range(rounds):
        value, se = estimate(samples, rng)
        ses.append(se)
        if adaptive:
            rows = plan(as_design(samples), LO, HI, budget=24, block=8, within=(value - 2 * se, value + 2 * se))[:-1]
            todo = {r["value"]: r["realizations"] for r in rows}
        else:  # the same traces over the original grid
            todo = {float(v): 3 for v in np.linspace(LO, HI, 9)[:8]}
        for v, n in todo.items():
            samples[v] = np.concatenate([samples.get(v, np.empty(0)), measure(rng, v, n)])
            added[v] = added.get(v, 0) + n
    ses.append(estimate(samples, rng)[1])
    return ses, added


def test_the_chooser_spends_its_traces_near_the_transition_and_narrows_the_interval():
    adaptive, uniform = [], []
    for seed in range(3):
        ses, added = run(seed, rounds=3, adaptive=True)
        near = sum(n for v, n in added.items() if abs(v - X0) <= 1.0)
        assert near >= 0.75 * sum(added.values()), added
        assert any(v not in np.linspace(LO, HI, 9) for v in added), "no new sweep point was proposed"
        assert ses[-1] < 0.8 * ses[0], ses  # the spread falls as rounds are added
        adaptive.append(ses[-1])
        uniform.append(run(seed, rounds=3, adaptive=False)[0][-1])
    assert np.mean(adaptive) < np.mean(uniform), (adaptive, uniform)


def test_the_plan_respects_the_budget_and_the_target():
    rng = np.random.default_rng(0)
    samples = {float(v): measure(rng, v, 8) for v in np.linspace(LO, HI, 9)}
    rows = plan(as_design(samples), LO, HI, budget=20, block=4)
    *points, summary = rows
    assert summary["traces"] == sum(r["realizations"] for r in points) <= 20
    assert all(r["realizations"] % 4 == 0 for r in points)
    loose = plan(as_design(samples), LO, HI, budget=200, block=4, target=10.0)
    assert loose[-1]["traces"] == 0  # the target is met before any trace
    with pytest.raises(ValueError, match="at least one block"):
        plan(as_design(samples), LO, HI, budget=2, block=4)


def test_the_ragged_estimate_is_the_estimate_on_a_full_grid():
    from phasetrace.boundaries import estimate, estimate_ragged

    rng = np.random.default_rng(3)
    k, G, R = 8, 4, 6
    x = np.linspace(0.0, 6.0, 7)
    q = np.clip(1 / (1 + np.exp(-(x[None, :, None] - 2.7) / 0.6)) + 0.1 * rng.standard_normal((k, x.size, R)), 0, 1)
    p = np.stack([1 - q, q], axis=-1)
    avg = rng.integers(0, R, size=(G, x.size, R))
    full = estimate(x, p, 0, 1, 0.0, 6.0, avg)
    ragged = estimate_ragged(x, [p[:, i] for i in range(x.size)], 0, 1, 0.0, 6.0, [list(a) for a in avg])
    assert ragged.value == pytest.approx(full.value, abs=1e-7)
    assert ragged.se == pytest.approx(full.se, rel=1e-5) and ragged.dof == pytest.approx(full.dof, rel=1e-5)
    assert np.allclose(ragged.interval, full.interval, atol=1e-6)


def test_the_summary_measures_calibration_against_the_mean_of_the_reference_runs():
    """Replicates drawn around a known boundary with known standard errors: SD(z) near 1 when the reported SE is
    the true one, near 0.5 when it is twice too wide; coverage judged against the reference runs' mean."""
    rng = np.random.default_rng(5)
    truth, n = 3.0, 400

    def rows(se_true: float, se_reported: float) -> list[dict]:
        x = truth + se_true * rng.standard_normal(n)
        h68, h95 = 0.994 * se_reported, 1.96 * se_reported
        return [
            {"replicate": i, "round": 3, "traces": 100, "boundary": v, "se": se_reported, "lo95": v - h95,
             "lo68": v - h68, "hi68": v + h68, "hi95": v + h95}
            for i, v in enumerate(x)
        ]  # fmt: skip

    refs = [{"boundary": truth + 0.2 * e} for e in rng.standard_normal(16)]
    ref, ref_se = reference_value(refs)
    assert abs(ref - truth) < 4 * 0.2 / 4 and ref_se == pytest.approx(0.05, rel=0.4)
    calibrated = summarize(rows(0.2, 0.2), ref, 20)[0]
    too_wide = summarize(rows(0.2, 0.4), ref, 20)[0]
    assert calibrated["sd_z"] == pytest.approx(1.0, abs=0.1) and too_wide["sd_z"] == pytest.approx(0.5, abs=0.05)
    assert calibrated["covers_reference"] == pytest.approx(0.95, abs=0.04)
    assert calibrated["covers_reference68"] == pytest.approx(0.68, abs=0.07)
    assert too_wide["covers_reference"] > 0.99
    assert calibrated["boundary_sd"] == pytest.approx(0.2, rel=0.1)


def test_standardized_sd_leaves_out_an_estimate_without_a_scale():
    """SD(z) of the adaptive and replicate studies (boundaries.standardized_sd): an estimate reported with a zero
    scale (a degenerate interval) is left out of the SD, not made infinite; the mean is over every estimate."""
    from phasetrace.boundaries import standardized_sd

    x, scale = np.array([1.0, 2.0, 3.5, 4.0]), np.array([0.5, 0.0, 1.0, 2.0])
    z = (x[[0, 2, 3]] - x.mean()) / scale[[0, 2, 3]]
    assert standardized_sd(x, scale) == pytest.approx(np.std(z * np.sqrt(4 / 3), ddof=1))
    assert np.isnan(standardized_sd(x[:1], scale[:1])) and np.isnan(standardized_sd(x[:2], scale[:2]))


@pytest.mark.workflow
def test_the_adaptive_sweep_runs_records_its_decisions_and_resumes_byte_for_byte(tmp_path):
    """The tiny config's adaptive target: every round's store and decision; interrupted after round 1 of the first
    replicate and resumed, it makes the same stores as an uninterrupted run: every array bit for bit and every
    attribute (the decisions among them; the zip container's entry timestamps are the write times)."""
    import csv

    import yaml

    from tiny import TINY, job_stats, snakemake, workdir

    whole = workdir(tmp_path, TINY, "whole")
    snakemake(whole, "--cores", "2", "adaptive")
    rows = list(csv.DictReader(open(whole / "results/checks/adaptive.csv")))
    study = TINY["adaptive"]
    assert {(r["replicate"], r["round"]) for r in rows if int(r["round"]) >= 0} == {
        (str(i), str(j)) for i in range(study["replicates"]) for j in range(study["rounds"])
    }
    for r in rows:  # every estimate lies inside its own interval
        assert float(r["lo95"]) <= float(r["boundary"]) <= float(r["hi95"])
    plan = list(csv.DictReader(open(whole / "results/checks/adaptive_plan.csv")))
    assert plan and all(int(r["realizations"]) % study["block"] == 0 for r in plan)
    summary = list(csv.DictReader(open(whole / "results/checks/adaptive_summary.csv")))
    assert summary[-1]["design"].startswith("adaptive traces to reach uniform")
    reference = [r for r in rows if int(r["replicate"]) > 900]
    assert sorted(int(r["replicate"]) for r in reference) == list(range(1000 - study["reference_replicates"], 1000))
    assert summary[-2]["design"].startswith("reference") and float(summary[-2]["boundary_mean"]) == pytest.approx(
        np.mean([float(r["boundary"]) for r in reference]), abs=1e-5
    )

    resumed = workdir(tmp_path, TINY, "resumed")
    snakemake(resumed, "--cores", "2", "results/adaptive/mbl/L6/rep000/round01.zarr.zip")
    snakemake(resumed, "--cores", "2", "adaptive")
    stores = sorted(p.relative_to(whole) for p in (whole / "results/adaptive").rglob("*.zarr.zip"))
    # and the reference runs' round 0 (their networks)
    assert len(stores) == study["replicates"] * study["rounds"] + study["reference_replicates"]
    for rel in stores:
        (a, attrs_a), (b, attrs_b) = read_arrays(whole / rel), read_arrays(resumed / rel)
        assert attrs_a == attrs_b and a.keys() == b.keys(), rel
        assert all(a[k].dtype == b[k].dtype and a[k].tobytes() == b[k].tobytes() for k in a), rel
    for name in ("adaptive.csv", "adaptive_plan.csv", "adaptive_summary.csv"):
        assert (resumed / "results/checks" / name).read_bytes() == (whole / "results/checks" / name).read_bytes()

    # a target met at once: the later rounds simulate nothing and repeat the estimate
    met = workdir(tmp_path, TINY | {"adaptive": study | {"replicates": 1, "target": 100.0}}, "met")
    snakemake(met, "--cores", "2", "adaptive")
    rows = list(csv.DictReader(open(met / "results/checks/adaptive.csv")))
    rounds = [r for r in rows if int(r["round"]) >= 0]
    assert [r["stopped"] for r in rounds] == ["True"] * study["rounds"]
    assert len({tuple(r[c] for c in ("traces", "boundary", "se", "lo95", "hi95")) for r in rounds}) == 1

    # a change of the comparison reruns the uniform grids and the summary, not one round nor the reference
    changed = TINY | {"adaptive": study | {"uniform_realizations": [2, 3]}}
    (whole / "config.yaml").write_text(yaml.safe_dump(changed))
    log = snakemake(whole, "-n", "adaptive")
    assert job_stats(log.stdout + log.stderr) == {"adaptive_uniform": study["replicates"], "adaptive": 1}
