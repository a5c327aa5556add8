"""Which unsupervised split finds the MNIST digits: an InfoGAN's categorical code or k-means?

Both are scored the same way: the accuracy of the split against the digit labels after the
best one-to-one matching of its 10 groups to the 10 classes (Hungarian algorithm,
``gancourse.metrics.matched_accuracy``).

- InfoGAN, two ways: (1) generate ``--n`` images, each code value equally often, and classify
  them with the shipped MNIST classifier (``gancourse.evaluation.code_accuracy``; works for
  a shipped generator too); (2) for a run folder, Q's guess of the code on the 10,000 real
  test images against their labels.
- k-means with 10 clusters on the training images' pixels (``data.cluster_labels``), one
  line per seed, against the training labels.

    GANCOURSE_DATA_DIR=/path/to/data python benchmarks/code_accuracy.py \\
        --runs runs/pretrained/infogan-mnist --pretrained infogan-mnist --kmeans-seeds 0 1 2
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--runs", nargs="*", type=Path, default=[], help="InfoGAN run folders")
    p.add_argument("--pretrained", nargs="*", default=[], help="shipped InfoGAN generators")
    p.add_argument("--kmeans-seeds", nargs="*", type=int, default=[], help="k-means seeds")
    p.add_argument("--n", type=int, default=10000, help="generated images per InfoGAN")
    args = p.parse_args(argv)

    from gancourse import data, pretrained
    from gancourse.evaluation import code_accuracy
    from gancourse.metrics import matched_accuracy
    from gancourse.training import load_run

    mnist = data.load_dataset("mnist")
    for run in args.runs:
        gan, cfg, epoch = load_run(run)
        generated = code_accuracy(gan, cfg.dataset, n=args.n)["accuracy"]
        category, _ = gan.predict_codes(data.to_model_range(mnist.x_test))
        real = matched_accuracy(category, mnist.y_test.astype("int64"))
        print(
            f"{run} (epoch {epoch}, seed {cfg.seed}): generated {generated:.4f} "
            f"({args.n} images, classifier), Q on the test images {real:.4f}"
        )
    for name in args.pretrained:
        result = code_accuracy(pretrained.load(name), "mnist", n=args.n)
        print(f"{name}: generated {result['accuracy']:.4f} ({args.n} images, classifier)")
    for seed in args.kmeans_seeds:
        t0 = time.process_time()
        clusters = data.cluster_labels(mnist.x_train, 10, seed)
        accuracy = matched_accuracy(clusters, mnist.y_train.astype("int64"))
        print(
            f"k-means, 10 clusters of the 60,000 training images' pixels, seed {seed}: "
            f"{accuracy:.4f} ({time.process_time() - t0:.0f} CPU-s)"
        )


if __name__ == "__main__":
    main()
