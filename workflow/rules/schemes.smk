# Detection schemes beside the supervised one (phasetrace.schemes): learning by confusion (scan) and the
# prediction-based method (regression) with each kind of schemes.kinds, the optimal predictors, and their comparison.


rule scheme:
    input:
        lambda wildcards: P.dataset(wildcards.model, wildcards.L),
    output:
        indicators=directory(path("scheme")),
        networks=directory(path("scheme_networks")),
    log:
        "logs/{model}/L{L}/{classifier}/{scheme}.log",
    resources:
        mem_mb=P.estimate("training", "mem_mb", sets=P.scheme_sets),
        runtime=P.estimate("training", "runtime", sets=P.scheme_sets),
    params:
        settings=P.declared("scheme"),
    run:
        run_job(
            log[0],
            resources,
            "schemes.jobs:scheme_job",
            sized(wildcards),
            wildcards.model,
            wildcards.classifier,
            wildcards.scheme,
            input[0],
            output.indicators,
            output.networks,
        )


rule optimal:
    input:
        lambda wildcards: P.dataset(wildcards.model, wildcards.L),
    output:
        directory(path("optimal")),
    log:
        "logs/{model}/L{L}/optimal.log",
    resources:
        mem_mb=P.estimate("aggregate", "mem_mb"),
        runtime=P.estimate("aggregate", "runtime"),
    params:
        settings=P.declared("optimal"),
    run:
        run_job(
            log[0],
            resources,
            "schemes.jobs:optimal_job",
            sized(wildcards),
            wildcards.model,
            input[0],
            output[0],
        )


rule schemes_figure:
    input:
        **P.scheme_inputs(),
    output:
        table=SCHEMES[0],
        figure=report(SCHEMES[1], caption="../report/schemes.rst"),
    log:
        "logs/schemes.log",
    resources:
        mem_mb=P.figure_resources("mem_mb"),
        runtime=P.figure_resources("runtime"),
    params:
        settings=P.declared("schemes"),
    run:
        run_job(
            log[0],
            resources,
            "scheme_comparison:schemes_figure",
            MAIN,
            list(input.confusions),
            list(input.trained),
            list(input.optimal),
            output.table,
            output.figure,
        )
