"""The detection schemes (phasetrace.schemes): the indicators' peaks, the interval machinery shared with the
supervised scheme, the optimal predictors and the networks on synthetic data with a known transition, the config
section, and the comparison the tiny reference run builds."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import xarray as xr

from phasetrace.boundaries import estimate, fitted_crossing, gap
from phasetrace.config import validate
from phasetrace.schemes import SCHEMES, trained
from phasetrace.schemes.indicators import locate, peak_position, peak_regions, replicated_boundaries
from phasetrace.schemes.optimal import reference
from phasetrace.schemes.scan import splits
from tiny import MBL_DS, TINY

C = 2.0  # the synthetic transition: the midpoint between the grid values 1.8 and 2.2
VALUES = np.linspace(0.2, 3.8, 10)  # splits at the midpoints: C is one of them


def synthetic(R: int = 20, T: int = 6, F: int = 4, width: float = 0.12, noise: float = 0.15, seed: int = 0):
    """Traces (n · R, T, F) ordered (point, realization) of a sweep with a crossover at C: below it the aligned
    traces decay to 0 (ergodic-like), above it they stay at the initial ±1 pattern (localized-like)."""
    rng = np.random.default_rng(seed)
    n = VALUES.size
    init = rng.choice([-1.0, 1.0], size=(n, R, 1, F))
    frozen = 1.0 / (1.0 + np.exp(-(VALUES - C) / width))
    decay = np.linspace(1.0, 0.0, T)[None, None, :, None]
    level = frozen[:, None, None, None] + (1 - frozen[:, None, None, None]) * decay
    x = np.clip(init * level + noise * rng.normal(size=(n, R, T, F)), -1, 1)
    x[:, :, 0, :] = init[:, :, 0, :]
    return x.reshape(n * R, T, F), (n, R)


def config(**training) -> dict:
    cfg = copy.deepcopy(TINY)
    cfg["training"] |= {"members": 8, "resamples": 4, "steps": 120, "units": 16, "late_times": 3} | training
    return cfg


def covers(boundary, value: float) -> bool:
    lo95, _, _, hi95 = np.asarray(boundary.interval if hasattr(boundary, "interval") else boundary)
    return lo95 - 1e-6 <= value <= hi95 + 1e-6  # a boundary the data fix exactly has an interval of width 0


# --- the indicators' peaks -------------------------------------------------------------------------------------------


def ideal_accuracy(s: np.ndarray, edges: list[float]) -> np.ndarray:
    """The best possible accuracy of the labels "v > s" on a uniform sweep over [edges[0], edges[-1]] when the traces
    tell only which phase (interval between neighbouring edges) they come from: within each phase the minority side
    of the split is misclassified. 1 at every inner edge, 1 at the ends, lower between: a W."""
    error = np.zeros_like(s)
    for a, b in zip(edges[:-1], edges[1:], strict=True):
        below = np.clip(s - a, 0, b - a)
        error += np.minimum(below, (b - a) - below)
    return 1 - error / (edges[-1] - edges[0])


def test_the_inner_maximum_of_a_w_is_the_transition_not_its_edges():
    s = np.linspace(0.0, 10.0, 41)
    for c in (3.0, 6.5):
        curve = ideal_accuracy(s, [-0.1, c, 10.1])
        (region,) = peak_regions(curve, 1)
        assert 0 < region[0] < region[1] < s.size - 1  # bounded by the minima of the W, not its edges
        assert peak_position(s, curve, region) == pytest.approx(c, abs=1e-9)
    two = ideal_accuracy(s, [-0.1, 2.5, 7.5, 10.1])  # three phases, two transitions: two inner maxima
    assert [peak_position(s, two, r) for r in peak_regions(two, 2)] == pytest.approx([2.5, 7.5])


def test_a_peak_is_refined_between_grid_points_and_a_flat_top_is_split():
    x = np.linspace(0.0, 1.0, 11)
    assert peak_position(x, -((x - 0.43) ** 2), (0, 10)) == pytest.approx(0.43)  # the parabola's vertex
    flat = np.array([0, 1, 2, 3, 3, 3, 2, 1, 0, 0, 0], dtype=float)
    assert peak_position(x, flat, (0, 10)) == pytest.approx(0.4)  # the middle of 0.3 … 0.5


def test_replicated_boundaries_is_the_supervised_schemes_interval():
    """On a supervised set's predictions, the generic replicate machinery gives exactly boundaries.estimate."""
    rng = np.random.default_rng(3)
    k, G, n, R = 8, 4, 9, 6
    x = np.linspace(0.0, 4.0, n)
    p1 = 1 / (1 + np.exp(-(x[None, :, None] - 2.0 - 0.3 * rng.normal(size=(k, 1, 1))) / 0.5))
    p1 = np.clip(p1 + 0.1 * rng.normal(size=(k, n, R)), 0.01, 0.99)
    p = np.stack([1 - p1, p1], axis=-1)
    averaging = rng.integers(0, R, size=(G, n, R))
    labels = np.where(x <= 0.5, 0, np.where(x >= 3.5, 1, -1))
    lo, hi = gap(x, labels, 0, 1)
    want = estimate(x, p, 0, 1, lo, hi, averaging)

    def crossing(members, selection):
        q = p if members is None else p[members]
        q = q.mean(axis=2) if selection is None else q[:, np.arange(n)[:, None], selection].mean(axis=2)
        curve = q.mean(axis=0)
        return np.array([fitted_crossing(x, curve[:, 0], curve[:, 1], lo, hi)])

    (got,) = replicated_boundaries(crossing, k, averaging, [(lo, hi)])
    # the same numbers up to the fit's tolerance (the full mean is taken in another order)
    assert (got.value, got.se, got.dof) == pytest.approx((want.value, want.se, want.dof), abs=1e-8)
    np.testing.assert_allclose(got.interval, want.interval, atol=1e-8)
    np.testing.assert_allclose(got.replicates, want.replicates, atol=1e-8)
    np.testing.assert_allclose(got.members, want.members, atol=1e-8)


