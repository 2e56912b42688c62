"""The chains started from one fixed product state (mbl_fixed, quasiperiodic_fixed: phasetrace.models.fixed): their
traces against dense exact diagonalization (tests/dense.py), their disorder against their family's, the config's
``initial_state`` checks, and a tiny workflow run over W alone with the rerun of a changed initial state."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import xarray as xr
import yaml

from dense import evolve_dense, heisenberg_sector_dense, sz_values
from phasetrace import config as config_mod
from phasetrace.models import MBL, MODELS, QUASIPERIODIC
from phasetrace.models.base import default_times
from phasetrace.sweep import blocks, grid, realizations_per_job
from tiny import ROOT, TINY, planned_jobs, snakemake, workdir

FIXED = {"mbl_fixed": MBL, "quasiperiodic_fixed": QUASIPERIODIC}
DEFAULT = yaml.safe_load((ROOT / "config.yaml").read_text())


def dense_fixed(L: int, fields: np.ndarray, spins: np.ndarray, times: np.ndarray, periodic: bool = True):
    """From dense matrices: E₀, E_max, ⟨s|H|s⟩ and ⟨σᶻᵢ⟩(t) of the product state with σᶻ = ``spins``."""
    H, keep = heisenberg_sector_dense(L, 1.0, fields, periodic)
    vals = np.linalg.eigvalsh(H)
    state = int(sum(1 << i for i in range(L) if spins[i] > 0))  # bit i = site i, set = up (tests/dense.py)
    (k,) = np.nonzero(keep == state)[0]
    psi0 = np.zeros(len(keep), complex)
    psi0[k] = 1
    traces = (np.abs(evolve_dense(H, psi0, times)) ** 2) @ sz_values(L)[keep]
    return vals[0], vals[-1], H[k, k], traces


@pytest.mark.parametrize("name", sorted(FIXED))
@pytest.mark.parametrize(
    "state,spins",
    [("neel", [1, -1, 1, -1, 1, -1, 1, -1]), ([1, 1, 1, 1, -1, -1, -1, -1], [1, 1, 1, 1, -1, -1, -1, -1])],
    ids=["neel", "domain_wall"],
)
@pytest.mark.parametrize("W", [0.5, 4.0])
def test_traces_match_dense_ed(name, state, spins, W):
    """The fixed product state's ⟨σᶻᵢ⟩(t), initial energy and spectral bounds equal dense ED's of the same fields."""
    L, times = 8, default_times()
    out = MODELS[name].simulate(seed=11, L=L, W=W, realizations=[0, 3], times=times, initial_state=state)
    assert out["initial_state"].tolist() == spins
    for r in range(2):
        E0, Emax, energy, ref = dense_fixed(L, out["field"][r], np.asarray(spins), times)
        assert abs(out["E0"][r] - E0) <= 1e-8 * abs(E0) and abs(out["Emax"][r] - Emax) <= 1e-8 * abs(Emax)
        assert abs(out["initial_energy"][r] - energy) <= 1e-12
        err = np.abs(out["magnetization"][r] - ref).max()
        assert err <= 1e-10, f"max |Δ⟨σᶻ⟩| = {err:.2e} ({name}, {state}, W = {W}, realization {r})"


@pytest.mark.parametrize("name", sorted(FIXED))
def test_disorder_is_the_familys_at_the_same_seed_L_W_and_realization(name):
    """A fixed-state model draws from its family's stream: the same fields (and Lanczos seeds), whichever block."""
    fixed, family = MODELS[name], FIXED[name]
    for W in (0.75, 3.0):
        a, sa = fixed.disorder(5, 10, W, [0, 1, 2])
        b, sb = family.disorder(5, 10, W, [0, 1, 2])
        assert np.array_equal(a, b) and np.array_equal(sa, sb)
    out = fixed.simulate(seed=5, L=8, W=2.0, realizations=[2], times=[0.0, 1.0])
    energy_resolved = family.simulate(seed=5, L=8, W=2.0, eps=[0.5], realizations=[0, 1, 2], times=[0.0, 1.0])
    assert np.array_equal(out["field"][0], energy_resolved["field"][2])
    assert out["E0"][0] == pytest.approx(energy_resolved["E0"][2], rel=1e-12)  # the same Lanczos start, other batch


def _with(section: str, **changes) -> dict:
    cfg = copy.deepcopy(DEFAULT)
    cfg[section] |= changes
    return cfg


