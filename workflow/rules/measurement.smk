# The robustness study (phasetrace.robustness): the boundaries of every enabled model under each measurement
# variant of the config's robustness section (observable, shots, time stride), gathered into a table and a figure;
# built by the default target where the config has the section.

if "robustness" in config:

    rule measurement_variant:
        input:
            lambda wildcards: dataset(wildcards.model, wildcards.L),
        output:
            path("robustness"),
        log:
            "logs/{model}/L{L}/robustness/{variant}.log",
        resources:
            mem_mb=estimate("training", "mem_mb", sets=robustness_sets),
            runtime=estimate("training", "runtime", sets=robustness_sets),
        params:
            settings=declared("robustness"),
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

    rule measurement:
        input:
            robustness_inputs(),
        output:
            table=MEASUREMENT[0],
            figure=report(MEASUREMENT[1], caption="../report/measurement.rst"),
        log:
            "logs/checks/measurement.log",
        localrule: True
        params:
            settings=declared("measurement"),
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
