# The paper's checks (phasetrace.studies.CHECKS): each writes results/checks/{check}.csv and
# results/figures/{check}.png from its model's dataset, built by the default target where its model is enabled.


rule check:
    input:
        unpack(P.check_inputs),
    output:
        table="results/checks/{check}.csv",
        figure=report("results/figures/{check}.png", caption="../report/checks.rst"),
    log:
        "logs/checks/{check}.log",
    resources:
        mem_mb=P.estimate("training", "mem_mb", sets=P.check_sets),
        runtime=P.estimate("training", "runtime", sets=P.check_sets),
    params:
        settings=P.declared(),
    run:
        run_job(
            log[0],
            resources,
            "studies:check_job",
            MAIN,
            wildcards.check,
            input.dataset,
            list(input.networks),
            output.table,
            output.figure,
        )
