# Training: k classifiers per set (per ε for the MBL chain, one set over the Floquet sweep) for each kind in
# classifier_kinds(config), then confusion and boundaries with bootstrap intervals.


rule mbl_network:
    input:
        MBL["dataset"],
    output:
        f"results/mbl/L{MBL_L}/{{classifier}}/networks/eps{{eps}}.zarr.zip",
    log:
        f"logs/mbl/L{MBL_L}/{{classifier}}/networks/eps{{eps}}.log",
    resources:
        mem_mb=estimate("training", "mem_mb", model="mbl", sets=1 / len(MBL_EPS)),
        runtime=estimate("training", "runtime", model="mbl", sets=1 / len(MBL_EPS)),
    params:
        settings=declared("mbl_network", "mbl"),
    run:
        run_job(
            log[0],
            resources,
            "learn:mbl_network_job",
            config,
            wildcards.classifier,
            wildcards.eps,
            input[0],
            output[0],
        )


rule mbl_confusion:
    input:
        dataset=MBL["dataset"],
        networks=lambda wildcards: network_targets(config, "mbl", wildcards.classifier),
    output:
        confusion=directory(f"results/mbl/L{MBL_L}/{{classifier}}/confusion.zarr"),
        table=f"results/mbl/L{MBL_L}/{{classifier}}/boundary.csv",
    log:
        f"logs/mbl/L{MBL_L}/{{classifier}}/confusion.log",
    resources:
        mem_mb=estimate("training", "mem_mb", model="mbl"),
        runtime=estimate("training", "runtime", model="mbl"),
    params:
        settings=declared("mbl_confusion"),
    run:
        run_job(
            log[0],
            resources,
            "learn:mbl_confusion_job",
            config,
            wildcards.classifier,
            input.dataset[0],
            list(input.networks),
            output.confusion,
            output.table,
        )


rule floquet_network:
    input:
        FLOQUET["dataset"],
    output:
        f"results/floquet/L{FLOQUET_L}/{{classifier}}/networks.zarr.zip",
    log:
        f"logs/floquet/L{FLOQUET_L}/{{classifier}}/networks.log",
    resources:
        mem_mb=estimate("training", "mem_mb", model="floquet"),
        runtime=estimate("training", "runtime", model="floquet"),
    params:
        settings=declared("floquet_network"),
    run:
        run_job(
            log[0],
            resources,
            "learn:floquet_network_job",
            config,
            wildcards.classifier,
            input[0],
            output[0],
        )


rule floquet_confusion:
    input:
        dataset=FLOQUET["dataset"],
        network=f"results/floquet/L{FLOQUET_L}/{{classifier}}/networks.zarr.zip",
    output:
        confusion=directory(
            f"results/floquet/L{FLOQUET_L}/{{classifier}}/confusion.zarr"
        ),
        table=f"results/floquet/L{FLOQUET_L}/{{classifier}}/boundary.csv",
    log:
        f"logs/floquet/L{FLOQUET_L}/{{classifier}}/confusion.log",
    resources:
        mem_mb=estimate("training", "mem_mb", model="floquet"),
        runtime=estimate("training", "runtime", model="floquet"),
    params:
        settings=declared("floquet_confusion"),
    run:
        run_job(
            log[0],
            resources,
            "learn:floquet_confusion_job",
            config,
            wildcards.classifier,
            input.dataset[0],
            input.network,
            output.confusion,
            output.table,
        )
