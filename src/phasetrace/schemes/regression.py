"""The prediction-based method (Schäfer & Lörch, PRE 99, 062107 (2019)): regress the sweep parameter v itself from
each trace (one linear output, squared loss, on v scaled to [0, 1] over the sweep); the mean prediction ŷ(v)
changes fastest where the traces change character, so the transition is the peak of dŷ/dv (:mod:`.indicators`).
The mean prediction averages every realization at each point, as the supervised scheme's confusion does."""

from __future__ import annotations

import numpy as np
import xarray as xr

from .fitting import prepare, require_network, train
from .indicators import locate, replicated_boundaries


def fit(config: dict, kind: str, x: np.ndarray, values: np.ndarray, shape, context) -> dict:
    """Train the regression on samples x (n · R, T, F) of the sweep ``values``: ``y`` (k, n, R), each member's
    prediction of v (in the sweep's units), the ``loss`` and the split, resamples (:mod:`.fitting`)."""
    require_network(kind, "regression")
    n, R = shape
    values = np.asarray(values, dtype=np.float64)
    lo, span = values.min(), np.ptp(values)
    prep = prepare(config, shape, context)
    target = ((values[prep["point"]] - lo) / span).astype(np.float32)
    out, loss, params, hp = train(config, kind, x, target, 1, prep, OBJECTIVE)
    y = lo + span * out[..., 0].reshape(prep["members"], n, R)
    return prep | {"y": y, "loss": loss, "network": (params, hp)}


OBJECTIVE = "squared"  # one linear output: the sweep parameter scaled to [0, 1] over the sweep


def network_attrs(values: np.ndarray, label_dim: str) -> dict:
    """What ``classify`` needs besides the parameters of a saved set: the sweep (its values map the output back from
    [0, 1] to the sweep's units) and the output's name (the set's ``classes``)."""
    return {"values": np.asarray(values, dtype=np.float64).tolist(), "classes": [label_dim]}


def classified(out: np.ndarray, attrs: dict, lead: tuple[str, ...]) -> tuple[dict, dict]:
    """``classify``'s variables for a saved regression set from its outputs ``out`` (member, *lead, 1):
    ``prediction``, each member's value of the sweep parameter for each trace, in the sweep's units;
    ``prediction_mean`` the members' mean; with a ``realization`` dimension, ``prediction_averaged`` over
    realizations too (the scheme's mean prediction at a sweep point)."""
    values = np.asarray(attrs["values"], dtype=np.float64)
    y = values.min() + np.ptp(values) * out[..., 0]
    mean = y.mean(axis=0)
    name = attrs["label_dim"]
    data = {
        "prediction": (("member", *lead), y, {"long_name": f"predicted {name}"}),
        "prediction_mean": (lead, mean, {"long_name": f"members' mean predicted {name}"}),
    }
    if "realization" in lead:
        rest = tuple(d for d in lead if d != "realization")
        data["prediction_averaged"] = (rest, mean.mean(axis=lead.index("realization")))
    return data, {}


def mean_prediction(y: np.ndarray, selection: np.ndarray | None = None) -> np.ndarray:
    """The mean over realizations (all, or the resample ``selection`` (n, R')) of predictions y (n, R)."""
    if selection is None:
        return y.mean(axis=1)
    return y[np.arange(y.shape[0])[:, None], selection].mean(axis=1)


def indicator(config: dict, fitted: dict, values: np.ndarray, names: list[str]) -> xr.Dataset:
    """The mean prediction ``prediction`` and its ``derivative`` over the sweep, and each transition's boundary with
    its intervals (:func:`phasetrace.training.boundary_dataset`'s variables)."""
    from ..training import boundary_dataset

    y, averaging = fitted["y"], fitted["averaging"]
    values = np.asarray(values, dtype=np.float64)

    def curve_of(members, selection):
        mean = y.mean(axis=0) if members is None else y[members].mean(axis=0)
        return np.gradient(mean_prediction(mean, selection), values)

    _, ranges, estimate = locate(values, curve_of, len(names))
    found = replicated_boundaries(estimate, y.shape[0], averaging, ranges)
    out = boundary_dataset(names, found)
    out["boundary_replicates"] = (("transition", "resample"), np.array([b.replicates for b in found]))
    out["prediction"] = ("value", mean_prediction(y.mean(axis=0)), {"long_name": "members' mean prediction"})
    out["derivative"] = ("value", curve_of(None, None), {"long_name": "derivative of the mean prediction"})
    out["prediction_per_member"] = (("member", "value"), y.mean(axis=2))
    out["loss"] = (("member", "epoch"), fitted["loss"])
    return out.assign_coords(value=values, member=np.arange(y.shape[0]), epoch=np.arange(fitted["loss"].shape[-1]))
