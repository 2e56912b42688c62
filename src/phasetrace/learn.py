"""Training jobs: labeled datasets → k networks per set → predictions, confusion maps, phase boundaries.

Confusion per sweep point, two ways (both stored):
- ``confusion``: C of the realization-averaged prediction, then averaged over the k seeds (shown in the figures);
- ``confusion_per_sample``: C of each sample's prediction, averaged over realizations and seeds.
"""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import numpy as np
import xarray as xr

from . import __version__
from .provenance import record, require_same, settings
from .runner import configure
from .store import open_dataset, read_arrays, write_arrays, write_dataset
from .sweep import EPS_FMT, floquet_windows, grid, lookup
from .train import (
    Hyper,
    confusion,
    flat_params,
    hyper_attrs,
    predict_seeds,
    seed_keys,
    train_seeds,
    unflat_params,
)

MODEL_IDS = {"mbl": 1, "floquet": 2}

# Two training computations executing at once in one process (local workflow jobs are threads) were seen to hang
# in XLA's CPU runtime, each waiting on the other's buffers; training and prediction therefore run one at a time
# per process. Each uses every core itself, so little is lost.
_XLA_TRAINING = threading.Lock()


def hyper(config: dict, n_classes: int) -> Hyper:
    t = config["training"]
    return Hyper(n_classes, t["units"], t["dropout"], t["l2"], t["learning_rate"], t["batch_size"], t["epochs"],
                 t["confidence_weight"])


def holdout_split(labels: np.ndarray, fraction: float, seed: int, *context: int):
    """Indices (train, held-out) of the labeled samples (label ≥ 0): a fixed random split per network set,
    stratified by class (``round(fraction · n_c)`` of each class's n_c samples held out), so that every class
    keeps training samples (the config's validation guarantees at least one) and is measured on held-out ones."""
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(4, *map(int, context))))
    train, held = [], []
    for c in np.unique(labels[labels >= 0]):
        perm = rng.permutation(np.nonzero(labels == c)[0])
        n_hold = int(round(fraction * perm.size))
        held.append(perm[:n_hold])
        train.append(perm[n_hold:])
    if not train:
        raise ValueError("no labeled sample: every sweep point lies outside the training windows")
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(held))


def fit_set(x: np.ndarray, labels: np.ndarray, hp: Hyper, k: int, seed: int, holdout: float, *context: int) -> dict:
    """Train k networks on the labeled samples of x (n, T, F) and predict every sample.

    Returns params (stacked), p (k, n, classes), loss (k, epochs), accuracy (k,) on the held-out labeled samples.
    """
    configure()
    x = np.asarray(x, dtype=np.float32)
    train, held = holdout_split(labels, holdout, seed, *context)
    unlabeled = np.nonzero(labels < 0)[0]
    x_unl = x[unlabeled] if unlabeled.size else x[:1]
    with _XLA_TRAINING:
        params, loss = train_seeds(seed_keys(seed, k, *context), x[train], labels[train].astype(np.int32), x_unl, hp)
        p = np.asarray(predict_seeds(params, x, hp, x.shape[-1]))
        loss = np.asarray(loss)
    if not (np.isfinite(loss).all() and np.isfinite(p).all()):
        bad = sorted({int(i) for i in np.nonzero(~np.isfinite(loss).all(axis=1) | ~np.isfinite(p).all(axis=(1, 2)))[0]})
        raise FloatingPointError(
            f"training diverged: network(s) {bad} of {k} produced non-finite losses or predictions; "
            "lower training.learning_rate or check the input traces"
        )
    acc = (p[:, held].argmax(-1) == labels[held][None, :]).mean(axis=1) if held.size else np.full(k, np.nan)
    return {"params": params, "p": p, "loss": loss, "accuracy": acc, "held_out": held}


def save_set(output: str, fit: dict, hp: Hyper, ds: xr.Dataset, time_dim: str, attrs: dict) -> None:
    """A network set with what it was trained on: the input's time grid (``times``, stored), its variable, the
    number of sites (``n_features``), the class names and the settings it was made from (in ``attrs``)."""
    arrays = {f"params.{name}": v for name, v in flat_params(fit["params"]).items()}
    arrays |= {"p": fit["p"], "loss": fit["loss"], "accuracy": fit["accuracy"], "held_out": fit["held_out"],
               "times": np.asarray(ds[time_dim].values, dtype=np.float64)}
    input_attrs = {"variable": "magnetization", "time_dim": time_dim, "n_features": int(ds.sizes["site"]),
                   "classes": list(ds["label"].attrs["classes"])}
    write_arrays(output, arrays, attrs | input_attrs | {"hyper": hyper_attrs(hp), "version": __version__})


