# Figures.


rule phase_diagram:
    input:
        mbl=f"results/mbl/L{MBL_L}/{KIND}/confusion.zarr",
        floquet=f"results/floquet/L{FLOQUET_L}/{KIND}/confusion.zarr",
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


rule classifiers_figure:
    input:
        mbl=expand(f"results/mbl/L{MBL_L}/{{kind}}/confusion.zarr", kind=KINDS),
        floquet=expand(
            f"results/floquet/L{FLOQUET_L}/{{kind}}/confusion.zarr", kind=KINDS
        ),
    output:
        table="results/checks/classifiers.csv",
        figure=report(
            "results/figures/classifiers.png", caption="../report/classifiers.rst"
        ),
    log:
        "logs/classifiers.log",
    resources:
        mem_mb=estimate("aggregate", "mem_mb", model="mbl"),
        runtime=estimate("aggregate", "runtime", model="mbl"),
    params:
        settings=declared("classifiers"),
    run:
        run_job(
            log[0],
            resources,
            "figures:classifiers_figure",
            config,
            list(input.mbl),
            list(input.floquet),
            output.table,
            output.figure,
        )
