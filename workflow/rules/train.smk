# Training: k networks per set (per ε for the MBL chain, one set over the Floquet sweep), then confusion.


rule mbl_network:
    input:
        MBL["dataset"],
    output:
        f"results/mbl/L{MBL_L}/networks/eps{{eps}}.zarr.zip",
    log:
        f"logs/mbl/L{MBL_L}/networks/eps{{eps}}.log",
    resources:
        mem_mb=estimate(
            "training", "mem_mb", model="mbl", sets=1 / len(MBL["networks"])
        ),
        runtime=estimate(
            "training", "runtime", model="mbl", sets=1 / len(MBL["networks"])
        ),
    params:
        settings=declared("mbl_network", "mbl"),
    run:
        run_job(
            log[0],
            resources,
            "learn:mbl_network_job",
            config,
            wildcards.eps,
            input[0],
            output[0],
        )


rule mbl_confusion:
    input:
        dataset=MBL["dataset"],
        networks=MBL["networks"],
    output:
        confusion=directory(f"results/mbl/L{MBL_L}/confusion.zarr"),
        table=f"results/mbl/L{MBL_L}/boundary.csv",
    log:
        f"logs/mbl/L{MBL_L}/confusion.log",
    resources:
        mem_mb=estimate("training", "mem_mb", model="mbl"),
        runtime=estimate("training", "runtime", model="mbl"),
    params:
        settings=declared("mbl_network", "mbl"),
    run:
        run_job(
            log[0],
            resources,
            "learn:mbl_confusion_job",
            config,
            input.dataset[0],
            list(input.networks),
            output.confusion,
            output.table,
        )


rule floquet_network:
    input:
        FLOQUET["dataset"],
    output:
        f"results/floquet/L{FLOQUET_L}/networks.zarr.zip",
    log:
        f"logs/floquet/L{FLOQUET_L}/networks.log",
    resources:
        mem_mb=estimate("training", "mem_mb", model="floquet"),
        runtime=estimate("training", "runtime", model="floquet"),
    params:
        settings=declared("floquet_network", "floquet"),
    run:
        run_job(
            log[0],
            resources,
            "learn:floquet_network_job",
            config,
            input[0],
            output[0],
        )


rule floquet_confusion:
    input:
        dataset=FLOQUET["dataset"],
        network=f"results/floquet/L{FLOQUET_L}/networks.zarr.zip",
    output:
        confusion=directory(f"results/floquet/L{FLOQUET_L}/confusion.zarr"),
        table=f"results/floquet/L{FLOQUET_L}/boundary.csv",
    log:
        f"logs/floquet/L{FLOQUET_L}/confusion.log",
    resources:
        mem_mb=estimate("training", "mem_mb", model="floquet"),
        runtime=estimate("training", "runtime", model="floquet"),
    params:
        settings=declared("floquet_network", "floquet"),
    run:
        run_job(
            log[0],
            resources,
            "learn:floquet_confusion_job",
            config,
            input.dataset[0],
            input.network,
            output.confusion,
            output.table,
        )
