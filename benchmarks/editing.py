"""Steering and inverting a shipped generator, measured (the figures of notebook 10).

1. Classifier guidance (``gancourse.editing.guide``) and the averaged class directions
   (``walk_directions``) on the same ``--n`` starting vectors, each towards a random class
   other than its own picture's, for at most ``--steps`` steps, with the cluster coordinate
   held and moved: how often the target is reached, in how many steps, how far the picture
   moved, what else changed, and the precision of the pictures before and after against as
   many real test images (classifier features, k=3).
2. Inversion of ``--images`` held-out test images, each method given the same
   ``--seconds`` of CPU time (the machine may be shared; one thread): optimisation alone
   (4 restarts; pixel loss, and pixel + feature loss), the encoder alone (trained for
   ``--encoder-seconds`` first, reported apart), and the encoder's guess refined by
   optimisation; the pixel error against time.
3. The same inversion (encoder + optimisation) of training images against test images.

Every part prints its wall and CPU time, so the notebook's run time can be planned.

    GANCOURSE_DATA_DIR=/path/to/data TF_NUM_INTRAOP_THREADS=1 python benchmarks/editing.py
    python benchmarks/editing.py --pretrained dcgan-mnist --n 500 --images 100
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from gancourse import data, editing, pretrained
from gancourse.config import quiet_tensorflow
from gancourse.sampling import generate_images, sample_latent

quiet_tensorflow()


class Timer:
    """Wall and CPU seconds of one part, printed when it ends."""

    def __init__(self, what):
        self.what = what

    def __enter__(self):
        self.wall, self.cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall = time.perf_counter() - self.wall
        self.cpu = time.process_time() - self.cpu
        print(f"[{self.what}: {self.wall:.1f} s wall, {self.cpu:.1f} s CPU]", flush=True)


def at_time(projection, seconds):
    """Mean pixel MSE of the best restarts at the last recorded step within ``seconds``."""
    i = np.searchsorted(projection.trace_seconds, seconds, side="right") - 1
    return projection.trace_pixel_mse[i].mean() if i >= 0 else float("nan")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--pretrained", default="dcgan-fashion_mnist")
    p.add_argument("--n", type=int, default=500, help="starting vectors for guidance")
    p.add_argument("--steps", type=int, default=100, help="most steps of an edit")
    p.add_argument("--images", type=int, default=100, help="images to invert per set")
    p.add_argument("--seconds", type=float, default=60.0, help="CPU time per inversion")
    p.add_argument("--encoder-seconds", type=float, default=120.0, help="CPU time")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--parts", default="guidance,inversion", help="which parts to run, comma-separated"
    )
    args = p.parse_args()
    parts = set(args.parts.split(","))

    g = pretrained.load(args.pretrained)
    dataset = g.dataset_name
    if "guidance" in parts:
        guidance(g, dataset, args)
    if "inversion" in parts:
        inversion(g, dataset, args)


def guidance(g, dataset, args):
    print(f"{args.pretrained} on {dataset}: guidance over {args.n} vectors, {args.steps} steps")
    reports = {}
    for cluster in ("hold", "move"):
        with Timer(f"guidance, cluster {cluster}"):
            reports[f"guidance, cluster {cluster}"] = editing.guidance_report(
                g, dataset, n=args.n, steps=args.steps, cluster=cluster, seed=args.seed
            )
    with Timer("class means (10,000 vectors)"):
        means = editing.class_directions(g, dataset, n=10000, seed=args.seed + 1)
    for cluster in ("hold", "move"):
        with Timer(f"class directions, cluster {cluster}"):
            reports[f"directions, cluster {cluster}"] = editing.guidance_report(
                g,
                dataset,
                n=args.n,
                steps=args.steps,
                method="directions",
                directions=means,
                cluster=cluster,
                seed=args.seed,
            )
    for name, r in reports.items():
        print(f"\n{name}\n{r}")
    print()
    print(editing.report_table(reports))


def inversion(g, dataset, args):
    ds = data.load_dataset(dataset)
    rng = np.random.default_rng(args.seed)
    test = ds.x_test[np.sort(rng.choice(len(ds.x_test), args.images, replace=False))]
    train = ds.x_train[np.sort(rng.choice(len(ds.x_train), args.images, replace=False))]
    d = editing.latent_dim_of(g)
    random = generate_images(g, sample_latent(args.images, d, seed=args.seed + 5))
    chance = float(((random - editing.check_images(test, g)) ** 2).mean())
    print(f"\nInversion of {args.images} test images, {args.seconds:.0f} s each method")
    print(f"  a random z: pixel MSE {chance:.4f}")
    with Timer("encoder training") as t_enc:
        encoder = editing.train_encoder(g, steps=100_000, seconds=args.encoder_seconds, clock="cpu")
    losses = encoder.history.history["loss"]
    print(
        f"  encoder: {len(losses)} epochs, z mean squared error {losses[0]:.3f} -> {losses[-1]:.3f}"
    )
    runs = {}
    budget = dict(steps=100_000, seconds=args.seconds, clock="cpu", seed=args.seed)
    with Timer("optimisation, pixel loss"):
        runs["optimisation (pixel)"] = editing.project(g, test, feature_weight=0.0, **budget)
    with Timer("optimisation, pixel + feature loss"):
        runs["optimisation (pixel + feature)"] = editing.project(g, test, **budget)
    with Timer("encoder alone"):
        runs["encoder alone"] = editing.project(
            g, test, steps=0, restarts=1, init=encoder, clock="cpu"
        )
    with Timer("encoder + optimisation, pixel loss"):
        runs["encoder + optimisation (pixel)"] = editing.project(
            g, test, init=encoder, feature_weight=0.0, **budget
        )
    with Timer("encoder + optimisation, pixel + feature loss"):
        runs["encoder + optimisation (pixel + feature)"] = editing.project(
            g, test, init=encoder, **budget
        )
    marks = [t for t in (1, 2, 5, 10, 20, 30, 60, 120) if t <= args.seconds]
    print("(time: CPU seconds of this process, one thread)")
    print("\n| method | steps | " + " | ".join(f"{t} s" for t in marks) + " | final |")
    print("|---" * (len(marks) + 3) + "|")
    for name, pr in runs.items():
        cells = " | ".join(f"{at_time(pr, t):.4f}" for t in marks)
        print(f"| {name} | {len(pr.trace_seconds) - 1} | {cells} | {pr.pixel_mse.mean():.4f} |")
    print(
        f"(pixel MSE in [-1, 1] of the best restart, mean over the images; a random z "
        f"{chance:.4f}; the encoder's {t_enc.cpu:.0f} CPU-s of training are not counted)"
    )

    print("\nTraining against test images (encoder + optimisation, pixel + feature loss)")
    with Timer("training images"):
        on_train = editing.project(g, train, init=encoder, **budget)
    on_test = runs["encoder + optimisation (pixel + feature)"]
    for name, pr in (("train", on_train), ("test", on_test)):
        print(
            f"  {name}: pixel MSE {pr.pixel_mse.mean():.4f} (median "
            f"{np.median(pr.pixel_mse):.4f}), loss {pr.loss.mean():.4f}"
        )


if __name__ == "__main__":
    main()
