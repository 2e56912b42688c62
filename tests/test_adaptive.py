"""The chooser of the next simulations or measurements (phasetrace.adaptive) on synthetic data with a known
transition: its traces go near the transition, and the boundary's spread falls round by round, faster than with the
same traces spread uniformly."""

from __future__ import annotations

import numpy as np
import pytest

from phasetrace.adaptive import design, plan
from phasetrace.boundaries import fitted_crossing

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
