# Training: k classifiers per training set of each model (per ε for the Heisenberg chains, one set over the
# Floquet sweep) for each kind in phasetrace.kinds.classifier_kinds(config), then confusion and boundaries with
# calibrated intervals.


rule network:
    input:
        lambda wildcards: P.dataset(wildcards.model, wildcards.L),
    output:
        path("network"),
    log:
        "logs/{model}/L{L}/{classifier}/networks/{set}.log",
    resources:
        mem_mb=P.estimate("training", "mem_mb", sets=P.one_set),
        runtime=P.estimate("training", "runtime", sets=P.one_set),
    params:
        settings=P.declared("network"),
    run:
        run_job(
            log[0],
            resources,
            "training:network_job",
            sized(wildcards),
            wildcards.model,
            wildcards.classifier,
            wildcards.set,
            input[0],
            output[0],
        )


rule confusion:
    input:
        dataset=lambda wildcards: P.dataset(wildcards.model, wildcards.L),
        networks=lambda wildcards: P.network_targets(
            wildcards.model, wildcards.classifier, wildcards.L
        ),
    output:
        confusion=directory(path("confusion")),
        table=path("boundary"),
    log:
        "logs/{model}/L{L}/{classifier}/confusion.log",
    resources:
        mem_mb=P.estimate("training", "mem_mb"),
        runtime=P.estimate("training", "runtime"),
    params:
        settings=P.declared("confusion"),
    run:
        run_job(
            log[0],
            resources,
            "training:confusion_job",
            sized(wildcards),
            wildcards.model,
            wildcards.classifier,
            input.dataset,
            list(input.networks),
            output.confusion,
            output.table,
        )
