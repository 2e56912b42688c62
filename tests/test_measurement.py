"""The measurement model (identity, shot-noise statistics, selections, the imbalance, seeded noise), classify on
every input format and observable, and the single-neuron internals (the numpy LSTM against the network)."""

import copy

import numpy as np
import pytest
import xarray as xr

from phasetrace import training
from phasetrace.__main__ import classify
from phasetrace.classifiers import Hyper, encode, flat_params, predict_members
from phasetrace.config import load, validate
from phasetrace.kinds.lstm import lstm_states
from phasetrace.measurement import (
    EXACT,
    features,
    imbalance,
    measure,
    observed,
    parse_variant,
    robustness_variants,
    shot_noise,
    time_index,
    variant_name,
)
from phasetrace.paper_checks import best_threshold
from phasetrace.store import open_traces, read_traces_csv, write_traces_csv
from test_classifiers import SMALL, synthetic


def chain_dataset(seed=0, eps=(0.3, 0.5), W=(0.5, 3.0, 8.0), R=3, T=9, L=6):
    """An MBL-shaped dataset: random traces in [−1, 1] that start from a ±1 product state."""
    rng = np.random.default_rng(seed)
    m = rng.uniform(-1, 1, (len(eps), len(W), R, T, L))
    m[..., 0, :] = rng.choice([-1.0, 1.0], size=(len(eps), len(W), R, L))
    return xr.Dataset(
        {
            "magnetization": (("eps", "W", "realization", "time", "site"), m),
            "label": (("eps", "W"), np.tile([0, -1, 1], (len(eps), 1)).astype(np.int8), {"classes": ["a", "b"]}),
        },
        coords={"eps": list(eps), "W": list(W), "realization": np.arange(R), "time": np.linspace(0, 80, T)},
        attrs={"L": L, "model": "mbl"},
    )


def test_exact_measurement_is_the_identity_bit_for_bit():
    ds = chain_dataset()
    assert measure(ds, EXACT, 1, "mbl") is ds
    # the same settings through the selecting path (a time_max past the last time) change no bit either
    through = measure(ds, EXACT | {"time_max": 1e6}, 1, "mbl")
    assert np.array_equal(through["magnetization"].values, ds["magnetization"].values)
    assert through["time"].values.tolist() == ds["time"].values.tolist()
    a = training.set_samples("mbl", ds, {"eps": 0.5})
    b = training.set_samples("mbl", through, {"eps": 0.5})
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and a[2:] == b[2:]


@pytest.mark.parametrize("shots", [10, 100])
def test_shot_noise_mean_and_variance_match_binomial_statistics(shots):
    m = np.array([-1.0, -0.8, -0.3, 0.0, 0.5, 0.9, 1.0])
    n = 40_000
    draws = shot_noise(np.broadcast_to(m, (n, m.size)), shots, np.random.default_rng(3))
    assert set(np.unique(np.round((draws + 1) * shots / 2, 9))) <= set(range(shots + 1))  # values 2k/N − 1
    var = (1 - m**2) / shots  # of the estimate 2k/N − 1
    mean_err = np.abs(draws.mean(0) - m)
    assert np.all(mean_err <= 3 * np.sqrt(var / n) + 1e-15)
    p = (1 + m) / 2  # the sample variance's own spread, from the binomial's fourth central moment
    mu4 = 16 / shots**4 * shots * p * (1 - p) * (1 + 3 * (shots - 2) * p * (1 - p))
    sd_var = np.sqrt(np.maximum(mu4 - var**2, 0) / n)
    assert np.all(np.abs(draws.var(0, ddof=1) - var) <= 3 * sd_var + 1e-15)
    assert np.all(draws[:, [0, -1]] == m[[0, -1]])  # the product state's ±1 is measured exactly


