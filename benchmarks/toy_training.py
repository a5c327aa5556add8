"""Toy training speed: the same 3,000 ring steps of notebook 01's GAN run one step per graph
call and the way :func:`gancourse.toy.train_toy` runs them (up to ``TOY_STEPS_PER_CALL`` steps
per call, Keras's ``steps_per_execution``), side by side in one process, with the CPU time
each took and the modes each covered (the steps are the same, so the results should agree).

    python benchmarks/toy_training.py [--steps 3000] [--repeats 2]
"""

from __future__ import annotations

import argparse
import sys
import time

import gancourse as gc
from gancourse import models, toy
from gancourse.config import quiet_tensorflow

quiet_tensorflow()
import keras  # noqa: E402


def run(steps, per_call):
    gc.seed_everything(0)
    gan = gc.GAN(models.toy_generator(latent_dim=2), models.toy_discriminator(), seed=0)
    gan.compile(keras.optimizers.Adam(1e-3, beta_1=0.5), keras.optimizers.Adam(1e-3, beta_1=0.5))
    saved, toy.TOY_STEPS_PER_CALL = toy.TOY_STEPS_PER_CALL, per_call
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        frames = toy.train_toy(gan, toy.ring(), steps=steps, snapshots=5)
        return time.perf_counter() - t0, time.process_time() - c0, frames[-1][2]
    finally:
        toy.TOY_STEPS_PER_CALL = saved


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=3000)
    p.add_argument("--repeats", type=int, default=2, help="alternating runs of each variant")
    args = p.parse_args(argv)
    variants = {
        "1 step per call": 1,
        f"{toy.TOY_STEPS_PER_CALL} steps per call": toy.TOY_STEPS_PER_CALL,
    }
    print(f"{'variant':22s} {'wall s':>7s} {'CPU s':>6s} {'modes':>5s} {'high quality':>12s}")
    for _ in range(args.repeats):
        for name, per_call in variants.items():
            wall, cpu, m = run(args.steps, per_call)
            hq = m["high_quality"]
            print(f"{name:22s} {wall:7.1f} {cpu:6.1f} {m['modes_covered']:5d} {hq:12.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
