"""Training jobs, generic over the models: labeled datasets → a set of k classifiers per (model, classifier kind,
training set) → predictions, confusion maps, phase boundaries with calibrated intervals (:mod:`.boundaries`).

Confusion per sweep point, two ways (both stored):
- ``confusion``: C of the realization-averaged prediction, then averaged over the k members (shown in the figures);
- ``confusion_per_sample``: C of each sample's prediction, averaged over realizations and members.
"""

from __future__ import annotations

import csv
import threading

import numpy as np
import xarray as xr

from . import __version__
from .boundaries import BOUNDS, Boundary, confusion, estimate, gap
from .classifiers import Hyper, fit_members, flat_params, hyper_attrs, member_keys, predict_members, unflat_params
from .measurement import features, measured, observed
from .models import get, training_sets
from .provenance import record, require_same, settings
from .runner import configure
from .seeds import model_id, stream_rng
from .store import open_dataset, read_arrays, write_arrays, write_csv, write_dataset
from .sweep import ALL_SETS, REALIZATIONS, point_name

# Two training computations executing at once in one process (local workflow jobs are threads) were seen to hang
# in XLA's CPU runtime, each waiting on the other's buffers; training and prediction therefore run one at a time
# per process. Each uses more than one core itself (a Floquet L = 8 network set of 40 members alone: 34 s, 47.5 s of
# CPU, 2026-12-04): on 2 cores two at once could gain at most 2 / 1.4 ≈ 1.4x, the most the locked training tail of
# config/scaling.yaml (23 min on 2026-12-04) loses.
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
        t["steps"],
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


