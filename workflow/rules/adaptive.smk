# The adaptive sweep (phasetrace.adaptive): rounds of simulate → predict → estimate → plan on one training set, each
# round a job whose store records its traces, boundary and the next round's plan; replicates against the uniform
# grid. Its own target: snakemake --cores 2 adaptive

if "adaptive" in config and config["adaptive"]["model"] in config:
    REFERENCES = "|".join(f"{i:03d}" for i in reference_replicates(config["adaptive"]))
    SWEEP = {
        "model": config["adaptive"]["model"],
        "L": config["adaptive"]["L"],
    }  # the sweep's own L

    rule adaptive_round:
        input:
            P.adaptive_previous,
        output:
            path("adaptive_round", **SWEEP),
        log:
            "logs/adaptive/rep{replicate}/round{round}.log",
        params:
            settings=P.declared("adaptive_round"),
        run:
            run_job(
                log[0],
                resources,
                "adaptive:round_job",
                config,
                int(wildcards.replicate),
                int(wildcards.round),
                list(input),
                output[0],
            )

    rule adaptive_uniform:
        input:
            lambda wildcards: P.adaptive_round(int(wildcards.replicate), 0),
        output:
            path("adaptive_uniform", **SWEEP),
        log:
            "logs/adaptive/rep{replicate}/uniform.log",
        wildcard_constraints:
            replicate=rf"(?!{REFERENCES})\d{{3}}",
        params:
            settings=P.declared("adaptive_uniform"),
            realizations=config["adaptive"]["uniform_realizations"],
        run:
            run_job(
                log[0],
                resources,
                "adaptive:uniform_job",
                config,
                int(wildcards.replicate),
                params.realizations,
                input[0],
                output[0],
            )

    rule adaptive_reference:
        input:
            lambda wildcards: P.adaptive_round(int(wildcards.replicate), 0),
        output:
            path("adaptive_uniform", **SWEEP),
        log:
            "logs/adaptive/rep{replicate}/reference.log",
        wildcard_constraints:
            replicate=REFERENCES,
        params:
            settings=P.declared("adaptive_reference"),
        run:
            run_job(
                log[0],
                resources,
                "adaptive:uniform_job",
                config,
                int(wildcards.replicate),
                [config["adaptive"]["reference_realizations"]],
                input[0],
                output[0],
            )

    rule adaptive:
        input:
            **P.adaptive_inputs(),
        output:
            table=ADAPTIVE[0],
            summary=ADAPTIVE[1],
            plan=ADAPTIVE[2],
            figure=report(ADAPTIVE[3], caption="../report/adaptive.rst"),
        log:
            "logs/adaptive/summary.log",
        params:
            settings=P.declared("adaptive"),
        run:
            run_job(
                log[0],
                resources,
                "adaptive:summary_job",
                config,
                list(input.rounds),
                list(input.uniform),
                list(input.reference),
                output.table,
                output.figure,
            )