def test_times_sites_and_the_imbalance_are_what_an_experiment_keeps():
    ds = chain_dataset()
    assert time_index(ds["time"].values, 3, None).tolist() == [0, 3, 6]
    assert time_index(ds["time"].values, 1, 35.0).tolist() == [0, 1, 2, 3]
    out = measure(ds, EXACT | {"sites": [1, 4], "time_stride": 3}, 1, "mbl")
    assert out["time"].values.tolist() == [0.0, 30.0, 60.0] and out["site"].values.tolist() == [1, 4]
    imb = measure(ds, EXACT | {"observable": "imbalance", "sites": [1, 4], "time_stride": 3}, 1, "mbl")
    m = ds["magnetization"].values
    expected = np.zeros(m.shape[:3] + (3,))
    for t_out, t in enumerate([0, 3, 6]):
        for s in (1, 4):
            expected[..., t_out] += m[..., t, s] * m[..., 0, s] / 2
    assert np.allclose(imb["imbalance"].values, expected, atol=1e-15)
    assert imb["imbalance"].dims == ("eps", "W", "realization", "time") and imb.attrs["observable"] == "imbalance"
    assert features(observed(imb)).shape == (2, 3, 3, 3, 1)
    assert np.allclose(imbalance(m), (m * m[..., :1, :]).mean(-1))


def test_shot_noise_is_seeded_per_trace():
    ds = chain_dataset()
    meas = EXACT | {"shots": 30}
    a, b = measure(ds, meas, 5, "mbl"), measure(ds, meas, 5, "mbl")
    assert np.array_equal(a["magnetization"].values, b["magnetization"].values)
    assert not np.array_equal(a["magnetization"].values, measure(ds, meas, 6, "mbl")["magnetization"].values)
    assert not np.array_equal(a["magnetization"].values, ds["magnetization"].values)
    # a trace gets the same noise in any dataset that holds it (one ε of a study, the first R realizations)
    part = ds.isel(eps=[1], realization=[0, 1])
    assert np.array_equal(
        measure(part, meas, 5, "mbl")["magnetization"].values,
        a["magnetization"].isel(eps=[1], realization=[0, 1]).values,
    )
    # and under any selection of its times and sites: the selected values are those of the full record
    fewer = measure(ds, meas | {"sites": [2, 5], "time_stride": 3}, 5, "mbl")
    assert np.array_equal(fewer["magnetization"].values, a["magnetization"].isel(time=[0, 3, 6], site=[2, 5]).values)


def test_measurement_config_errors_name_the_key():
    base = load("config.yaml")
    cases = [
        ({"sites": [0, 12]}, r"measurement.sites = \[0, 12\] is not allowed: site indices 0 … 11"),
        ({"sites": [0, 10]}, r"site indices 0 … 9 \(floquet.L = 10\)"),
        ({"time_stride": 2}, r"measurement.time_stride = 2 is not allowed: an odd stride"),
        ({"time_max": 5.0}, r"keeps 1 of the 50 times of mbl; at least 2"),
        ({"shots": 0}, r"measurement.shots = 0 is not allowed"),
        ({"observable": "sites"}, r"measurement.observable = 'sites' is not allowed: it must be one of"),
    ]
    for change, message in cases:
        cfg = copy.deepcopy(base)
        cfg["measurement"] |= change
        with pytest.raises(ValueError, match=message):
            validate(cfg)
    cfg = copy.deepcopy(base)
    cfg["robustness"]["eps"] = 0.33
    with pytest.raises(ValueError, match=r"robustness.eps = 0.33 is not allowed: a point of mbl.eps"):
        validate(cfg)
    cfg = copy.deepcopy(base)
    cfg["robustness"]["time_strides"] = [1, 4]
    with pytest.raises(ValueError, match=r"robustness.time_strides\[1\] = 4 is not allowed: an odd stride"):
        validate(cfg)
    cfg = copy.deepcopy(base)
    cfg["models"], cfg["robustness"]["time_strides"] = ["mbl"], [1, 4]  # even strides are fine without the drive
    validate(cfg)


