"""Learning by confusion (van Nieuwenburg, Liu, Huber, Nat. Phys. 13, 435 (2017)): for every trial split point
s_j (the midpoints between neighbouring grid values) label every sample below it 0 and above it 1, train, and
measure the accuracy on held-out realizations of every point. Where the split is at the transition the labels
follow the physics and the accuracy is high; elsewhere one side mixes two phases; at the sweep's ends one side is
almost empty and the accuracy trivially high again: a W, whose inner maximum is the transition
(:mod:`.indicators`).

``multi`` (default): one network per member with one sigmoid output per split, trained once on every split's
labels (the multi-task variant, about the cost of one training). ``single``: one set of two-class networks per
split, the original method (S times the cost), kept to check the multi-task one.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from .fitting import prepare, require_network, train
from .indicators import locate, replicated_boundaries


def splits(values: np.ndarray) -> np.ndarray:
    """The trial split points: midpoints between neighbouring grid values."""
    values = np.asarray(values, dtype=np.float64)
    return 0.5 * (values[:-1] + values[1:])


def fit(config: dict, kind: str, x: np.ndarray, values: np.ndarray, shape, context, mode: str | None = None) -> dict:
    """Train the scan on samples x (n · R, T, F) of the sweep ``values`` (n,): ``q`` (k, n, R, S), each member's
    probability that a sample lies above each split, the ``loss`` and the split, resamples (:mod:`.fitting`)."""
    require_network(kind, "scan")
    mode = mode or config["schemes"]["scan"]
    n, R = shape
    s = splits(values)
    prep = prepare(config, shape, context)
    above = (np.asarray(values)[prep["point"]][:, None] > s[None, :]).astype(np.float32)  # (n R, S)
    network = None
    if mode == "multi":
        q, loss, params, hp = train(config, kind, x, above, s.size, prep, OBJECTIVE)
        network = (params, hp)
    elif mode == "single":
        runs = [train(config, kind, x, above[:, j].astype(np.int32), 2, prep, "softmax") for j in range(s.size)]
        q = np.stack([run[0][..., 1] for run in runs], axis=-1)
        loss = np.mean([run[1] for run in runs], axis=0)
    else:
        raise ValueError(f"schemes.scan = {mode!r} is not allowed: one of ['multi', 'single']")
    return prep | {"q": q.reshape(prep["members"], n, R, s.size), "loss": loss, "mode": mode, "network": network}


OBJECTIVE = "sigmoid"  # the multi-task networks' outputs: one probability per split


def network_attrs(values: np.ndarray, label_dim: str) -> dict:
    """What ``classify`` needs besides the parameters of a saved multi-task set: the sweep values and splits, and an
    output name per split (the set's ``classes``). The single-task sets are a check and are not saved."""
    s = splits(values)
    return {
        "values": np.asarray(values, dtype=np.float64).tolist(),
        "splits": s.tolist(),
        "classes": [f"{label_dim} > {v:.6g}" for v in s],
    }


def classified(out: np.ndarray, attrs: dict, lead: tuple[str, ...]) -> tuple[dict, dict]:
    """``classify``'s variables for a saved scan set from its outputs ``out`` (member, *lead, split): ``q``, each
    member's probability that a trace lies above each split; ``estimate``, the sweep value these imply for each trace
    (members' mean: v₀ + Σⱼ q̄ⱼ (vⱼ₊₁ − vⱼ), the mean of the distribution of v whose tail at sⱼ is q̄ⱼ); with a
    ``realization`` dimension, ``q_averaged`` and ``estimate_averaged`` over realizations too."""
    values = np.asarray(attrs["values"], dtype=np.float64)
    mean = out.mean(axis=0)

    def estimate(q):
        return values[0] + q @ np.diff(values)

    data = {
        "q": (("member", *lead, "split"), out, {"long_name": f"P({attrs['label_dim']} above the split)"}),
        "estimate": (lead, estimate(mean), {"long_name": f"{attrs['label_dim']} implied by the members' mean q"}),
    }
    if "realization" in lead:
        rest = tuple(d for d in lead if d != "realization")
        averaged = mean.mean(axis=lead.index("realization"))
        data["q_averaged"] = ((*rest, "split"), averaged)
        data["estimate_averaged"] = (rest, estimate(averaged))
    return data, {"split": np.asarray(attrs["splits"], dtype=np.float64)}


def accuracy_curve(q: np.ndarray, values: np.ndarray, held: np.ndarray) -> np.ndarray:
    """Accuracy at each split of the members' mean probability q (n, R, S) thresholded at 1/2, on the realizations
    ``held`` (n, h) of every point."""
    s = splits(values)
    above = np.asarray(values)[:, None] > s[None, :]  # (n, S)
    predicted = q[np.arange(q.shape[0])[:, None], held] > 0.5  # (n, h, S)
    return (predicted == above[:, None, :]).mean(axis=(0, 1))


def indicator(config: dict, fitted: dict, values: np.ndarray, names: list[str]) -> xr.Dataset:
    """The accuracy curve (``accuracy`` over ``split``, every member's mean; ``accuracy_per_member``) and each
    transition's boundary with its intervals (:func:`phasetrace.training.boundary_dataset`'s variables)."""
    from ..training import boundary_dataset

    q, held, evaluation = fitted["q"], fitted["held"], fitted["evaluation"]
    s = splits(values)

    def curve_of(members, selection):
        mean = q.mean(axis=0) if members is None else q[members].mean(axis=0)
        return accuracy_curve(mean, values, held if selection is None else selection)

    _, ranges, estimate = locate(s, curve_of, len(names))
    found = replicated_boundaries(estimate, q.shape[0], evaluation, ranges)
    out = boundary_dataset(names, found)
    out["boundary_replicates"] = (("transition", "resample"), np.array([b.replicates for b in found]))
    out["accuracy"] = ("split", curve_of(None, None), {"long_name": "held-out accuracy of the members' mean"})
    out["accuracy_per_member"] = (
        ("member", "split"),
        np.stack([accuracy_curve(q[j], values, held) for j in range(q.shape[0])]),
    )
    out["loss"] = (("member", "epoch"), fitted["loss"])
    return out.assign_coords(split=s, member=np.arange(q.shape[0]), epoch=np.arange(fitted["loss"].shape[-1]))
