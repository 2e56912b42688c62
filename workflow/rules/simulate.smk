# One job per (ε, W, realization block) for the MBL chain, per (ε, block) for the Floquet drive.


rule mbl_bounds:
    output:
        f"results/mbl/L{MBL_L}/bounds/W{{W}}/{{block}}.zarr.zip",
    log:
        f"logs/mbl/L{MBL_L}/bounds/W{{W}}/{{block}}.log",
    resources:
        mem_mb=estimate("mbl_bounds", "mem_mb"),
        runtime=estimate("mbl_bounds", "runtime"),
    params:
        settings=declared("mbl_bounds", "mbl"),
    run:
        run_job(
            log[0],
            resources,
            "jobs:mbl_bounds_job",
            config,
            wildcards.W,
            wildcards.block,
            output[0],
        )


rule mbl_traces:
    input:
        bounds=f"results/mbl/L{MBL_L}/bounds/W{{W}}/{{block}}.zarr.zip",
    output:
        f"results/mbl/L{MBL_L}/traces/eps{{eps}}/W{{W}}/{{block}}.zarr.zip",
    log:
        f"logs/mbl/L{MBL_L}/traces/eps{{eps}}/W{{W}}/{{block}}.log",
    resources:
        mem_mb=estimate("mbl_traces", "mem_mb"),
        runtime=estimate("mbl_traces", "runtime"),
    params:
        settings=declared("mbl_traces", "mbl"),
    run:
        run_job(
            log[0],
            resources,
            "jobs:mbl_traces_job",
            config,
            wildcards.eps,
            wildcards.W,
            wildcards.block,
            input.bounds,
            output[0],
        )


rule floquet_traces:
    output:
        f"results/floquet/L{FLOQUET_L}/traces/eps{{eps}}/{{block}}.zarr.zip",
    log:
        f"logs/floquet/L{FLOQUET_L}/traces/eps{{eps}}/{{block}}.log",
    resources:
        mem_mb=estimate("floquet_traces", "mem_mb"),
        runtime=estimate("floquet_traces", "runtime"),
    params:
        settings=declared("floquet_traces", "floquet"),
    run:
        run_job(
            log[0],
            resources,
            "jobs:floquet_traces_job",
            config,
            wildcards.eps,
            wildcards.block,
            output[0],
        )