def test_robustness_variants_cover_shots_and_strides():
    cfg = load("config.yaml")
    names = robustness_variants(cfg)
    study = cfg["robustness"]
    assert len(names) == len(study["observables"]) * (len(study["shots"]) + len(study["time_strides"]) - 1)
    assert variant_name("site", None, 1) in names and variant_name("imbalance", 100, 1) in names
    assert parse_variant("imbalance-N300-t1") == {"observable": "imbalance", "shots": 300, "time_stride": 1}
    assert parse_variant("site-Ninf-t9") == {"observable": "site", "shots": None, "time_stride": 9}
    with pytest.raises(ValueError, match="not a measurement variant"):
        parse_variant("site-N-t1")


# --- classify: formats and observables ---------------------------------------------------------------------------


def fitted_set(tmp_path, observable):
    """A small LSTM set trained on synthetic traces through the measurement model, saved; and the traces."""
    x, y = synthetic(48, T=5, F=3)
    ds = xr.Dataset(
        {
            "magnetization": (("realization", "time", "site"), x.astype(np.float64)),
            "label": ((), 0, {"classes": ["a", "b"]}),
        },
        coords={"time": np.linspace(0.0, 4.0, 5)},
        attrs={"L": 3},
    )
    seen = measure(ds, EXACT | {"observable": observable, "time_max": 1e9}, 0, "mbl")
    hp = Hyper(**{**SMALL.__dict__, "steps": 4})
    xs = features(observed(seen))
    fit = training.fit_set(xs, y, hp, k=2, seed=0, holdout=0.2)
    path = tmp_path / f"{observable}.zarr.zip"
    training.save_set(str(path), fit, hp, seen, "time", {})
    return path, seen.drop_vars("label"), fit


def test_classify_reads_csv_and_netcdf_as_it_reads_zarr(tmp_path):
    for observable, variable in (("site", "magnetization"), ("imbalance", "imbalance")):
        path, traces, fit = fitted_set(tmp_path, observable)
        files = {
            "zarr": tmp_path / f"{observable}.zarr",
            "csv": tmp_path / f"{observable}.csv",
            "nc": tmp_path / f"{observable}.nc",
        }
        traces.to_zarr(files["zarr"])
        write_traces_csv(traces, files["csv"], variable)
        traces.to_netcdf(files["nc"], engine="h5netcdf")
        header = files["csv"].read_text().splitlines()[0]
        assert header == (
            "realization,time,site,magnetization" if observable == "site" else "realization,time,imbalance"
        )
        preds = {}
        for fmt, f in files.items():
            out = tmp_path / f"pred-{observable}-{fmt}.zarr"
            classify(str(path), str(f), str(out))
            preds[fmt] = xr.open_zarr(out).load()
        assert np.array_equal(preds["zarr"]["p"].values, fit["p"])
        for fmt in ("csv", "nc"):
            assert np.array_equal(preds[fmt]["p"].values, preds["zarr"]["p"].values), fmt
            assert np.array_equal(preds[fmt]["confusion"].values, preds["zarr"]["confusion"].values)


def test_an_imbalance_set_refuses_site_traces_and_vice_versa(tmp_path):
    site_set, site_traces, _ = fitted_set(tmp_path, "site")
    imb_set, imb_traces, _ = fitted_set(tmp_path, "imbalance")
    site_traces.to_zarr(tmp_path / "site.zarr")
    imb_traces.to_zarr(tmp_path / "imb.zarr")
    with pytest.raises(ValueError, match=r"trained on the imbalance I\(t\) only .* holds the site-resolved"):
        classify(str(imb_set), str(tmp_path / "site.zarr"), str(tmp_path / "a.zarr"))
    with pytest.raises(ValueError, match=r"trained on the site-resolved .* holds the imbalance I\(t\) only"):
        classify(str(site_set), str(tmp_path / "imb.zarr"), str(tmp_path / "b.zarr"))
    assert not (tmp_path / "a.zarr").exists() and not (tmp_path / "b.zarr").exists()


