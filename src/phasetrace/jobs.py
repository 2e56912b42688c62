"""What each workflow rule does, as functions of (config, wildcards as written in paths, input and output paths).

Rules only wire files and call these. Each job's store records everything needed to reproduce it independently:
the disorder, initial states, times, seed, sweep point, code version, and the settings it was made from
(:mod:`.provenance`); a job refuses an input made from other settings, naming it. A kernel health-check failure
re-raises with the sweep point in the message and leaves no output (stores are written atomically, see :mod:`.store`).
"""

from __future__ import annotations

import contextlib

import numpy as np
import xarray as xr

from . import __version__
from .heisenberg import HealthCheckError, SpectralBounds
from .provenance import record, require_same, settings
from .simulate import default_times, mbl_bounds, simulate_floquet, simulate_mbl
from .store import read_arrays, write_arrays, write_dataset
from .sweep import (
    EPS_FMT,
    W_FMT,
    floquet_windows,
    grid,
    labels,
    lookup,
    mbl_windows,
    parse_block,
)


@contextlib.contextmanager
def _sweep_point(description: str):
    try:
        yield
    except HealthCheckError as err:
        raise HealthCheckError(f"sweep point {description}: {err}") from err


def mbl_bounds_job(config: dict, W: str, block: str, output: str) -> None:
    cfg = config["mbl"]
    Wv = lookup(grid(cfg["W"]), W_FMT, W, "W")
    a, b = parse_block(block)
    with _sweep_point(f"mbl L={cfg['L']} W={W} realizations {block}"):
        bounds = mbl_bounds(config["seed"], cfg["L"], Wv, range(a, b + 1), cfg["J"], cfg["boundary"])
    write_arrays(
        output,
        {"E0": bounds.E0, "Emax": bounds.Emax, "E0_error": bounds.err0, "Emax_error": bounds.errmax,
         "iterations": bounds.iterations},
        {"W": Wv, "realizations": [a, b], "seed": config["seed"], "version": __version__}
        | record(settings(config, "mbl_bounds", W=Wv)),
    )


def mbl_traces_job(config: dict, eps: str, W: str, block: str, bounds_path: str, output: str) -> None:
    cfg = config["mbl"]
    epsv = lookup(grid(cfg["eps"]), EPS_FMT, eps, "eps")
    Wv = lookup(grid(cfg["W"]), W_FMT, W, "W")
    a, b = parse_block(block)
    arrays, attrs = read_arrays(bounds_path)
    require_same(bounds_path, attrs, settings(config, "mbl_bounds", W=Wv))
    if attrs.get("realizations") != [a, b]:
        raise ValueError(f"{bounds_path} holds realizations {attrs.get('realizations')}, this job needs [{a}, {b}]")
    bounds = SpectralBounds(arrays["E0"], arrays["Emax"], arrays["E0_error"], arrays["Emax_error"], arrays["iterations"])
    times = default_times(cfg["t_max"], cfg["n_times"])
    with _sweep_point(f"mbl L={cfg['L']} eps={eps} W={W} realizations {block}"):
        out = simulate_mbl(config["seed"], cfg["L"], Wv, [epsv], range(a, b + 1), times, cfg["J"], cfg["boundary"], bounds)
    keep = ("magnetization", "field", "initial_state", "initial_energy", "E0", "Emax", "times", "norm_drift", "energy_drift")
    write_arrays(
        output,
        {k: out[k] for k in keep},
        {"model": "mbl", "L": cfg["L"], "J": cfg["J"], "boundary": cfg["boundary"], "eps": epsv, "W": Wv,
         "realizations": [a, b], "seed": config["seed"], "version": __version__}
        | record(settings(config, "mbl_traces", eps=epsv, W=Wv)),
    )


def floquet_traces_job(config: dict, eps: str, block: str, output: str) -> None:
    cfg = config["floquet"]
    epsv = lookup(grid(cfg["eps"]), EPS_FMT, eps, "eps")
    a, b = parse_block(block)
    with _sweep_point(f"floquet L={cfg['L']} eps={eps} realizations {block}"):
        out = simulate_floquet(config["seed"], cfg["L"], [epsv], range(a, b + 1), cfg["periods"], cfg["T1"],
                               cfg["T2"], cfg["g"], cfg["boundary"])
    write_arrays(
        output,
        out,
        {"model": "floquet", "L": cfg["L"], "eps": epsv, "realizations": [a, b], "seed": config["seed"],
         "T1": cfg["T1"], "T2": cfg["T2"], "g": cfg["g"], "boundary": cfg["boundary"], "version": __version__}
        | record(settings(config, "floquet_traces", eps=epsv)),
    )


def _grid_index(path, values: np.ndarray, value: float, name: str) -> int:
    """Index of a store's exact sweep value in the configured grid (the store is refused if it is not a point)."""
    hit = np.nonzero(values == value)[0]
    if not hit.size:
        raise ValueError(f"{path}: {name} = {value!r} is not a point of the configured {name} grid {values.tolist()}")
    return int(hit[0])


def _classes_attr(windows) -> dict:
    return {"classes": [w.name for w in windows], "windows": {w.name: [w.low, min(w.high, 1e300)] for w in windows}}


