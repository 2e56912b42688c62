"""Command line.

``python -m phasetrace classify --networks SET --traces FILE --out PREDICTIONS [--overwrite]``
    Applies a saved set of any classifier kind (``results/<model>/L<L>/<kind>/networks/<set>.zarr.zip``) to traces,
    e.g. new or experimental ones, in Zarr, NetCDF (``*.nc``) or CSV (``*.csv``, long form: README), and writes a
    Zarr dataset with ``p(seed, ..., class)``, the confusion of each sample (seed mean) and the confusion of the
    realization-averaged prediction where the traces have a ``realization`` dimension. The traces must hold the
    observable the set was trained on (``magnetization`` (..., time, site) or ``imbalance`` (..., time): the set
    records its measurement) on its time grid and number of sites; the input is checked first (observable, grid,
    sites, finite values in [−1, 1]). ``--out`` must not exist (``--overwrite`` replaces an earlier classify
    output, nothing else) and must not be an input.

``python -m phasetrace check-config FILE [FILE ...]``
    Validates config files as the workflow would read them (``config.yaml`` of the working directory, if any,
    overlaid by FILEs in order), naming a YAML error's line and any key taken from ``config.yaml``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

CREATED_BY = "phasetrace classify"


def _check_out(out: Path, inputs: dict[str, str], overwrite: bool) -> None:
    """Refuse an --out that is (inside, or holds) an input, or that exists and is not ours to replace."""
    target = out.resolve()
    for flag, path in inputs.items():
        src = Path(path).resolve()
        if target == src or src.is_relative_to(target) or target.is_relative_to(src):
            raise ValueError(f"--out {out} overlaps the input {flag} {path}; write the predictions elsewhere")
    if not (out.exists() or out.is_symlink()):
        return
    if not overwrite:
        raise ValueError(
            f"--out {out} exists; choose a new path, or pass --overwrite to replace an earlier classify output"
        )
    if not _is_classify_output(out):
        raise ValueError(
            f"--out {out} exists and is not an output of phasetrace classify; it is left as it is "
            "(--overwrite only replaces earlier classify outputs)"
        )


def _is_classify_output(path: Path) -> bool:
    import json

    meta = path / "zarr.json"
    if path.is_symlink() or not path.is_dir() or not meta.is_file():
        return False
    try:
        return json.loads(meta.read_text()).get("attributes", {}).get("created_by") == CREATED_BY
    except (OSError, ValueError):
        return False


_DESCRIBE = {
    "site": "the site-resolved magnetization <sigma^z_i>(t) (variable 'magnetization', dimensions (..., {t}, site))",
    "imbalance": "the imbalance I(t) only (variable 'imbalance', dimensions (..., {t}))",
}


def _checked_input(ds, traces: str, networks: str, attrs: dict, times):
    """The observed variable of ``ds`` as float32 (samples, time, features) and its leading dims, after checking it
    against what the network set was trained on: observable, time grid, number of sites, values."""
    import numpy as np

    from .measurement import VARIABLES, features

    observable, time_dim, n_sites = attrs.get("observable", "site"), attrs["time_dim"], attrs["n_features"]
    variable = VARIABLES[observable]
    other = next(o for o in VARIABLES if o != observable)
    if variable not in ds.data_vars:
        if VARIABLES[other] in ds.data_vars:
            advice = (
                f"it holds {_DESCRIBE[other].format(t=time_dim)}. Classify it with a set trained on "
                f"measurement.observable: {other}"
            )
        else:
            advice = f"it has the variables {sorted(ds.data_vars)}; name the traces' variable {variable!r}"
        raise ValueError(
            f"--networks {networks} was trained on {_DESCRIBE[observable].format(t=time_dim)}; --traces {traces} "
            f"has no variable {variable!r}: {advice}"
        )
    data = ds[variable]
    last = (time_dim, "site") if observable == "site" else (time_dim,)
    if not set(last) <= set(data.dims) or (observable == "imbalance" and "site" in data.dims):
        raise ValueError(
            f"--traces {traces}: {variable} must have the dimensions {last} the networks were trained on "
            f"(and any others before them); it has {data.dims}"
        )
    data = data.transpose(..., *last)
    if data.sizes.get("site", 1) != n_sites:
        raise ValueError(
            f"--traces {traces}: {variable} has {data.sizes['site']} sites, the networks were trained on {n_sites}"
        )
    try:
        grid = np.asarray(ds[time_dim].values, dtype=float) if time_dim in ds.coords else None
    except (TypeError, ValueError):
        raise ValueError(f"--traces {traces}: the {time_dim} coordinate must hold numbers") from None
    if grid is None or grid.shape != times.shape or not np.allclose(grid, times, rtol=1e-9, atol=1e-12):
        have = "no coordinate" if grid is None else f"{grid.size} points in [{grid.min()}, {grid.max()}]"
        raise ValueError(
            f"--traces {traces}: the {time_dim} grid ({have}) is not the one the networks were "
            f"trained on ({times.size} points in [{times.min()}, {times.max()}])"
        )
    x = np.asarray(features(data), dtype=np.float64)
    if not np.isfinite(x).all():
        raise ValueError(
            f"--traces {traces}: {variable} has {int((~np.isfinite(x)).sum())} non-finite values "
            "(NaN or inf); every value must be a finite number in [-1, 1]"
        )
    if np.abs(x).max() > 1 + 1e-9:
        raise ValueError(
            f"--traces {traces}: {variable} has values outside [-1, 1] (max |value| = "
            f"{np.abs(x).max():.6g}); <sigma^z> and the imbalance lie in [-1, 1]"
        )
    if observable == "imbalance" and not np.allclose(x[..., 0, :], 1):
        raise ValueError(
            f"--traces {traces}: the imbalance at the first {time_dim} point must be 1 (I(0) = sum_i m_i(0)^2 / L "
            "for the initial product state); it is not"
        )
    if observable == "site" and attrs["hyper"].get("input") == "aligned" and not np.allclose(np.abs(x[..., 0, :]), 1):
        raise ValueError(
            f"--traces {traces}: the set reads traces relative to the initial product state, so the "
            f"first {time_dim} point must be that state (every value ±1); it is not"
        )
    return x.reshape(-1, *x.shape[-2:]).astype(np.float32), data.dims[: -len(last)], data.shape[: -len(last)]


def classify(networks: str, traces: str, out: str, overwrite: bool = False) -> None:
    import numpy as np
    import xarray as xr

    from .boundaries import confusion
    from .classifiers import predict_members
    from .runner import configure
    from .store import open_traces, write_dataset
    from .training import load_networks

    configure()
    _check_out(Path(out), {"--networks": networks, "--traces": traces}, overwrite)
    params, hp, attrs, times = load_networks(networks)
    ds = open_traces(traces)
    x, lead, shape = _checked_input(ds, traces, networks, attrs, times)
    p = predict_members(params, x, hp).reshape(-1, *shape, hp.n_classes)
    coords = {d: ds[d].values for d in lead if d in ds.coords} | {"class": np.array(attrs["classes"], dtype=object)}
    data = {
        "p": (("seed", *lead, "class"), p),
        "confusion_per_sample": (lead, confusion(p).mean(axis=0)),
    }
    if "realization" in lead:
        r = lead.index("realization") + 1
        mean_p = p.mean(axis=r)
        data["confusion"] = (tuple(d for d in lead if d != "realization"), confusion(mean_p).mean(axis=0))
    meta = {"created_by": CREATED_BY, "networks": networks, "traces": traces}
    meta |= {k: attrs[k] for k in ("settings", "settings_digest") if k in attrs}
    write_dataset(out, xr.Dataset(data, coords=coords, attrs=meta))


def check_config(files: list[str]) -> None:
    from snakemake.utils import update_config

    from .config import read_yaml, taken_from_defaults, validate

    default = Path("config.yaml")
    merged = read_yaml(default) if default.exists() else {}
    given: dict = {}
    for f in files:
        update_config(given, read_yaml(f))
    if merged and files:
        taken = taken_from_defaults(merged, given)
        if taken:
            print(f"taken from {default.resolve()}: {', '.join(taken)}")
    update_config(merged, given)
    validate(merged)
    print(f"config ok: {', '.join(files) or default}")


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(
        prog="phasetrace", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("classify", help="apply a saved network set to a traces dataset")
    c.add_argument("--networks", required=True, help="saved network set (*.zarr.zip)")
    c.add_argument("--traces", required=True, help="traces: Zarr, NetCDF (*.nc) or CSV (*.csv) (README)")
    c.add_argument("--out", required=True, help="output Zarr dataset of predictions (must not exist)")
    c.add_argument("--overwrite", action="store_true", help="replace --out if it is an earlier classify output")
    k = sub.add_parser("check-config", help="validate config files as the workflow reads them")
    k.add_argument("files", nargs="*", help="config files overlaid on ./config.yaml, in order")
    args = parser.parse_args(argv)
    try:
        if args.command == "classify":
            classify(args.networks, args.traces, args.out, args.overwrite)
        else:
            check_config(args.files)
    except (ValueError, FileNotFoundError) as err:
        sys.exit(f"phasetrace {args.command}: {err}")


if __name__ == "__main__":
    main()
