# Config validation and target helpers. Logic lives in the phasetrace package; rules only wire files.
# Only light modules are imported here: every local job re-parses the workflow in a process of its own.
import inspect
import sys
from pathlib import Path

import phasetrace.config
import phasetrace.provenance
import phasetrace.resources
from phasetrace.sweep import (
    CLASSIFIER_KINDS,
    EPS_FMT,
    W_FMT,
    classifier_kinds,
    floquet_targets,
    grid,
    lookup,
    mbl_targets,
    network_targets,
)


def _overlay_notice():
    """Say which keys Snakemake filled from the workflow's config.yaml because the --configfile(s) lack them."""
    given = workflow.config_settings.overwrite_config
    default = Path("config.yaml")
    if not given or not default.exists():
        return
    taken = phasetrace.config.taken_from_defaults(
        phasetrace.config.read_yaml(default), dict(given)
    )
    if taken:
        print(
            f"phasetrace: taken from {default.resolve()} (not set by --configfile/--config): "
            + ", ".join(taken),
            file=sys.stderr,
        )


_overlay_notice()
phasetrace.config.validate(
    config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
)

MBL_L = config["mbl"]["L"]
FLOQUET_L = config["floquet"]["L"]
MBL = mbl_targets(config)
FLOQUET = floquet_targets(config)
MBL_EPS = grid(config["mbl"]["eps"])
KIND = config["training"]["classifier"]  # the phase diagram's classifier
KINDS = classifier_kinds(config)


wildcard_constraints:
    eps=r"\d+\.\d{4}",
    W=r"\d+\.\d{3}",
    block=r"r\d+-\d+",
    classifier="|".join(CLASSIFIER_KINDS),


CHECKS = [
    f"results/figures/{name}.png"
    for name in (
        "confusion_vs_units",
        "blanking",
        "calibration",
        "unseen_phase",
        "classifiers",
    )
]


def all_targets():
    return ["results/phase_diagram.png"] + CHECKS


def declared(stage, model=None):
    """params: the settings that ``stage``'s outputs depend on (phasetrace.provenance), at the job's sweep point.

    Declared so that Snakemake's params trigger reruns a job exactly when what it reads changes.
    """

    def get(wildcards):
        point = (
            {"classifier": wildcards.classifier}
            if "classifier" in wildcards.keys()
            else {}
        )
        if "eps" in wildcards.keys():
            point["eps"] = lookup(
                grid(config[model]["eps"]), EPS_FMT, wildcards.eps, "eps"
            )
        if "W" in wildcards.keys():
            point["W"] = lookup(grid(config["mbl"]["W"]), W_FMT, wildcards.W, "W")
        settings = phasetrace.provenance.settings(config, stage, **point)
        return phasetrace.provenance.canonical(settings)

    return get


def estimate(kind, field, **fixed):
    """A resource callable: phasetrace.resources.<kind>(config, ...)[field], growing with each retry."""

    func = getattr(phasetrace.resources, kind)
    takes_W = "W" in inspect.signature(func).parameters

    def get(wildcards, attempt):
        at = {"W": float(wildcards.W)} if takes_W else {}
        return func(config, attempt=attempt, **at, **fixed)[field]

    return get


def run_job(log, resources, target, *args):
    """Call phasetrace.<module>.<function>(*args) for target "module:function", logging to ``log``.

    The job's JAX computations run on a GPU only where its resources ask for one (``gpu``, set by the GPU
    profiles), on the CPU otherwise. The import happens inside the job, so parsing the workflow never imports JAX.
    """
    import importlib

    from phasetrace.runner import logged

    module_name, function = target.split(":")
    logged(
        log,
        getattr(importlib.import_module(f"phasetrace.{module_name}"), function),
        *args,
        gpus=resources.get("gpu", 0),
    )
