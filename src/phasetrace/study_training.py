"""What each training choice does, measured on a workflow's datasets (the README's table of training variants).

    python -m phasetrace.study_training [--config config.yaml] [--variants NAME ...]

Reads ``results/mbl/L{L}/traces.zarr`` and ``results/floquet/L{L}/traces.zarr`` of the config (run the workflow
first), fits k members per set exactly as the workflow does (same hold-out, resamples and seeds) for each variant
(a few training keys changed from the config), and prints one markdown row per variant:

- held-out accuracy, min and mean over every ε and member (MBL) and over members (Floquet);
- the MBL confusion of the realization-averaged prediction averaged over 5 ≤ W ≤ 7.25 and over W ≤ 1, the worst ε;
- the fraction of samples at 5 ≤ W ≤ 7.25 called localized (all ε, all members);
- the boundary at ε = checks.units_eps with its 95% interval, and the number of ε whose 95% interval overlaps
  that of the imbalance baseline fitted on the same data.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from . import learn
from .config import load
from .runner import configure
from .seeds import MODEL_IDS

VARIANTS = {
    "paper (raw, lr 0.001)": {"input": "raw", "learning_rate": 0.001},
    "raw, lr 0.01": {"input": "raw", "learning_rate": 0.01},
    "raw, lr 0.01, 100 epochs": {"input": "raw", "learning_rate": 0.01, "epochs": 100},
    "raw, lr 0.01, l2 = 0": {"input": "raw", "learning_rate": 0.01, "l2": 0.0},
    "aligned, lr 0.01": {"input": "aligned", "learning_rate": 0.01},
    "aligned, lr 0.01, l2 = 0": {"input": "aligned", "learning_rate": 0.01, "l2": 0.0},
    "aligned, lr 0.01, 100 epochs": {"input": "aligned", "learning_rate": 0.01, "epochs": 100},
    "imbalance threshold": {"classifier": "imbalance"},
    "logistic, aligned": {"classifier": "logistic", "input": "aligned", "learning_rate": 0.01},
    "mlp, aligned": {"classifier": "mlp", "input": "aligned", "learning_rate": 0.01},
}
for _v in VARIANTS.values():  # every other training key as in the config; the LSTM unless a kind is named
    _v.setdefault("classifier", "lstm")


def mbl_sets(config: dict, ds, overrides: dict) -> dict:
    """Fit one set per ε with the config's training settings changed by ``overrides``; p (k, eps, W, R, 2)."""
    cfg = {**config, "training": {**config["training"], **overrides}}
    t = cfg["training"]
    nE, nW, R = ds.sizes["eps"], ds.sizes["W"], ds.sizes["realization"]
    p, acc = np.zeros((t["seeds"], nE, nW, R, 2)), np.zeros((t["seeds"], nE))
    for e in range(nE):
        mag = ds["magnetization"].isel(eps=e).values
        labels = np.repeat(ds["label"].isel(eps=e).values, R)
        fit = learn.fit_set(mag.reshape(nW * R, *mag.shape[2:]), labels, learn.hyper(cfg, 2), t["seeds"],
                            cfg["seed"], t["holdout"], MODEL_IDS["mbl"], e)
        p[:, e] = fit["p"].reshape(-1, nW, R, 2)
        acc[:, e] = fit["accuracy"]
    return {"p": p, "accuracy": acc}


def floquet_accuracy(config: dict, ds, overrides: dict) -> np.ndarray:
    cfg = {**config, "training": {**config["training"], **overrides}}
    t = cfg["training"]
    mag = ds["magnetization"].values
    nE, R = mag.shape[:2]
    fit = learn.fit_set(mag.reshape(nE * R, *mag.shape[2:]), np.repeat(ds["label"].values, R), learn.hyper(cfg, 3),
                        t["seeds"], cfg["seed"], t["holdout"], MODEL_IDS["floquet"])
    return fit["accuracy"]


def boundaries(config: dict, ds, p: np.ndarray) -> np.ndarray:
    """(eps, 3): boundary, lo95, hi95 per ε, as the workflow computes them (:func:`.learn.mbl_boundaries`)."""
    boundary, samples = learn.mbl_boundaries(config, ds, p)
    lo95, hi95 = np.percentile(samples.reshape(samples.shape[0], -1), [2.5, 97.5], axis=1)
    return np.stack([boundary, lo95, hi95], axis=1)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="config.yaml")
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS), help="names from VARIANTS (default: all)")
    args = ap.parse_args(argv)
    configure()
    config = load(args.config)
    mbl = learn.dataset_for(config, f"results/mbl/L{config['mbl']['L']}/traces.zarr", "mbl_dataset")
    flq = learn.dataset_for(config, f"results/floquet/L{config['floquet']['L']}/traces.zarr", "floquet_dataset")
    W, eps = mbl["W"].values, mbl["eps"].values
    deep, low = (W >= 5.0) & (W <= 7.25), W <= 1.0
    e_ref = int(np.argmin(np.abs(eps - config["checks"]["units_eps"])))
    base = boundaries(config, mbl, mbl_sets(config, mbl, VARIANTS["imbalance threshold"])["p"])
    print("| variant | MBL held-out accuracy min–mean | C on 5 ≤ W ≤ 7.25 (mean, worst ε) | C on W ≤ 1 (mean, worst ε) "
          f"| called localized on 5 ≤ W ≤ 7.25 | boundary at ε = {eps[e_ref]:.2f} [95%] | ε agreeing with the "
          "imbalance baseline | Floquet accuracy min–mean | time |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.variants:
        t0 = time.perf_counter()
        fit = mbl_sets(config, mbl, VARIANTS[name])
        facc = floquet_accuracy(config, flq, VARIANTS[name])
        p = fit["p"]
        conf = learn.confusion(p.mean(axis=3)).mean(axis=0)  # (eps, W)
        b = boundaries(config, mbl, p)
        agree = int(np.sum((b[:, 1] <= base[:, 2]) & (base[:, 1] <= b[:, 2])))
        localized = float((p[:, :, deep].argmax(-1) == 1).mean())
        print(f"| {name} | {fit['accuracy'].min():.2f}–{fit['accuracy'].mean():.3f} "
              f"| {conf[:, deep].mean():.3f}, {conf[:, deep].mean(axis=1).max():.3f} "
              f"| {conf[:, low].mean():.3f}, {conf[:, low].mean(axis=1).max():.3f} | {localized:.3f} "
              f"| {b[e_ref, 0]:.2f} [{b[e_ref, 1]:.2f}, {b[e_ref, 2]:.2f}] | {agree} of {eps.size} "
              f"| {facc.min():.2f}–{facc.mean():.3f} | {time.perf_counter() - t0:.0f} s |", flush=True)


if __name__ == "__main__":
    main()
