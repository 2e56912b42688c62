# Config validation and target helpers. Logic lives in the phasetrace package; rules only wire files.
from pathlib import Path

import phasetrace.config
from phasetrace import jobs

phasetrace.config.validate(
    config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml"
)

MBL_L = config["mbl"]["L"]
FLOQUET_L = config["floquet"]["L"]
MBL = jobs.mbl_targets(config)
FLOQUET = jobs.floquet_targets(config)


wildcard_constraints:
    eps=r"\d+\.\d{4}",
    W=r"\d+\.\d{3}",
    block=r"r\d+-\d+",


def all_targets():
    return MBL["dataset"] + FLOQUET["dataset"]
