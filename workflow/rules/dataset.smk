# Aggregation: every job's store → one labeled xarray dataset per model (the contract with training).


rule dataset:
    input:
        lambda wildcards: P.job_targets(wildcards.model, wildcards.L),
    output:
        directory(path("dataset")),
    log:
        "logs/{model}/L{L}/dataset.log",
    resources:
        mem_mb=P.estimate("aggregate", "mem_mb"),
        runtime=P.estimate("aggregate", "runtime"),
    params:
        settings=P.declared("dataset"),
    run:
        run_job(
            log[0],
            resources,
            P.dataset_job(wildcards.model),
            sized(wildcards),
            wildcards.model,
            list(input),
            output[0],
        )
