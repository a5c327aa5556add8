"""2-D toy distributions (ring of 8 Gaussians, 5x5 grid) and their mode-coverage metrics.

These are the standard test beds for mode collapse: the data is a mixture of small
Gaussians, so we can say exactly which modes a generator covers. The conventions follow
the literature (VEEGAN, PacGAN, Unrolled GAN): a sample is *high quality* when it lies
within 3 standard deviations of its nearest mode; a mode is *covered* when it receives at
least ``min_share`` of its fair share of high-quality samples.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Mixture:
    """An equal-weight mixture of isotropic 2-D Gaussians."""
    name: str
    centers: np.ndarray  # (k, 2)
    std: float

    @property
    def num_modes(self) -> int:
        return len(self.centers)

    def sample(self, n: int, seed: int | None = 0) -> np.ndarray:
        """``n`` float32 points of shape (n, 2), modes chosen uniformly at random."""
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, self.num_modes, size=n)
        return (self.centers[idx] + rng.normal(0, self.std, size=(n, 2))).astype("float32")

    def metrics(self, samples, min_share: float = 0.2) -> dict:
        """Mode coverage of ``samples``; see :func:`mode_metrics`."""
        return mode_metrics(samples, self.centers, self.std, min_share=min_share)


def ring(num_modes: int = 8, radius: float = 2.0, std: float = 0.02) -> Mixture:
    """Ring of ``num_modes`` Gaussians of radius ``radius`` (the classic "ring of 8")."""
    angles = 2 * np.pi * np.arange(num_modes) / num_modes
    centers = np.stack([radius * np.cos(angles), radius * np.sin(angles)], axis=1)
    return Mixture(f"ring{num_modes}", centers.astype("float32"), std)


def grid(size: int = 5, spacing: float = 2.0, std: float = 0.05) -> Mixture:
    """``size`` x ``size`` grid of Gaussians centred on the origin (the classic "grid of 25")."""
    ticks = (np.arange(size) - (size - 1) / 2) * spacing
    centers = np.array([(a, b) for a in ticks for b in ticks], dtype="float32")
    return Mixture(f"grid{size * size}", centers, std)


TOYS = {"ring": ring, "ring8": ring, "grid": grid, "grid25": grid}


def get_toy(name: str) -> Mixture:
    """A toy mixture by name: ``ring`` (8 Gaussians) or ``grid`` (25 Gaussians)."""
    from .errors import UnknownDatasetError

    if name not in TOYS:
        raise UnknownDatasetError(f"Unknown toy distribution {name!r}. Known: ring, grid.")
    return TOYS[name]()


def mode_metrics(samples, centers, std: float, min_share: float = 0.2) -> dict:
    """How well ``samples`` cover the modes at ``centers``.

    Returns ``modes_covered`` (count), ``num_modes``, ``high_quality`` (fraction of samples
    within 3 std of their nearest mode) and ``counts`` (high-quality samples per mode).
    A mode counts as covered when it holds at least ``min_share * n / k`` high-quality samples.
    """
    samples = np.asarray(samples, dtype="float64").reshape(-1, 2)
    centers = np.asarray(centers, dtype="float64")
    if len(samples) == 0:
        raise ValueError("mode_metrics needs at least one sample")
    finite = np.all(np.isfinite(samples), axis=1)
    dist = np.linalg.norm(samples[:, None, :] - centers[None, :, :], axis=-1)
    nearest = dist.argmin(axis=1)
    good = finite & (dist[np.arange(len(samples)), nearest] <= 3 * std)
    counts = np.bincount(nearest[good], minlength=len(centers))
    threshold = max(1.0, min_share * len(samples) / len(centers))
    return {
        "modes_covered": int((counts >= threshold).sum()),
        "num_modes": len(centers),
        "high_quality": float(good.mean()),
        "counts": counts,
    }


def toy_pipeline(mixture: Mixture, n: int = 20000, batch_size: int = 256, seed: int = 0):
    """A shuffled, batched ``tf.data.Dataset`` of ``n`` points from ``mixture``."""
    import tensorflow as tf

    points = mixture.sample(n, seed=seed)
    ds = tf.data.Dataset.from_tensor_slices(points).cache()
    return ds.shuffle(n, seed=seed).batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


def train_toy(gan, mixture: Mixture, steps: int = 3000, snapshots: int = 6, batch_size: int = 256,
              n_eval: int = 2000, seed: int = 0) -> list:
    """Train ``gan`` on ``mixture`` for ``steps`` batches, stopping ``snapshots`` times to
    sample ``n_eval`` points. Returns ``[(step, samples, metrics), ...]`` starting at step 0,
    which is what the mode-collapse pictures of notebooks 01 and 04 are drawn from."""
    ds = toy_pipeline(mixture, n=batch_size * 100, batch_size=batch_size, seed=seed).repeat()
    frames = [(0, gan.generate(n_eval, seed=seed + 1), None)]
    per_chunk = max(1, steps // snapshots)
    for i in range(snapshots):
        gan.fit(ds, epochs=i + 1, initial_epoch=i, steps_per_epoch=per_chunk, verbose=0, shuffle=False)
        frames.append(((i + 1) * per_chunk, gan.generate(n_eval, seed=seed + 1), None))
    return [(step, pts, mixture.metrics(pts)) for step, pts, _ in frames]
