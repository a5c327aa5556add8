"""The copy check (``gancourse.metrics.copy_check``) on the real Fashion-MNIST: how often it
flags copies of training images it should catch, new real images it should not, and the
shipped generator; with the time each takes.

The first half of the test split (5,000 images) sets the threshold (its 1% quantile); the
other half is the negative control, so no image is both yardstick and candidate. The
positive controls are made from ``--n`` random training images (default 2,000): exact
copies, copies with Gaussian pixel noise (standard deviation 8 of 255, clipped), copies
shifted by 1 or 2 pixels in a random direction (zeros filling in), and mirrored copies.
The generator draws ``--n`` images. The first row's time includes measuring the 5,000
held-out images; the later rows reuse those distances. The classifier-feature check of notebook 08
(``gancourse.metrics.memorisation``) is run on the same sets for comparison (``--features``).

    GANCOURSE_DATA_DIR=/path/to/data python benchmarks/memorisation.py
    python benchmarks/memorisation.py --n 500 --features
"""

from __future__ import annotations

import argparse
import time

import numpy as np

import gancourse as gc
from gancourse import metrics, pretrained
from gancourse.config import quiet_tensorflow

quiet_tensorflow()


def shifted(images, rng, max_shift=2):
    """Each image moved by a random (dy, dx) with max(|dy|, |dx|) in 1..max_shift."""
    moves = [
        (dy, dx)
        for dy in range(-max_shift, max_shift + 1)
        for dx in range(-max_shift, max_shift + 1)
        if (dy, dx) != (0, 0)
    ]
    out = np.zeros_like(images)
    h, w = images.shape[1:3]
    for i, k in enumerate(rng.integers(len(moves), size=len(images))):
        dy, dx = moves[k]
        out[i, max(dy, 0) : h + min(dy, 0), max(dx, 0) : w + min(dx, 0)] = images[
            i, max(-dy, 0) : h + min(-dy, 0), max(-dx, 0) : w + min(-dx, 0)
        ]
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000, help="images per control (default 2000)")
    parser.add_argument("--quantile", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--features", action="store_true", help="also the feature-space check")
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    data = gc.load_dataset("fashion_mnist")
    train, test = data.x_train, data.x_test
    half = len(test) // 2
    held_out, negative = test[:half], test[half:][: args.n]
    source = rng.choice(len(train), args.n, replace=False)
    copies = train[source]
    noise = rng.normal(0, 8, copies.shape)
    g = pretrained.load("dcgan-fashion_mnist")
    z = gc.sampling.sample_latent(args.n, gc.models.latent_dim_of(g), seed=args.seed + 1)
    t = time.process_time()
    generated = gc.data.to_uint8(gc.sampling.generate_images(g, z))[..., 0]
    print(f"generating {args.n} images: {time.process_time() - t:.1f} CPU-s")
    controls = {
        "exact copies": (copies, source),
        "copies + noise (std 8/255)": (np.clip(copies + noise, 0, 255).astype("uint8"), source),
        "copies shifted 1-2 pixels": (shifted(copies, rng), source),
        "mirrored copies": (copies[:, :, ::-1], source),
        "new real images (negative)": (negative, None),
        "dcgan-fashion_mnist samples": (generated, None),
    }
    print(
        f"train {len(train)}, threshold from {len(held_out)} test images "
        f"(quantile {args.quantile:.0%}), {args.n} images per row; "
        f"pass: positive controls >= 90%, negative near {args.quantile:.0%}"
    )
    header = f"{'images':30s} {'flagged':>8s} {'source found':>12s} {'wall s':>7s} {'CPU s':>7s}"
    print(header)
    reference = held_out  # the first row measures the held-out images, the others reuse them
    for name, (images, src) in controls.items():
        wall, cpu = time.perf_counter(), time.process_time()
        r = metrics.copy_check(images, train, reference, quantile=args.quantile)
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        reference = r
        found = f"{np.mean(r.nearest == src):.1%}" if src is not None else "-"
        print(f"{name:30s} {r.rate:8.2%} {found:>12s} {wall:7.1f} {cpu:7.1f}", flush=True)
    print(
        f"threshold {r.threshold:.2f} grey levels (RMS over the central 24x24 pixels), "
        f"held-out share at or below it {r.expected_rate:.2%}"
    )
    if args.features:
        extractor = gc.evaluation.get_extractor("fashion_mnist")
        t = time.perf_counter()
        train_f, held_f = extractor.features(train), extractor.features(held_out)
        print(f"\nclassifier features of train and held-out: {time.perf_counter() - t:.1f} s")
        print(f"{'images (feature-space check)':30s} {'flagged':>8s}")
        for name, (images, _) in controls.items():
            m = metrics.memorisation(extractor.features(images), train_f, held_f, args.quantile)
            print(f"{name:30s} {m['too_close']:8.2%}", flush=True)


if __name__ == "__main__":
    main()
