"""The schemes' workflow jobs: one scheme with one classifier kind on the compared training sets of a model
(``results/<model>/L<L>/<kind>/<scheme>.zarr``), and the optimal predictors' reference of every scheme
(``results/<model>/L<L>/optimal.zarr``). The supervised scheme is the network and confusion jobs
(:mod:`phasetrace.training`). A dataset whose points hold different numbers of realizations (the measured model's)
enters both with the first realizations every point holds (:func:`phasetrace.training.common_realizations`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from .. import __version__
from ..models import get
from ..provenance import record, settings
from ..store import write_dataset
from ..training import common_realizations, dataset_for, set_samples, transitions, write_network_set
from . import implementation, scheme_sets
from .optimal import reference


def _per_set(model: str, ds: xr.Dataset, sets, compute) -> xr.Dataset:
    """``compute(name, point)`` for every compared set, along the model's set dimension (none for a single set),
    with the sweep's ``value`` coordinate named as the model's labeled dimension."""
    m = get(model)
    parts = [compute(name, point) for name, point in sets]
    if m.set_dims:
        sd = m.set_dims[0]
        out = xr.concat(parts, dim=sd, data_vars="all").assign_coords({sd: [point[sd] for _, point in sets]})
    else:
        out = parts[0]
    return out.rename({"value": m.label_dim}) if "value" in out.dims else out


def _attrs(config: dict, model: str, ds: xr.Dataset, stage: str, **point) -> dict:
    m = get(model)
    return {
        "model": model,
        "L": ds.attrs["L"],
        "label_dim": m.label_dim,
        "set_dims": list(m.set_dims),
        "phasetrace_version": __version__,
        **point,
    } | record(settings(config, stage, model, **point))


def scheme_job(
    config: dict, model: str, classifier: str, scheme: str, dataset: str, output: str, networks: str
) -> None:
    """One trained scheme (``scan``, ``regression``) with one classifier kind on every compared set of ``model``:
    its indicator curves and each transition's boundary with its intervals in ``output``; each set's networks in
    ``networks/<set>.zarr.zip`` for ``classify`` (the scan's single-task sets, a check, are not saved)."""
    m = get(model)
    ds = common_realizations(dataset_for(config, model, dataset))  # the hold-out is by point: the same number at each
    impl = implementation(scheme)
    names = [name for _, _, name in transitions(ds)]
    values = ds[m.label_dim].values
    attrs = _attrs(config, model, ds, "scheme", classifier=classifier, scheme=scheme)
    if scheme == "scan":
        attrs["mode"] = config["schemes"]["scan"]
    folder = Path(networks)
    folder.mkdir(parents=True, exist_ok=True)

    def compute(set_name, point):
        x, _, shape, context = set_samples(model, ds, point)
        fitted = impl.fit(config, classifier, x, values, shape, context)
        if fitted["network"] is not None:
            params, hp = fitted["network"]
            extra = impl.network_attrs(values, m.label_dim)
            classes = extra.pop("classes")
            run = {"shape": list(shape), "measurement": config["measurement"], "objective": impl.OBJECTIVE}
            meta = attrs | point | run | extra
            arrays = {"loss": fitted["loss"], "train_idx": fitted["train_idx"], "held": fitted["held"]}
            write_network_set(str(folder / f"{set_name}.zarr.zip"), params, hp, ds, m.time_dim, arrays, meta, classes)
        return impl.indicator(config, fitted, values, names)

    out = _per_set(model, ds, scheme_sets(config, m), compute)
    write_dataset(output, out.assign_attrs(attrs))


def optimal_job(config: dict, model: str, dataset: str, output: str) -> None:
    """The optimal predictors of every scheme on the late-time imbalance, for every compared set of ``model``."""
    m = get(model)
    ds = common_realizations(dataset_for(config, model, dataset))  # one density per point, from as many realizations
    values = ds[m.label_dim].values
    trans = transitions(ds)

    def compute(_, point):
        x, _, shape, context = set_samples(model, ds, point)
        labels = ds["label"].sel(point).values if point else ds["label"].values
        return reference(config, x, values, np.asarray(labels), shape, context, trans)

    out = _per_set(model, ds, scheme_sets(config, m), compute)
    write_dataset(output, out.assign_attrs(_attrs(config, model, ds, "optimal")))
