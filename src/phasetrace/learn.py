"""Training jobs: labeled datasets → a set of k classifiers per (model, classifier kind[, ε]) → predictions,
confusion maps, phase boundaries with bootstrap intervals (:mod:`.boundaries`).

Confusion per sweep point, two ways (both stored):
- ``confusion``: C of the realization-averaged prediction, then averaged over the k members (shown in the figures);
- ``confusion_per_sample``: C of each sample's prediction, averaged over realizations and members.
"""

from __future__ import annotations

import csv
import threading
from pathlib import Path

import numpy as np
import xarray as xr

from . import __version__
from .boundaries import LEVELS, bootstrap_crossings, confusion, crossing
from .classifiers import Hyper, fit_members, flat_params, hyper_attrs, member_keys, predict_members, unflat_params
from .provenance import record, require_same, settings
from .runner import configure
from .seeds import MODEL_IDS, STREAMS
from .store import open_dataset, read_arrays, write_arrays, write_dataset
from .sweep import EPS_FMT, grid, lookup

# Two training computations executing at once in one process (local workflow jobs are threads) were seen to hang
# in XLA's CPU runtime, each waiting on the other's buffers; training and prediction therefore run one at a time
# per process. Each uses every core itself, so little is lost.
_XLA_TRAINING = threading.Lock()
BOUNDS = list(LEVELS)  # the interval coordinate: lo95, lo68, hi68, hi95


def hyper(config: dict, n_classes: int, kind: str | None = None) -> Hyper:
    """The hyper-parameters of classifier ``kind`` (default: ``training.classifier``) from the config."""
    t = config["training"]
    return Hyper(n_classes, kind or t["classifier"], t["input"], t["units"], t["dropout"], t["l2"],
                 t["learning_rate"], t["batch_size"], t["epochs"], t["confidence_weight"], t["late_times"])


def _rng(seed: int, stream: str, *context: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(int(seed), spawn_key=(STREAMS[stream], *map(int, context))))


def holdout_split(labels: np.ndarray, fraction: float, seed: int, *context: int):
    """Indices (train, held-out) of the labeled samples (label ≥ 0): a fixed random split per set, stratified by
    class (``round(fraction · n_c)`` of each class's n_c samples held out), so that every class keeps training
    samples (the config's validation guarantees at least one) and is measured on held-out ones."""
    rng = _rng(seed, "holdout", *context)
    train, held = [], []
    for c in np.unique(labels[labels >= 0]):
        perm = rng.permutation(np.nonzero(labels == c)[0])
        n_hold = int(round(fraction * perm.size))
        held.append(perm[:n_hold])
        train.append(perm[n_hold:])
    if not train:
        raise ValueError("no labeled sample: every sweep point lies outside the training windows")
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(held))


def bootstrap_samples(train: np.ndarray, labels: np.ndarray, k: int, seed: int, *context: int) -> np.ndarray:
    """(k, n_train): each member's resample, with replacement and within each class, of the training samples."""
    rng = _rng(seed, "bootstrap", *context)
    out = []
    for _ in range(k):
        out.append(np.concatenate([rng.choice(train[labels[train] == c], size=int(np.sum(labels[train] == c)))
                                   for c in np.unique(labels[train])]))
    return np.stack(out)


def fit_set(x: np.ndarray, labels: np.ndarray, hp: Hyper, k: int, seed: int, holdout: float, *context: int) -> dict:
    """Fit k members on the labeled samples of x (n, T, F) (each on its own bootstrap resample of the training
    samples) and predict every sample.

    Returns params (stacked), p (k, n, classes), loss (k, epochs), accuracy (k,) on the held-out labeled samples.
    The split, the resamples and the member keys depend on (seed, context), not on the kind: every classifier of
    a comparison sees the same data.
    """
    configure()
    x = np.asarray(x, dtype=np.float32)
    labels = np.asarray(labels)
    train, held = holdout_split(labels, holdout, seed, *context)
    train_idx = bootstrap_samples(train, labels, k, seed, *context)
    unlabeled = np.nonzero(labels < 0)[0]
    x_unl = x[unlabeled] if unlabeled.size else x[:1]
    with _XLA_TRAINING:
        params, loss = fit_members(member_keys(seed, k, *context), x, labels.astype(np.int32), train_idx, x_unl, hp)
        p = predict_members(params, x, hp)
    if not (np.isfinite(loss).all() and np.isfinite(p).all()):
        bad = sorted({int(i) for i in np.nonzero(~np.isfinite(loss).all(axis=1) | ~np.isfinite(p).all(axis=(1, 2)))[0]})
        raise FloatingPointError(
            f"training diverged: member(s) {bad} of {k} produced non-finite losses or predictions; "
            "lower training.learning_rate or check the input traces"
        )
    acc = (p[:, held].argmax(-1) == labels[held][None, :]).mean(axis=1) if held.size else np.full(k, np.nan)
    return {"params": params, "p": p, "loss": loss, "accuracy": acc, "held_out": held}