# --- the optimal predictors ------------------------------------------------------------------------------------------


def test_every_optimal_predictor_recovers_a_known_transition_within_its_interval():
    x, shape = synthetic()
    labels = np.where(VALUES <= 0.6, 0, np.where(VALUES >= 3.4, 1, -1))
    ds = reference(config(), x, VALUES, labels, shape, (99, 0), [(0, 1, "a|b")])
    step = VALUES[1] - VALUES[0]
    for scheme in ("supervised", "scan", "regression"):
        one = ds.sel(scheme=scheme, transition="a|b")
        assert covers(one["boundary_interval"].values, C), (scheme, one["boundary_interval"].values)
        assert abs(float(one["boundary"]) - C) < step, scheme
    # the optimal accuracy is W-shaped: highest at the transition's split among the inner ones, 1/2 … 1 everywhere
    acc = ds["accuracy"].values
    assert splits(VALUES)[np.argmax(acc[1:-1]) + 1] == pytest.approx(C)
    assert (acc >= 0.5 - 1e-12).all() and (acc <= 1 + 1e-12).all()
    assert ds["derivative"].values == pytest.approx(np.gradient(ds["prediction"].values, VALUES))


def test_each_optimal_replicate_is_computed_from_its_own_resample():
    """Every group replicate of the optimal supervised boundary equals the crossing of the curves of its own resample
    of the realizations, recomputed here one by one (the job once looked curves up by the id() of a view, which a later
    view could reuse: replicates then came from other resamples, and two runs of the same job differed)."""
    from phasetrace.kinds.threshold import imbalance_features
    from phasetrace.schemes.optimal import curves, kernel, posterior
    from phasetrace.seeds import stream_rng

    x, shape = synthetic()
    cfg, context = config(), (99, 0)
    labels = np.where(VALUES <= 0.6, 0, np.where(VALUES >= 3.4, 1, -1))
    ds = reference(cfg, x, VALUES, labels, shape, context, [(0, 1, "a|b")])
    K = kernel(imbalance_features(x, cfg["training"]["late_times"]), shape)
    G, (n, R) = cfg["training"]["resamples"], shape
    selections = stream_rng(cfg["seed"], "optimal", *context).integers(0, R, size=(G, n, R))
    lo, hi = gap(VALUES, labels, 0, 1)
    own = [curves(posterior(K, shape, selections[g]), VALUES, labels, [(0, 1, "a|b")]) for g in range(G)]
    for scheme, x_of, curve in (("scan", splits(VALUES), "accuracy"), ("regression", VALUES, "derivative")):
        _, _, estimate = locate(x_of, lambda _, sel, c=curve: own[sel][c] if sel is not None else ds[c].values, 1)
        got = ds["boundary_replicates"].sel(scheme=scheme, transition="a|b").values
        assert got == pytest.approx([estimate(None, g)[0] for g in range(G)], abs=1e-12), scheme
    for g in range(G):
        (q,) = own[g]["share"]
        got = float(ds["boundary_replicates"].sel(scheme="supervised", transition="a|b").values[g])
        assert got == pytest.approx(fitted_crossing(VALUES, 1 - q, q, lo, hi), abs=1e-12), g
    again = reference(cfg, x, VALUES, labels, shape, context, [(0, 1, "a|b")])
    xr.testing.assert_identical(ds, again)


