# Figures.


rule phase_diagram:
    input:
        mbl=f"results/mbl/L{MBL_L}/confusion.zarr",
        floquet=f"results/floquet/L{FLOQUET_L}/confusion.zarr",
        floquet_traces=FLOQUET["dataset"],
    output:
        report("results/phase_diagram.png", caption="../report/phase_diagram.rst"),
    log:
        "logs/phase_diagram.log",
    resources:
        mem_mb=estimate("aggregate", "mem_mb", model="mbl"),
        runtime=estimate("aggregate", "runtime", model="mbl"),
    params:
        settings=declared("phase_diagram"),
    run:
        run_job(
            log[0],
            resources,
            "figures:phase_diagram",
            config,
            input.mbl,
            input.floquet,
            input.floquet_traces[0],
            output[0],
        )