def load_networks(path: str):
    """(stacked params, Hyper, attrs, times) of a saved network set; a damaged set is named (DamagedFileError)."""
    arrays, attrs = read_arrays(path)
    missing = [k for k in ("hyper", "n_features", "classes", "time_dim") if k not in attrs]
    if missing or "times" not in arrays:
        raise ValueError(f"{path} is not a phasetrace network set (missing {missing or ['times']})")
    hp = Hyper(**attrs["hyper"])
    params = {k.removeprefix("params."): v for k, v in arrays.items() if k.startswith("params.")}
    return unflat_params(params, attrs["n_features"], hp), hp, attrs, arrays["times"]


def dataset_for(config: dict, path: str, stage: str) -> xr.Dataset:
    """The dataset at ``path``, refused unless it was made from the current config's ``stage`` settings."""
    ds = open_dataset(path)
    require_same(path, ds.attrs, settings(config, stage))
    return ds


def mbl_network_job(config: dict, eps: str, dataset: str, output: str) -> None:
    """One set of k networks for one energy density, trained on the labeled W windows at that ε."""
    ds = dataset_for(config, dataset, "mbl_dataset")
    epsv = lookup(grid(config["mbl"]["eps"]), EPS_FMT, eps, "eps")
    e = int(np.nonzero(ds["eps"].values == epsv)[0][0])
    mag = ds["magnetization"].isel(eps=e).values  # (W, R, T, L)
    nW, R, T, L = mag.shape
    labels = np.repeat(ds["label"].isel(eps=e).values, R)
    hp = hyper(config, 2)
    t = config["training"]
    fit = fit_set(mag.reshape(nW * R, T, L), labels, hp, t["seeds"], config["seed"], t["holdout"], MODEL_IDS["mbl"], e)
    save_set(output, fit, hp, ds, "time", {"model": "mbl", "eps": epsv, "shape": [nW, R]}
              | record(settings(config, "mbl_network", eps=epsv)))


def floquet_network_job(config: dict, dataset: str, output: str) -> None:
    """One set of k networks over the whole Floquet ε sweep, trained on its three labeled windows."""
    ds = dataset_for(config, dataset, "floquet_dataset")
    mag = ds["magnetization"].values  # (eps, R, N + 1, L)
    nE, R, T, L = mag.shape
    labels = np.repeat(ds["label"].values, R)
    hp = hyper(config, 3)
    t = config["training"]
    fit = fit_set(mag.reshape(nE * R, T, L), labels, hp, t["seeds"], config["seed"], t["holdout"], MODEL_IDS["floquet"])
    save_set(output, fit, hp, ds, "period", {"model": "floquet", "shape": [nE, R]}
              | record(settings(config, "floquet_network")))


