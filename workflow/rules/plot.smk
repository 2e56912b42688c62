# Figures: one panel per model of config["models"], and every classifier compared on the same data.


rule phase_diagram:
    input:
        confusions=[confusion(m, KIND) for m in MODELS],
        traces=[dataset(m) for m in MODELS],
    output:
        report("results/phase_diagram.png", caption="../report/phase_diagram.rst"),
    log:
        "logs/phase_diagram.log",
    resources:
        mem_mb=figure_resources("mem_mb"),
        runtime=figure_resources("runtime"),
    params:
        settings=declared("phase_diagram"),
    run:
        run_job(
            log[0],
            resources,
            "figures:phase_diagram",
            MAIN,
            list(input.confusions),
            list(input.traces),
            output[0],
        )


rule classifiers_figure:
    input:
        [confusion(m, kind) for m in MODELS for kind in KINDS],
    output:
        table="results/checks/classifiers.csv",
        figure=report(
            "results/figures/classifiers.png", caption="../report/classifiers.rst"
        ),
    log:
        "logs/classifiers.log",
    resources:
        mem_mb=figure_resources("mem_mb"),
        runtime=figure_resources("runtime"),
    params:
        settings=declared("classifiers"),
    run:
        run_job(
            log[0],
            resources,
            "figures:classifiers_figure",
            MAIN,
            list(input),
            output.table,
            output.figure,
        )
