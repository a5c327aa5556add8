"""Images per second of ``gancourse.train`` against a plain ``tf.function`` loop written the way
the TensorFlow DCGAN tutorial writes it: same models, same batch size, same data, one run.

    python benchmarks/throughput.py [--steps 300] [--rounds 3] [--batch-size 64] [--per-call 20]

Measured side by side: the plain loop, ``train`` with its default steps per graph call
(``gancourse.training.STEPS_PER_CALL``), ``train`` with one step per call, and ``train`` with
each ``--per-call`` value given. ``train`` runs with its default callbacks (NaN guard,
progress bar; no sample grids, which are drawn between epochs, not steps). Variants are
measured in alternating rounds (A, B, C, A, B, C, ...) so that background load hits all
alike; the median of the rounds is reported, per second of wall time and per second of this
process's CPU time (all its threads), which other programs on a shared machine do not eat
into. Uses the real Fashion-MNIST when GANCOURSE_DATA_DIR points at it, otherwise random
images of the same shape.
"""

import argparse
import contextlib
import io
import statistics
import time

import numpy as np

import gancourse as gc
from gancourse import models, training
from gancourse.config import quiet_tensorflow

tf = quiet_tensorflow()
import keras  # noqa: E402

CLOCKS = {"wall": time.perf_counter, "CPU": time.process_time}


def images():
    try:
        return gc.load_dataset("fashion_mnist", download=False).x_train
    except gc.DataError:
        return np.random.default_rng(0).integers(0, 256, (60000, 28, 28), dtype=np.uint8)


def engine_runner(ds, steps, per_call):
    """``gancourse.train`` for one epoch of ``steps`` batches, ``per_call`` steps per graph
    call, its progress bar and summary line swallowed."""
    gan = gc.GAN(models.dcgan_generator(), models.dcgan_discriminator(), seed=0)
    gan.compile()

    def run(n=steps):
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            gc.train(gan, ds, 1, steps_per_epoch=n, sample_every=0, steps_per_call=per_call)

    run(2 * per_call)  # trace + warm up
    return run


def tutorial_runner(ds, steps, batch_size):
    """The tutorial's loop: one tape per network, one forward pass, BCE from logits."""
    generator, discriminator = models.dcgan_generator(), models.dcgan_discriminator()
    g_opt, d_opt = keras.optimizers.Adam(2e-4, beta_1=0.5), keras.optimizers.Adam(2e-4, beta_1=0.5)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)

    @tf.function
    def train_step(real):
        noise = tf.random.normal([batch_size, 100])
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = generator(noise, training=True)
            real_out = discriminator(real, training=True)
            fake_out = discriminator(fake, training=True)
            g_loss = bce(tf.ones_like(fake_out), fake_out)
            d_loss = bce(tf.ones_like(real_out), real_out) + bce(tf.zeros_like(fake_out), fake_out)
        g_grads = g_tape.gradient(g_loss, generator.trainable_variables)
        d_grads = d_tape.gradient(d_loss, discriminator.trainable_variables)
        g_opt.apply_gradients(zip(g_grads, generator.trainable_variables))
        d_opt.apply_gradients(zip(d_grads, discriminator.trainable_variables))

    it = iter(ds)
    for _ in range(10):
        train_step(next(it))

    def run():
        # A new iterator per round, as fit() makes one per call (and as a loop over epochs
        # makes one per epoch): both pay for filling the shuffle buffer once per round.
        it = iter(ds)
        for _ in range(steps):
            train_step(next(it))

    return run


def measure(runners, per_round, rounds):
    """``{clock: {name: [images per second of each round]}}`` of ``runners`` (name -> a
    function that trains ``per_round`` images), in alternating rounds."""
    rates = {clock: {name: [] for name in runners} for clock in CLOCKS}
    for _ in range(rounds):
        for name, run in runners.items():
            start = {clock: read() for clock, read in CLOCKS.items()}
            run()
            for clock, read in CLOCKS.items():
                rates[clock][name].append(per_round / (read() - start[clock]))
    return rates


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument(
        "--per-call", type=int, nargs="*", default=[], help="more steps-per-call values to measure"
    )
    args = p.parse_args()
    gc.seed_everything(0, deterministic=False)
    ds = gc.make_pipeline(images(), batch_size=args.batch_size).repeat()
    default = training.STEPS_PER_CALL
    plain = "tf.function loop (tutorial style)"
    runners = {
        plain: tutorial_runner(ds, args.steps, args.batch_size),
        f"train, {default} steps per call (default)": engine_runner(ds, args.steps, default),
        "train, 1 step per call": engine_runner(ds, args.steps, 1),
    }
    for n in args.per_call:
        runners[f"train, {n} steps per call"] = engine_runner(ds, args.steps, n)
    rates = measure(runners, args.steps * args.batch_size, args.rounds)
    print(
        f"DCGAN (course default models), batch {args.batch_size}, "
        f"{args.steps} steps x {args.rounds} rounds"
    )
    for clock, by_name in rates.items():
        medians = {name: statistics.median(values) for name, values in by_name.items()}
        print(f"images per second of {clock} time (median; x: ratio to the plain loop)")
        for name, values in by_name.items():
            print(
                f"  {name:38s} {medians[name]:8.0f}  x{medians[name] / medians[plain]:.3f}"
                f"   (rounds: {', '.join(f'{v:.0f}' for v in values)})"
            )


if __name__ == "__main__":
    main()
