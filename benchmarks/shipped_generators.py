"""The shipped generators against those of an earlier version, scored side by side in one run.

For every generator in ``gancourse/pretrained/`` and its namesake at git revision ``--old``
(taken with ``git archive``, so the working tree is untouched), this draws ``--n`` images
(default 10,000) and scores them against the real test images with the course's classifier
features: FID, KID, precision and recall, the class spread (the rarest and the commonest
class's share of the samples; 10% each is the real data's) and, for the conditional
generator, how often the classifier sees the class that was asked for. It also prints the
training time each manifest records (CPU seconds where it records them, else the wall
seconds that earlier manifests recorded), and writes a grid of the same 40 noise
vectors through both versions to ``runs/shipped/NAME.png``, old on the left, to look at.

    GANCOURSE_DATA_DIR=/path/to/data python benchmarks/shipped_generators.py --old v0.1.0
    python benchmarks/shipped_generators.py --old HEAD~3 --only dcgan-mnist --n 2000
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

import numpy as np

import gancourse as gc
from gancourse import pretrained
from gancourse.config import quiet_tensorflow

quiet_tensorflow()

ROOT = Path(__file__).resolve().parents[1]


def extract_old(rev, folder):
    """Write ``gancourse/pretrained/`` as it was at git revision ``rev`` into ``folder``."""
    try:
        cmd = ["git", "archive", rev, "gancourse/pretrained"]
        tar = subprocess.run(cmd, cwd=ROOT, capture_output=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError) as err:
        detail = (getattr(err, "stderr", b"") or b"").decode().strip() or err
        sys.exit(f"cannot read gancourse/pretrained at revision {rev!r}: {detail}")
    with tarfile.open(fileobj=io.BytesIO(tar)) as archive:
        archive.extractall(folder, filter="data")
    return Path(folder) / "gancourse" / "pretrained"


def score(name, directory, n):
    entry = pretrained.info(name, directory)
    g = pretrained.load(name, directory)
    r = gc.evaluation.evaluate_generator(g, entry["dataset"], n=n, seed=1)
    shares = np.asarray(r["class_histogram"], dtype="float64")
    shares = shares / shares.sum()
    return {
        "fid": r["fid"],
        "kid": 1000 * r["kid_mean"],
        "precision": r["precision"],
        "recall": r["recall"],
        "min": shares.min(),
        "max": shares.max(),
        "acc": r.get("label_accuracy"),
        "cpu": entry.get("cpu_time_s", entry.get("wall_time_s")),
    }, g


def grid(old_g, new_g, name, out):
    """40 samples from the same noise through both generators, old left, new right."""
    import imageio.v3 as iio

    # the same numbers for both; a generator with a longer z (a cluster-conditioned one: its
    # last coordinate picks the cluster) gets more of them
    width = max(gc.models.latent_dim_of(g) for g in (old_g, new_g))
    z = gc.sampling.sample_latent(40, width, seed=2024)
    labels = np.arange(40) % 10 if gc.models.is_conditional(new_g) else None
    halves = [
        gc.viz.image_grid(
            gc.sampling.generate_images(g, z[:, : gc.models.latent_dim_of(g)], labels), ncols=5
        )
        for g in (old_g, new_g)
    ]
    gap = np.full((halves[0].shape[0], 6) + halves[0].shape[2:], 255, dtype="uint8")
    out.mkdir(parents=True, exist_ok=True)
    iio.imwrite(
        out / f"{name}.png", gc.viz.upscale(np.concatenate([halves[0], gap, halves[1]], axis=1), 3)
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--old", required=True, help="git revision holding the earlier generators")
    p.add_argument("--only", nargs="+", choices=pretrained.names(), help="just these generators")
    p.add_argument("--n", type=int, default=10000, help="generated images per score")
    p.add_argument("--out", type=Path, default=gc.config.runs_dir() / "shipped", help="grids")
    args = p.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        old_dir = extract_old(args.old, tmp)
        print(f"{args.n} samples each against the test split, classifier features, seed 1\n")
        print(
            f"{'generator':20s} {'version':8s} {'train s':>11s} {'FID':>6s} {'KID x1000':>9s} "
            f"{'prec':>5s} {'recall':>6s} {'classes (min-max)':>17s} {'label acc':>9s}"
        )
        for name in args.only or pretrained.names():
            pair = {}
            for version, directory in ((args.old, old_dir), ("now", None)):
                if name not in pretrained.names(directory):
                    print(f"{name:20s} {version:8s} (not shipped)")
                    continue
                s, pair[version] = score(name, directory, args.n)
                acc = "" if s["acc"] is None else f"{s['acc']:.1%}"
                print(
                    f"{name:20s} {version[:8]:8s} {s['cpu']:11.0f} {s['fid']:6.2f} {s['kid']:9.2f} "
                    f"{s['precision']:5.3f} {s['recall']:6.3f} "
                    f"{s['min']:8.1%}-{s['max']:.1%} {acc:>9s}",
                    flush=True,
                )
            if len(pair) == 2:
                grid(pair[args.old], pair["now"], name, args.out)
        print(f"\ngrids (old left, now right): {args.out}/")


if __name__ == "__main__":
    main()
