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
    out, loss = train(config, kind, x, target, 1, prep, "squared")
    return prep | {"y": lo + span * out[..., 0].reshape(prep["members"], n, R), "loss": loss}


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
