"""Command line.

``python -m phasetrace classify --networks SET --traces FILE --out PREDICTIONS [--overwrite]``
    Applies a saved set of any classifier kind (``results/<model>/L<L>/<kind>/networks/<set>.zarr.zip``) to traces,
    e.g. new or experimental ones, in Zarr, NetCDF (``*.nc``) or CSV (``*.csv``, long form: README), and writes a
    Zarr dataset with ``p(member, ..., class)``, the confusion of each sample (member mean) and the confusion of the
    realization-averaged prediction where the traces have a ``realization`` dimension. A set of a detection scheme
    (``<kind>/scan/networks/<set>.zarr.zip``, ``<kind>/regression/networks/<set>.zarr.zip``) writes that scheme's
    outputs instead: the scan's probability above each split ``q(member, ..., split)`` and the sweep value it
    implies (``estimate``), the regression's ``prediction(member, ...)`` of the sweep parameter, each with its
    members' and realizations' means (:func:`phasetrace.schemes.scan.classified`, ``regression.classified``). The
    traces must hold the observable the set was trained on (``magnetization`` (..., time, site) or ``imbalance``
    (..., time): the set records its measurement) on its time grid and number of sites; the input is checked first
    (observable, grid, sites, finite values in [−1, 1]). ``--out`` must not exist (``--overwrite`` replaces an
    earlier classify output, nothing else) and must not be an input.

``python -m phasetrace verify [DIR ...] [--adopt]``
    Checks every Zarr store under DIR (default ``results``) against its manifest, without a job reading it (a
    deleted chunk leaves every timestamp as it was, so Snakemake reruns nothing by itself); names each damaged store
    with what is wrong, prints the command that rebuilds them and what was made from them, and exits 1. ``--adopt``
    first records a manifest of each store written before phasetrace recorded them, as it is.

``python -m phasetrace closed-loop CONFIG --out DIR``
    The loop suggest → measure → refit on a synthetic experiment (:mod:`phasetrace.closed_loop`; the worked example:
    ``config/closed-loop.yaml``): every round's estimate, the uniform sweep's and the exact-data reference's in
    ``DIR/closed_loop.csv``, their means over replicates in ``DIR/closed_loop_summary.csv``.

``python -m phasetrace check-config [--directory D] [FILE ...]``
    Validates config files as the workflow would read them, naming a YAML error's line and any key taken from
    ``config.yaml``. One rule, the workflow's: keys the FILEs (overlaid in order) leave out are filled from the
    ``config.yaml`` of the working directory, which is the current directory or the one ``--directory D`` names,
    for ``snakemake --directory D`` and ``check-config --directory D`` alike (none there: nothing is filled).
    With no FILE it checks D's ``config.yaml``, or where D has none, the default config phasetrace ships (package
    data: what an installed phasetrace validates without the repository).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from pathlib import Path

CREATED_BY = "phasetrace classify"
WORKDIR_CONFIG = "config.yaml"  # what fills the keys config files leave out: the working directory's (Snakefile)


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


def _checked_input(ds, traces: str, networks: str, attrs: dict, times):
    """The observed variable of ``ds`` as float32 (samples, time, features) and its leading dims, after checking it
    against what the network set was trained on: observable, time grid, number of sites, values."""
    import numpy as np

    from .measurement import OBSERVABLES, features

    observable, time_dim, n_sites = attrs.get("observable", "site"), attrs["time_dim"], attrs["n_features"]
    obs = OBSERVABLES[observable]
    variable = obs.variable
    held = [o for o in OBSERVABLES.values() if o.name != observable and o.variable in ds.data_vars]
    if variable not in ds.data_vars:
        if held:
            advice = (
                f"it holds {held[0].describe.format(t=time_dim)}. Classify it with a set trained on "
                f"measurement.observable: {held[0].name}"
            )
        else:
            advice = f"it has the variables {sorted(ds.data_vars)}; name the traces' variable {variable!r}"
        raise ValueError(
            f"--networks {networks} was trained on {obs.describe.format(t=time_dim)}; --traces {traces} "
            f"has no variable {variable!r}: {advice}"
        )
    data = ds[variable]
    last = (time_dim, "site") if obs.per_site else (time_dim,)
    if not set(last) <= set(data.dims) or (not obs.per_site and "site" in data.dims):
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
    differs = grid_difference(grid, times, time_dim)
    if differs:
        raise ValueError(
            f"--traces {traces}: the {time_dim} grid ({_span(grid)}) is not the one the networks were trained on "
            f"({_span(times)}): {differs}"
        )
    empty = [d for d, n in zip(data.dims, data.shape, strict=True) if n == 0]
    if empty:
        raise ValueError(
            f"--traces {traces}: {variable} holds no values: its dimension(s) {empty} have size 0 (every dimension "
            "needs at least one entry)"
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
    if obs.starts_at_one and not np.allclose(x[..., 0, :], 1):
        raise ValueError(
            f"--traces {traces}: the {observable} at the first {time_dim} point must be 1 (I(0) = sum_i m_i(0)^2 / L "
            "for the initial product state); it is not"
        )
    if obs.per_site and attrs["hyper"].get("input") == "aligned" and not np.allclose(np.abs(x[..., 0, :]), 1):
        raise ValueError(
            f"--traces {traces}: the set reads traces relative to the initial product state, so the "
            f"first {time_dim} point must be that state (every value ±1); it is not"
        )
    return x.reshape(-1, *x.shape[-2:]).astype(np.float32), data.dims[: -len(last)], data.shape[: -len(last)]


def _span(grid) -> str:
    if grid is None:
        return "no coordinate"
    return f"{grid.size} points in [{grid.min()}, {grid.max()}]" if grid.size else "no points"


def grid_difference(grid, times, time_dim: str) -> str | None:
    """Where a traces file's time grid differs from a set's (None: they agree to 1e-9 relative): the number of
    points, or the first point that differs and the largest difference."""
    import numpy as np

    if grid is None:
        return f"the traces have no {time_dim} coordinate"
    if grid.shape != times.shape:
        return f"the numbers of points differ ({grid.size} here, {times.size} in training)"
    bad = ~np.isclose(grid, times, rtol=1e-9, atol=1e-12)
    if not bad.any():
        return None
    i, worst = int(np.argmax(bad)), int(np.argmax(np.abs(grid - times)))
    return (
        f"{int(bad.sum())} of its {grid.size} points differ, the first at index {i} ({time_dim} = {grid[i]!r} here, "
        f"{times[i]!r} in training); the largest difference is {abs(grid[worst] - times[worst]):.3g} at index {worst}"
    )


@contextlib.contextmanager
def out_lock(out: Path, networks: str, traces: str):
    """Hold ``.<out>.lock`` beside ``--out`` while writing it: a second ``classify`` of the same ``--out`` is refused,
    naming the first (process, host, start, inputs). The lock is the kernel's (flock), so a killed writer leaves no
    stale lock behind."""
    import fcntl
    import json
    import os
    import socket
    import time

    lock = out.with_name(f".{out.name}.lock")
    try:
        lock.parent.mkdir(parents=True, exist_ok=True)
        while True:
            fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = os.read(fd, 4096).decode(errors="replace")
                os.close(fd)
                try:
                    h = json.loads(holder)
                    who = (
                        f"pid {h['pid']} on {h['host']}, started {h['started']}, with --networks {h['networks']} "
                        f"--traces {h['traces']}"
                    )
                except (ValueError, KeyError):
                    who = f"see {lock}"
                raise ValueError(
                    f"--out {out} is being written by another phasetrace classify ({who}); wait for it to finish, "
                    "or write elsewhere"
                ) from None
            if os.path.exists(lock) and os.stat(lock).st_ino == os.fstat(fd).st_ino:
                break  # else the holder removed the file between our open and our lock: take the new one
            os.close(fd)
    except OSError as err:
        raise ValueError(f"--out {out}: cannot write in {out.parent} ({type(err).__name__}: {err.strerror})") from None
    started = time.strftime("%Y-%m-%d %H:%M:%S")
    me = {"pid": os.getpid(), "host": socket.gethostname(), "started": started, "networks": networks, "traces": traces}
    os.ftruncate(fd, 0)
    os.write(fd, json.dumps(me).encode())
    try:
        yield
    finally:
        os.unlink(lock)
        os.close(fd)


def classify(networks: str, traces: str, out: str, overwrite: bool = False) -> None:
    from .runner import configure

    configure()
    with out_lock(Path(out), networks, traces):
        _check_out(Path(out), {"--networks": networks, "--traces": traces}, overwrite)
        _classify(networks, traces, out)


def _classify(networks: str, traces: str, out: str) -> None:
    import numpy as np
    import xarray as xr

    from .boundaries import confusion
    from .classifiers import predict_members
    from .kinds import implementation
    from .store import open_traces, write_dataset
    from .training import load_networks

    params, hp, attrs, times = load_networks(networks)
    ds = open_traces(traces)
    x, lead, shape = _checked_input(ds, traces, networks, attrs, times)
    coords = {d: ds[d].values for d in lead if d in ds.coords}
    scheme = attrs.get("scheme", "supervised")
    if scheme == "supervised":
        p = predict_members(params, x, hp).reshape(-1, *shape, hp.n_classes)
        coords["class"] = np.array(attrs["classes"], dtype=object)
        data = {
            "p": (("member", *lead, "class"), p),
            "confusion_per_sample": (lead, confusion(p).mean(axis=0)),
        }
        if "realization" in lead:
            r = lead.index("realization") + 1
            mean_p = p.mean(axis=r)
            data["confusion"] = (tuple(d for d in lead if d != "realization"), confusion(mean_p).mean(axis=0))
    else:  # a detection scheme's set (phasetrace.schemes): its own outputs
        from .schemes import implementation as scheme_implementation

        impl = scheme_implementation(scheme)
        raw = implementation(hp.kind).predict(params, x, hp, objective=attrs["objective"])
        data, extra = impl.classified(np.asarray(raw, dtype=np.float64).reshape(-1, *shape, hp.n_classes), attrs, lead)
        coords |= extra
    meta = {"created_by": CREATED_BY, "networks": networks, "traces": traces, "scheme": scheme}
    meta |= {k: attrs[k] for k in ("settings", "settings_digest") if k in attrs}
    write_dataset(out, xr.Dataset(data, coords=coords, attrs=meta))


def check_config(files: list[str], directory: str = ".") -> None:
    from snakemake.utils import update_config

    from .config import DEFAULT_CONFIG, read_yaml, taken_from_defaults, validate

    default = Path(directory) / WORKDIR_CONFIG
    if not files and not default.exists():
        default = DEFAULT_CONFIG  # nothing given and no config.yaml in D: the default config phasetrace ships
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


def suggest(confusion: str, out: str, budget: int, block: int, target: float | None) -> None:
    """Write the next sweep values and realizations to simulate or measure (phasetrace.adaptive) as a CSV."""
    from .adaptive import suggest as plan
    from .adaptive import write_suggestions
    from .store import open_dataset

    if Path(out).exists():
        raise ValueError(f"--out {out} exists; choose another name or remove it")
    rows = plan(open_dataset(confusion), budget, block, target)
    write_suggestions(rows, out)
    done = [r for r in rows if r["value"] is None]
    for r in done:
        where = "".join(f"{k} = {r[k]:.4g}, " for k in r if k not in SUMMARY)  # a model with one set: none
        print(
            f"{where}{r['transition']}: {r['realizations']} traces; 95% half-width {r['reported_half95']:.3g} "
            f"now, {r['predicted_half95']:.3g} predicted"
        )
    print(f"wrote {out}")


SUMMARY = {"transition", "value", "realizations", "new", "influence", "predicted_half95", "reported_half95"}


def closed_loop(config: str, out: str) -> None:
    """The closed loop on a synthetic experiment (phasetrace.closed_loop): its tables and files in ``out``, which must
    not exist and must lie in the working directory (the measured model's files are paths relative to it)."""
    import os

    from .closed_loop import SUMMARY_COLUMNS, load, run

    if Path(out).exists():
        raise ValueError(f"--out {out} exists; choose another name or remove it")
    where = Path(os.path.relpath(Path(out).resolve(), Path.cwd().resolve()))
    if where.parts[:1] == ("..",):
        raise ValueError(
            f"--out {out} is outside the working directory {Path.cwd()}: the measured model reads its files by paths "
            "relative to it; run from a directory that holds --out"
        )
    cfg, loop = load(config)
    rows, summary, seconds = run(cfg, loop, where)
    exact = rows[0]
    print(f"exact data ({exact[3]} traces): boundary {exact[5]:.4g}, 95% interval [{exact[7]:.4g}, {exact[8]:.4g}]")
    print(" | ".join(SUMMARY_COLUMNS))
    for r in summary:
        print(" | ".join(f"{v:.4g}" if isinstance(v, float) else str(v) for v in r))
    print(f"wrote {where / 'closed_loop.csv'} and {where / 'closed_loop_summary.csv'} in {seconds:.0f} s")


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
    v = sub.add_parser("verify", help="check every store under results/ against its manifest")
    v.add_argument("dirs", nargs="*", default=["results"], help="folders to check (default: results)")
    v.add_argument("--adopt", action="store_true", help="first record manifests of stores without one, as they are")
    k = sub.add_parser("check-config", help="validate config files as the workflow reads them")
    k.add_argument("files", nargs="*", help="config files overlaid on D/config.yaml, in order")
    k.add_argument(
        "--directory", "-d", default=".", metavar="D", help="the working directory, as snakemake's (default: .)"
    )
    g = sub.add_parser("suggest", help="where to simulate or measure next to narrow the boundaries")
    g.add_argument(
        "--confusion", required=True, help="a confusion dataset (results/<model>/L<L>/<kind>/confusion.zarr)"
    )
    g.add_argument("--out", required=True, help="the CSV of sweep values and realizations to add (must not exist)")
    g.add_argument("--budget", type=int, required=True, help="traces (realizations) to add per training set")
    g.add_argument("--block", type=int, default=4, help="realizations added at a time at one value (default 4)")
    g.add_argument("--target", type=float, help="stop where the predicted 95%% half-width reaches this")
    lp = sub.add_parser("closed-loop", help="suggest, measure, refit: the worked example on a synthetic experiment")
    lp.add_argument(
        "config", help="a closed-loop config (config/closed-loop.yaml): an overlay with a closed_loop section"
    )
    lp.add_argument("--out", required=True, help="its folder, inside the working directory (must not exist)")
    args = parser.parse_args(argv)
    try:
        if args.command == "classify":
            classify(args.networks, args.traces, args.out, args.overwrite)
        elif args.command == "suggest":
            suggest(args.confusion, args.out, args.budget, args.block, args.target)
        elif args.command == "closed-loop":
            closed_loop(args.config, args.out)
        elif args.command == "verify":
            from .verify import main as verify

            sys.exit(verify(args.dirs, args.adopt))
        else:
            check_config(args.files, args.directory)
    except (ValueError, FileNotFoundError) as err:
        sys.exit(f"phasetrace {args.command}: {err}")
    except OSError as err:  # e.g. --out in a read-only folder: one line, not a traceback
        where = f" {err.filename}" if err.filename else ""
        sys.exit(f"phasetrace {args.command}: cannot write{where}: {err.strerror or err}")


if __name__ == "__main__":
    main()
