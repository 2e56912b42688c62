# The robustness study (phasetrace.robustness): the boundaries of every enabled model under each measurement
# variant of the config's robustness section (observable, shots, time stride), gathered into a table and a figure;
# built by the default target where the config has the section.

if "robustness" in config:

    rule robustness_variant:
        input:
            lambda wildcards: P.dataset(wildcards.model, wildcards.L),
        output:
            path("robustness_variant"),
        log:
            "logs/{model}/L{L}/robustness/{variant}.log",
        resources:
            mem_mb=P.estimate("training", "mem_mb", sets=P.robustness_sets),
            runtime=P.estimate("training", "runtime", sets=P.robustness_sets),
        params:
            settings=P.declared("robustness_variant"),
        run:
            run_job(
                log[0],
                resources,
                "robustness:variant_job",
                sized(wildcards),
                wildcards.model,
                wildcards.variant,
                input[0],
                output[0],
            )

    rule robustness:
        input:
            P.robustness_inputs(),
        output:
            table=ROBUSTNESS[0],
            figure=report(ROBUSTNESS[1], caption="../report/robustness.rst"),
        log:
            "logs/checks/robustness.log",
        localrule: True
        params:
            settings=P.declared("robustness"),
        run:
            run_job(
                log[0],
                resources,
                "robustness:robustness_job",
                MAIN,
                list(input),
                output.table,
                output.figure,
            )