def test_the_optimal_predictors_see_no_transition_in_featureless_data():
    """The same sweep with identical statistics everywhere: the optimal accuracy stays at the trivial level of the
    majority side, a V without an inner peak (a test of the reference itself, which could otherwise find what it is
    told), where the data with a transition give a prominent one."""
    from scipy.signal import find_peaks

    x, shape = synthetic(width=1e9)  # every point half frozen
    ds = reference(config(), x, VALUES, np.where(VALUES <= 0.6, 0, np.where(VALUES >= 3.4, 1, -1)), shape, (9, 0),
                   [(0, 1, "a|b")])  # fmt: skip
    s = splits(VALUES)
    trivial = np.maximum((np.arange(s.size) + 1) / VALUES.size, 1 - (np.arange(s.size) + 1) / VALUES.size)
    assert np.abs(ds["accuracy"].values - trivial).max() < 0.1
    assert find_peaks(ds["accuracy"].values, prominence=0.05)[0].size == 0
    x, shape = synthetic()
    sharp = reference(config(), x, VALUES, np.where(VALUES <= 0.6, 0, np.where(VALUES >= 3.4, 1, -1)), shape, (9, 0),
                      [(0, 1, "a|b")])  # fmt: skip
    assert find_peaks(sharp["accuracy"].values, prominence=0.05)[0].size == 1


# --- the networks on synthetic data (training: slow tier) -------------------------------------------------------------


@pytest.mark.slow
def test_every_trained_scheme_recovers_a_known_transition_within_its_interval():
    """Learning by confusion and the prediction-based method with the MLP find the transition with no windows given,
    the supervised scheme with its windows: each within its 95% interval, each within a grid step of it."""
    from phasetrace.schemes import regression, scan
    from phasetrace.training import fit_boundaries, fit_set, hyper

    x, shape = synthetic()
    cfg = config()
    step = VALUES[1] - VALUES[0]
    for module in (scan, regression):
        fitted = module.fit(cfg, "mlp", x, VALUES, shape, (99, 0))
        ds = module.indicator(cfg, fitted, VALUES, ["a|b"])
        assert covers(ds["boundary_interval"].values[0], C), (module.__name__, ds["boundary_interval"].values)
        assert abs(float(ds["boundary"][0]) - C) < step, module.__name__
    labels = np.repeat(np.where(VALUES <= 0.6, 0, np.where(VALUES >= 3.4, 1, -1)), shape[1])
    t = cfg["training"]
    fit = fit_set(x, labels, hyper(cfg, 2, "mlp"), t["members"], cfg["seed"], t["holdout"], 99, 0, shape=shape,
                  resamples=t["resamples"])  # fmt: skip
    (found,) = fit_boundaries(VALUES, labels[:: shape[1]], fit, [(0, 1, "a|b")])
    assert covers(found, C) and abs(found.value - C) < step


# --- the multi-task scan against the single-task one (workflow tier: the tiny dataset, LSTMs) ------------------------


