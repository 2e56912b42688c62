# phasetrace: exact dynamics of disordered spin chains → labeled datasets → classifiers' confusion → phase diagram.
# Run: snakemake --cores N [target]; config in config.yaml (validated before any job runs).
from pathlib import Path

from snakemake.utils import min_version

import phasetrace.config

min_version("9.0")

# A YAML syntax error in config.yaml is reported with its file, line and column (Snakemake's own message names
# neither). Files given with --configfile are read by Snakemake before this line: check them with
# `python -m phasetrace check-config FILE`.
if Path("config.yaml").exists():
    phasetrace.config.read_yaml(Path("config.yaml").resolve())


configfile: "config.yaml"


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/measured.smk"
include: "workflow/rules/dataset.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/plot.smk"
include: "workflow/rules/checks.smk"
include: "workflow/rules/robustness.smk"
include: "workflow/rules/schemes.smk"
include: "workflow/rules/scaling.smk"
include: "workflow/rules/replicates.smk"
include: "workflow/rules/adaptive.smk"


rule all:
    default_target: True
    input:
        P.all_targets(),