def save_set(output: str, fit: dict, hp: Hyper, ds: xr.Dataset, time_dim: str, attrs: dict) -> None:
    """A set with what it was trained on: the input's time grid (``times``, stored), its variable, the number of
    sites (``n_features``), the class names, the kind and hyper-parameters, and the settings (in ``attrs``)."""
    arrays = {f"params.{name}": v for name, v in flat_params(fit["params"]).items()}
    arrays |= {"p": fit["p"], "loss": fit["loss"], "accuracy": fit["accuracy"], "held_out": fit["held_out"],
               "times": np.asarray(ds[time_dim].values, dtype=np.float64)}
    input_attrs = {"variable": "magnetization", "time_dim": time_dim, "n_features": int(ds.sizes["site"]),
                   "classes": list(ds["label"].attrs["classes"])}
    write_arrays(output, arrays, attrs | input_attrs | {"hyper": hyper_attrs(hp), "version": __version__})


def load_networks(path: str):
    """(stacked params, Hyper, attrs, times) of a saved set of any kind; a damaged set is named."""
    arrays, attrs = read_arrays(path)
    missing = [k for k in ("hyper", "n_features", "classes", "time_dim") if k not in attrs]
    if missing or "times" not in arrays:
        raise ValueError(f"{path} is not a phasetrace classifier set (missing {missing or ['times']})")
    hp = Hyper(**attrs["hyper"])
    params = {k.removeprefix("params."): v for k, v in arrays.items() if k.startswith("params.")}
    times = arrays["times"]
    return unflat_params(params, times.size, attrs["n_features"], hp), hp, attrs, times


def dataset_for(config: dict, path: str, stage: str) -> xr.Dataset:
    """The dataset at ``path``, refused unless it was made from the current config's ``stage`` settings."""
    ds = open_dataset(path)
    require_same(path, ds.attrs, settings(config, stage))
    return ds


def mbl_network_job(config: dict, classifier: str, eps: str, dataset: str, output: str) -> None:
    """One set of k classifiers of one kind for one energy density, fitted on the labeled W windows at that ε."""
    ds = dataset_for(config, dataset, "mbl_dataset")
    epsv = lookup(grid(config["mbl"]["eps"]), EPS_FMT, eps, "eps")
    e = int(np.nonzero(ds["eps"].values == epsv)[0][0])
    mag = ds["magnetization"].isel(eps=e).values  # (W, R, T, L)
    nW, R, T, L = mag.shape
    labels = np.repeat(ds["label"].isel(eps=e).values, R)
    hp = hyper(config, 2, classifier)
    t = config["training"]
    fit = fit_set(mag.reshape(nW * R, T, L), labels, hp, t["seeds"], config["seed"], t["holdout"], MODEL_IDS["mbl"], e)
    save_set(output, fit, hp, ds, "time", {"model": "mbl", "eps": epsv, "shape": [nW, R]}
             | record(settings(config, "mbl_network", eps=epsv, classifier=classifier)))


def floquet_network_job(config: dict, classifier: str, dataset: str, output: str) -> None:
    """One set of k classifiers of one kind over the whole Floquet ε sweep, fitted on its three labeled windows."""
    ds = dataset_for(config, dataset, "floquet_dataset")
    mag = ds["magnetization"].values  # (eps, R, N + 1, L)
    nE, R, T, L = mag.shape
    labels = np.repeat(ds["label"].values, R)
    hp = hyper(config, 3, classifier)
    t = config["training"]
    fit = fit_set(mag.reshape(nE * R, T, L), labels, hp, t["seeds"], config["seed"], t["holdout"], MODEL_IDS["floquet"])
    save_set(output, fit, hp, ds, "period", {"model": "floquet", "shape": [nE, R]}
             | record(settings(config, "floquet_network", classifier=classifier)))


