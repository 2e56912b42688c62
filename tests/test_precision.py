"""The kernel's mixed precision (float32 Chebyshev vectors) against dense ED, the float64 kernel and its own health
check; the config key that selects it. The error budget at L = 12 … 20 is measured by ``python -m phasetrace.bench
--budget`` (README, Kernels); here, small chains against independent dense ED with the option's own tolerance."""

import numpy as np
import pytest

from dense import dense_traces
from phasetrace import config as config_mod
from phasetrace.kernels import heisenberg
from phasetrace.kernels.heisenberg import HealthCheckError, heisenberg_chain
from phasetrace.kernels.precision import PRECISIONS, check_precision
from phasetrace.models import MBL, QUASIPERIODIC
from phasetrace.models.base import default_times
from tiny import TINY

TIMES = default_times()  # 50 points on [0, 500]
# The bar for mixed precision: measured ≤ 5.3e-6 at L ≤ 12 (docs: Physics and kernels); float64 holds 1e-6 with 5
# orders to spare
MIXED_TOL = 3e-5


@pytest.mark.parametrize("model", [MBL, QUASIPERIODIC], ids=lambda m: m.name)
@pytest.mark.parametrize("L", [8, 10])
@pytest.mark.parametrize("W", [0.5, 3.0, 8.0])
def test_mixed_traces_match_dense_ed(model, L, W):
    eps = [0.2, 0.5, 0.8]
    out = model.simulate(seed=11, L=L, W=W, eps=eps, realizations=[3], precision="mixed")
    _, _, _, ref = dense_traces(L, out["field"][0], eps, TIMES)
    err = np.abs(out["magnetization"][0] - ref).max()
    assert err <= MIXED_TOL, f"max |Δ⟨σᶻ⟩| = {err:.2e} at L={L}, W={W}"
    assert out["norm_drift"].max() <= PRECISIONS["mixed"].norm_tol
    assert out["energy_drift"].max() <= PRECISIONS["mixed"].energy_tol * (out["Emax"] - out["E0"]).max()


def test_mixed_is_float32_arithmetic_and_float64_is_the_default():
    """mixed differs from float64 by float32 rounding (so the option is in effect), far more than float64 from ED;
    precision="float64" is the same computation as the default, bit for bit."""
    kw = dict(seed=3, L=10, W=3.0, eps=[0.5], realizations=[0, 1])
    f64, mixed = (MBL.simulate(**kw, precision=p) for p in ("float64", "mixed"))
    default = MBL.simulate(**kw)
    assert np.array_equal(f64["magnetization"], default["magnetization"])
    dev = np.abs(mixed["magnetization"] - f64["magnetization"]).max()
    assert 1e-9 < dev <= MIXED_TOL


def test_mixed_batch_agrees_with_single_realizations():
    """Within the option's budget, not bit for bit: a batch runs every column to the longest series of its
    realizations, and in float32 each extra term adds its own rounding."""
    both = MBL.simulate(seed=9, L=10, W=3.0, eps=[0.2, 0.8], realizations=[4, 5], precision="mixed")
    for k, r in enumerate([4, 5]):
        one = MBL.simulate(seed=9, L=10, W=3.0, eps=[0.2, 0.8], realizations=[r], precision="mixed")
        assert np.abs(one["magnetization"][0] - both["magnetization"][k]).max() <= MIXED_TOL


def test_mixed_conserves_total_magnetization():
    out = MBL.simulate(seed=4, L=10, W=1.0, eps=[0.3, 0.7], realizations=[0], precision="mixed")
    assert np.abs(out["magnetization"].sum(axis=-1)).max() <= 10 * MIXED_TOL


def test_mixed_health_check_catches_wrong_spectral_bounds():
    """Bounds that cut off part of the spectrum make the Chebyshev series diverge: mixed must raise too."""
    chain = heisenberg_chain(8)
    fields, starts = MBL.disorder(1, 8, 3.0, [0])
    b = heisenberg.spectral_bounds(chain, fields, starts)
    idx, _ = heisenberg.initial_states(chain, fields, [0.5], b.E0, b.Emax)
    mid = 0.5 * (b.E0 + b.Emax)
    with pytest.raises(HealthCheckError, match="health check"):
        heisenberg.evolve(chain, fields, idx, TIMES, mid - 0.2 * (b.Emax - b.E0), b.Emax, precision="mixed")


def test_unknown_precision_is_refused_naming_the_allowed_values():
    with pytest.raises(ValueError, match=r"precision = 'float32' is outside the allowed range: one of \['float64'"):
        check_precision("float32")
    cfg = {**TINY, "mbl": {**TINY["mbl"], "precision": "float32"}}
    with pytest.raises(ValueError, match=r"mbl\.precision = 'float32' is not allowed: it must be one of"):
        config_mod.validate(cfg)


@pytest.mark.workflow
def test_precision_change_reruns_that_models_traces_only(reference_run):
    """mbl.precision is part of what the traces jobs (and the dataset) depend on; not the bounds, not the other
    models; the quasi-periodic chain's own key, while that model is not built, reruns nothing."""
    from test_correctness import changed, planned

    jobs = planned(reference_run, changed("mbl.precision", "mixed"))
    assert jobs["mbl_traces"] == 20 and jobs["mbl_dataset"] == 1 and "mbl_bounds" not in jobs
    assert not {"floquet_traces", "floquet_dataset", "floquet_network"} & set(jobs)
    assert planned(reference_run, changed("quasiperiodic.precision", "mixed")) == {}


def test_mixed_truncates_the_series_at_its_own_tolerance():
    """mixed sums fewer Chebyshev terms than float64 (its series_tol, 1e-9 against 1e-12); an explicit tol
    overrides the precision's."""
    chain = heisenberg_chain(8)
    fields, _ = MBL.disorder(5, 8, 3.0, range(2))
    bounds = MBL.bounds(5, 8, 3.0, range(2))
    index, _ = heisenberg.initial_states(chain, fields, [0.5], bounds.E0, bounds.Emax)
    args = (chain, fields, index, TIMES, bounds.E0, bounds.Emax)
    f64 = heisenberg.evolve(*args)
    mixed = heisenberg.evolve(*args, precision="mixed")
    mixed_at_f64_tol = heisenberg.evolve(*args, precision="mixed", tol=PRECISIONS["float64"].series_tol)
    assert PRECISIONS["mixed"].series_tol > PRECISIONS["float64"].series_tol
    assert mixed.matvecs < f64.matvecs
    assert mixed_at_f64_tol.matvecs == f64.matvecs
