# Aggregation: every job's store → one labeled xarray dataset per model (the contract with training).


rule mbl_dataset:
    input:
        MBL["traces"],
    output:
        directory(f"results/mbl/L{MBL_L}/traces.zarr"),
    log:
        f"logs/mbl/L{MBL_L}/dataset.log",
    resources:
        mem_mb=estimate("aggregate", "mem_mb", model="mbl"),
        runtime=estimate("aggregate", "runtime", model="mbl"),
    params:
        settings=declared("mbl_dataset", "mbl"),
    run:
        run_job(log[0], resources, "jobs:aggregate_mbl", config, list(input), output[0])


rule floquet_dataset:
    input:
        FLOQUET["traces"],
    output:
        directory(f"results/floquet/L{FLOQUET_L}/traces.zarr"),
    log:
        f"logs/floquet/L{FLOQUET_L}/dataset.log",
    resources:
        mem_mb=estimate("aggregate", "mem_mb", model="floquet"),
        runtime=estimate("aggregate", "runtime", model="floquet"),
    params:
        settings=declared("floquet_dataset", "floquet"),
    run:
        run_job(
            log[0],
            resources,
            "jobs:aggregate_floquet",
            config,
            list(input),
            output[0],
        )
