"""Images per second of ``GAN.fit`` against a plain ``tf.function`` loop written the way the
TensorFlow DCGAN tutorial writes it: same models, same batch size, same data, one run.

    python benchmarks/throughput.py [--steps 300] [--rounds 3] [--batch-size 64]

Variants are measured in alternating rounds (A, B, A, B, ...) so that background load hits
both alike; the median of the rounds is reported. Uses the real Fashion-MNIST when
GANCOURSE_DATA_DIR points at it, otherwise random images of the same shape.
"""

import argparse
import statistics
import time

import numpy as np

import gancourse as gc
from gancourse import models
from gancourse.config import quiet_tensorflow

tf = quiet_tensorflow()
import keras  # noqa: E402


def images():
    try:
        return gc.load_dataset("fashion_mnist", download=False).x_train
    except gc.DataError:
        return np.random.default_rng(0).integers(0, 256, (60000, 28, 28), dtype=np.uint8)


def engine_runner(ds, steps, per_call=1):
    """``per_call``: Keras's ``steps_per_execution``, the steps run per graph call (1 is what
    ``gancourse.train`` uses, so that its callbacks see every step)."""
    gan = gc.GAN(models.dcgan_generator(), models.dcgan_discriminator(), seed=0)
    gan.compile(steps_per_execution=per_call)
    gan.fit(ds, epochs=1, steps_per_epoch=10, verbose=0, shuffle=False)  # trace + warm up

    def run():
        gan.fit(ds, epochs=1, steps_per_epoch=steps, verbose=0, shuffle=False)

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


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=64)
    args = p.parse_args()
    gc.seed_everything(0, deterministic=False)
    ds = gc.make_pipeline(images(), batch_size=args.batch_size).repeat()
    runners = {
        "GAN.fit (engine)": engine_runner(ds, args.steps),
        "tf.function loop (tutorial style)": tutorial_runner(ds, args.steps, args.batch_size),
        "GAN.fit, 10 steps per graph call": engine_runner(ds, args.steps, per_call=10),
    }
    rates = {name: [] for name in runners}
    for _ in range(args.rounds):
        for name, run in runners.items():
            t0 = time.perf_counter()
            run()
            rates[name].append(args.steps * args.batch_size / (time.perf_counter() - t0))
    print(
        f"DCGAN (course default models), batch {args.batch_size}, "
        f"{args.steps} steps x {args.rounds} rounds"
    )
    for name, values in rates.items():
        print(
            f"  {name:36s} {statistics.median(values):8.0f} images/s   "
            f"(rounds: {', '.join(f'{v:.0f}' for v in values)})"
        )
    a, b, c = (statistics.median(v) for v in rates.values())
    print(f"  ratio engine / plain loop: {a / b:.3f}  (target >= 0.95)")
    print(f"  ratio engine at 10 steps per call / plain loop: {c / b:.3f}")


if __name__ == "__main__":
    main()