def realization_resamples(
    train: np.ndarray,
    shape: tuple[int, int],
    groups: int,
    seed: int,
    *context: int,
    averaged: int | None = None,
    counts: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Each member group's bootstrap replicate of the data (:mod:`.boundaries`): its resample, with replacement, of
    the training samples at each labeled sweep point (``train_idx`` (G, n_train); samples are ordered (point,
    realization), ``shape`` = (points, R)), and of the realizations it averages at every point (``averaging``
    (G, points, ``averaged``), default R): the training draws come first, so they do not depend on ``averaged``.
    ``counts`` (points,): the realizations each point holds where they differ (the rest of R is padding); point i's
    averaging draws lie among its own ``counts[i]``, and its resample is the first ``counts[i]`` of them (with every
    count equal to ``averaged`` the draws are those without ``counts``)."""
    n, R = shape
    rng = stream_rng(seed, "bootstrap", *context)
    point = train // R
    train_idx = np.stack(
        [
            np.concatenate([rng.choice(train[point == w], size=int(np.sum(point == w))) for w in np.unique(point)])
            for _ in range(groups)
        ]
    )
    A = R if averaged is None else averaged
    high = A if counts is None else np.asarray(counts, dtype=np.int64)[None, :, None]
    return train_idx, rng.integers(0, high, size=(groups, n, A))


def pool_samples(
    shape: tuple[int, int], pool: int | None, counts: np.ndarray | None = None, labeled: np.ndarray | None = None
) -> np.ndarray:
    """The samples the networks may train on, in (point, realization) order: the first P = ``pool`` realizations of
    every point (``training.realizations``; None or ≥ R: all). Hold-out and resamples are drawn within the pool exactly
    as for a sweep of P realizations, so more realizations change what is averaged, never the networks.

    Where points hold different numbers of realizations (``counts`` (points,), the rest of R padding), P is at most
    the smallest count among the ``labeled`` points (bool (points,)): every labeled point gives the networks the same
    number, the first P of its own, and an unlabeled point (the confidence term's) the first min(P, its count)."""
    n, R = shape
    P = R if pool is None else min(int(pool), R)
    if counts is None:
        return (np.arange(n)[:, None] * R + np.arange(P)[None, :]).reshape(-1)
    counts = np.asarray(counts, dtype=np.int64)
    P = min(P, int(counts[labeled].min())) if np.any(labeled) else P
    return np.concatenate([i * R + np.arange(min(P, int(c))) for i, c in enumerate(counts)])


def fit_set(
    x: np.ndarray,
    labels: np.ndarray,
    hp: Hyper,
    k: int,
    seed: int,
    holdout: float,
    *context: int,
    shape: tuple[int, int] | None = None,
    resamples: int = 1,
    pool: int | None = None,
    counts: np.ndarray | None = None,
) -> dict:
    """Fit k members on the labeled samples of x (n, T, F), ordered (point, realization) with ``shape`` = (points,
    R), in ``resamples`` groups of k/resamples members, each group on its own bootstrap replicate of the
    realizations (:func:`realization_resamples`), and predict every sample. Without ``shape`` every sample is a
    point of its own, and the replicates are the training samples themselves. With ``pool`` the networks see the
    first ``pool`` realizations of each point only (:func:`pool_samples`: labeled for training, unlabeled for the
    confidence term) and are the networks of a sweep of ``pool`` realizations; every sample is predicted.

    ``counts`` (points,): the realizations each point holds where points differ (:data:`phasetrace.sweep.
    REALIZATIONS`); a point's samples past its count are padding: no network sees them (they are zeros where the
    whole x is handed over), their predictions are NaN, and the pool and the averaging resamples are those of
    :func:`pool_samples` and :func:`realization_resamples` with ``counts``.

    Returns params (stacked), p (k, n, classes), loss (k, epochs), accuracy (k,) on the held-out labeled samples,
    the held-out indices and ``averaging`` (G, points, R), the groups' resamples of the averaged realizations. The
    split, the resamples and the member keys depend on (seed, context), not on the kind: every classifier of a
    comparison sees the same data.
    """
    configure()
    if k % resamples:
        raise ValueError(f"{k} members do not form {resamples} groups of equal size")
    labels = np.asarray(labels)
    n, R = shape or (labels.size, 1)
    real = np.ones(n * R, dtype=bool) if counts is None else (np.arange(R)[None, :] < np.asarray(counts)[:, None])
    real = real.reshape(-1)
    x = np.where(real[:, None, None], np.asarray(x, dtype=np.float32), np.float32(0))  # padding: never a NaN input
    mine = pool_samples((n, R), pool, counts, labels.reshape(n, R)[:, 0] >= 0)
    train, held = holdout_split(labels[mine], holdout, seed, *context)
    train, held = mine[train], mine[held]
    group_idx, averaging = realization_resamples(train, (n, R), resamples, seed, *context, counts=counts)
    train_idx = np.repeat(group_idx, k // resamples, axis=0)
    # The members see the training samples only (the confidence term's unlabeled traces where it is on): the shapes
    # the training is compiled for do not change when other points gain realizations (a round of measurements)
    unlabeled = mine[labels[mine] < 0] if hp.confidence_weight > 0 else mine[:0]
    x_unl = x[unlabeled] if unlabeled.size else x[:1]
    own = np.searchsorted(train, train_idx)  # train is sorted: each drawn sample's place among the training samples
    with _XLA_TRAINING:
        keys = member_keys(seed, k, *context)
        params, loss = fit_members(keys, x[train], labels[train].astype(np.int32), own, x_unl, hp)
        p = np.where(real[None, :, None], predict_members(params, x, hp), np.nan)
    if not (np.isfinite(loss).all() and np.isfinite(p[:, real]).all()):
        finite = np.isfinite(p[:, real]).all(axis=(1, 2))
        bad = sorted({int(i) for i in np.nonzero(~np.isfinite(loss).all(axis=1) | ~finite)[0]})
        raise FloatingPointError(
            f"training diverged: member(s) {bad} of {k} produced non-finite losses or predictions; "
            "lower training.learning_rate or check the input traces"
        )
    acc = (p[:, held].argmax(-1) == labels[held][None, :]).mean(axis=1) if held.size else np.full(k, np.nan)
    return {"params": params, "p": p, "loss": loss, "accuracy": acc, "held_out": held, "averaging": averaging}


def fit_boundaries(
    values: np.ndarray, set_labels: np.ndarray, fit: dict, transitions: list, counts: np.ndarray | None = None
) -> list[Boundary]:
    """Each transition's :class:`~.boundaries.Boundary` of a fitted set (:func:`fit_set`) along the labeled
    sweep ``values`` with the set's labels per point; ``counts``: the realizations each point holds, where they
    differ (:func:`set_counts`)."""
    averaging = fit["averaging"]
    p = np.asarray(fit["p"], dtype=np.float64)
    p = p.reshape(p.shape[0], *averaging.shape[1:], p.shape[-1])
    return [estimate(values, p, a, b, *gap(values, set_labels, a, b), averaging, counts) for a, b, _ in transitions]


def boundary_dataset(names: list[str], found: list[Boundary]) -> xr.Dataset:
    """Each transition's :class:`~.boundaries.Boundary` as a Dataset over ``transition``: ``boundary``, its
    ``boundary_se`` and ``boundary_dof``, ``boundary_interval`` (over ``bound``) and the single members' 16–84%
    ``boundary_member_band`` (over ``band``: member_lo68, member_hi68)."""
    return xr.Dataset(
        {
            "boundary": ("transition", np.array([b.value for b in found], dtype=np.float64)),
            "boundary_se": ("transition", np.array([b.se for b in found], dtype=np.float64)),
            "boundary_dof": ("transition", np.array([b.dof for b in found], dtype=np.float64)),
            "boundary_interval": (("transition", "bound"), np.array([b.interval for b in found], dtype=np.float64)),
            "boundary_member_band": (
                ("transition", "band"),
                np.array([b.member_band for b in found], dtype=np.float64),
            ),
        },
        coords={"transition": names, "bound": BOUNDS, "band": ["member_lo68", "member_hi68"]},
    )


def locate(
    config: dict,
    model: str,
    ds: xr.Dataset,
    point: dict,
    kind: str | None = None,
    context: tuple[int, ...] | None = None,
    predictions: bool = False,
) -> xr.Dataset:
    """Fit → transitions → boundaries with their intervals, the sequence every study that refits a set runs.

    Fits k members of classifier ``kind`` (default: ``training.classifier``) on the training set of ``ds`` at
    ``point`` (``{}``: a model's only set) exactly as the workflow's network jobs do: same samples, hold-out,
    resamples and member keys (``context`` replaces the set's own, to draw as another set of the sweep does). Returns
    :func:`boundary_dataset` of every transition of ``ds`` with the held-out ``accuracy`` (member), its
    ``accuracy_mean`` and, with ``predictions``, ``p`` (member, labeled dimension, realization, class); attrs: the
    ``classifier`` and the shape of its input (``n_times``, ``n_features``).
    """
    m = get(model)
    x, labels, shape, own = set_samples(model, ds, point)
    counts = set_counts(model, ds, point)
    t = config["training"]
    hp = hyper(config, len(ds["label"].attrs["classes"]), kind)
    fit = fit_set(
        x, labels, hp, t["members"], config["seed"], t["holdout"], *(own if context is None else context),
        shape=shape, resamples=t["resamples"], pool=t["realizations"], counts=counts,
    )  # fmt: skip
    trans = transitions(ds)
    set_labels = ds["label"].sel(point).values if point else ds["label"].values
    out = boundary_dataset(
        [name for _, _, name in trans], fit_boundaries(ds[m.label_dim].values, set_labels, fit, trans, counts)
    )
    out["accuracy"] = ("member", fit["accuracy"])
    out["accuracy_mean"] = np.mean(fit["accuracy"])
    if predictions:
        p = fit["p"].reshape(t["members"], *shape, hp.n_classes)
        out["p"] = (("member", m.label_dim, "realization", "class"), p)
    return out.assign_attrs(classifier=hp.kind, n_times=x.shape[1], n_features=x.shape[2])


def save_set(output: str, fit: dict, hp: Hyper, ds: xr.Dataset, time_dim: str, attrs: dict) -> None:
    """A set with what it was trained on: the input's time grid (``times``, stored), its observable and variable,
    the number of features (sites, or 1 for the imbalance), the class names, the kind and hyper-parameters, and the
    settings (in ``attrs``)."""
    arrays = {
        "p": fit["p"],
        "loss": fit["loss"],
        "accuracy": fit["accuracy"],
        "held_out": fit["held_out"],
        "averaging": fit["averaging"],
    }
    write_network_set(output, fit["params"], hp, ds, time_dim, arrays, attrs, list(ds["label"].attrs["classes"]))


def write_network_set(
    output: str, params, hp: Hyper, ds: xr.Dataset, time_dim: str, arrays: dict, attrs: dict, classes: list[str]
) -> None:
    """A saved set of any scheme (:func:`load_networks` reads it): its parameters, ``arrays``, the input's time grid,
    observable, variable and number of features, the names of its outputs (``classes``), the hyper-parameters and
    version."""
    var = observed(ds)
    arrays = {f"params.{name}": v for name, v in flat_params(params, hp).items()} | arrays
    arrays["times"] = np.asarray(ds[time_dim].values, dtype=np.float64)
    input_attrs = {
        "observable": ds.attrs.get("observable", "site"),
        "variable": var.name,
        "time_dim": time_dim,
        "n_features": int(var.sizes.get("site", 1)),
        "classes": classes,
    }
    write_arrays(output, arrays, attrs | input_attrs | {"hyper": hyper_attrs(hp), "version": __version__})


# Classifier kinds renamed since a set could have been saved (0.3: the imbalance threshold is "threshold"); a set of
# the old name loads as the new kind, whose implementation is the same.
RENAMED_KINDS = {"imbalance": "threshold"}


def load_networks(path: str):
    """(stacked params, Hyper, attrs, times) of a saved set of any kind; a damaged set is named."""
    arrays, attrs = read_arrays(path)
    missing = [k for k in ("hyper", "n_features", "classes", "time_dim") if k not in attrs]
    if missing or "times" not in arrays:
        raise ValueError(f"{path} is not a phasetrace classifier set (missing {missing or ['times']})")
    if "epochs" in attrs["hyper"]:
        raise ValueError(
            f"{path} was saved by phasetrace < 0.2 (trained for a number of epochs, without member groups for the "
            "calibrated intervals); rebuild it with the current version (delete it and rerun its workflow target)"
        )
    hyper = attrs["hyper"] | {"kind": RENAMED_KINDS.get(attrs["hyper"]["kind"], attrs["hyper"]["kind"])}
    hp = Hyper(**hyper)
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
        (model_id(model), *index.values()),
    )


def set_counts(model: str, ds: xr.Dataset, point: dict[str, float]) -> np.ndarray | None:
    """The realizations each labeled point of one training set holds (:data:`phasetrace.sweep.REALIZATIONS`: points
    may hold different numbers, the rest padding), or None for a dataset that holds every realization everywhere."""
    if REALIZATIONS not in ds:
        return None
    m = get(model)
    index = {d: int(np.nonzero(ds[d].values == v)[0][0]) for d, v in point.items()}
    return np.asarray(ds[REALIZATIONS].isel(index).transpose(m.label_dim).values, dtype=np.int64)


def common_realizations(ds: xr.Dataset) -> xr.Dataset:
    """The dataset cut to the realizations every point holds (the first min count of each; itself where the points
    hold every realization): for the analyses that need the same number at every point (the schemes' hold-out by
    point, the optimal predictors' densities)."""
    if REALIZATIONS not in ds:
        return ds
    least = int(ds[REALIZATIONS].min())
    return ds.isel(realization=slice(0, least)).assign({REALIZATIONS: ds[REALIZATIONS].clip(max=least)})


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
    fit = fit_set(
        x,
        labels,
        hp,
        t["members"],
        config["seed"],
        t["holdout"],
        *context,
        shape=shape,
        resamples=t["resamples"],
        pool=t["realizations"],
        counts=set_counts(model, ds, point),
    )
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
    """p (k, ..., R, classes) → (C of realization-mean per member (k, ...), member mean of that, per-sample mean);
    NaN predictions (padding) are skipped."""
    per_member = confusion(np.nanmean(p, axis=-2))
    return per_member, per_member.mean(axis=0), np.nanmean(confusion(p), axis=(0, -1))


def transitions(ds: xr.Dataset) -> list[tuple[int, int, str]]:
    """The transitions between neighbouring classes along the labeled dimension: (a, a + 1, "a|b")."""
    names = list(ds["label"].attrs["classes"])
    return [(a, a + 1, f"{names[a]}|{names[a + 1]}") for a in range(len(names) - 1)]


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
    k = config["training"]["members"]
    C = len(ds["label"].attrs["classes"])
    p = np.stack([by_point[name]["p"].reshape(k, n, R, C) for name, _ in sets], axis=1).astype(np.float64)
    # p (k, sets, n_label, R, classes) in float64: averages over realizations and resamples are taken from it
    acc = np.stack([by_point[name]["accuracy"] for name, _ in sets], axis=1)  # (k, sets)
    loss = np.stack([by_point[name]["loss"] for name, _ in sets], axis=1)  # (k, sets, epochs)
    per_member, conf, per_sample = _point_confusion(p)
    x = ds[m.label_dim].values
    trans = transitions(ds)
    names = [t[2] for t in trans]
    found = [
        fit_boundaries(
            x,
            ds["label"].sel(pt).values,
            {"p": p[:, s], "averaging": by_point[name]["averaging"]},
            trans,
            set_counts(model, ds, pt),
        )
        for s, (name, pt) in enumerate(sets)
    ]  # (sets, transitions) of Boundary
    field = lambda f: np.array([[f(b) for b in row] for row in found])  # noqa: E731
    boundary, se, bounds = field(lambda b: b.value), field(lambda b: b.se), field(lambda b: b.interval)
    dof = field(lambda b: b.dof)
    replicates, members = field(lambda b: b.replicates), field(lambda b: b.members)
    peak = np.array(
        [
            [
                x[inside][np.argmax(conf[s][inside])]
                for inside in (_between(x, *gap(x, ds["label"].sel(pt).values, a, b)) for a, b, _ in trans)
            ]
            for s, (_, pt) in enumerate(sets)
        ]
    )
    one = (lambda v: v[0]) if not m.set_dims else (lambda v: v)  # a model with one set has no set dimension
    squeeze = (lambda v: v[:, 0]) if not m.set_dims else (lambda v: v)
    sd, lab = m.set_dims, m.label_dim
    out = xr.Dataset(
        {
            "p": (("member", *sd, lab, "realization", "class"), squeeze(p)),
            "confusion": (
                (*sd, lab),
                one(conf),
                {"long_name": "C of the realization-averaged prediction, member mean"},
            ),
            "confusion_per_member": (("member", *sd, lab), squeeze(per_member)),
            "confusion_per_sample": ((*sd, lab), one(per_sample), {"long_name": "per-sample C, mean"}),
            "accuracy": (("member", *sd), squeeze(acc), {"long_name": "held-out accuracy on the training windows"}),
            "loss": (("member", *sd, "epoch"), squeeze(loss)),
            "boundary": (
                (*sd, "transition"),
                one(boundary),
                {"long_name": f"{lab} where neighbouring phases' mean p cross (logistic fit between the windows)"},
            ),
            "boundary_se": (
                (*sd, "transition"),
                one(se),
                {"long_name": "calibrated standard error (retrained bootstrap, optimizer noise corrected)"},
            ),
            "boundary_dof": ((*sd, "transition"), one(dof), {"long_name": "degrees of freedom of boundary_se"}),
            "boundary_interval": (
                (*sd, "transition", "bound"),
                one(bounds),
                {"long_name": "Student-t intervals centred on the boundary"},
            ),
            "boundary_replicates": (
                (*sd, "transition", "resample"),
                one(replicates),
                {"long_name": "estimate of each retrained bootstrap group"},
            ),
            "boundary_members": (
                (*sd, "transition", "member"),
                one(members),
                {"long_name": "single members' estimates: the member-spread diagnostic, not an error bar"},
            ),
            "boundary_grid": (
                (*sd, "transition"),
                one(peak),
                {"long_name": f"grid {lab} of maximal confusion between the windows"},
            ),
        },
        coords={
            "member": np.arange(k),
            **{d: ds[d].values for d in sd},
            lab: x,
            "realization": np.arange(R),
            "class": np.array(ds["label"].attrs["classes"], dtype=object),
            "epoch": np.arange(loss.shape[-1]),
            "transition": names,
            "bound": BOUNDS,
            "resample": np.arange(replicates.shape[-1]),
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
            band = found[s][t].member_band
            rows.append(
                [
                    *(f"{v:.4f}" for v in point.values()),
                    name,
                    f"{boundary[s, t]:.4f}",
                    f"{se[s, t]:.4f}",
                    *[f"{v:.4f}" for v in bounds[s, t]],
                    *[f"{v:.4f}" for v in band],
                    f"{peak[s, t]:.4f}",
                    f"{conf[s].max():.4f}",
                    f"{acc[:, s].min():.4f}",
                    f"{acc[:, s].mean():.4f}",
                ]
            )
    write_csv(table, boundary_columns(list(sd), lab), rows)


def boundary_columns(set_dims: list[str], lab: str) -> list[str]:
    """The header of ``boundary.csv``."""
    return [
        *set_dims,
        "transition",
        f"{lab}_boundary",
        f"{lab}_se",
        *[f"{lab}_{b}" for b in BOUNDS],
        f"{lab}_member_lo68",
        f"{lab}_member_hi68",
        f"{lab}_peak_grid",
        "confusion_peak",
        "accuracy_min",
        "accuracy_mean",
    ]


def read_boundaries(path: str) -> list[dict]:
    """The rows of a ``boundary.csv``; one written before the calibrated intervals (phasetrace < 0.2: no
    ``*_se`` column, its lo/hi columns were percentiles of single members) is refused with what to do."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
        header = rows[0].keys() if rows else []
    if not any(c.endswith("_se") for c in header):
        raise ValueError(
            f"{path} was written before phasetrace 0.2: its interval columns are percentiles of single members, not "
            "the calibrated intervals of its boundary; rebuild it (delete it and rerun the workflow's target)"
        )
    return rows


def _between(x: np.ndarray, lo: float, hi: float) -> np.ndarray:
    return (x >= lo) & (x <= hi)