def aggregate_mbl(config: dict, inputs: list[str], output: str) -> None:
    """Combine every (ε, W, block) store into ``traces.zarr`` (dims eps, W, realization, time, site)."""
    cfg = config["mbl"]
    eps, W = grid(cfg["eps"]), grid(cfg["W"])
    R, L, T = cfg["realizations"], cfg["L"], cfg["n_times"]
    mag = np.full((eps.size, W.size, R, T, L), np.nan)
    init = np.zeros((eps.size, W.size, R, L), np.int8)
    energy = np.full((eps.size, W.size, R), np.nan)
    field = np.full((W.size, R, L), np.nan)
    E0, Emax = np.full((W.size, R), np.nan), np.full((W.size, R), np.nan)
    for path in inputs:
        arr, attrs = read_arrays(path)
        require_same(path, attrs, settings(config, "mbl_traces", eps=attrs.get("eps"), W=attrs.get("W")))
        e, w = _grid_index(path, eps, attrs["eps"], "eps"), _grid_index(path, W, attrs["W"], "W")
        r = slice(attrs["realizations"][0], attrs["realizations"][1] + 1)
        mag[e, w, r] = arr["magnetization"][:, 0]
        init[e, w, r] = arr["initial_state"][:, 0]
        energy[e, w, r] = arr["initial_energy"][:, 0]
        field[w, r], E0[w, r], Emax[w, r] = arr["field"], arr["E0"], arr["Emax"]
        times = arr["times"]
    if np.isnan(mag).any():
        raise ValueError(f"aggregate_mbl: the inputs do not cover the sweep ({np.isnan(mag).sum()} values missing)")
    windows = mbl_windows(cfg)
    ds = xr.Dataset(
        {
            "magnetization": (("eps", "W", "realization", "time", "site"), mag, {"long_name": "<sigma^z_i>(t)"}),
            "field": (("W", "realization", "site"), field, {"long_name": "random field w_i"}),
            "initial_state": (("eps", "W", "realization", "site"), init, {"long_name": "sigma^z of the product state"}),
            "E0": (("W", "realization"), E0),
            "Emax": (("W", "realization"), Emax),
            "initial_energy": (("eps", "W", "realization"), energy),
            "label": (("eps", "W"), np.broadcast_to(labels(W, windows), (eps.size, W.size)).copy(),
                      _classes_attr(windows) | {"blanked": -1}),
        },
        coords={"eps": eps, "W": W, "realization": np.arange(R), "time": times, "site": np.arange(L)},
        attrs={"model": "mbl", "L": L, "J": cfg["J"], "boundary": cfg["boundary"], "seed": config["seed"],
               "t_max": cfg["t_max"], "phasetrace_version": __version__} | record(settings(config, "mbl_dataset")),
    )
    write_dataset(output, ds)


def aggregate_floquet(config: dict, inputs: list[str], output: str) -> None:
    """Combine every (ε, block) store into ``traces.zarr`` (dims eps, realization, period, site)."""
    cfg = config["floquet"]
    eps = grid(cfg["eps"])
    R, L, N = cfg["realizations"], cfg["L"], cfg["periods"]
    nb = L if cfg["boundary"] == "periodic" else L - 1
    mag = np.full((eps.size, R, N + 1, L), np.nan)
    imb = np.full((eps.size, R, N + 1), np.nan)
    coupling, field = np.full((R, nb), np.nan), np.full((R, L), np.nan)
    init = np.zeros((R, L), np.int8)
    for path in inputs:
        arr, attrs = read_arrays(path)
        require_same(path, attrs, settings(config, "floquet_traces", eps=attrs.get("eps")))
        e = _grid_index(path, eps, attrs["eps"], "eps")
        r = slice(attrs["realizations"][0], attrs["realizations"][1] + 1)
        mag[e, r], imb[e, r] = arr["magnetization"][0], arr["imbalance"][0]
        coupling[r], field[r], init[r] = arr["coupling"], arr["field"], arr["initial_state"]
    if np.isnan(mag).any():
        raise ValueError(f"aggregate_floquet: the inputs do not cover the sweep ({np.isnan(mag).sum()} values missing)")
    windows = floquet_windows(cfg)
    ds = xr.Dataset(
        {
            "magnetization": (("eps", "realization", "period", "site"), mag),
            "imbalance": (("eps", "realization", "period"), imb, {"long_name": "m(n).m(0)/L"}),
            "coupling": (("realization", "bond"), coupling),
            "field": (("realization", "site"), field),
            "initial_state": (("realization", "site"), init),
            "label": (("eps",), labels(eps, windows), _classes_attr(windows) | {"blanked": -1}),
        },
        coords={"eps": eps, "realization": np.arange(R), "period": np.arange(N + 1), "site": np.arange(L),
                "bond": np.arange(nb)},
        attrs={"model": "floquet", "L": L, "T1": cfg["T1"], "T2": cfg["T2"], "g": cfg["g"],
               "boundary": cfg["boundary"], "seed": config["seed"], "phasetrace_version": __version__}
        | record(settings(config, "floquet_dataset")),
    )
    write_dataset(output, ds)
