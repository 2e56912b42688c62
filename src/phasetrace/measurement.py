"""The measurement model: what an experiment records of the exact traces ⟨σᶻᵢ⟩(t), applied between a dataset and
the classifiers (training, the paper's checks, the studies) — config section ``measurement``:

=============  ======================================================================================================
observable     ``site``: every kept site's ⟨σᶻᵢ⟩(t) (a quantum processor's qubit read-out); ``imbalance``: one
               number per time, I(t) = Σᵢ mᵢ(t) mᵢ(0) / L_kept, the generalized imbalance of a cold-atom experiment
               (for a Néel state the usual (N_e − N_o)/(N_e + N_o))
shots          N projective shots per (site, time): each kept mᵢ(t) is replaced by its estimate 2k/N − 1 with
               k ~ Binomial(N, (1 + mᵢ(t))/2); ``null`` keeps the exact value (N = ∞)
sites          ``all`` or the kept site indices (a subset of qubits)
time_stride    keep every k-th recorded time from t = 0 (a coarser grid)
time_max       keep times ≤ this (a shorter record); ``null``: all
=============  ======================================================================================================

Order: shot noise is drawn on every recorded (time, site), then times and sites are selected, then the observable
is formed — so the imbalance of N shots averages the noisy per-site estimates, and a selection keeps the very values
the full record has. Sites are sampled independently: the per-site marginal
of a shot is exact, the correlations between sites within one shot are not modelled (they change the imbalance's
variance, not its mean). The first time point is the initial product state: mᵢ(0) = ±1 is measured exactly by any
N, so the ``aligned`` input encoding and the imbalance stay defined.

The shots of each trace come from their own stream of the root seed (:mod:`.seeds`: stream ``shots``, model id, L,
the trace's sweep values in micro-units (ε, W) and realization, N): the same trace gets the same noise whatever
dataset holds it (the full sweep, one ε of a study, the first R realizations) and under any selection of its times
and sites. With ``observable: site``, N = ∞,
all sites and all times the model is the identity.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import xarray as xr

from .seeds import model_id, point_key, stream_rng


@dataclass(frozen=True)
class Observable:
    """What an experiment hands the classifiers: ``variable`` of the dataset, formed by ``form`` from the kept
    (noisy, selected) sites (..., T, sites) → (..., T, sites) where ``per_site``, else (..., T); ``describe``: how a
    file holding it looks ({t}: the time dimension); ``starts_at_one``: its first point is 1 for any product state
    (a check of ``classify``'s input)."""

    name: str
    variable: str
    per_site: bool
    form: Callable[[np.ndarray], np.ndarray]
    describe: str
    starts_at_one: bool = False


def imbalance(m: np.ndarray) -> np.ndarray:
    """I(t) = Σᵢ mᵢ(t) mᵢ(0) / L of traces m (..., T, sites) → (..., T)."""
    return (m * m[..., :1, :]).mean(axis=-1)


# The observables (measurement.observable, robustness.observables): the schema's choices, the robustness variants'
# names and classify's checks are derived from this registry
OBSERVABLES: dict[str, Observable] = {
    o.name: o
    for o in (
        Observable(
            "site",
            "magnetization",
            True,
            lambda m: m,
            "the site-resolved magnetization <sigma^z_i>(t) (variable 'magnetization', dimensions (..., {t}, site))",
        ),
        Observable(
            "imbalance",
            "imbalance",
            False,
            imbalance,
            "the imbalance I(t) only (variable 'imbalance', dimensions (..., {t}))",
            starts_at_one=True,
        ),
    )
}
VARIABLES = {name: o.variable for name, o in OBSERVABLES.items()}  # the dataset variable each is stored as
EXACT = {"observable": "site", "shots": None, "sites": "all", "time_stride": 1, "time_max": None}


def is_identity(measurement: dict) -> bool:
    return {k: measurement[k] for k in EXACT} == EXACT


def time_index(times: np.ndarray, stride: int, time_max: float | None) -> np.ndarray:
    """Indices of the recorded times kept: every ``stride``-th from the first, up to ``time_max``."""
    idx = np.arange(0, len(times), stride)
    if time_max is not None:
        idx = idx[np.asarray(times)[idx] <= time_max + 1e-9]
    return idx


def site_index(n_sites: int, sites) -> np.ndarray:
    return np.arange(n_sites) if sites == "all" else np.asarray(sites, dtype=int)


def shot_noise(m: np.ndarray, shots: int, rng: np.random.Generator) -> np.ndarray:
    """The N-shot estimate 2k/N − 1, k ~ Binomial(N, (1 + m)/2), of each exact ⟨σᶻ⟩ in m."""
    p = np.clip((1.0 + np.asarray(m, dtype=np.float64)) / 2.0, 0.0, 1.0)
    return 2.0 * rng.binomial(shots, p) / shots - 1.0


def features(da: xr.DataArray) -> np.ndarray:
    """The classifiers' input of an observed variable: (..., T, F), F = 1 for the imbalance (no site dimension)."""
    return da.values if "site" in da.dims else da.values[..., None]


def observed(ds: xr.Dataset) -> xr.DataArray:
    """The observed variable of a dataset: ``magnetization`` unless :func:`measure` made it the imbalance."""
    return ds[VARIABLES[ds.attrs.get("observable", "site")]]


def measured(config: dict, model: str, ds: xr.Dataset) -> xr.Dataset:
    """``ds`` of ``model`` through the config's measurement section; measured data (attr ``measured_data``, the
    ``measured`` model's dataset) as recorded: an experiment's values are not measured twice."""
    if ds.attrs.get("measured_data"):
        return ds
    return measure(ds, config["measurement"], config["seed"], model)


def measure(ds: xr.Dataset, measurement: dict, seed: int, model: str) -> xr.Dataset:
    """The dataset as the experiment records it: the observed variable (``magnetization`` (…, time, site) or
    ``imbalance`` (…, time)), the labels, and the kept coordinates; attrs gain ``observable``. The identity returns
    ``ds`` itself."""
    if is_identity(measurement):
        return ds
    mag = ds["magnetization"]
    if "site" not in mag.coords:  # the kept sites are named by their index in the chain
        mag = mag.assign_coords(site=np.arange(mag.sizes["site"]))
    time_dim = mag.dims[-2]
    if measurement["shots"] is not None:  # on every recorded (time, site) of a trace: selections are nested
        values = np.asarray(mag.values, dtype=np.float64).copy()
        keys = [[point_key(v) for v in mag[d].values] for d in mag.dims[:-2]]
        for cell in np.ndindex(*values.shape[:-2]):
            where = [keys[a][i] for a, i in enumerate(cell)]
            rng = stream_rng(seed, "shots", model_id(model), ds.attrs["L"], *where, measurement["shots"])
            values[cell] = shot_noise(values[cell], measurement["shots"], rng)
        mag = mag.copy(data=values)
    t = time_index(ds[time_dim].values, measurement["time_stride"], measurement["time_max"])
    s = site_index(mag.sizes["site"], measurement["sites"])
    kept = mag.isel({time_dim: t, "site": s})
    values = np.asarray(kept.values, dtype=np.float64)
    observable = OBSERVABLES[measurement["observable"]]
    if observable.per_site:
        out = kept.copy(data=observable.form(values))
    else:
        dims = kept.dims[:-1]
        out = xr.DataArray(observable.form(values), dims=dims, coords={d: kept[d] for d in dims})
    out.attrs = {"long_name": measurement["observable"], "shots": measurement["shots"] or 0}
    return xr.Dataset(
        {VARIABLES[measurement["observable"]]: out, "label": ds["label"]},
        attrs=ds.attrs | {"observable": measurement["observable"]},
    )


def robustness_variants(config: dict) -> list[str]:
    """The measurement variants of the robustness study: every observable at every N of ``robustness.shots`` (all
    times), and at every stride of ``robustness.time_strides`` (exact values); named by :func:`variant_name`."""
    study = config["robustness"]
    out = [variant_name(o, n, 1) for o in study["observables"] for n in study["shots"]]
    out += [variant_name(o, None, k) for o in study["observables"] for k in study["time_strides"]]
    return list(dict.fromkeys(out))


def variant_name(observable: str, shots: int | None, stride: int) -> str:
    return f"{observable}-N{'inf' if shots is None else shots}-t{stride}"


VARIANT = rf"({'|'.join(OBSERVABLES)})-N(inf|\d+)-t(\d+)"  # a variant name; the workflow's {variant} wildcard


def parse_variant(name: str) -> dict:
    """The measurement keys a variant name sets: observable, shots, time_stride."""
    match = re.fullmatch(VARIANT, name)
    if not match:
        choices = "|".join(OBSERVABLES)
        raise ValueError(f"{name!r} is not a measurement variant (<{choices}>-N<shots|inf>-t<stride>)")
    observable, shots, stride = match.groups()
    return {"observable": observable, "shots": None if shots == "inf" else int(shots), "time_stride": int(stride)}