@pytest.mark.parametrize("name", sorted(FIXED))
@pytest.mark.parametrize(
    "changes,match",
    [
        ({"initial_state": [1, -1, 1, -1]}, r"{name}\.initial_state = \[1, -1, 1, -1\] .*{name}\.L = 12: it has 4"),
        ({"initial_state": [1, 1, -1] * 4}, r"{name}\.initial_state = .*8 values \+1 and 4 values -1.*Sᶻ = 0"),
        ({"initial_state": [1, -1, 0, 1, -1, 1] * 2}, r"{name}\.initial_state = .*{name}\.initial_state\[2\] = 0"),
        ({"initial_state": [2, -2] * 6}, r"{name}\.initial_state = .*\[0\] = 2; it must be 'neel'"),
        ({"initial_state": "cdw"}, r"{name}\.initial_state = 'cdw' is not allowed: it must be 'neel'"),
        ({"initial_state": 1}, r"{name}\.initial_state = 1 is not allowed: it must be of type string or array"),
        ({"eps": [0.5]}, r"{name}\.eps = \[0\.5\] is not allowed: it must be absent: a fixed initial state has no"),
        ({"L": [10, 12], "initial_state": [1, -1] * 6}, r"{name}\.initial_state = .*{name}\.L = 10: it has 12"),
    ],
)
def test_initial_state_errors_name_the_key_the_value_and_what_is_allowed(name, changes, match):
    with pytest.raises(ValueError, match=match.format(name=name)):
        config_mod.validate(_with(name, **changes))


def test_a_pattern_and_the_neel_state_are_accepted_and_the_section_has_no_eps():
    config_mod.validate(_with("mbl_fixed", initial_state=[-1, 1] * 6, L=12))
    config_mod.validate(_with("quasiperiodic_fixed", L=[8, 10, 12]))  # neel at every L
    m = MODELS["mbl_fixed"]
    assert m.sweep_dims == ("W",) and m.set_dims == () and "eps" not in m.schema["required"]
    assert "initial_state" in next(s for s in m.stages if s.name == "traces").keys and "initial_state" in m.dataset_keys
    assert "initial_state" not in next(s for s in m.stages if s.name == "bounds").keys


TINY_FIXED = {
    "initial_state": "neel",
    "L": 6,
    "J": 1.0,
    "boundary": "periodic",
    "W": [0.25, 0.5, 3.0, 7.5, 8.0],
    "realizations": 4,
    "realizations_per_job": 2,
    "t_max": 50.0,
    "n_times": 6,
    "precision": "float64",
    "windows": {"ergodic_W_max": 0.5, "localized_W_min": 7.5},
}


@pytest.mark.workflow
def test_a_fixed_state_model_runs_through_the_generic_rules_and_a_changed_state_reruns_its_traces(tmp_path):
    """``models: [mbl_fixed]``: a dataset over (W, realization, time, site) equal to direct calls on the mbl chain's
    disorder, one training set with a boundary, the phase diagram; a new initial_state reruns the traces jobs and
    everything downstream, not the bounds."""
    cfg = copy.deepcopy(TINY) | {"models": ["mbl_fixed"], "mbl_fixed": TINY_FIXED}
    d = workdir(tmp_path, cfg)
    snakemake(d, "--cores", "2", "results/phase_diagram.png")
    assert (d / "results/phase_diagram.png").stat().st_size > 0
    ds = xr.open_zarr(d / "results/mbl_fixed/L6/traces.zarr")
    assert ds["magnetization"].dims == ("W", "realization", "time", "site") and ds["label"].dims == ("W",)
    assert ds["initial_state"].values.tolist() == [1, -1, 1, -1, 1, -1] and "eps" not in ds.dims
    times = np.linspace(0, TINY_FIXED["t_max"], TINY_FIXED["n_times"])
    direct = MODELS["mbl_fixed"].simulate(cfg["seed"], 6, 3.0, range(4), times)
    assert np.abs(ds["magnetization"].sel(W=3.0).values - direct["magnetization"]).max() < 1e-10
    fields, _ = MBL.disorder(cfg["seed"], 6, 3.0, range(4))
    assert np.array_equal(ds["field"].sel(W=3.0).values, fields)  # the mbl chain's disorder
    conf = xr.open_zarr(d / "results/mbl_fixed/L6/lstm/confusion.zarr")
    assert conf.attrs["set_dims"] == [] and conf["confusion"].dims == ("W",)
    assert conf["boundary"].notnull().all() and conf["boundary_interval"].dims == ("transition", "bound")

    def dry_run(config: dict) -> dict[str, int]:
        (d / "config.yaml").write_text(yaml.safe_dump(config))
        proc = snakemake(d, "-n", "results/phase_diagram.png")
        out = proc.stdout + proc.stderr
        return planned_jobs(out) if "Job stats:" in out else {}

    assert dry_run(cfg) == {}
    jobs = dry_run(cfg | {"mbl_fixed": TINY_FIXED | {"initial_state": [1, 1, 1, -1, -1, -1]}})
    section = cfg["mbl_fixed"]
    n_blocks = len(blocks(section["realizations"], realizations_per_job(section)))
    assert jobs["mbl_fixed_traces"] == len(grid(section["W"])) * n_blocks and "mbl_fixed_bounds" not in jobs
    assert {"mbl_fixed_dataset", "mbl_fixed_network", "mbl_fixed_confusion", "phase_diagram"} <= set(jobs)
