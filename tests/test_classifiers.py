"""Classifiers and boundaries: the confusion formula, every kind on an obvious rule, vmapped members = separate
trainings, save/reload/classify for every kind, crossings on hand-made p, and calibrated intervals (two-sided)."""

import jax
import numpy as np
import pytest
import xarray as xr

from phasetrace import training
from phasetrace.__main__ import classify
from phasetrace.boundaries import confusion, crossing, estimate, fitted_crossing, replicate_variance
from phasetrace.classifiers import Hyper, encode, member_keys, predict_members
from phasetrace.kinds import KINDS
from phasetrace.kinds.network import _train_networks, train_single
from phasetrace.store import read_arrays, write_arrays

CLASSIFIER_KINDS = list(KINDS)
NETWORKS = [k for k in KINDS if KINDS[k].module in ("lstm", "mlp", "logistic")]


@pytest.mark.parametrize(
    "p,expected",
    [
        ([0.5, 0.5], 1.0),
        ([1.0, 0.0], 0.0),
        ([0.8, 0.2], -np.log2(0.8)),
        ([0.2, 0.3, 0.5], -np.log2(0.5 / 0.8)),
        ([1 / 3, 1 / 3, 1 / 3], 1.0),
        ([0.6, 0.0, 0.4], -np.log2(0.6)),
    ],
)
def test_confusion_of_hand_made_probabilities(p, expected):
    assert confusion(np.array(p)) == pytest.approx(expected, abs=1e-12)


def test_confusion_is_vectorized_over_leading_axes():
    p = np.array([[[0.5, 0.5], [1.0, 0.0]], [[0.9, 0.1], [0.1, 0.9]]])
    assert np.allclose(confusion(p), [[1.0, 0.0], [-np.log2(0.9)] * 2])


