"""Training speed of the StyleGAN generator against the course's DCGAN generator, side by side.

    python benchmarks/stylegan.py [--steps 100] [--rounds 3] [--batch-size 64] [--widths 128 64]

Both train with ``gancourse.train`` against the same course discriminator (the DCGAN one,
as ``build_gan`` pairs them), on Fashion-MNIST (28x28) when GANCOURSE_DATA_DIR points at it,
otherwise random images of that shape; ``--cifar`` measures 32x32x3 instead. The StyleGAN
generator is measured at its default width (``build_gan("stylegan")``) and each other
``--widths`` value. Rounds alternate between the variants so that background load hits all
alike; the median of the rounds is reported in training images per second of wall time and
of this process's CPU time, with each generator's parameter count and its speed relative to
the DCGAN.
"""

import argparse
import statistics

import numpy as np
from throughput import images, measure

import gancourse as gc
from gancourse import models, stylegan, training


def runner(gan, ds, steps):
    """One epoch of ``steps`` batches of ``gancourse.train``, silently."""

    def run(n=steps):
        gc.train(gan, ds, 1, steps_per_epoch=n, sample_every=0, progress=False)

    run(20)  # trace + warm up
    return run


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--widths", type=int, nargs="*", default=[], help="more StyleGAN widths")
    p.add_argument("--cifar", action="store_true", help="32x32x3 images instead of 28x28x1")
    args = p.parse_args()
    gc.seed_everything(0, deterministic=False)
    shape = (32, 32, 3) if args.cifar else (28, 28, 1)
    x = (
        np.random.default_rng(0).integers(0, 256, (10000,) + shape, dtype=np.uint8)
        if args.cifar
        else images()
    )
    ds = gc.make_pipeline(x, batch_size=args.batch_size).repeat()
    gans = {
        "DCGAN (build_gan('dcgan'))": training.build_gan("dcgan", shape, seed=0),
        "StyleGAN (build_gan('stylegan'))": training.build_gan("stylegan", shape, seed=0),
    }
    for width in args.widths:
        d_width = 128 if shape[-1] == 3 else 64  # build_gan's discriminator for the shape
        gan = gc.GAN(
            stylegan.stylegan_generator(shape, width=width),
            models.dcgan_discriminator(shape, width=d_width),
            seed=0,
        )
        gan.compile()
        gans[f"StyleGAN, width {width}"] = gan
    runners = {name: runner(gan, ds, args.steps) for name, gan in gans.items()}
    rates = measure(runners, args.steps * args.batch_size, args.rounds)
    first = next(iter(gans))
    print(f"{shape} images, batch {args.batch_size}, {args.steps} steps x {args.rounds} rounds")
    for clock, by_name in rates.items():
        medians = {name: statistics.median(values) for name, values in by_name.items()}
        print(f"training images per second of {clock} time (median; x: ratio to the DCGAN)")
        for name, values in by_name.items():
            params = models.count_params(gans[name].generator)["total"]
            print(
                f"  {name:34s} G {params:9,d} params {medians[name]:7.0f}"
                f"  x{medians[name] / medians[first]:.2f}"
                f"   (rounds: {', '.join(f'{v:.0f}' for v in values)})"
            )


if __name__ == "__main__":
    main()
