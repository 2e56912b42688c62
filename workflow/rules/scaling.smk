# The finite-size study (phasetrace.scaling): every enabled model at every L of its section, and the mbl boundary
# against the number of realizations; built by the default target when a model lists several L (all_targets).

if "scaling" in config:

    rule scaling:
        input:
            [
                confusion(m, kind, L=L)
                for m in MODELS
                for L in sizes(config[m])
                for kind in scaling_kinds(config)
            ],
        output:
            table=SCALING[0],
            drift=SCALING[1],
            figure=report(SCALING[2], caption="../report/scaling.rst"),
        log:
            "logs/scaling/scaling.log",
        resources:
            mem_mb=figure_resources("mem_mb"),
            runtime=figure_resources("runtime"),
        params:
            settings=declared("scaling"),
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
    CONV_MODEL, CONV_L, CONV_SECTION, CONV_BLOCKS = phasetrace.models.convergence_sweep(
        config
    )
    CONV_CONFIG = config | {CONV_MODEL: CONV_SECTION}  # 2 kinds × len(R) sets over it

    rule convergence:
        input:
            job_targets(CONV_MODEL, CONV_L, cfg=CONV_SECTION, held=CONV_BLOCKS),
        output:
            table=CONVERGENCE[0],
            figure=report(CONVERGENCE[1], caption="../report/convergence.rst"),
        log:
            "logs/scaling/convergence.log",
        resources:
            mem_mb=estimate(
                "training",
                "mem_mb",
                model=CONV_MODEL,
                cfg=CONV_CONFIG,
                sets=2 * len(config["scaling"]["convergence"]["realizations"]),
            ),
            runtime=estimate(
                "training",
                "runtime",
                model=CONV_MODEL,
                cfg=CONV_CONFIG,
                sets=2 * len(config["scaling"]["convergence"]["realizations"]),
            ),
        params:
            settings=declared("convergence"),
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