def test_a_bad_csv_is_named_with_what_is_wrong(tmp_path):
    good = "realization,time,imbalance\n0,0.0,1.0\n0,1.0,0.5\n1,0.0,1.0\n1,1.0,0.2\n"
    cases = {
        "two-values": ("realization,time,imbalance,magnetization\n0,0,1,1\n", "exactly one value column"),
        "repeat": (good + "1,1.0,0.3\n", r"1 row\(s\) repeat a combination of \['realization', 'time'\]"),
        "missing": (good.rsplit("\n", 2)[0] + "\n", r"cover 3 of the 4 combinations"),
    }
    for name, (text, message) in cases.items():
        f = tmp_path / f"{name}.csv"
        f.write_text(text)
        with pytest.raises(ValueError, match=message):
            read_traces_csv(f)
    f = tmp_path / "text-times.csv"
    f.write_text("realization,time,imbalance\n0,early,1.0\n")
    with pytest.raises(ValueError, match=r"column\(s\) \['time'\] must hold numbers"):
        read_traces_csv(f)
    with pytest.raises(ValueError, match=r"no row for realization = 1, time = 1.0"):
        read_traces_csv(tmp_path / "missing.csv")
    (tmp_path / "good.txt").write_text(good)
    with pytest.raises(ValueError, match=r"cannot be read as a Zarr dataset .* by the file name"):
        open_traces(tmp_path / "good.txt")
    (tmp_path / "good.csv").write_text(good)
    ds = open_traces(tmp_path / "good.csv")
    assert ds["imbalance"].dims == ("realization", "time") and ds["imbalance"].values.tolist() == [[1, 0.5], [1, 0.2]]


# --- the single neuron --------------------------------------------------------------------------------------------


def test_numpy_lstm_states_reproduce_the_network():
    x, y = synthetic(40, T=7, F=1)
    hp = Hyper(**{**SMALL.__dict__, "units": 1, "steps": 6})
    fit = training.fit_set(x, y, hp, k=2, seed=1, holdout=0.2)
    stacked = flat_params(fit["params"], hp)
    p = predict_members(fit["params"], x, hp)
    for j in range(2):
        st = lstm_states({k: v[j] for k, v in stacked.items()}, encode(x, hp.input))
        z = st["logits"] - st["logits"].max(-1, keepdims=True)
        mine = np.exp(z) / np.exp(z).sum(-1, keepdims=True)
        assert np.abs(mine - p[j]).max() < 1e-5
        assert np.allclose(st["h"], st["o"] * np.tanh(st["c"]))
        assert np.all((st["f"] > 0) & (st["f"] < 1) & (np.abs(st["g"]) < 1))


def test_best_threshold_recovers_a_planted_rule():
    rng = np.random.default_rng(0)
    q = rng.uniform(-1, 1, 500)
    theta, direction, agree = best_threshold(q, q > 0.3)
    assert direction == ">" and agree == 1.0 and abs(theta - 0.3) < 0.02
    theta, direction, agree = best_threshold(q, q < -0.2)
    assert direction == "<" and agree == 1.0 and abs(theta + 0.2) < 0.02
    noisy = (q > 0.1) ^ (rng.uniform(size=500) < 0.1)
    assert 0.85 < best_threshold(q, noisy)[2] < 0.95


def test_the_robustness_table_refuses_a_variant_made_from_other_settings(tmp_path):
    from phasetrace.provenance import digest, settings
    from phasetrace.robustness import COLUMNS, _read
    from phasetrace.training import write_csv
    from tiny import TINY

    row = dict.fromkeys(COLUMNS, "0") | {"model": "mbl", "observable": "site", "shots": "30", "time_stride": "1"}
    good = digest(settings(TINY, "robustness_variant", "mbl", variant="site-N30-t1"))
    other = copy.deepcopy(TINY)
    other["training"]["steps"] += 1
    for name, made_from in (
        ("good", good),
        ("stale", digest(settings(other, "robustness_variant", "mbl", variant="site-N30-t1"))),
    ):
        write_csv(tmp_path / f"{name}.csv", COLUMNS, [[(row | {"settings_digest": made_from})[c] for c in COLUMNS]])
    assert len(_read(TINY, [str(tmp_path / "good.csv")])) == 1
    with pytest.raises(ValueError, match=r"stale.csv was made from another configuration"):
        _read(TINY, [str(tmp_path / "good.csv"), str(tmp_path / "stale.csv")])
