# The paper's checks of its two models: each writes a table under results/checks/ and a figure under
# results/figures/, built by the default target where its model is enabled.

PAPER_CHECKS = {
    "mbl": ["confusion_vs_units", "blanking", "calibration", "single_neuron"],
    "floquet": ["unseen_phase"],
}


if "mbl" in config:  # a config may leave out the sections of models it does not build

    rule check_units:
        input:
            dataset("mbl"),
        output:
            table="results/checks/confusion_vs_units.csv",
            figure=report(
                "results/figures/confusion_vs_units.png",
                caption="../report/confusion_vs_units.rst",
            ),
        log:
            "logs/checks/units.log",
        resources:
            mem_mb=estimate(
                "training", "mem_mb", model="mbl", sets=len(config["checks"]["units"])
            ),
            runtime=estimate(
                "training", "runtime", model="mbl", sets=len(config["checks"]["units"])
            ),
        params:
            settings=declared("checks_units"),
        run:
            run_job(
                log[0],
                resources,
                "paper_checks:units_job",
                MAIN,
                input[0],
                output.table,
                output.figure,
            )

    rule check_blanking:
        input:
            dataset("mbl"),
        output:
            table="results/checks/blanking.csv",
            figure=report(
                "results/figures/blanking.png", caption="../report/blanking.rst"
            ),
        log:
            "logs/checks/blanking.log",
        resources:
            mem_mb=estimate(
                "training",
                "mem_mb",
                model="mbl",
                sets=len(config["checks"]["windows"]),
            ),
            runtime=estimate(
                "training",
                "runtime",
                model="mbl",
                sets=len(config["checks"]["windows"]),
            ),
        params:
            settings=declared("checks_blanking"),
        run:
            run_job(
                log[0],
                resources,
                "paper_checks:blanking_job",
                MAIN,
                input[0],
                output.table,
                output.figure,
            )

    rule check_calibration:
        input:
            dataset=dataset("mbl"),
            networks=network_targets("mbl", KIND),
        output:
            table="results/checks/calibration.csv",
            figure=report(
                "results/figures/calibration.png", caption="../report/calibration.rst"
            ),
        log:
            "logs/checks/calibration.log",
        resources:
            mem_mb=estimate("training", "mem_mb", model="mbl"),
            runtime=estimate("training", "runtime", model="mbl"),
        params:
            settings=declared("checks_calibration"),
        run:
            run_job(
                log[0],
                resources,
                "paper_checks:calibration_job",
                MAIN,
                input.dataset,
                list(input.networks),
                output.table,
                output.figure,
            )

    rule check_single_neuron:
        input:
            dataset("mbl"),
        output:
            table="results/checks/single_neuron.csv",
            figure=report(
                "results/figures/single_neuron.png",
                caption="../report/single_neuron.rst",
            ),
        log:
            "logs/checks/single_neuron.log",
        resources:
            mem_mb=estimate("training", "mem_mb", model="mbl", sets=1),
            runtime=estimate("training", "runtime", model="mbl", sets=1),
        params:
            settings=declared("checks_single_neuron"),
        run:
            run_job(
                log[0],
                resources,
                "paper_checks:single_neuron_job",
                MAIN,
                input[0],
                output.table,
                output.figure,
            )


if "floquet" in config:

    rule check_unseen_phase:
        input:
            dataset("floquet"),
        output:
            table="results/checks/unseen_phase.csv",
            figure=report(
                "results/figures/unseen_phase.png",
                caption="../report/unseen_phase.rst",
            ),
        log:
            "logs/checks/unseen_phase.log",
        resources:
            mem_mb=estimate("training", "mem_mb", model="floquet"),
            runtime=estimate("training", "runtime", model="floquet"),
        params:
            settings=declared("checks_unseen_phase"),
        run:
            run_job(
                log[0],
                resources,
                "paper_checks:unseen_phase_job",
                MAIN,
                input[0],
                output.table,
                output.figure,
            )
