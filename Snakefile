# phasetrace: exact dynamics of disordered spin chains → labeled datasets → LSTM confusion → phase diagram.
# Run: snakemake --cores N [target]; config in config.yaml (validated before any job runs).
from snakemake.utils import min_version

min_version("9.0")


configfile: "config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/simulate.smk"
include: "workflow/rules/dataset.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/plot.smk"
include: "workflow/rules/checks.smk"


rule all:
    default_target: True
    input:
        all_targets(),