@pytest.mark.workflow
def test_the_multi_task_scan_agrees_with_the_single_task_scan_on_the_tiny_config(reference_run):
    from phasetrace.schemes import scan
    from phasetrace.schemes.scan import fit as scan_fit
    from phasetrace.training import dataset_for, set_samples, transitions

    cfg = copy.deepcopy(TINY)
    ds = dataset_for(cfg, "mbl", str(reference_run / MBL_DS))
    names = [name for _, _, name in transitions(ds)]
    x, _, shape, context = set_samples("mbl", ds, {"eps": 0.3})
    found = {
        mode: scan.indicator(cfg, scan_fit(cfg, "lstm", x, ds["W"].values, shape, context, mode), ds["W"].values, names)
        for mode in ("multi", "single")
    }
    one, other = (found[m]["boundary_interval"].values[0] for m in ("multi", "single"))
    assert one[0] <= other[3] and other[0] <= one[3], (one, other)  # the 95% intervals overlap
    for mode in found:  # each estimate inside its own interval, accuracy a fraction
        b = float(found[mode]["boundary"][0])
        assert found[mode]["boundary_interval"].values[0][0] <= b <= found[mode]["boundary_interval"].values[0][3]
        assert ((found[mode]["accuracy"] >= 0) & (found[mode]["accuracy"] <= 1)).all()


# --- the config section and the registry -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value", "match"),
    [
        ("kinds", ["threshold"], r"schemes\.kinds\[0\] = 'threshold' is not allowed: the schemes train networks"),
        ("kinds", ["forest"], r"schemes\.kinds\.0 = 'forest' is not allowed: it must be one of \['lstm'"),
        (
            "compare",
            ["confusion"],
            r"schemes\.compare\.0 = 'confusion' is not allowed: it must be one of \['supervised', 'scan'",
        ),
        ("eps", [0.5], r"schemes\.eps\[0\] = 0\.5 is not allowed: it must be a point of mbl\.eps \(\[0\.3, 0\.7\]\)"),
        ("scan", "both", r"schemes\.scan = 'both' is not allowed: it must be one of \['multi', 'single'\]"),
    ],
)
def test_a_bad_schemes_section_names_the_key_and_the_allowed_values(key, value, match):
    cfg = copy.deepcopy(TINY)
    cfg["schemes"][key] = value
    with pytest.raises(ValueError, match=match):
        validate(cfg)


def test_the_scheme_registry_fills_the_schema_and_the_wildcards():
    from phasetrace.config import schema
    from phasetrace.pipeline import Pipeline

    assert schema()["$defs"]["scheme"]["enum"] == list(SCHEMES)
    assert Pipeline(TINY).wildcard_constraints()["scheme"].split("|") == trained() == ["scan", "regression"]


# --- what the tiny reference run builds ------------------------------------------------------------------------------


def test_the_tiny_run_compares_every_scheme_with_intervals(reference_run):
    import csv

    from phasetrace.store import open_dataset

    rows = list(csv.DictReader(open(reference_run / "results/checks/schemes.csv")))
    cfg = TINY["schemes"]
    kinds = {*cfg["kinds"], "optimal"}
    for model, transitions in (("mbl", 1), ("floquet", 2)):
        mine = [r for r in rows if r["model"] == model]
        assert {(r["scheme"], r["kind"]) for r in mine} == {
            (s, k) for s in ["supervised", *cfg["compare"]] for k in kinds
        }
        assert len(mine) == transitions * len(kinds) * (1 + len(cfg["compare"]))
        for r in mine:
            lo95, lo68, b, hi68, hi95 = (float(r[c]) for c in ("lo95", "lo68", "boundary", "hi68", "hi95"))
            assert lo95 <= lo68 <= b <= hi68 <= hi95, r
    assert (reference_run / "results/figures/schemes.png").stat().st_size > 10_000
    kind = cfg["kinds"][0]
    sc = open_dataset(reference_run / f"results/mbl/L6/{kind}/scan.zarr")
    W = sc["split"].values
    assert W == pytest.approx(splits(np.asarray(TINY["mbl"]["W"])))
    assert sc.attrs["mode"] == "multi" and list(sc["eps"].values) == cfg["eps"]
    assert sc.sizes["resample"] == TINY["training"]["resamples"]  # every group's replicate of each boundary
    rg = open_dataset(reference_run / f"results/mbl/L6/{kind}/regression.zarr")
    assert rg["derivative"].values[0] == pytest.approx(np.gradient(rg["prediction"].values[0], rg["W"].values))
    opt = open_dataset(reference_run / "results/floquet/L4/optimal.zarr")
    assert list(opt["scheme"].values) == list(SCHEMES) and isinstance(opt, xr.Dataset)


