"""Re-create the pretrained generators and translators shipped in ``gancourse/pretrained/``.

Each model is trained with the course's own CLI (``gancourse train``) on the real data,
then exported with ``gancourse.pretrained.export`` (float16 weights + a manifest entry that
records the command, epochs, CPU and wall time, machine and date; a translator's
generator(s) only, without discriminators). Runs resume when re-run, so an
interrupted job just continues. The longest job (CIFAR-10) starts first; at most ``--jobs``
trainings run at once, at ``nice`` 5 so the machine stays usable.

    GANCOURSE_DATA_DIR=/path/to/data python scripts/train_pretrained.py
    GANCOURSE_DATA_DIR=/path/to/data python scripts/train_pretrained.py --only dcgan-mnist
    GANCOURSE_DATA_DIR=/path/to/data python scripts/train_pretrained.py --only pix2pix-colorize
    python scripts/train_pretrained.py --export-only     # runs already trained

Each run stops at its CPU-time budget or, for CIFAR-10, after its 20 epochs (see ``PLAN``); on
2 CPU cores without a GPU the first four take about two and a half hours, most of it CIFAR-10
(134 minutes of CPU time), the InfoGAN one CPU-hour and the StyleGAN two
(``--only stylegan-fashion_mnist``). The translators train only when named with ``--only``
(pix2pix an hour and a half of CPU time, CycleGAN one hour). The wall and CPU time of every
model are in the manifest.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

#: The recipe: an EMA of the generator with warm-up (notebook 09) and learning rates decaying
#: linearly to 0 over the second half, trained for a CPU-time budget: the wall time the
#: manifest recorded for the previous generators (0.1.x, trained with constant rates and a
#: fixed number of epochs on a shared machine), so the new ones use no more CPU time than the
#: old ones took.
SCHEDULE = ["--ema", "0.999", "--ema-warmup", "--lr-decay", "0.5"]
RECIPE = SCHEDULE + ["--budget-clock", "cpu"]

#: Notebook 06's run: the same recipe for a fixed 20 epochs, a grid every 5.
NOTEBOOK_06 = SCHEDULE + ["--epochs", "20", "--sample-every", "5"]

#: name -> (model, dataset, CPU-seconds budget, extra CLI arguments). CIFAR-10 first: it
#: takes longest. Where there is a budget, the epochs are only an upper limit. The CIFAR-10
#: generator is notebook 06's run, a fixed 20 epochs (as many as its previous version) with the
#: same recipe; notebook 06 trains the same run in runs/06-cifar10 (which is how it was made).
#: The two unconditional 28x28 generators are cluster-conditioned DCGANs: a cGAN trained on
#: 40 k-means clusters of the training images instead of their labels (no label is used),
#: shipped as the unconditional generator that draws its cluster from one latent coordinate
#: (``--clusters``; at equal CPU time it reached a much lower FID than the plain DCGAN).
CLUSTERED = ["--clusters", "40"]
#: The InfoGAN generator (notebook 10): the paper's 62 noise numbers (+ a categorical code of
#: 10 values and 2 continuous codes), the same recipe, one CPU-hour.
INFOGAN = ["--latent-dim", "62"] + RECIPE
#: The StyleGAN generator (notebook 13): ``gancourse train --model stylegan`` (the small
#: StyleGAN2-style generator of gancourse.stylegan against the DCGAN discriminator, style
#: mixing 0.9) with StyleGAN's minibatch standard deviation in D and the same recipe, for
#: the CPU time of the plain DCGAN it is compared with (3,285 CPU-seconds, the budget of
#: ``dcgan-fashion_mnist``, at which the plain DCGAN with this recipe reached FID 4.34).
STYLEGAN = ["--minibatch-std"] + RECIPE
#: The conditional generator's discriminator is a projection discriminator (``--projection``,
#: Miyato & Koyama 2018): at the same budget it drew the requested class far more often.
PLAN = {
    "dcgan-cifar10": ("dcgan", "cifar10", None, NOTEBOOK_06),
    "dcgan-fashion_mnist": ("cgan", "fashion_mnist", 3285, CLUSTERED + RECIPE),
    "dcgan-mnist": ("cgan", "mnist", 3766, CLUSTERED + RECIPE),
    "cgan-fashion_mnist": ("cgan", "fashion_mnist", 2376, RECIPE + ["--projection"]),
    "infogan-mnist": ("infogan", "mnist", 3600, INFOGAN),
    "stylegan-fashion_mnist": ("stylegan", "fashion_mnist", 3285, STYLEGAN),
}
#: The translators of notebooks 11 and 12, trained only when named with --only: pix2pix
#: colourising CIFAR-10 for an hour and a half of CPU time and CycleGAN between digits on black
#: and digits on texture for one hour, both with the same recipe (pix2pix and CycleGAN decay
#: their rates over the second half too). Exported as translators
#: (gancourse.pretrained.load_translator).
TRANSLATORS = {
    "pix2pix-colorize": ("pix2pix", "cifar10", 5400, RECIPE + ["--task", "colorize"]),
    "cyclegan-mnist-texture": ("cyclegan", "mnist", 3600, RECIPE + ["--task", "mnist-texture"]),
}
GENERATORS = list(PLAN)
PLAN.update(TRANSLATORS)
MAX_EPOCHS = 500

#: Each job gets one thread: two single-threaded jobs on a 2-core machine train about 20%
#: more images per CPU-second than one job on two threads (measured with
#: benchmarks/throughput.py's models: 634 vs 539 images per CPU-second), and the CPU-time
#: budget then counts no time spent waiting on the other thread.
THREADS = {"TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1", "OMP_NUM_THREADS": "1"}

#: Recorded with each export.
NOTES = (
    "trained for a CPU-time budget (--time-budget with --budget-clock cpu) equal to the "
    "wall time recorded for the previous version of this generator; one thread per job, "
    "with other jobs sharing the 2 cores (the CPU-time budget does not count their time); "
    "wall_time_s is the sum of the epoch times"
)
NOTES_ONE_HOUR = (
    "trained for a CPU-time budget of one hour (--time-budget 3600 with --budget-clock cpu); "
    "one thread, with other jobs sharing the 2 cores (the CPU-time budget does not count "
    "their time); wall_time_s is the sum of the epoch times"
)
NOTES_TWO_HOURS = NOTES_ONE_HOUR.replace(
    "one hour (--time-budget 3600", "two hours (--time-budget 7200"
)
NOTES_90_MINUTES = NOTES_ONE_HOUR.replace(
    "one hour (--time-budget 3600", "an hour and a half (--time-budget 5400"
)
NOTES_STYLEGAN = NOTES_ONE_HOUR.replace(
    "a CPU-time budget of one hour (--time-budget 3600 with --budget-clock cpu)",
    "the CPU-time budget of the plain DCGAN it is compared with (--time-budget 3285 with "
    "--budget-clock cpu, the budget of dcgan-fashion_mnist)",
)
#: Notes of a generator whose budget is not one of the usual ones' above (by name).
NOTES_OF = {"stylegan-fashion_mnist": NOTES_STYLEGAN}
NOTES_FIXED_EPOCHS = (
    "trained for a fixed number of epochs, as many as the previous version of this generator; "
    "wall_time_s is the sum of the epoch times, cpu_time_s the process CPU time"
)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--runs",
        type=Path,
        default=Path("runs/pretrained"),
        help="where the training runs go (checkpoints, grids, logs)",
    )
    p.add_argument("--only", nargs="+", choices=sorted(PLAN), help="just these generators")
    p.add_argument("--jobs", type=int, default=2, help="trainings at once (2 on a 2-core machine)")
    p.add_argument("--export-only", action="store_true", help="skip training, export the runs")
    args = p.parse_args(argv)
    names = args.only or GENERATORS
    if not args.export_only:
        if not os.environ.get("GANCOURSE_DATA_DIR"):
            p.error(
                "set GANCOURSE_DATA_DIR to the folder holding mnist.npz, fashion_mnist.npz, "
                "cifar10.npz"
            )
        train_all(names, args.runs, args.jobs)
    export_all(names, args.runs)


def command(name, runs):
    """The ``gancourse train`` command line of one generator."""
    model, dataset, budget, extra = PLAN[name]
    limit = [] if budget is None else ["--epochs", str(MAX_EPOCHS), "--time-budget", str(budget)]
    return [
        "gancourse",
        "train",
        "--model",
        model,
        "--dataset",
        dataset,
        *limit,
        *extra,
        "--out",
        str(Path(runs) / name),
    ]


def train_all(names, runs, jobs):
    """Run the trainings, ``jobs`` at a time, each logging to ``runs/<name>.log``."""
    runs.mkdir(parents=True, exist_ok=True)
    cli = Path(sys.executable).with_name("gancourse")  # the CLI of this environment
    queue, running = list(names), {}
    while queue or running:
        while queue and len(running) < jobs:
            name = queue.pop(0)
            cmd = ["nice", "-n", "5", str(cli), *command(name, runs)[1:]]
            log = open(runs / f"{name}.log", "a")
            print(f"start {name}: {shlex.join(command(name, runs))}", flush=True)
            running[name] = (
                subprocess.Popen(
                    cmd, stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **THREADS}
                ),
                log,
                time.time(),
            )
        time.sleep(5)
        for name, (proc, log, t0) in list(running.items()):
            if proc.poll() is not None:
                log.close()
                del running[name]
                status = (
                    "done"
                    if proc.returncode == 0
                    else f"FAILED (exit {proc.returncode}, see {log.name})"
                )
                print(f"{name}: {status} after {(time.time() - t0) / 60:.1f} min", flush=True)


def export_all(names, runs):
    """Export every finished run into the package and print what was written."""
    from gancourse import pretrained

    for name in names:
        run = Path(runs) / name
        cmd = shlex.join(command(name, runs))
        model, _, budget, _ = PLAN[name]
        notes = NOTES_OF.get(name) or {
            3600: NOTES_ONE_HOUR,
            5400: NOTES_90_MINUTES,
            7200: NOTES_TWO_HOURS,
            None: NOTES_FIXED_EPOCHS,
        }.get(budget, NOTES)
        path = pretrained.export(run, name, command=cmd, notes=notes)
        entry = pretrained.info(name)
        kind = f"{entry['task']} translator, " if name in TRANSLATORS else ""
        print(
            f"{name}: {kind}{entry['epochs']} epochs, {entry['wall_time_s'] / 60:.0f} min, "
            f"{path.stat().st_size / 1e6:.2f} MB, max |float16 - float32| {entry['max_abs_diff']}"
        )
        if model == "infogan":
            from gancourse.evaluation import code_accuracy

            result = code_accuracy(pretrained.load(name), entry["dataset"], n=10000)
            print(
                f"{name}: categorical code matches the classes at {result['accuracy']:.4f} "
                f"(10,000 samples, {result['classifier']} classifier, best one-to-one matching)"
            )


if __name__ == "__main__":
    main()
