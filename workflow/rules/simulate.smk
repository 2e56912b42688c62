# One job per (ε, W, realization block) for the MBL chain, per (ε, block) for the Floquet drive.


rule mbl_bounds:
    output:
        f"results/mbl/L{MBL_L}/bounds/W{{W}}/{{block}}.zarr.zip",
    log:
        f"logs/mbl/L{MBL_L}/bounds/W{{W}}/{{block}}.log",
    run:
        run_job(
            log[0],
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
    run:
        run_job(
            log[0],
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
    run:
        run_job(
            log[0],
            "jobs:floquet_traces_job",
            config,
            wildcards.eps,
            wildcards.block,
            output[0],
        )