def test_classify_applies_the_saved_scheme_networks_as_the_scheme_job_did(reference_run, tmp_path):
    """Each compared set's scan and regression networks are saved; classify on that set's own traces gives back the
    job's indicator curves: the scan's accuracy per member on the held-out realizations, the regression's mean
    prediction."""
    from phasetrace.__main__ import classify
    from phasetrace.schemes.scan import accuracy_curve
    from phasetrace.store import open_dataset, read_arrays

    kind, eps = TINY["schemes"]["kinds"][0], TINY["schemes"]["eps"][0]
    traces = tmp_path / "one_eps.zarr"
    xr.open_zarr(reference_run / MBL_DS).sel(eps=[eps]).to_zarr(traces)
    W = np.asarray(TINY["mbl"]["W"], dtype=float)
    for scheme in ("scan", "regression"):
        folder = reference_run / f"results/mbl/L6/{kind}/{scheme}/networks"
        assert [p.name for p in folder.glob("*.zarr.zip")] == [f"eps{eps:.4f}.zarr.zip"]
        net = folder / f"eps{eps:.4f}.zarr.zip"
        out = tmp_path / f"{scheme}.zarr"
        classify(str(net), str(traces), str(out))
        got = open_dataset(out).isel(eps=0)
        job = open_dataset(reference_run / f"results/mbl/L6/{kind}/{scheme}.zarr").sel(eps=eps)
        assert got.attrs["scheme"] == scheme
        if scheme == "regression":
            assert got["prediction_averaged"].values == pytest.approx(job["prediction"].values, abs=1e-5)
            assert got["prediction"].sizes["member"] == TINY["training"]["members"]
        else:
            q = got["q"].transpose("member", "W", "realization", "split").values
            assert ((q >= 0) & (q <= 1)).all() and got["split"].values == pytest.approx(splits(W))
            held = read_arrays(net)[0]["held"]
            per_member = [accuracy_curve(q[j], W, held) for j in range(q.shape[0])]
            assert np.array_equal(np.stack(per_member), job["accuracy_per_member"].values)
            # the implied sweep value is the mean of the distribution P(W = Wᵢ) = q̄ᵢ₋₁ − q̄ᵢ (q̄₋₁ = 1, q̄ₙ₋₁ = 0)
            tail = np.concatenate([np.ones((*q.shape[1:3], 1)), q.mean(axis=0), np.zeros((*q.shape[1:3], 1))], -1)
            expected = (tail[..., :-1] - tail[..., 1:]) @ W
            assert got["estimate"].transpose("W", "realization").values == pytest.approx(expected, abs=1e-12)


def test_the_schemes_train_on_the_realizations_the_supervised_sets_train_on():
    """training.realizations = P: the networks see the first P realizations of every point (hold-out, training
    resamples and the held-out evaluation within them), and the mean prediction averages all R."""
    from phasetrace.schemes.fitting import prepare

    n, R, P = 5, 10, 6
    full = prepare(config(realizations=None), (n, R), (99, 0))
    pooled = prepare(config(realizations=P), (n, R), (99, 0))
    assert (full["held"] < R).all() and full["held"].shape == (n, round(0.2 * R))
    assert (pooled["held"] < P).all() and pooled["held"].shape == (n, round(0.2 * P))
    assert (pooled["train_idx"] % R < P).all() and (pooled["evaluation"] < P).all()
    for i in range(n):  # no member trains on a realization held out at its point
        trained_here = pooled["train_idx"][pooled["train_idx"] // R == i] % R
        assert not np.isin(trained_here, pooled["held"][i]).any()
    assert pooled["averaging"].shape == full["averaging"].shape == (4, n, R)
    same = prepare(config(realizations=R), (n, R), (99, 0))  # a pool of every realization is no pool
    for key in ("held", "train_idx", "averaging", "evaluation"):
        np.testing.assert_array_equal(same[key], full[key])


def test_a_config_without_the_schemes_section_builds_none_of_it():
    """The section is optional (a preset given with --configfile alone has none): the workflow parses, and neither
    the comparison nor its inputs are targets."""
    from phasetrace.pipeline import SCHEMES as OUTPUTS
    from phasetrace.pipeline import Pipeline

    cfg = copy.deepcopy(TINY)
    del cfg["schemes"]
    P = Pipeline(cfg)
    assert not set(OUTPUTS) & set(P.all_targets()) and not any(P.scheme_inputs().values())
    assert set(OUTPUTS[1:]) <= set(Pipeline(TINY).all_targets())
