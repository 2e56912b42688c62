"""Command line: ``python -m phasetrace classify --networks SET --traces DATASET --out PREDICTIONS``.

Applies a saved network set (``results/<model>/L<L>/networks*.zarr.zip``) to any traces dataset whose
``magnetization`` ends in the same (time, site) shape as the training data (e.g. new or experimental traces), and
writes a Zarr dataset with ``p(seed, ..., class)``, the confusion of each sample (seed mean) and the confusion of
the realization-averaged prediction where the dataset has a ``realization`` dimension.
"""

from __future__ import annotations

import argparse
import sys


def classify(networks: str, traces: str, out: str) -> None:
    import numpy as np
    import xarray as xr

    from .learn import load_networks
    from .store import write_dataset
    from .train import confusion, predict_seeds

    params, hp, attrs = load_networks(networks)
    ds = xr.open_zarr(traces)
    mag = ds["magnetization"]
    lead = mag.dims[:-2]
    if mag.shape[-1] != attrs["n_features"]:
        raise ValueError(
            f"--traces: magnetization has {mag.shape[-1]} sites, the networks were trained on {attrs['n_features']}"
        )
    x = mag.values.reshape(-1, *mag.shape[-2:]).astype(np.float32)
    p = np.asarray(predict_seeds(params, x, hp, x.shape[-1])).reshape(-1, *mag.shape[:-2], hp.n_classes)
    coords = {d: ds[d].values for d in lead if d in ds.coords} | {"class": np.array(attrs["classes"], dtype=object)}
    data = {
        "p": (("seed", *lead, "class"), p),
        "confusion_per_sample": (lead, confusion(p).mean(axis=0)),
    }
    if "realization" in lead:
        r = lead.index("realization") + 1
        mean_p = p.mean(axis=r)
        data["confusion"] = (tuple(d for d in lead if d != "realization"), confusion(mean_p).mean(axis=0))
    write_dataset(out, xr.Dataset(data, coords=coords, attrs={"networks": networks, "traces": traces}))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="phasetrace", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    c = sub.add_parser("classify", help="apply a saved network set to a traces dataset")
    c.add_argument("--networks", required=True, help="saved network set (*.zarr.zip)")
    c.add_argument("--traces", required=True, help="traces dataset (Zarr) with a magnetization variable")
    c.add_argument("--out", required=True, help="output Zarr dataset of predictions")
    args = parser.parse_args(argv)
    try:
        classify(args.networks, args.traces, args.out)
    except (ValueError, FileNotFoundError) as err:
        sys.exit(f"phasetrace classify: {err}")


if __name__ == "__main__":
    main()
