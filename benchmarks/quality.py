"""Image quality at equal training time: the course's DCGAN against the TensorFlow DCGAN
tutorial's configuration, both trained on the real Fashion-MNIST for the same wall-clock
budget, scored by FID / KID / IS against the test set with the course's Fashion-MNIST
classifier features, next to the real-vs-real baseline (train images against test images).

    GANCOURSE_DATA_DIR=/path/to/data python benchmarks/quality.py [--minutes 8] [--rounds 4]

The variants:

- course DCGAN: ``gancourse.training.build_gan("dcgan")`` as the notebooks use it (4x4 kernels,
  batch norm, 0.78M-parameter generator), batch 64, Adam(2e-4, beta_1 0.5) for both networks;
- TF tutorial: ``models.tutorial_models()`` (5x5 kernels, 2.33M-parameter generator, dropout
  in D), batch 256, Adam(1e-4) for both networks, as in the TensorFlow DCGAN tutorial. It is
  trained by the same engine (the throughput benchmark shows the engine runs a plain
  tutorial-style loop's speed), so only the configuration differs.

Training alternates between the variants in ``--rounds`` slices of the budget (A, B, A, B,
...), so background load on a shared machine hits both alike. Each generator then draws
``--n`` images (default 10,000) that are compared with the 10,000 test images. Sample grids
go to ``runs/quality/``. The budget includes each model's one-time graph tracing (seconds).
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


VARIANTS = {
    "course DCGAN (batch 64, Adam 2e-4/0.5)": course_dcgan,
    "TF tutorial DCGAN (batch 256, Adam 1e-4)": tutorial_dcgan,
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=8.0, help="training budget per variant")
    p.add_argument(
        "--rounds", type=int, default=4, help="slices the budget is trained in, alternating"
    )
    p.add_argument("--n", type=int, default=10000, help="generated images per FID")
    p.add_argument(
        "--out", type=Path, default=gc.config.runs_dir() / "quality", help="sample grids"
    )
    args = p.parse_args(argv)
    if not os.environ.get("GANCOURSE_DATA_DIR"):
        p.error("set GANCOURSE_DATA_DIR to the folder holding fashion_mnist.npz")
    gc.seed_everything(0, deterministic=False)
    fashion = gc.load_dataset("fashion_mnist")

    runs = {}
    for name, make in VARIANTS.items():
        gan, batch = make()
        runs[name] = dict(
            gan=gan,
            batch=batch,
            seconds=0.0,
            steps=0,
            data=gc.make_pipeline(fashion.x_train, batch_size=batch, seed=0),
        )
    slice_s = args.minutes * 60 / args.rounds
    print(
        f"Training each variant for {args.minutes:g} min in {args.rounds} alternating slices "
        f"(machine: {os.cpu_count()} CPU cores)",
        flush=True,
    )
    for r in range(args.rounds):
        for name, run in runs.items():
            budget = gc.callbacks.TimeBudget(slice_s)
            t0 = time.perf_counter()
            gc.train(
                run["gan"],
                run["data"],
                epochs=1000,
                sample_every=0,
                progress=False,
                extra_callbacks=[budget],
            )
            run["seconds"] += time.perf_counter() - t0
            run["steps"] += budget.steps
            print(f"  round {r + 1}/{args.rounds}  {name:42s} {run['steps']:6d} steps", flush=True)

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
        f"{'variant':42s} {'G params':>9s} {'train s':>8s} {'steps':>6s} {'images':>8s} "
        f"{'FID':>7s} {'KID x1000':>10s} {'IS':>5s} {'classes':>7s}"
    )
    print("\n" + header + "\n" + "-" * len(header))
    for name, run, r in rows:
        print(
            f"{name:42s} {models.count_params(run['gan'].generator)['total']:9,d} "
            f"{run['seconds']:8.0f} {run['steps']:6d} {run['steps'] * run['batch']:8,d} "
            f"{r['fid']:7.2f} {1000 * r['kid_mean']:10.2f} {r['is_mean']:5.2f} "
            f"{round(10 * r['classes_covered']):>5d}/10"
        )
    print(
        f"{'real train vs real test (baseline)':42s} {'':9s} {'':8s} {'':6s} {'':8s} "
        f"{baseline['fid']:7.2f} {1000 * baseline['kid_mean']:10.2f} {baseline['is_mean']:5.2f}"
    )
    (course_fid, tutorial_fid) = (rows[0][2]["fid"], rows[1][2]["fid"])
    print(
        f"\ncourse / tutorial FID: {course_fid / tutorial_fid:.2f} "
        f"({'course lower' if course_fid < tutorial_fid else 'tutorial lower'}); "
        f"grids in {args.out}/"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
