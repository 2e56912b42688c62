# The rules' view of the config: phasetrace.pipeline decides targets, inputs, params and resources; rules only wire
# files. Only light modules are imported here (no JAX): every dry run and every cluster job parses the workflow.
import os
from pathlib import Path

from phasetrace.pipeline import (
    ADAPTIVE,
    CLASSIFIERS,
    CONVERGENCE,
    PHASE_DIAGRAM,
    REPLICATES,
    ROBUSTNESS,
    SCALING,
    SCHEMES,
    Invocation,
    Pipeline,
    taken_from_defaults,
)
from phasetrace.adaptive import reference_replicates
from phasetrace.sweep import path

taken_from_defaults(Path("config.yaml"), workflow.config_settings.overwrite_config)
P = Pipeline(
    config,
    Invocation(
        workflow.main_snakefile,
        os.getcwd(),
        tuple(workflow.config_settings.configfiles or ()),
        tuple(workflow.config_settings.config_args or ()),
    ),
)
MODELS, MAIN, KIND = P.models, P.main, P.kind
run_job, sized = P.run, P.sized  # what every rule body calls


wildcard_constraints:
    **P.wildcard_constraints(),