def _point_confusion(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p (k, ..., R, classes) → (C of realization-mean per member (k, ...), member mean of that, per-sample mean)."""
    per_seed = confusion(p.mean(axis=-2))
    return per_seed, per_seed.mean(axis=0), confusion(p).mean(axis=(0, -1))


def transition(x: np.ndarray, p: np.ndarray, a: int, b: int, lo: float, hi: float, resamples: int,
               rng: np.random.Generator) -> tuple[float, np.ndarray]:
    """The a|b boundary of members' predictions p (k, n_x, R, classes) and its bootstrap samples (k, B)."""
    mean = p.mean(axis=(0, 2))
    return float(crossing(x, mean[:, a], mean[:, b], lo, hi)), bootstrap_crossings(x, p, a, b, lo, hi, resamples, rng)


def _interval_rows(samples: np.ndarray) -> np.ndarray:
    """(..., 4) percentiles lo95, lo68, hi68, hi95 over the last axes (k·B) of bootstrap samples (..., k, B)."""
    flat = samples.reshape(*samples.shape[:-2], -1)
    return np.stack([np.percentile(flat, LEVELS[b], axis=-1) for b in BOUNDS], axis=-1)


def _gap(values: np.ndarray, labels: np.ndarray, a: int, b: int) -> tuple[float, float]:
    """The search range of the a|b transition: from the last grid point of window a to the first of window b."""
    return float(values[labels == a].max()), float(values[labels == b].min())


def mbl_boundaries(config: dict, ds: xr.Dataset, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ergodic|localized boundary per ε (eps,) and its bootstrap samples (eps, k, B) of members' predictions
    p (k, eps, W, R, 2) on the MBL dataset ``ds``."""
    W = ds["W"].values
    lo, hi = _gap(W, ds["label"].values[0], 0, 1)
    rng = _rng(config["seed"], "averaging", MODEL_IDS["mbl"])
    fits = [transition(W, p[:, e], 0, 1, lo, hi, config["training"]["bootstrap"], rng) for e in range(p.shape[1])]
    return np.array([f[0] for f in fits]), np.stack([f[1] for f in fits])


def mbl_confusion_job(config: dict, classifier: str, dataset: str, networks: list[str], output: str,
                      table: str) -> None:
    ds = dataset_for(config, dataset, "mbl_dataset")
    nE, nW, R = ds.sizes["eps"], ds.sizes["W"], ds.sizes["realization"]
    k = config["training"]["seeds"]
    p = np.zeros((k, nE, nW, R, 2))
    loss, acc = [None] * nE, np.zeros((k, nE))
    for path in networks:
        arrays, attrs = read_arrays(path)
        require_same(path, attrs, settings(config, "mbl_network", eps=attrs.get("eps", np.nan), classifier=classifier))
        e = int(np.nonzero(ds["eps"].values == attrs["eps"])[0][0])
        p[:, e] = arrays["p"].reshape(k, nW, R, 2)
        loss[e], acc[:, e] = arrays["loss"], arrays["accuracy"]
    loss = np.stack(loss, axis=1)  # (k, eps, epochs)
    per_seed, conf, per_sample = _point_confusion(p)
    W = ds["W"].values
    boundary, samples = mbl_boundaries(config, ds, p)
    bounds = _interval_rows(samples)
    out = xr.Dataset(
        {
            "p": (("seed", "eps", "W", "realization", "class"), p),
            "confusion": (("eps", "W"), conf, {"long_name": "C of the realization-averaged prediction, member mean"}),
            "confusion_per_seed": (("seed", "eps", "W"), per_seed),
            "confusion_per_sample": (("eps", "W"), per_sample, {"long_name": "per-sample C, mean"}),
            "accuracy": (("seed", "eps"), acc, {"long_name": "held-out accuracy on the training windows"}),
            "loss": (("seed", "eps", "epoch"), loss),
            "boundary_W": (("eps",), boundary, {"long_name": "W where the mean p(ergodic) and p(localized) cross"}),
            "boundary_W_interval": (("eps", "bound"), bounds, {"long_name": "bootstrap percentile intervals"}),
            "boundary_W_bootstrap": (("eps", "seed", "resample"), samples),
            "boundary_W_grid": (("eps",), W[conf.argmax(axis=1)], {"long_name": "grid W of maximal confusion"}),
        },
        coords={"seed": np.arange(k), "eps": ds["eps"].values, "W": W, "realization": np.arange(R),
                "class": np.array(ds["label"].attrs["classes"], dtype=object), "epoch": np.arange(loss.shape[-1]),
                "bound": BOUNDS, "resample": np.arange(samples.shape[-1])},
        attrs={"model": "mbl", "L": ds.attrs["L"], "classifier": classifier, "phasetrace_version": __version__}
        | record(settings(config, "mbl_confusion", classifier=classifier)),
    )
    write_dataset(output, out)
    write_csv(table, ["eps", "W_boundary", *[f"W_{b}" for b in BOUNDS], "W_peak_grid", "confusion_peak",
                      "accuracy_min", "accuracy_mean"],
              [[f"{e:.4f}", f"{w:.4f}", *[f"{v:.4f}" for v in iv], f"{g:.4f}", f"{c:.4f}", f"{amin:.4f}",
                f"{amean:.4f}"] for e, w, iv, g, c, amin, amean in zip(
                   ds["eps"].values, boundary, bounds, out["boundary_W_grid"].values, conf.max(axis=1),
                   acc.min(axis=0), acc.mean(axis=0), strict=True)])


TRANSITIONS = ["time_crystal|ergodic", "ergodic|floquet_mbl"]


def floquet_confusion_job(config: dict, classifier: str, dataset: str, network: str, output: str, table: str) -> None:
    ds = dataset_for(config, dataset, "floquet_dataset")
    nE, R = ds.sizes["eps"], ds.sizes["realization"]
    arrays, attrs = read_arrays(network)
    require_same(network, attrs, settings(config, "floquet_network", classifier=classifier))
    k = arrays["p"].shape[0]
    p = arrays["p"].reshape(k, nE, R, 3)
    per_seed, conf, per_sample = _point_confusion(p)
    eps = ds["eps"].values
    labels = ds["label"].values
    rng = _rng(config["seed"], "averaging", MODEL_IDS["floquet"])
    fits = [transition(eps, p, a, a + 1, *_gap(eps, labels, a, a + 1), config["training"]["bootstrap"], rng)
            for a in (0, 1)]
    boundary = np.array([f[0] for f in fits])
    samples = np.stack([f[1] for f in fits])  # (transition, k, B)
    bounds = _interval_rows(samples)
    grid_peaks = [float(eps[(eps >= lo) & (eps <= hi)][np.argmax(conf[(eps >= lo) & (eps <= hi)])])
                  for lo, hi in (_gap(eps, labels, a, a + 1) for a in (0, 1))]
    out = xr.Dataset(
        {
            "p": (("seed", "eps", "realization", "class"), p),
            "confusion": (("eps",), conf),
            "confusion_per_seed": (("seed", "eps"), per_seed),
            "confusion_per_sample": (("eps",), per_sample),
            "accuracy": (("seed",), arrays["accuracy"]),
            "loss": (("seed", "epoch"), arrays["loss"]),
            "boundary_eps": (("transition",), boundary, {"long_name": "ε where neighbouring phases' mean p cross"}),
            "boundary_eps_interval": (("transition", "bound"), bounds),
            "boundary_eps_bootstrap": (("transition", "seed", "resample"), samples),
            "boundary_eps_grid": (("transition",), grid_peaks, {"long_name": "grid ε of maximal confusion"}),
        },
        coords={"seed": np.arange(k), "eps": eps, "realization": np.arange(R),
                "class": np.array(ds["label"].attrs["classes"], dtype=object),
                "epoch": np.arange(arrays["loss"].shape[1]), "transition": TRANSITIONS, "bound": BOUNDS,
                "resample": np.arange(samples.shape[-1])},
        attrs={"model": "floquet", "L": ds.attrs["L"], "classifier": classifier, "phasetrace_version": __version__}
        | record(settings(config, "floquet_confusion", classifier=classifier)),
    )
    write_dataset(output, out)
    write_csv(table, ["transition", "eps_boundary", *[f"eps_{b}" for b in BOUNDS], "eps_peak_grid", "accuracy_min",
                      "accuracy_mean"],
              [[n, f"{e:.4f}", *[f"{v:.4f}" for v in iv], f"{g:.4f}", f"{arrays['accuracy'].min():.4f}",
                f"{arrays['accuracy'].mean():.4f}"] for n, e, iv, g in zip(
                   TRANSITIONS, boundary, bounds, grid_peaks, strict=True)])


def write_csv(path: str, header: list[str], rows: list[list[str]]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(path).with_name(f".{Path(path).name}.tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    tmp.replace(path)
