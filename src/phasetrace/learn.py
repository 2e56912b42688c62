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
from .store import read_arrays, write_arrays, write_dataset
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
    """Indices (train, held-out) of the labeled samples (label ≥ 0), a fixed random split per network set."""
    labeled = np.nonzero(labels >= 0)[0]
    rng = np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(4, *map(int, context))))
    perm = rng.permutation(labeled)
    n_hold = int(round(fraction * labeled.size))
    return np.sort(perm[n_hold:]), np.sort(perm[:n_hold])


def fit_set(x: np.ndarray, labels: np.ndarray, hp: Hyper, k: int, seed: int, holdout: float, *context: int) -> dict:
    """Train k networks on the labeled samples of x (n, T, F) and predict every sample.

    Returns params (stacked), p (k, n, classes), loss (k, epochs), accuracy (k,) on the held-out labeled samples.
    """
    x = np.asarray(x, dtype=np.float32)
    train, held = holdout_split(labels, holdout, seed, *context)
    unlabeled = np.nonzero(labels < 0)[0]
    x_unl = x[unlabeled] if unlabeled.size else x[:1]
    with _XLA_TRAINING:
        params, loss = train_seeds(seed_keys(seed, k, *context), x[train], labels[train].astype(np.int32), x_unl, hp)
        p = np.asarray(predict_seeds(params, x, hp, x.shape[-1]))
        loss = np.asarray(loss)
    acc = (p[:, held].argmax(-1) == labels[held][None, :]).mean(axis=1) if held.size else np.full(k, np.nan)
    return {"params": params, "p": p, "loss": loss, "accuracy": acc, "held_out": held}


def _save_set(output: str, fit: dict, hp: Hyper, attrs: dict) -> None:
    arrays = {f"params.{name}": v for name, v in flat_params(fit["params"]).items()}
    arrays |= {"p": fit["p"], "loss": fit["loss"], "accuracy": fit["accuracy"], "held_out": fit["held_out"]}
    write_arrays(output, arrays, attrs | {"hyper": hyper_attrs(hp), "version": __version__})


def load_networks(path: str):
    """(stacked params, Hyper, attrs) of a saved network set."""
    arrays, attrs = read_arrays(path)
    hp = Hyper(**attrs["hyper"])
    params = {k.removeprefix("params."): v for k, v in arrays.items() if k.startswith("params.")}
    return unflat_params(params, attrs["n_features"], hp), hp, attrs


def mbl_network_job(config: dict, eps: str, dataset: str, output: str) -> None:
    """One set of k networks for one energy density, trained on the labeled W windows at that ε."""
    ds = xr.open_zarr(dataset)
    e = int(np.argmin(np.abs(ds["eps"].values - lookup(grid(config["mbl"]["eps"]), EPS_FMT, eps, "eps"))))
    mag = ds["magnetization"].isel(eps=e).values  # (W, R, T, L)
    nW, R, T, L = mag.shape
    labels = np.repeat(ds["label"].isel(eps=e).values, R)
    hp = hyper(config, 2)
    t = config["training"]
    fit = fit_set(mag.reshape(nW * R, T, L), labels, hp, t["seeds"], config["seed"], t["holdout"], MODEL_IDS["mbl"], e)
    _save_set(output, fit, hp, {"model": "mbl", "eps": float(ds["eps"][e]), "n_features": L,
                                "classes": ds["label"].attrs["classes"], "shape": [nW, R]})


def floquet_network_job(config: dict, dataset: str, output: str) -> None:
    """One set of k networks over the whole Floquet ε sweep, trained on its three labeled windows."""
    ds = xr.open_zarr(dataset)
    mag = ds["magnetization"].values  # (eps, R, N + 1, L)
    nE, R, T, L = mag.shape
    labels = np.repeat(ds["label"].values, R)
    hp = hyper(config, 3)
    t = config["training"]
    fit = fit_set(mag.reshape(nE * R, T, L), labels, hp, t["seeds"], config["seed"], t["holdout"], MODEL_IDS["floquet"])
    _save_set(output, fit, hp, {"model": "floquet", "n_features": L, "classes": ds["label"].attrs["classes"],
                                "shape": [nE, R]})


def _point_confusion(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p (k, ..., R, classes) → (C of realization-mean per seed (k, ...), seed-mean of that, per-sample mean)."""
    per_seed = confusion(p.mean(axis=-2))
    return per_seed, per_seed.mean(axis=0), confusion(p).mean(axis=(0, -1))


def mbl_confusion_job(config: dict, dataset: str, networks: list[str], output: str, table: str) -> None:
    ds = xr.open_zarr(dataset)
    nE, nW, R = ds.sizes["eps"], ds.sizes["W"], ds.sizes["realization"]
    k = config["training"]["seeds"]
    epochs = config["training"]["epochs"]
    p = np.zeros((k, nE, nW, R, 2))
    loss, acc = np.zeros((k, nE, epochs)), np.zeros((k, nE))
    for path in networks:
        arrays, attrs = read_arrays(path)
        e = int(np.argmin(np.abs(ds["eps"].values - attrs["eps"])))
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
        attrs={"model": "mbl", "L": ds.attrs["L"], "phasetrace_version": __version__},
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
    ds = xr.open_zarr(dataset)
    nE, R = ds.sizes["eps"], ds.sizes["realization"]
    arrays, _ = read_arrays(network)
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
        attrs={"model": "floquet", "L": ds.attrs["L"], "boundary_eps": peaks, "phasetrace_version": __version__},
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
