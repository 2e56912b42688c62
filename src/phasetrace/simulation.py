"""The simulation and aggregation jobs, generic over the models (:mod:`.models`): functions of (config, model name,
wildcards as written in paths, input and output paths) that the workflow's rules call.

Each job's store records everything needed to reproduce it independently: the model, the sweep point, the
realization block, the seed, the code version, and the settings it was made from (:mod:`.provenance`); a job
refuses an input made from other settings, naming it. A kernel health-check failure re-raises with the sweep point
in the message and leaves no output (stores are written atomically, see :mod:`.store`).
"""

from __future__ import annotations

import contextlib

import numpy as np

from . import __version__
from .models import get, grids, points
from .models import stage as model_stage
from .provenance import record, require_same, settings
from .store import read_arrays, write_arrays, write_dataset
from .sweep import parse_block, parse_point
from .validation import HealthCheckError


@contextlib.contextmanager
def _sweep_point(description: str):
    try:
        yield
    except HealthCheckError as err:
        raise HealthCheckError(f"sweep point {description}: {err}") from err


def simulate_job(config: dict, model: str, stage: str, point: str, block: str, inputs: list[str], output: str) -> None:
    """One block of realizations of one stage of ``model`` at one sweep point (``point``, ``block``: as in paths)."""
    m = get(model)
    st = model_stage(m, stage)
    cfg = config[model]
    values = parse_point(point, grids(m, cfg, st.dims))
    a, b = parse_block(block)
    stores = []
    for path in inputs:
        arrays, attrs = read_arrays(path)
        need = model_stage(m, st.needs)
        require_same(path, attrs, settings(config, need.name, model, **{d: values[d] for d in need.dims}))
        if attrs.get("realizations") != [a, b]:
            raise ValueError(f"{path} holds realizations {attrs.get('realizations')}, this job needs [{a}, {b}]")
        stores.append((arrays, attrs))
    with _sweep_point(f"{model} L={cfg['L']} {point} realizations {block}"):
        arrays = m.run_stage(config, stage, values, (a, b), stores)
    write_arrays(
        output,
        arrays,
        {
            "model": model,
            "stage": stage,
            "L": cfg["L"],
            **values,
            "realizations": [a, b],
            "seed": config["seed"],
            "version": __version__,
        }
        | record(settings(config, stage, model, **values)),
    )


def dataset_job(config: dict, model: str, inputs: list[str], output: str) -> None:
    """Every store of the model's last stage → ``traces.zarr``, the labeled dataset (the contract with training)."""
    m = get(model)
    last = m.stages[-1]
    sweep = grids(m, config[model], last.dims)
    stores, covered = [], {}
    for path in inputs:
        arrays, attrs = read_arrays(path)
        point = {d: attrs.get(d) for d in last.dims}
        require_same(path, attrs, settings(config, last.name, model, **point))
        for d, v in point.items():
            if not np.any(sweep[d] == v):
                raise ValueError(f"{path}: {d} = {v!r} is not a point of the configured {d} grid {sweep[d].tolist()}")
        key = tuple(point.values())
        covered[key] = covered.get(key, 0) + attrs["realizations"][1] - attrs["realizations"][0] + 1
        stores.append((arrays, attrs))
    expected = int(np.prod([v.size for v in sweep.values()]))
    R = config[model]["realizations"]
    missing = expected * R - sum(min(n, R) for n in covered.values())
    if missing:
        raise ValueError(
            f"{model} dataset: the inputs do not cover the sweep ({missing} of {expected * R} "
            "realizations of its points are missing)"
        )
    ds = m.dataset(config, stores)
    ds.attrs |= {"model": model, "seed": config["seed"], "phasetrace_version": __version__}
    ds.attrs |= record(settings(config, "dataset", model))
    write_dataset(output, ds)


def run_sweep(config: dict, model: str, block: tuple[int, int] | None = None):
    """The model's labeled dataset of ``config``, every stage run in-process (no workflow jobs, no stores) over one
    block of realizations (default: all of them; the realizations outside a block are NaN in the dataset)."""
    m = get(model)
    cfg = config[model]
    block = (0, cfg["realizations"] - 1) if block is None else block
    done: dict[str, dict] = {}
    for st in m.stages:
        need = model_stage(m, st.needs) if st.needs else None
        done[st.name] = {}
        for point in points(grids(m, cfg, st.dims)):
            inputs = []
            if need is not None:
                key = tuple(point[d] for d in need.dims)
                inputs = [(done[need.name][key], {})]
            done[st.name][tuple(point.values())] = m.run_stage(config, st.name, point, block, inputs)
    last = m.stages[-1]
    stores = [
        (arrays, dict(zip(last.dims, key, strict=True)) | {"realizations": list(block)})
        for key, arrays in done[last.name].items()
    ]
    return m.dataset(config, stores)
