# The replicate study (phasetrace.replicates): independent reruns of a small configuration, each with its own root
# seed, to measure what the boundaries' intervals mean. Its own target: snakemake --cores 2 replicates

if "replicates" in config and config["replicates"]["model"] in config:

    rule replicate:
        output:
            path(
                "replicate",
                model=config["replicates"]["model"],
                L=config["replicates"]["L"],
            ),
        log:
            "logs/replicates/rep{replicate}.log",
        params:
            settings=P.declared("replicates"),
        run:
            run_job(
                log[0],
                resources,
                "replicates:replicate_job",
                config,
                int(wildcards.replicate),
                output[0],
            )

    rule replicates:
        input:
            P.replicate_targets(),
        output:
            table=REPLICATES[0],
            figure=report(REPLICATES[1], caption="../report/replicates.rst"),
        log:
            "logs/replicates/summary.log",
        params:
            settings=P.declared("replicates"),
        run:
            run_job(
                log[0],
                resources,
                "replicates:summary_job",
                config,
                list(input),
                output.table,
                output.figure,
            )
