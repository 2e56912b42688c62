"""Optimal predictors (Arnold & Schäfer, PRX 12, 031044 (2022)): what a perfectly trained, arbitrarily large network
outputs for each scheme, computed from the distribution of the data instead of trained. Here the data is one
low-dimensional statistic of each trace, the threshold kind's late-time imbalance (its mean and its period-doubled
part, :func:`phasetrace.kinds.threshold.imbalance_features`), whose distribution P_v(f) at every sweep point v is
estimated by a Gaussian kernel density over that point's realizations (leave-one-out: a sample never counts in
the density it is evaluated with; bandwidth Scott's rule on the within-point spread). With equal weight per point,
the posterior of a sample is P(v | f) = P_v(f) / Σ_v' P_v'(f), and

- ``supervised``: the share P_b/(P_a + P_b) of two windows' mixtures, averaged over each point's realizations;
  the boundary is where it crosses 1/2 (the supervised scheme's logistic fit, :func:`phasetrace.boundaries.
  fitted_crossing`);
- ``scan``: the Bayes classifier's expected accuracy at split s, the mean of max(P(v > s | f), P(v < s | f));
- ``regression``: the optimal regressor E[v | f], averaged per point, and its derivative.

The intervals are bootstraps of the realizations (G = ``training.resamples`` resamples at every point, stream
``optimal``): each resample rebuilds the densities and the curves; no optimizer, so no halves.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..boundaries import fitted_crossing, gap
from ..kinds.threshold import imbalance_features
from ..seeds import stream_rng
from .indicators import locate, replicated_boundaries
from .scan import splits

SCHEMES = ("supervised", "scan", "regression")


def kernel(features: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """The Gaussian kernel matrix (N, N) of the samples' features (N, d) ordered (point, realization), zero on the
    diagonal (leave-one-out); bandwidth per feature: Scott's rule R^(−1/(d+4)) times the within-point standard
    deviation (pooled over points)."""
    n, R = shape
    f = np.asarray(features, dtype=np.float64)
    d = f.shape[1]
    within = np.sqrt(f.reshape(n, R, d).var(axis=1, ddof=1).mean(axis=0))
    scale = np.maximum(within, 1e-6 * np.maximum(np.ptp(f, axis=0), 1.0)) * R ** (-1.0 / (d + 4))
    z = (f[:, None, :] - f[None, :, :]) / scale
    K = np.exp(-0.5 * (z**2).sum(axis=-1))
    np.fill_diagonal(K, 0.0)
    return K


def posterior(K: np.ndarray, shape: tuple[int, int], selection: np.ndarray | None = None) -> np.ndarray:
    """P(v | f) (n, R', n) of every sample of the resample ``selection`` (n, R') (None: all), from the densities of
    the same resample; a sample far from every other is given the uniform posterior."""
    n, R = shape
    sel = np.tile(np.arange(R), (n, 1)) if selection is None else np.asarray(selection)
    flat = (np.arange(n)[:, None] * R + sel).ravel()
    density = K[np.ix_(flat, flat)].reshape(flat.size, n, sel.shape[1]).mean(axis=-1)  # (N', n)
    total = density.sum(axis=1, keepdims=True)
    post = np.where(total > 0, density / np.where(total > 0, total, 1.0), 1.0 / n)
    return post.reshape(n, sel.shape[1], n)


def curves(post: np.ndarray, values: np.ndarray, labels: np.ndarray, transitions) -> dict[str, np.ndarray]:
    """The optimal predictors' indicators from the posterior (n, R', n): ``share`` (transitions, n), ``accuracy``
    (splits,), ``prediction`` and ``derivative`` (n,)."""
    values = np.asarray(values, dtype=np.float64)
    s = splits(values)
    above = np.einsum("irv,vs->irs", post, (values[:, None] > s[None, :]).astype(np.float64))
    share = []
    for a, b, _ in transitions:
        pa, pb = post[..., labels == a].mean(axis=-1), post[..., labels == b].mean(axis=-1)
        share.append((pb / np.maximum(pa + pb, 1e-300)).mean(axis=1))
    prediction = (post @ values).mean(axis=1)
    return {
        "share": np.array(share),
        "accuracy": np.maximum(above, 1.0 - above).mean(axis=(0, 1)),
        "prediction": prediction,
        "derivative": np.gradient(prediction, values),
    }


def reference(
    config: dict, x: np.ndarray, values: np.ndarray, labels: np.ndarray, shape, context, transitions
) -> xr.Dataset:
    """Each scheme's optimal indicator and boundaries with intervals for one set: samples x (n · R, T, F) of the
    sweep ``values`` with the set's window ``labels`` per point (read by the supervised scheme only)."""
    from ..training import boundary_dataset

    n, R = shape
    values, labels = np.asarray(values, dtype=np.float64), np.asarray(labels)
    K = kernel(imbalance_features(x, config["training"]["late_times"]), shape)
    rng = stream_rng(config["seed"], "optimal", *context)
    selections = rng.integers(0, R, size=(config["training"]["resamples"], n, R))
    cache: dict = {}

    def of(selection):
        # by content: the schemes each iterate over their own views of the same selections, and a view's id() can be
        # reused by the next view once it is freed (which returned another resample's curves, so the replicates
        # depended on memory reuse: two runs of the same job differed)
        key = None if selection is None else np.asarray(selection).tobytes()
        if key not in cache:
            cache[key] = curves(posterior(K, shape, selection), values, labels, transitions)
        return cache[key]

    names = [name for _, _, name in transitions]
    gaps = [gap(values, labels, a, b) for a, b, _ in transitions]

    def supervised(_, selection):
        share = of(selection)["share"]
        return np.array([fitted_crossing(values, 1 - q, q, lo, hi) for q, (lo, hi) in zip(share, gaps, strict=True)])

    found = {"supervised": replicated_boundaries(supervised, 1, list(selections), gaps)}
    for scheme, x_of, curve in (("scan", splits(values), "accuracy"), ("regression", values, "derivative")):
        _, ranges, estimate = locate(x_of, lambda _, sel, c=curve: of(sel)[c], len(names))
        found[scheme] = replicated_boundaries(estimate, 1, list(selections), ranges)
    full = of(None)
    out = xr.concat([boundary_dataset(names, found[s]) for s in SCHEMES], dim="scheme")
    out = out.drop_vars("boundary_member_band").assign_coords(scheme=list(SCHEMES))
    out["boundary_replicates"] = (
        ("scheme", "transition", "resample"),
        np.array([[b.replicates for b in found[s]] for s in SCHEMES]),
    )
    out["share"] = (("transition", "value"), full["share"], {"long_name": "optimal supervised share p_b/(p_a+p_b)"})
    out["accuracy"] = ("split", full["accuracy"], {"long_name": "optimal (Bayes) accuracy of the split"})
    out["prediction"] = ("value", full["prediction"], {"long_name": "optimal prediction E[v | f], point mean"})
    out["derivative"] = ("value", full["derivative"], {"long_name": "derivative of the optimal mean prediction"})
    return out.assign_coords(value=values, split=splits(values), resample=np.arange(selections.shape[0]))
