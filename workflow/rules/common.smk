# Config validation and target helpers. Logic lives in the phasetrace package; rules only wire files.
# Only light modules are imported here: every local job re-parses the workflow in a process of its own.
from pathlib import Path

import phasetrace.config
from phasetrace.sweep import floquet_targets, mbl_targets

phasetrace.config.validate(
    config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
)

MBL_L = config["mbl"]["L"]
FLOQUET_L = config["floquet"]["L"]
MBL = mbl_targets(config)
FLOQUET = floquet_targets(config)


wildcard_constraints:
    eps=r"\d+\.\d{4}",
    W=r"\d+\.\d{3}",
    block=r"r\d+-\d+",


CHECKS = [
    f"results/figures/{name}.png"
    for name in ("confusion_vs_units", "blanking", "calibration", "unseen_phase")
]


def all_targets():
    return ["results/phase_diagram.png"] + CHECKS


def run_job(log, target, *args):
    """Call phasetrace.<module>.<function>(*args) for target "module:function", logging to ``log``.

    The import happens inside the job, so parsing the workflow never imports JAX.
    """
    import importlib

    from phasetrace.jobs import logged

    module_name, function = target.split(":")
    logged(
        log,
        getattr(importlib.import_module(f"phasetrace.{module_name}"), function),
        *args,
    )
