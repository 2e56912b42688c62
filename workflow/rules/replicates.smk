# The replicate study (phasetrace.replicates): independent reruns of a small configuration, each with its own root
# seed, to measure what the boundaries' intervals mean. Its own target: snakemake --cores 2 replicates

if "replicates" in config and config["replicates"]["model"] in config:
    REPLICATES = config["replicates"]
    REPLICATE = path("replicate", model=REPLICATES["model"], L=REPLICATES["L"])

    rule replicate:
        output:
            REPLICATE,
        log:
            "logs/replicates/rep{replicate}.log",
        wildcard_constraints:
            replicate=r"\d{3}",
        params:
            settings=declared("replicates"),
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
            expand(REPLICATE, replicate=[f"{i:03d}" for i in range(REPLICATES["n"])]),
        output:
            table=REPLICATES_TABLE[0],
            figure=report(REPLICATES_TABLE[1], caption="../report/replicates.rst"),
        log:
            "logs/replicates/summary.log",
        params:
            settings=declared("replicates"),
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