def synthetic(n, T=12, F=4, seed=0):
    """Class 0: traces that decay to zero; class 1: traces that keep their initial ±1 values (plus noise)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    s0 = rng.choice([-1.0, 1.0], size=(n, 1, F))
    decay = np.exp(-np.arange(T) / 2.0)[None, :, None]
    x = np.where(y[:, None, None] == 1, s0, s0 * decay) + 0.1 * rng.standard_normal((n, T, F))
    x[:, 0, :] = s0[:, 0, :]  # the first point is the initial product state
    return np.clip(x, -1, 1).astype(np.float32), y  # <σᶻ> lies in [-1, 1]


SMALL = Hyper(n_classes=2, units=6, dropout=0.2, l2=0.01, learning_rate=0.01, batch_size=16, steps=6)


def test_aligned_input_is_the_trace_relative_to_the_initial_state():
    x, _ = synthetic(5)
    assert np.array_equal(encode(x, "raw"), x)
    assert np.array_equal(encode(x, "aligned"), x * x[:, :1, :])
    assert np.all(encode(x, "aligned")[:, 0, :] == 1.0)
    with pytest.raises(ValueError, match="input = 'rot'"):
        encode(x, "rot")


@pytest.mark.slow
def test_vmapped_members_equal_separate_trainings():
    x, y = synthetic(40)
    keys = member_keys(1, 3, 9)
    idx = np.random.default_rng(0).integers(0, 40, (3, 40))
    stacked, losses = _train_networks(keys, x, y, idx, x[:4], SMALL)
    for s in range(3):
        one, loss = train_single(keys[s], x, y, idx[s], x[:4], SMALL)
        for a, b in zip(
            np.concatenate([np.ravel(v) for v in _leaves(one)]),
            np.concatenate([np.ravel(v[s]) for v in _leaves(stacked)]),
            strict=True,
        ):
            assert a == pytest.approx(b, rel=1e-4, abs=1e-5)
        assert np.allclose(loss, losses[s], rtol=1e-4)


def _leaves(params):
    import jax

    return jax.tree.leaves(params)


@pytest.mark.parametrize("kind", CLASSIFIER_KINDS)
def test_every_classifier_learns_an_obvious_rule_to_95_percent(kind):
    x, y = synthetic(400, seed=3)
    hp = Hyper(n_classes=2, kind=kind, learning_rate=0.01, late_times=4)  # the paper's network sizes otherwise
    fit = training.fit_set(x, y, hp, k=3, seed=5, holdout=0.2)
    assert fit["accuracy"].min() >= 0.95, fit["accuracy"]
    if kind in NETWORKS:
        assert fit["loss"][:, -1].mean() < fit["loss"][:, 0].mean()


def test_the_threshold_classifier_separates_three_phases_by_period_doubling():
    """Time crystal: I(n) alternates; Floquet-MBL: I stays; ergodic: I decays."""
    rng = np.random.default_rng(1)
    n, T, F = 90, 20, 4
    y = np.repeat([0, 1, 2], n // 3)
    s0 = rng.choice([-1.0, 1.0], size=(n, 1, F))
    shape = {0: (-1.0) ** np.arange(T), 1: np.exp(-np.arange(T) / 2.0), 2: np.ones(T)}
    x = np.stack([s0[i] * shape[c][:, None] for i, c in enumerate(y)]) + 0.05 * rng.standard_normal((n, T, F))
    x[:, 0] = s0[:, 0]
    fit = training.fit_set(np.clip(x, -1, 1), y, Hyper(n_classes=3, kind="threshold"), k=2, seed=0, holdout=0.3)
    assert fit["accuracy"].min() == 1.0


def test_member_groups_train_on_bootstrap_replicates_of_each_sweep_point():
    labels = np.repeat([0, 0, -1, -1, 1], 6)  # 5 points x 6 realizations, ordered (point, realization)
    train, held = training.holdout_split(labels, 0.2, 0, 1)
    assert sorted(np.bincount(labels[held])) == [1, 2]  # stratified: round(0.2·6), round(0.2·12)
    idx, averaging = training.realization_resamples(train, (5, 6), 4, 0, 1)
    assert idx.shape == (4, train.size) and set(np.unique(idx)) <= set(train)
    for row in idx:  # each labeled point keeps its number of training samples, drawn from its own
        assert np.array_equal(np.bincount(row // 6, minlength=5), np.bincount(train // 6, minlength=5))
    assert len({tuple(r) for r in idx}) == 4
    assert averaging.shape == (4, 5, 6) and averaging.min() >= 0 and averaging.max() < 6
    fit = training.fit_set(*synthetic(30, T=4, F=2), Hyper(n_classes=2, kind="threshold", late_times=2), 4, 0, 0.2,
                           shape=(5, 6), resamples=2)  # fmt: skip
    assert fit["averaging"].shape == (2, 5, 6)
    with pytest.raises(ValueError, match="4 members do not form 3 groups"):
        training.fit_set(*synthetic(30, T=4, F=2), Hyper(n_classes=2, kind="threshold"), 4, 0, 0.2, resamples=3)


@pytest.mark.parametrize("kind", ["threshold", "lstm"])
def test_training_pool_makes_more_realizations_refine_the_averaging_not_the_networks(kind):
    """With training.realizations = P, a sweep of R > P realizations trains exactly the networks of its first P
    (same hold-out, resamples, member keys, parameters), and predicts all R; P = R is the plain fit."""
    n, R, P = 5, 9, 4
    x, _ = synthetic(n * R, T=4, F=2)
    labels = np.repeat([0, 0, -1, 1, 1], R)
    hp = Hyper(**{**SMALL.__dict__, "kind": kind, "late_times": 2})
    first = (np.arange(n)[:, None] * R + np.arange(P)).reshape(-1)
    full = training.fit_set(x, labels, hp, 4, 3, 0.25, 1, shape=(n, R), resamples=2, pool=P)
    part = training.fit_set(x[first], labels[first], hp, 4, 3, 0.25, 1, shape=(n, P), resamples=2)
    for a, b in zip(jax.tree_util.tree_leaves(full["params"]), jax.tree_util.tree_leaves(part["params"]), strict=True):
        assert np.array_equal(np.asarray(a), np.asarray(b))
    assert np.array_equal(first[part["held_out"]], full["held_out"])
    assert full["p"].shape[1] == n * R and np.array_equal(full["p"][:, first], part["p"])
    assert full["averaging"].shape == (2, n, R) and full["averaging"].max() >= P  # every realization is averaged
    plain = training.fit_set(x, labels, hp, 4, 3, 0.25, 1, shape=(n, R), resamples=2)
    same = training.fit_set(x, labels, hp, 4, 3, 0.25, 1, shape=(n, R), resamples=2, pool=R)
    assert np.array_equal(plain["p"], same["p"]) and np.array_equal(plain["averaging"], same["averaging"])
    assert not np.array_equal(plain["held_out"], full["held_out"])  # without the pool: drawn among all R


@pytest.mark.parametrize("kind", CLASSIFIER_KINDS)
def test_saved_sets_reload_and_predict_identically(tmp_path, kind):
    x, y = synthetic(60, T=5, F=3)
    hp = Hyper(**{**SMALL.__dict__, "kind": kind, "late_times": 2})
    fit = training.fit_set(x, y, hp, k=2, seed=0, holdout=0.2)
    path = tmp_path / "net.zarr.zip"
    traces = tmp_path / "traces.zarr"
    ds = xr.Dataset(
        {"magnetization": (("realization", "time", "site"), x.astype(np.float64))},
        coords={"time": np.linspace(0.0, 4.0, 5)},
    )
    ds.to_zarr(traces)
    training.save_set(str(path), fit, hp, ds.assign(label=xr.DataArray(0, attrs={"classes": ["a", "b"]})), "time", {})
    params, hp2, attrs, times = training.load_networks(str(path))
    assert hp2 == hp and attrs["n_features"] == 3 and times.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert np.array_equal(predict_members(params, x, hp2), fit["p"])

    out = tmp_path / "pred.zarr"
    classify(str(path), str(traces), str(out))
    pred = xr.open_zarr(out)
    assert np.array_equal(pred["p"].values, fit["p"])
    assert pred["confusion"].shape == ()
    with pytest.raises(ValueError, match="trained on 3"):
        bad = tmp_path / "bad.zarr"
        ds.isel(site=slice(0, 2)).to_zarr(bad)
        classify(str(path), str(bad), str(tmp_path / "x.zarr"))


def test_a_threshold_set_saved_under_its_old_kind_name_still_loads(tmp_path):
    """phasetrace 0.2 called the threshold kind "imbalance": its saved sets load as the threshold kind."""
    x, y = synthetic(40, T=5, F=2)
    hp = Hyper(n_classes=2, kind="threshold", late_times=2)
    fit = training.fit_set(x, y, hp, k=2, seed=0, holdout=0.2)
    ds = xr.Dataset({"magnetization": (("realization", "time", "site"), x.astype(np.float64))})
    ds = ds.assign_coords(time=np.arange(5.0)).assign(label=xr.DataArray(0, attrs={"classes": ["a", "b"]}))
    path = tmp_path / "old.zarr.zip"
    training.save_set(str(path), fit, hp, ds, "time", {})
    arrays, attrs = read_arrays(path)
    write_arrays(str(path), arrays, attrs | {"hyper": attrs["hyper"] | {"kind": "imbalance"}})
    params, loaded, _, _ = training.load_networks(str(path))
    assert loaded == hp and np.array_equal(predict_members(params, x, loaded), fit["p"])


@pytest.mark.slow
def test_confidence_enhancement_lowers_entropy_on_unlabeled_samples():
    x, y = synthetic(200, seed=4)
    labels = np.where(np.arange(200) < 120, y, -1)  # the last 80 samples are unlabeled
    base = Hyper(n_classes=2, units=6, learning_rate=0.01, batch_size=32, steps=20)
    entropy = {}
    for weight in (0.0, 1.0):
        hp = Hyper(**{**base.__dict__, "confidence_weight": weight})
        p = training.fit_set(x, labels, hp, k=2, seed=1, holdout=0.2)["p"][:, 120:]
        entropy[weight] = float(-(p * np.log(p + 1e-12)).sum(-1).mean())
    assert entropy[1.0] < entropy[0.0]


@pytest.mark.slow
def test_concurrent_trainings_in_threads_finish():
    """Local workflow jobs are threads of one process (profiles/default); two trainings at once once hung in XLA's
    CPU runtime. With the per-process lock they finish, and each equals the same training run alone."""
    import threading

    x, y = synthetic(48, T=6, F=3)
    done = {}

    def fit(units):
        hp = Hyper(n_classes=2, units=units, learning_rate=0.01, batch_size=16, steps=6)
        return training.fit_set(x, y, hp, k=2, seed=units, holdout=0.2)["p"]

    def work(units):
        done[units] = fit(units)

    threads = [threading.Thread(target=work, args=(u,), daemon=True) for u in (3, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert sorted(done) == [3, 5]
    for units, p in done.items():
        assert np.array_equal(p, fit(units))


# --- boundaries ----------------------------------------------------------------------------------------------------


def test_crossing_interpolates_between_grid_points_and_prefers_the_most_balanced_change():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    p1 = np.array([0.0, 0.1, 0.3, 0.9, 1.0])  # crosses 0.5 between 2 and 3, at 2 + 0.2/0.6
    assert crossing(x, 1 - p1, p1, 0.0, 4.0) == pytest.approx(2 + 1 / 3)
    assert crossing(x, 1 - p1, p1, 0.0, 2.0) == 2.0  # no change inside [0, 2]: the most balanced point
    noisy = np.array([0.0, 0.45, 0.55, 0.45, 1.0])  # three sign changes; the nearest to p = 0.5 wins (1 → 2)
    assert crossing(x, 1 - noisy, noisy, 0.0, 4.0) == pytest.approx(1.5)
    # three phases: where the third dominates, p_a ≈ p_b ≈ 0 and their noise must not count as the a|b crossing
    pa, pb = np.array([0.9, 0.5, 0.3, 0.01, 0.0]), np.array([0.1, 0.45, 0.6, 0.02, 0.0])
    assert crossing(x, pa, pb, 0.0, 4.0) == pytest.approx(1 + 0.05 / 0.35)  # (1, 2), not the flips at 3 → 4
    stacked = crossing(x, np.stack([1 - p1, 1 - p1]), np.stack([p1, p1]), 0.0, 4.0)
    assert stacked.shape == (2,) and np.allclose(stacked, 2 + 1 / 3)


def test_fitted_crossing_recovers_a_logistic_and_ignores_where_a_third_phase_dominates():
    x = np.linspace(0.0, 4.0, 17)
    q = 1 / (1 + np.exp(-(x - 2.13) / 0.4))
    assert fitted_crossing(x, 1 - q, q, 0.0, 4.0) == pytest.approx(2.13, abs=1e-6)
    third = np.where(x > 3.0, 0.98, 0.0)  # a third phase takes over above 3: p_a + p_b ≈ 0.02 there
    noise = np.where(x > 3.0, np.resize([0.9, 0.1], x.size), q)  # ... and its a|b share is noise
    pa, pb = (1 - third) * (1 - noise), (1 - third) * noise
    assert fitted_crossing(x, pa, pb, 0.0, 4.0) == pytest.approx(2.13, abs=0.05)


def test_replicate_variance_is_the_groups_variance_with_g_minus_1_degrees_of_freedom():
    """Replicates = data noise (σ_D) + optimizer noise of m members (σ₁²/m): V estimates their variance, an upper
    bound of a k-member estimate's σ_D² + σ₁²/k, with G − 1 degrees of freedom; its intervals are Student-t's."""
    rng = np.random.default_rng(0)
    G, m, sd_data, sd_one = 4000, 4, 0.1, 0.5
    reps = rng.normal(0, sd_data, G) + rng.normal(0, sd_one, (G, m)).mean(axis=1)
    V, dof = replicate_variance(reps)
    assert V == pytest.approx(sd_data**2 + sd_one**2 / m, rel=0.1) and dof == G - 1
    found = estimate(
        np.linspace(0, 1, 5), np.full((4, 5, 3, 2), 0.5), 0, 1, 0.0, 1.0, np.zeros((2, 5, 3), dtype=int)
    )  # identical members and replicates: no spread, a zero-width interval at the value
    assert found.se == 0 and found.dof == 1 and np.all(found.interval == found.value)


def _crossover_data(rng, W, Wc, width, R, T=12, F=4):
    """Samples whose phase is drawn with P(localized | W) = σ((W − Wc)/width): a known crossover at Wc."""
    y = (rng.random((W.size, R)) < 1 / (1 + np.exp(-(W[:, None] - Wc) / width))).astype(int).ravel()
    s0 = rng.choice([-1.0, 1.0], size=(y.size, 1, F))
    decay = np.exp(-np.arange(T) / 2.0)[None, :, None]
    x = np.where(y[:, None, None] == 1, s0, s0 * decay) + 0.1 * rng.standard_normal((y.size, T, F))
    x[:, 0] = s0[:, 0]
    return np.clip(x, -1, 1)


def _coverage(hp: Hyper, trials: int, k: int, resamples: int) -> tuple[float, float, float]:
    """Fractions of independent data sets whose 95% and 68% intervals cover the true boundary, and the mean 95%
    width, for the whole estimate (training, averaging, intervals) as the workflow makes it."""
    W = np.linspace(0.0, 4.0, 17)
    Wc, R = 2.1, 20
    labels = np.repeat(np.where(W <= 0.5, 0, np.where(W >= 3.5, 1, -1)), R)
    in95, in68, widths = 0, 0, []
    for trial in range(trials):
        x = _crossover_data(np.random.default_rng(100 + trial), W, Wc, 0.3, R)
        fit = training.fit_set(x, labels, hp, k, trial, 0.2, shape=(W.size, R), resamples=resamples)
        found = estimate(W, fit["p"].reshape(k, W.size, R, 2), 0, 1, 0.5, 3.5, fit["averaging"])
        lo95, lo68, hi68, hi95 = found.interval
        assert lo95 <= lo68 <= found.value <= hi68 <= hi95  # the estimate lies inside its own intervals
        in95 += lo95 <= Wc <= hi95
        in68 += lo68 <= Wc <= hi68
        widths.append(hi95 - lo95)
    return in95 / trials, in68 / trials, float(np.mean(widths))


def test_intervals_are_calibrated_on_a_known_transition_threshold_kind():
    """Two-sided: the 95% interval covers the true boundary in 90–99% of 200 independent data sets, the 68% one in
    58–78% (neither too narrow nor too wide), and it is informative."""
    c95, c68, width = _coverage(Hyper(n_classes=2, kind="threshold", late_times=4), 200, 20, 20)
    assert 0.90 <= c95 <= 0.99 and 0.58 <= c68 <= 0.78, (c95, c68, width)
    assert width < 1.0  # narrower than four grid spacings


@pytest.mark.slow
def test_intervals_are_calibrated_on_a_known_transition_lstm():
    """As above for the LSTM (the optimizer's noise is part of the estimate), over 100 data sets."""
    hp = Hyper(n_classes=2, units=4, learning_rate=0.01, batch_size=16, steps=60)
    c95, c68, width = _coverage(hp, 100, 40, 10)  # the default structure: 10 groups of 4
    assert 0.90 <= c95 <= 0.99 and 0.58 <= c68 <= 0.78, (c95, c68, width)
    assert width < 1.0


def test_old_boundary_tables_and_configs_are_refused_with_the_way_forward(tmp_path):
    """boundary.csv of phasetrace < 0.2 (member-percentile columns, no *_se) and its training.bootstrap key."""
    import copy

    import yaml

    from phasetrace.config import validate

    old = tmp_path / "boundary.csv"
    old.write_text("eps,transition,W_boundary,W_lo95,W_lo68,W_hi68,W_hi95\n0.5,ergodic|localized,2.5,2,2.3,2.7,3\n")
    with pytest.raises(ValueError, match="written before phasetrace 0.2: its interval columns are percentiles"):
        training.read_boundaries(str(old))
    config = yaml.safe_load(open(training.__file__.rsplit("/src/", 1)[0] + "/config.yaml"))
    legacy = copy.deepcopy(config)
    legacy["training"]["bootstrap"] = 200
    with pytest.raises(ValueError, match=r"training\.bootstrap was removed in phasetrace 0\.2; use training\.resampl"):
        validate(legacy)
    uneven = copy.deepcopy(config)
    uneven["training"]["members"] = 30
    uneven["training"]["resamples"] = 20
    with pytest.raises(ValueError, match=r"training\.members = 30 is not allowed with training\.resamples = 20"):
        validate(uneven)
