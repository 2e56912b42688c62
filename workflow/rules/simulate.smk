# One job per (model, stage, sweep point, realization block): e.g. results/mbl/L12/bounds/W3.000/r000-019 and
# results/mbl/L12/traces/eps0.5000/W3.000/r000-019 (the model's stages: phasetrace.models).


rule simulate:
    input:
        P.stage_inputs,
    output:
        path("job"),
    log:
        "logs/{model}/L{L}/{stage}/{point}/{block}.log",
    resources:
        mem_mb=P.simulation_resources("mem_mb"),
        runtime=P.simulation_resources("runtime"),
        membus=P.simulation_resources("membus"),
    params:
        settings=P.declared(),
    run:
        run_job(
            log[0],
            resources,
            "simulation:simulate_job",
            sized(wildcards),
            wildcards.model,
            wildcards.stage,
            wildcards.point,
            wildcards.block,
            list(input),
            output[0],
        )
