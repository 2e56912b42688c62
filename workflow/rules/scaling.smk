# The finite-size study (phasetrace.scaling): every enabled model at every L of its section, and the mbl boundary
# against the number of realizations; built by the default target when a model lists several L.

if "scaling" in config:

    rule scaling:
        input:
            P.scaling_inputs(),
        output:
            table=SCALING[0],
            drift=SCALING[1],
            figure=report(SCALING[2], caption="../report/scaling.rst"),
        log:
            "logs/scaling/scaling.log",
        resources:
            mem_mb=P.figure_resources("mem_mb"),
            runtime=P.figure_resources("runtime"),
        params:
            settings=P.declared("scaling"),
        run:
            run_job(
                log[0],
                resources,
                "scaling:scaling_job",
                config,
                list(input),
                output.table,
                output.drift,
                output.figure,
            )


if "scaling" in config and "mbl" in config:
    CONV_CONFIG, CONV_JOBS = P.convergence()
    CONV_SETS = 2 * len(config["scaling"]["convergence"]["realizations"])  # 2 kinds

    rule convergence:
        input:
            CONV_JOBS,
        output:
            table=CONVERGENCE[0],
            figure=report(CONVERGENCE[1], caption="../report/convergence.rst"),
        log:
            "logs/scaling/convergence.log",
        resources:
            mem_mb=P.estimate("training", "mem_mb", "mbl", CONV_CONFIG, CONV_SETS),
            runtime=P.estimate("training", "runtime", "mbl", CONV_CONFIG, CONV_SETS),
        params:
            settings=P.declared("convergence"),
        run:
            run_job(
                log[0],
                resources,
                "scaling:convergence_job",
                config,
                list(input),
                output.table,
                output.figure,
            )