def _point_confusion(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p (k, ..., R, classes) → (C of realization-mean per seed (k, ...), seed-mean of that, per-sample mean)."""
    per_seed = confusion(p.mean(axis=-2))
    return per_seed, per_seed.mean(axis=0), confusion(p).mean(axis=(0, -1))


def mbl_confusion_job(config: dict, dataset: str, networks: list[str], output: str, table: str) -> None:
    ds = dataset_for(config, dataset, "mbl_dataset")
    nE, nW, R = ds.sizes["eps"], ds.sizes["W"], ds.sizes["realization"]
    k = config["training"]["seeds"]
    epochs = config["training"]["epochs"]
    p = np.zeros((k, nE, nW, R, 2))
    loss, acc = np.zeros((k, nE, epochs)), np.zeros((k, nE))
    for path in networks:
        arrays, attrs = read_arrays(path)
        require_same(path, attrs, settings(config, "mbl_network", eps=attrs.get("eps", np.nan)))
        e = int(np.nonzero(ds["eps"].values == attrs["eps"])[0][0])
        p[:, e] = arrays["p"].reshape(k, nW, R, 2)
        loss[:, e], acc[:, e] = arrays["loss"], arrays["accuracy"]
    per_seed, conf, per_sample = _point_confusion(p)
    W = ds["W"].values
    peak_seed = W[per_seed.argmax(axis=-1)]  # (k, eps)
    out = xr.Dataset(
        {
            "p": (("seed", "eps", "W", "realization", "class"), p),
            "confusion": (("eps", "W"), conf, {"long_name": "C of the realization-averaged prediction, seed mean"}),
            "confusion_per_seed": (("seed", "eps", "W"), per_seed),
            "confusion_per_sample": (("eps", "W"), per_sample, {"long_name": "per-sample C, mean"}),
            "accuracy": (("seed", "eps"), acc, {"long_name": "held-out accuracy on the training windows"}),
            "loss": (("seed", "eps", "epoch"), loss),
            "boundary_W": (("eps",), W[conf.argmax(axis=1)], {"long_name": "W of maximal confusion"}),
            "boundary_W_seed_std": (("eps",), peak_seed.std(axis=0)),
        },
        coords={"seed": np.arange(k), "eps": ds["eps"].values, "W": W, "realization": np.arange(R),
                "class": np.array(ds["label"].attrs["classes"], dtype=object), "epoch": np.arange(epochs)},
        attrs={"model": "mbl", "L": ds.attrs["L"], "phasetrace_version": __version__}
        | record(settings(config, "mbl_network")),
    )
    write_dataset(output, out)
    write_csv(table, ["eps", "W_peak", "W_peak_seed_mean", "W_peak_seed_std", "confusion_peak", "accuracy_mean"],
               [[f"{e:.4f}", f"{w:.4f}", f"{m:.4f}", f"{s:.4f}", f"{c:.4f}", f"{a:.4f}"] for e, w, m, s, c, a in zip(
                   ds["eps"].values, out["boundary_W"].values, peak_seed.mean(axis=0), peak_seed.std(axis=0),
                   conf.max(axis=1), acc.mean(axis=0), strict=True)])


def floquet_peaks(eps: np.ndarray, conf: np.ndarray, windows: list) -> list[float]:
    """The ε of maximal confusion between consecutive training windows (time crystal|ergodic, ergodic|MBL)."""
    peaks = []
    for lo, hi in zip(windows[:-1], windows[1:], strict=True):
        gap = (eps > lo.high) & (eps < hi.low)
        peaks.append(float(eps[gap][np.argmax(conf[..., gap], axis=-1)]) if gap.any() else np.nan)
    return peaks


def floquet_confusion_job(config: dict, dataset: str, network: str, output: str, table: str) -> None:
    ds = dataset_for(config, dataset, "floquet_dataset")
    nE, R = ds.sizes["eps"], ds.sizes["realization"]
    arrays, attrs = read_arrays(network)
    require_same(network, attrs, settings(config, "floquet_network"))
    k = arrays["p"].shape[0]
    p = arrays["p"].reshape(k, nE, R, 3)
    per_seed, conf, per_sample = _point_confusion(p)
    eps = ds["eps"].values
    windows = floquet_windows(config["floquet"])
    peaks = floquet_peaks(eps, conf, windows)
    seed_peaks = np.array([floquet_peaks(eps, c, windows) for c in per_seed])  # (k, 2)
    out = xr.Dataset(
        {
            "p": (("seed", "eps", "realization", "class"), p),
            "confusion": (("eps",), conf),
            "confusion_per_seed": (("seed", "eps"), per_seed),
            "confusion_per_sample": (("eps",), per_sample),
            "accuracy": (("seed",), arrays["accuracy"]),
            "loss": (("seed", "epoch"), arrays["loss"]),
        },
        coords={"seed": np.arange(k), "eps": eps, "realization": np.arange(R), "class": np.array(ds["label"].attrs["classes"], dtype=object),
                "epoch": np.arange(arrays["loss"].shape[1])},
        attrs={"model": "floquet", "L": ds.attrs["L"], "boundary_eps": peaks, "phasetrace_version": __version__}
        | record(settings(config, "floquet_network")),
    )
    write_dataset(output, out)
    names = ["time_crystal|ergodic", "ergodic|floquet_mbl"]
    write_csv(table, ["transition", "eps_peak", "eps_peak_seed_mean", "eps_peak_seed_std"],
               [[n, f"{e:.4f}", f"{m:.4f}", f"{s:.4f}"] for n, e, m, s in zip(
                   names, peaks, seed_peaks.mean(axis=0), seed_peaks.std(axis=0), strict=True)])


def write_csv(path: str, header: list[str], rows: list[list[str]]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(path).with_name(f".{Path(path).name}.tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    tmp.replace(path)
