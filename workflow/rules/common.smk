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


def all_targets():
    return MBL["dataset"] + FLOQUET["dataset"]


def run_job(log, name, *args):
    """Call phasetrace.jobs.<name>(*args), logging to ``log`` (imports JAX only inside the job)."""
    from phasetrace import jobs

    jobs.logged(log, getattr(jobs, name), *args)
