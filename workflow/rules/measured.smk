# The measured models' imports (measured, measured_<name>: each its own section and folder): one job per file of its
# section, read and validated into a store with the file's digest (phasetrace.measured_data); the dataset rule gathers
# them. The file is an input: a changed file reruns.


rule import_measured:
    input:
        P.measured_file,
    output:
        path("import"),
    log:
        "logs/{model}/L{L}/imported/{file}.log",
    resources:
        mem_mb=P.estimate("aggregate", "mem_mb"),
        runtime=P.estimate("aggregate", "runtime"),
    params:
        settings=P.declared("import"),
    run:
        run_job(
            log[0],
            resources,
            "measured_data:import_job",
            sized(wildcards),
            wildcards.model,
            wildcards.file,
            input[0],
            output[0],
        )
