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

from . import training
from .boundaries import confusion
from .config import load
from .models import training_sets
from .runner import configure
from .sweep import at_main_sizes, path

VARIANTS = {
    "paper (raw, lr 0.001)": {"input": "raw", "learning_rate": 0.001},
    "raw, lr 0.01": {"input": "raw", "learning_rate": 0.01},
    "raw, lr 0.01, 200 steps": {"input": "raw", "learning_rate": 0.01, "steps": 200},
    "raw, lr 0.01, l2 = 0": {"input": "raw", "learning_rate": 0.01, "l2": 0.0},
    "aligned, lr 0.01": {"input": "aligned", "learning_rate": 0.01},
    "aligned, lr 0.01, l2 = 0": {"input": "aligned", "learning_rate": 0.01, "l2": 0.0},
    "aligned, lr 0.01, 200 steps": {"input": "aligned", "learning_rate": 0.01, "steps": 200},
    "imbalance threshold": {"classifier": "threshold"},
    "logistic, aligned": {"classifier": "logistic", "input": "aligned", "learning_rate": 0.01},
    "mlp, aligned": {"classifier": "mlp", "input": "aligned", "learning_rate": 0.01},
}
for _v in VARIANTS.values():  # every other training key as in the config; the LSTM unless a kind is named
    _v.setdefault("classifier", "lstm")


def fit_sets(config: dict, model: str, ds, overrides: dict) -> dict:
    """Fit every training set of ``model`` as the workflow does, with the config's training settings changed by
    ``overrides``: p (k, sets, n_label, R, classes), accuracy (k, sets), boundaries (sets, 3): the first transition's
    boundary, lo95 and hi95 per set, as the workflow computes them."""
    cfg = {**config, "training": {**config["training"], **overrides}}
    p, acc, bounds = [], [], []
    for _, point in training_sets(cfg, model):
        found = training.locate(cfg, model, ds, point, predictions=True)
        p.append(found["p"].values)
        acc.append(found["accuracy"].values)
        iv = found["boundary_interval"].values[0]
        bounds.append([found["boundary"].values[0], iv[0], iv[-1]])
    return {"p": np.stack(p, axis=1), "accuracy": np.stack(acc, axis=1), "boundaries": np.array(bounds)}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="config.yaml")
    ap.add_argument("--variants", nargs="*", default=list(VARIANTS), help="names from VARIANTS (default: all)")
    args = ap.parse_args(argv)
    configure()
    config = at_main_sizes(load(args.config), ("mbl", "floquet"))  # the phase diagram's lengths
    mbl = training.dataset_for(config, "mbl", path("dataset", model="mbl", L=config["mbl"]["L"]))
    flq = training.dataset_for(config, "floquet", path("dataset", model="floquet", L=config["floquet"]["L"]))
    W, eps = mbl["W"].values, mbl["eps"].values
    deep, low = (W >= 5.0) & (W <= 7.25), W <= 1.0
    e_ref = int(np.argmin(np.abs(eps - config["checks"]["units_eps"])))
    base = fit_sets(config, "mbl", mbl, VARIANTS["imbalance threshold"])["boundaries"]
    print(
        "| variant | MBL held-out accuracy min–mean | C on 5 ≤ W ≤ 7.25 (mean, worst ε) | C on W ≤ 1 (mean, worst ε) "
        f"| called localized on 5 ≤ W ≤ 7.25 | boundary at ε = {eps[e_ref]:.2f} [95%] | ε agreeing with the "
        "imbalance baseline | Floquet accuracy min–mean | time |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    for name in args.variants:
        t0 = time.perf_counter()
        fit = fit_sets(config, "mbl", mbl, VARIANTS[name])
        facc = fit_sets(config, "floquet", flq, VARIANTS[name])["accuracy"]
        p = fit["p"]
        conf = confusion(p.mean(axis=3)).mean(axis=0)  # (eps, W)
        b = fit["boundaries"]
        agree = int(np.sum((b[:, 1] <= base[:, 2]) & (base[:, 1] <= b[:, 2])))
        localized = float((p[:, :, deep].argmax(-1) == 1).mean())
        print(
            f"| {name} | {fit['accuracy'].min():.2f}–{fit['accuracy'].mean():.3f} "
            f"| {conf[:, deep].mean():.3f}, {conf[:, deep].mean(axis=1).max():.3f} "
            f"| {conf[:, low].mean():.3f}, {conf[:, low].mean(axis=1).max():.3f} | {localized:.3f} "
            f"| {b[e_ref, 0]:.2f} [{b[e_ref, 1]:.2f}, {b[e_ref, 2]:.2f}] | {agree} of {eps.size} "
            f"| {facc.min():.2f}–{facc.mean():.3f} | {time.perf_counter() - t0:.0f} s |",
            flush=True,
        )


if __name__ == "__main__":
    main()
