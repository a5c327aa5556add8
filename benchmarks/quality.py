"""Image quality at equal training time: the course's DCGAN with its plain defaults and with
the recipe the shipped generators are trained with, against the TensorFlow DCGAN tutorial's
configuration, all trained on the real Fashion-MNIST for the same time budget, scored by
FID / KID / IS against the test set with the course's Fashion-MNIST classifier features,
next to the real-vs-real baseline (train images against test images).

    GANCOURSE_DATA_DIR=/path/to/data python benchmarks/quality.py [--minutes 8] [--clock cpu]

The variants:

- course DCGAN: ``gancourse.training.build_gan("dcgan")`` as the notebooks use it (4x4 kernels,
  batch norm, 0.78M-parameter generator), batch 64, Adam(2e-4, beta_1 0.5) for both networks;
- course DCGAN, shipped recipe: the same networks with the generator's EMA (decay 0.999 with
  warm-up, ``ema_warmup``) and both learning rates decaying linearly to 0 over the second half
  of the budget (``lr_decay=0.5``), as ``scripts/train_pretrained.py`` trains the shipped
  generators;
- cluster-conditioned DCGAN, shipped recipe: how ``dcgan-fashion_mnist`` and ``dcgan-mnist``
  are trained since 0.2 (``gancourse train --model cgan --clusters 40``): the conditional
  DCGAN learns 40 k-means clusters of the training images (``data.cluster_labels``; no
  labels are used) with the shipped recipe, and is sampled as an unconditional generator that
  draws each cluster as often as it holds training images. The k-means (about 10 s) is not
  part of the budget;
- TF tutorial: ``models.tutorial_models()`` (5x5 kernels, 2.33M-parameter generator, dropout
  in D), batch 256, Adam(1e-4) for both networks, as in the TensorFlow DCGAN tutorial. It is
  trained by the same engine (the throughput benchmark shows the engine runs a plain
  tutorial-style loop's speed), so only the configuration differs.

Each variant trains for ``--minutes`` of ``--clock`` time: "wall" (elapsed; on a quiet machine
only) or "cpu" (the process's CPU time, which other jobs on the machine do not eat into, so
variants trained one after the other on a busy machine get the same compute). Each generator
then draws ``--n`` images (default 10,000) that are compared with the 10,000 test images.
Sample grids go to ``runs/quality/``. The budget includes each model's one-time graph tracing.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

import gancourse as gc
from gancourse import models
from gancourse.config import quiet_tensorflow

quiet_tensorflow()
import keras  # noqa: E402


def course_dcgan():
    return gc.training.build_gan("dcgan", seed=0), 64


def tutorial_dcgan():
    g, d = models.tutorial_models()
    gan = gc.GAN(g, d, seed=0)
    gan.compile(g_optimizer=keras.optimizers.Adam(1e-4), d_optimizer=keras.optimizers.Adam(1e-4))
    return gan, 256


def course_recipe():
    return gc.training.build_gan("dcgan", ema=0.999, ema_warmup=True, lr_decay=0.5, seed=0), 64


def clustered_recipe():
    gan = gc.training.build_gan(
        "cgan", num_classes=CLUSTERS, ema=0.999, ema_warmup=True, lr_decay=0.5, seed=0
    )
    return gan, 64


CLUSTERS = 40

VARIANTS = {
    "course DCGAN (batch 64, Adam 2e-4/0.5)": course_dcgan,
    "course DCGAN + EMA warm-up + lr decay": course_recipe,
    "cluster-conditioned DCGAN (k=40) + recipe": clustered_recipe,
    "TF tutorial DCGAN (batch 256, Adam 1e-4)": tutorial_dcgan,
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=8.0, help="training budget per variant")
    p.add_argument("--clock", choices=("wall", "cpu"), default="cpu", help="what the budget counts")
    p.add_argument("--n", type=int, default=10000, help="generated images per FID")
    p.add_argument(
        "--out", type=Path, default=gc.config.runs_dir() / "quality", help="sample grids"
    )
    args = p.parse_args(argv)
    if not os.environ.get("GANCOURSE_DATA_DIR"):
        p.error("set GANCOURSE_DATA_DIR to the folder holding fashion_mnist.npz")
    gc.seed_everything(0, deterministic=False)
    fashion = gc.load_dataset("fashion_mnist")
    print(
        f"Training each variant for {args.minutes:g} min of {args.clock} time "
        f"(machine: {os.cpu_count()} CPU cores)",
        flush=True,
    )
    runs = {}
    for name, make in VARIANTS.items():
        gan, batch = make()
        labels = None
        if make is clustered_recipe:  # the clusters, their shares and their order, as the CLI
            labels = gc.data.cluster_labels(fashion.x_train, CLUSTERS, seed=0)
            gc.training.use_clusters(gan, fashion.x_train, labels)
        data = gc.make_pipeline(fashion.x_train, labels, batch_size=batch, seed=0)
        t0, c0 = time.perf_counter(), time.process_time()
        gc.train(
            gan,
            data,
            epochs=1000,
            sample_every=0,
            progress=False,
            time_budget=args.minutes * 60,
            budget_clock=args.clock,
        )
        runs[name] = dict(
            gan=gan,
            batch=batch,
            seconds=time.perf_counter() - t0,
            cpu_seconds=time.process_time() - c0,
            steps=int(gan.g_optimizer.iterations),
        )
        print(
            f"  {name:42s} {runs[name]['steps']:6d} steps, {runs[name]['seconds']:.0f} s wall, "
            f"{runs[name]['cpu_seconds']:.0f} s CPU",
            flush=True,
        )

    print(
        f"\nScoring: {args.n} generated images vs {args.n} real test images, "
        "Fashion-MNIST classifier features",
        flush=True,
    )
    baseline = gc.evaluation.evaluate_images(
        fashion.x_train[: args.n], "fashion_mnist", reference="test"
    )
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for i, (name, run) in enumerate(runs.items()):
        report = gc.evaluation.evaluate_generator(run["gan"], "fashion_mnist", n=args.n)
        picture = gc.viz.image_grid(run["gan"].generate(64, seed=0), 8)
        gc.viz.save_png(gc.viz.upscale(picture, 2), args.out / f"variant{i + 1}.png")
        rows.append((name, run, report))

    header = (
        f"{'variant':42s} {'G params':>9s} {'wall s':>7s} {'CPU s':>6s} {'steps':>6s} "
        f"{'images':>8s} "
        f"{'FID':>7s} {'KID x1000':>10s} {'IS':>5s} {'classes':>7s}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for name, run, r in rows:
        print(
            f"{name:42s} {models.count_params(run['gan'].generator)['total']:9,d} "
            f"{run['seconds']:7.0f} {run['cpu_seconds']:6.0f} {run['steps']:6d} "
            f"{run['steps'] * run['batch']:8,d} "
            f"{r['fid']:7.2f} {1000 * r['kid_mean']:10.2f} {r['is_mean']:5.2f} "
            f"{round(10 * r['classes_covered']):>5d}/10"
        )
    print(
        f"{'real train vs real test (baseline)':42s} {'':9s} {'':7s} {'':6s} {'':6s} {'':8s} "
        f"{baseline['fid']:7.2f} {1000 * baseline['kid_mean']:10.2f} {baseline['is_mean']:5.2f}"
    )
    course_fid, tutorial_fid = rows[0][2]["fid"], rows[-1][2]["fid"]
    print(
        f"\ncourse / tutorial FID: {course_fid / tutorial_fid:.2f} "
        f"({'course lower' if course_fid < tutorial_fid else 'tutorial lower'}); "
        f"grids in {args.out}/"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
