"""Training jobs, generic over the models: labeled datasets → a set of k classifiers per (model, classifier kind,
training set) → predictions, confusion maps, phase boundaries with bootstrap intervals (:mod:`.boundaries`).

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
from .boundaries import BOUNDS, confusion, gap, intervals, transition
from .classifiers import Hyper, fit_members, flat_params, hyper_attrs, member_keys, predict_members, unflat_params
from .measurement import features, measured, observed
from .models import get, training_sets
from .provenance import record, require_same, settings
from .runner import configure
from .seeds import MODEL_IDS, stream_rng
from .store import open_dataset, read_arrays, write_arrays, write_dataset
from .sweep import ALL_SETS, point_name

# Two training computations executing at once in one process (local workflow jobs are threads) were seen to hang
# in XLA's CPU runtime, each waiting on the other's buffers; training and prediction therefore run one at a time
# per process. Each uses every core itself, so little is lost.
_XLA_TRAINING = threading.Lock()


def hyper(config: dict, n_classes: int, kind: str | None = None) -> Hyper:
    """The hyper-parameters of classifier ``kind`` (default: ``training.classifier``) from the config."""
    t = config["training"]
    return Hyper(
        n_classes,
        kind or t["classifier"],
        t["input"],
        t["units"],
        t["dropout"],
        t["l2"],
        t["learning_rate"],
        t["batch_size"],
        t["epochs"],
        t["confidence_weight"],
        t["late_times"],
    )


def holdout_split(labels: np.ndarray, fraction: float, seed: int, *context: int):
    """Indices (train, held-out) of the labeled samples (label ≥ 0): a fixed random split per set, stratified by
    class (``round(fraction · n_c)`` of each class's n_c samples held out), so that every class keeps training
    samples (the config's validation guarantees at least one) and is measured on held-out ones."""
    rng = stream_rng(seed, "holdout", *context)
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
    rng = stream_rng(seed, "bootstrap", *context)
    out = []
    for _ in range(k):
        out.append(
            np.concatenate(
                [
                    rng.choice(train[labels[train] == c], size=int(np.sum(labels[train] == c)))
                    for c in np.unique(labels[train])
                ]
            )
        )
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
    """A set with what it was trained on: the input's time grid (``times``, stored), its observable and variable,
    the number of features (sites, or 1 for the imbalance), the class names, the kind and hyper-parameters, and the
    settings (in ``attrs``)."""
    arrays = {f"params.{name}": v for name, v in flat_params(fit["params"]).items()}
    arrays |= {
        "p": fit["p"],
        "loss": fit["loss"],
        "accuracy": fit["accuracy"],
        "held_out": fit["held_out"],
        "times": np.asarray(ds[time_dim].values, dtype=np.float64),
    }
    var = observed(ds)
    input_attrs = {
        "observable": ds.attrs.get("observable", "site"),
        "variable": var.name,
        "time_dim": time_dim,
        "n_features": int(var.sizes.get("site", 1)),
        "classes": list(ds["label"].attrs["classes"]),
    }
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


def dataset_for(config: dict, model: str, path: str, exact: bool = False) -> xr.Dataset:
    """The dataset of ``model`` at ``path`` as the config's measurement records it (:mod:`.measurement`; ``exact``:
    as simulated), refused unless it was made from the current config's settings."""
    ds = open_dataset(path)
    require_same(path, ds.attrs, settings(config, "dataset", model))
    return ds if exact else measured(config, model, ds)


def set_samples(model: str, ds: xr.Dataset, point: dict[str, float]):
    """The samples of one training set: x (n_label · R, T, F) (F: sites, or 1 for the imbalance), labels,
    (n_label, R), and the set's context (model id, index of the point in each set dimension) that keys its random
    draws."""
    m = get(model)
    index = {d: int(np.nonzero(ds[d].values == v)[0][0]) for d, v in point.items()}
    sub = observed(ds.isel(index))
    mag = features(sub.transpose(m.label_dim, "realization", m.time_dim, ...))
    n, R = mag.shape[:2]
    return (
        mag.reshape(n * R, *mag.shape[2:]),
        np.repeat(ds["label"].isel(index).values, R),
        (n, R),
        (MODEL_IDS[model], *index.values()),
    )


def network_job(config: dict, model: str, classifier: str, set_name: str, dataset: str, output: str) -> None:
    """One set of k classifiers of one kind, fitted on the labeled windows of one training set of ``model``."""
    ds = dataset_for(config, model, dataset)
    sets = dict(training_sets(config, model))
    if set_name not in sets:
        raise ValueError(f"{model}: training set {set_name!r} is not one of the config's {list(sets)}")
    point = sets[set_name]
    x, labels, shape, context = set_samples(model, ds, point)
    hp = hyper(config, len(ds["label"].attrs["classes"]), classifier)
    t = config["training"]
    fit = fit_set(x, labels, hp, t["seeds"], config["seed"], t["holdout"], *context)
    save_set(
        output,
        fit,
        hp,
        ds,
        get(model).time_dim,
        {"model": model, **point, "shape": list(shape), "measurement": config["measurement"]}
        | record(settings(config, "network", model, **point, classifier=classifier)),
    )


def _point_confusion(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """p (k, ..., R, classes) → (C of realization-mean per member (k, ...), member mean of that, per-sample mean)."""
    per_seed = confusion(p.mean(axis=-2))
    return per_seed, per_seed.mean(axis=0), confusion(p).mean(axis=(0, -1))


def transitions(ds: xr.Dataset) -> list[tuple[int, int, str]]:
    """The transitions between neighbouring classes along the labeled dimension: (a, a + 1, "a|b")."""
    names = list(ds["label"].attrs["classes"])
    return [(a, a + 1, f"{names[a]}|{names[a + 1]}") for a in range(len(names) - 1)]


def set_boundaries(config: dict, model: str, ds: xr.Dataset, p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boundaries (sets, transitions) and their bootstrap samples (sets, transitions, k, B) of members'
    predictions p (k, sets, n_label, R, classes) on the dataset ``ds`` of ``model``."""
    m = get(model)
    x = ds[m.label_dim].values
    rng = stream_rng(config["seed"], "averaging", MODEL_IDS[model])
    boundary, samples = [], []
    for s, (_, point) in enumerate(training_sets(config, model)):
        labels = ds["label"].sel(point).values
        fits = [
            transition(x, p[:, s], a, b, *gap(x, labels, a, b), config["training"]["bootstrap"], rng)
            for a, b, _ in transitions(ds)
        ]
        boundary.append([f[0] for f in fits])
        samples.append(np.stack([f[1] for f in fits]))
    return np.array(boundary), np.stack(samples)


def confusion_job(
    config: dict, model: str, classifier: str, dataset: str, networks: list[str], output: str, table: str
) -> None:
    """Every training set's predictions → confusion over the sweep and the boundaries with their intervals."""
    m = get(model)
    ds = dataset_for(config, model, dataset, exact=True)  # its sweep and labels only: no shots to draw
    sets = training_sets(config, model)
    by_point = {}
    for path in networks:
        arrays, attrs = read_arrays(path)
        point = {d: attrs.get(d, np.nan) for d in m.set_dims}
        require_same(path, attrs, settings(config, "network", model, **point, classifier=classifier))
        by_point[point_name(point) if point else ALL_SETS] = arrays
    missing = [name for name, _ in sets if name not in by_point]
    if missing:
        raise ValueError(f"{model} confusion: no classifier set for training set(s) {missing}")
    n, R = ds.sizes[m.label_dim], ds.sizes["realization"]
    k = config["training"]["seeds"]
    C = len(ds["label"].attrs["classes"])
    p = np.stack([by_point[name]["p"].reshape(k, n, R, C) for name, _ in sets], axis=1).astype(np.float64)
    # p (k, sets, n_label, R, classes) in float64: averages over realizations and resamples are taken from it
    acc = np.stack([by_point[name]["accuracy"] for name, _ in sets], axis=1)  # (k, sets)
    loss = np.stack([by_point[name]["loss"] for name, _ in sets], axis=1)  # (k, sets, epochs)
    per_seed, conf, per_sample = _point_confusion(p)
    boundary, samples = set_boundaries(config, model, ds, p)
    bounds = intervals(samples)
    x = ds[m.label_dim].values
    names = [t[2] for t in transitions(ds)]
    peak = np.array(
        [
            [
                x[inside][np.argmax(conf[s][inside])]
                for inside in [
                    (x >= g[0]) & (x <= g[1])
                    for g in (gap(x, ds["label"].sel(pt).values, a, b) for a, b, _ in transitions(ds))
                ]
            ]
            for s, (_, pt) in enumerate(sets)
        ]
    )
    squeeze = (lambda v: v[:, 0]) if not m.set_dims else (lambda v: v)  # a model with one set has no set dimension
    sd, lab = m.set_dims, m.label_dim
    out = xr.Dataset(
        {
            "p": (("seed", *sd, lab, "realization", "class"), p if sd else p[:, 0]),
            "confusion": (
                (*sd, lab),
                conf if sd else conf[0],
                {"long_name": "C of the realization-averaged prediction, member mean"},
            ),
            "confusion_per_seed": (("seed", *sd, lab), per_seed if sd else per_seed[:, 0]),
            "confusion_per_sample": (
                (*sd, lab),
                per_sample if sd else per_sample[0],
                {"long_name": "per-sample C, mean"},
            ),
            "accuracy": (("seed", *sd), squeeze(acc), {"long_name": "held-out accuracy on the training windows"}),
            "loss": (("seed", *sd, "epoch"), squeeze(loss)),
            "boundary": (
                (*sd, "transition"),
                boundary if sd else boundary[0],
                {"long_name": f"{lab} where neighbouring phases' mean p cross"},
            ),
            "boundary_interval": (
                (*sd, "transition", "bound"),
                bounds if sd else bounds[0],
                {"long_name": "bootstrap percentile intervals"},
            ),
            "boundary_bootstrap": ((*sd, "transition", "seed", "resample"), samples if sd else samples[0]),
            "boundary_grid": (
                (*sd, "transition"),
                peak if sd else peak[0],
                {"long_name": f"grid {lab} of maximal confusion between the windows"},
            ),
        },
        coords={
            "seed": np.arange(k),
            **{d: ds[d].values for d in sd},
            lab: x,
            "realization": np.arange(R),
            "class": np.array(ds["label"].attrs["classes"], dtype=object),
            "epoch": np.arange(loss.shape[-1]),
            "transition": names,
            "bound": BOUNDS,
            "resample": np.arange(samples.shape[-1]),
        },
        attrs={
            "model": model,
            "L": ds.attrs["L"],
            "classifier": classifier,
            "label_dim": lab,
            "set_dims": list(sd),
            "phasetrace_version": __version__,
        }
        | record(settings(config, "confusion", model, classifier=classifier)),
    )
    write_dataset(output, out)
    rows = []
    for s, (_, point) in enumerate(sets):
        for t, name in enumerate(names):
            rows.append(
                [
                    *(f"{v:.4f}" for v in point.values()),
                    name,
                    f"{boundary[s, t]:.4f}",
                    *[f"{v:.4f}" for v in bounds[s, t]],
                    f"{peak[s, t]:.4f}",
                    f"{conf[s].max():.4f}",
                    f"{acc[:, s].min():.4f}",
                    f"{acc[:, s].mean():.4f}",
                ]
            )
    write_csv(
        table,
        [
            *sd,
            "transition",
            f"{lab}_boundary",
            *[f"{lab}_{b}" for b in BOUNDS],
            f"{lab}_peak_grid",
            "confusion_peak",
            "accuracy_min",
            "accuracy_mean",
        ],
        rows,
    )


def write_csv(path: str, header: list[str], rows: list[list[str]]) -> None:
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(path).with_name(f".{Path(path).name}.tmp")
    with open(tmp, "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)
    tmp.replace(path)
