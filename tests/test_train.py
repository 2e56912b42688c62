"""LSTM training: confusion formula, vmapped seeds = separate trainings, a learnable rule, save/reload."""

import numpy as np
import pytest
import xarray as xr

from phasetrace import learn
from phasetrace.__main__ import classify
from phasetrace.train import Hyper, confusion, predict_seeds, seed_keys, train_seeds, train_single


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
    return np.clip(x, -1, 1).astype(np.float32), y  # <σᶻ> lies in [-1, 1]


SMALL = Hyper(n_classes=2, units=6, dropout=0.2, l2=0.01, learning_rate=0.01, batch_size=16, epochs=3)


def test_vmapped_seeds_equal_separate_trainings():
    x, y = synthetic(40)
    keys = seed_keys(1, 3, 9)
    stacked, losses = train_seeds(keys, x, y, x[:4], SMALL)
    for s in range(3):
        one, loss = train_single(keys[s], x, y, x[:4], SMALL)
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


def test_obvious_rule_is_learned_to_95_percent():
    x, y = synthetic(400, seed=3)
    hp = Hyper(n_classes=2, learning_rate=0.01)  # the paper's network: 32 units, dropout 0.2, L2 0.01, batch 64, 25 epochs
    fit = learn.fit_set(x, y, hp, k=3, seed=5, holdout=0.2)
    assert fit["accuracy"].min() >= 0.95, fit["accuracy"]
    assert fit["loss"][:, -1].mean() < fit["loss"][:, 0].mean()


def test_confidence_enhancement_lowers_entropy_on_unlabeled_samples():
    x, y = synthetic(200, seed=4)
    labels = np.where(np.arange(200) < 120, y, -1)  # the last 80 samples are unlabeled
    base = Hyper(n_classes=2, units=6, learning_rate=0.01, batch_size=32, epochs=10)
    entropy = {}
    for weight in (0.0, 1.0):
        hp = Hyper(**{**base.__dict__, "confidence_weight": weight})
        p = learn.fit_set(x, labels, hp, k=2, seed=1, holdout=0.2)["p"][:, 120:]
        entropy[weight] = float(-(p * np.log(p + 1e-12)).sum(-1).mean())
    assert entropy[1.0] < entropy[0.0]


def test_saved_networks_reload_and_predict_identically(tmp_path):
    x, y = synthetic(60, T=5, F=3)
    fit = learn.fit_set(x, y, SMALL, k=2, seed=0, holdout=0.2)
    path = tmp_path / "net.zarr.zip"
    traces = tmp_path / "traces.zarr"
    ds = xr.Dataset({"magnetization": (("realization", "time", "site"), x.astype(np.float64))},
                    coords={"time": np.linspace(0.0, 4.0, 5)})
    ds.to_zarr(traces)
    learn.save_set(str(path), fit, SMALL, ds.assign(label=xr.DataArray(0, attrs={"classes": ["a", "b"]})), "time", {})
    params, hp, attrs, times = learn.load_networks(str(path))
    assert hp == SMALL and attrs["n_features"] == 3 and times.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    assert np.array_equal(np.asarray(predict_seeds(params, x, hp, 3)), fit["p"])

    out = tmp_path / "pred.zarr"
    classify(str(path), str(traces), str(out))
    pred = xr.open_zarr(out)
    assert np.array_equal(pred["p"].values, fit["p"])
    assert pred["confusion"].shape == ()
    with pytest.raises(ValueError, match="trained on 3"):
        bad = tmp_path / "bad.zarr"
        ds.isel(site=slice(0, 2)).to_zarr(bad)
        classify(str(path), str(bad), str(tmp_path / "x.zarr"))


def test_concurrent_trainings_in_threads_finish():
    """Local workflow jobs are threads of one process; two trainings at once once hung in XLA's CPU runtime."""
    import threading

    x, y = synthetic(48, T=6, F=3)
    done = []

    def work(units):
        hp = Hyper(n_classes=2, units=units, learning_rate=0.01, batch_size=16, epochs=3)
        learn.fit_set(x, y, hp, k=2, seed=units, holdout=0.2)
        done.append(units)

    threads = [threading.Thread(target=work, args=(u,), daemon=True) for u in (3, 5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert sorted(done) == [3, 5]
