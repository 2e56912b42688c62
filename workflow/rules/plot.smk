# Figures: one panel per model of config["models"], and every classifier compared on the same data.


rule phase_diagram:
    input:
        confusions=[P.confusion(m, KIND) for m in MODELS],
        traces=[P.dataset(m) for m in MODELS],
    output:
        report(PHASE_DIAGRAM, caption="../report/phase_diagram.rst"),
    log:
        "logs/phase_diagram.log",
    resources:
        mem_mb=P.figure_resources("mem_mb"),
        runtime=P.figure_resources("runtime"),
    params:
        settings=P.declared("phase_diagram"),
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
        [P.confusion(m, kind) for m in MODELS for kind in P.kinds],
    output:
        table=CLASSIFIERS[0],
        figure=report(CLASSIFIERS[1], caption="../report/classifiers.rst"),
    log:
        "logs/classifiers.log",
    resources:
        mem_mb=P.figure_resources("mem_mb"),
        runtime=P.figure_resources("runtime"),
    params:
        settings=P.declared("classifiers"),
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
