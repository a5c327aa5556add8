"""Images per CPU-second (and per wall second) of a training step of the translators, for
the widths that set their defaults: pix2pix on 32x32 greyscale -> colour with a PatchGAN of
width 64 (the paper's) and 32 (the default), and on L1 alone (no discriminator); CycleGAN on
28x28 RGB with ResNet generators of width 32 and 16 (the default).

    TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 python benchmarks/translation_throughput.py

Random images of the right shapes (the step's cost does not depend on the pixels); each
variant is traced and warmed up on 10 steps, then timed on ``--steps`` steps run with
``fit`` at 10 steps per graph call. CPU time is this process's (all its threads), which
other programs on a shared machine do not eat into.
"""

import argparse
import time

import numpy as np

from gancourse import translation as tr
from gancourse.config import quiet_tensorflow

tf = quiet_tensorflow()


def pix2pix(d_width, gan_weight=1.0):
    model = tr.Pix2Pix(
        tr.unet_generator((32, 32, 1), 3),
        tr.patch_discriminator((32, 32, 3), condition_shape=(32, 32, 1), width=d_width),
        seed=0,
    )
    model.compile(gan_weight=gan_weight)
    return model, (32, 32, 1), (32, 32, 3)


def cyclegan(g_width):
    shape = (28, 28, 3)
    model = tr.CycleGAN(
        tr.resnet_generator(shape, width=g_width, name="a_to_b"),
        tr.resnet_generator(shape, width=g_width, name="b_to_a"),
        tr.patch_discriminator(shape, norm="instance", name="d_a"),
        tr.patch_discriminator(shape, norm="instance", name="d_b"),
        seed=0,
    )
    model.compile()
    return model, shape, shape


VARIANTS = {
    "pix2pix, PatchGAN width 64": lambda: pix2pix(64),
    "pix2pix, PatchGAN width 32 (default)": lambda: pix2pix(32),
    "pix2pix, L1 alone": lambda: pix2pix(32, gan_weight=0.0),
    "CycleGAN, ResNet width 32": lambda: cyclegan(32),
    "CycleGAN, ResNet width 16 (default)": lambda: cyclegan(16),
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=30, help="timed steps per variant")
    p.add_argument("--batch-size", type=int, default=64)
    args = p.parse_args(argv)
    rng = np.random.default_rng(0)
    for name, make in VARIANTS.items():
        model, shape_a, shape_b = make()
        batch = tuple(
            rng.uniform(-1, 1, (args.batch_size, *s)).astype("float32") for s in (shape_a, shape_b)
        )
        data = tf.data.Dataset.from_tensors(batch).repeat()
        model.set_preview(batch[0][:1], batch[1][:1])
        model.fit(data.take(10), epochs=1, verbose=0, steps_per_call=10)
        cpu, wall = time.process_time(), time.perf_counter()
        model.fit(data.take(args.steps), epochs=1, verbose=0, steps_per_call=10)
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        n = args.steps * args.batch_size
        print(f"{name:38s} {n / cpu:6.0f} images/CPU-s  {n / wall:6.0f} images/s (wall)")


if __name__ == "__main__":
    main()
