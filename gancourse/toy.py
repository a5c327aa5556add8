"""2-D toy distributions and their mode-coverage metrics: the ring of 8 Gaussians, the 5x5
grid, two moons, a spiral, and a learner's own array of points.

These are the standard test beds for mode collapse: we know where the data lives, so we
can say which parts of it a generator covers. The conventions follow the literature
(VEEGAN, PacGAN, Unrolled GAN): a sample is *high quality* when it lies within 3 standard
deviations of its nearest mode; a mode is *covered* when it receives at least ``min_share``
of its fair share of high-quality samples. Two numbers, kept apart on purpose:

- **modes covered** is a recall: how much of the data the generator reaches;
- **high quality** is a precision: how many of its samples look like data.

Every toy has ``name``, ``num_modes``, ``sample(n, seed)``, ``metrics(samples)`` (the same
keys for all) and ``lim`` (half the width of a square view that holds the data).
The curves (moons, spiral) and the learner's own points define their "modes" as explained
in :class:`Curve` and :class:`PointCloud`.
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

    @property
    def lim(self) -> float:
        """Half-width of a square view around the origin that holds every mode with a margin."""
        return float(np.abs(self.centers).max() + 1.0)


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


@dataclass(frozen=True)
class Curve:
    """Data spread along a curve (two moons, a spiral) with Gaussian noise of ``std``.

    ``points`` is the curve traced densely at equal arc-length spacing (much finer than
    ``std``), so sampling a uniform index samples uniformly along the curve. Its "modes"
    are ``num_modes`` pieces of equal length (``segment`` gives each dense point's piece):
    a sample is high quality when it lies within 3 std of the curve, and counts for the
    piece its nearest curve point belongs to. A generator that covers only half a moon
    then covers half of that moon's pieces.
    """

    name: str
    points: np.ndarray  # (m, 2) dense points along the curve
    segment: np.ndarray  # (m,) index of the piece each dense point belongs to
    std: float

    @property
    def num_modes(self) -> int:
        return int(self.segment.max()) + 1

    @property
    def lim(self) -> float:
        return float(np.abs(self.points).max() + 1.0)

    def sample(self, n: int, seed: int | None = 0) -> np.ndarray:
        """``n`` float32 points: uniform along the curve, plus Gaussian noise."""
        rng = np.random.default_rng(seed)
        idx = rng.integers(0, len(self.points), size=n)
        return (self.points[idx] + rng.normal(0, self.std, size=(n, 2))).astype("float32")

    def metrics(self, samples, min_share: float = 0.2) -> dict:
        """Pieces covered and high-quality share, with the keys of :func:`mode_metrics`."""
        samples = _as_samples(samples)
        dist, nearest = _nearest(samples, self.points)
        good = np.isfinite(dist) & (dist <= 3 * self.std)
        return _coverage(
            good, self.segment[nearest], np.full(self.num_modes, 1.0 / self.num_modes), min_share
        )


@dataclass(frozen=True)
class PointCloud:
    """A learner's own 2-D points as a toy distribution (build it with :func:`points`).

    Sampling draws the given points with replacement. There is no known noise level, so
    the metrics follow the k-nearest-neighbour definition of precision and recall
    (Kynkaanniemi et al., 2019): each real point owns a ball reaching its ``k``-th nearest
    real neighbour; a sample is high quality when it falls in at least one ball. The
    "modes" are ``num_modes`` k-means clusters of the real points; a high-quality sample
    counts for the cluster of its nearest real point, and a cluster is covered when it gets
    at least ``min_share`` of its fair share (its share of the real points).
    """

    name: str
    data: np.ndarray  # (n, 2) the learner's points
    cluster: np.ndarray  # (n,) k-means cluster of each point
    radius: np.ndarray  # (n,) distance to the k-th nearest other point

    @property
    def num_modes(self) -> int:
        return int(self.cluster.max()) + 1

    @property
    def lim(self) -> float:
        return float(np.abs(self.data).max() * 1.15 + 0.25)

    def sample(self, n: int, seed: int | None = 0) -> np.ndarray:
        """``n`` of the learner's points, drawn with replacement."""
        rng = np.random.default_rng(seed)
        return self.data[rng.integers(0, len(self.data), size=n)].astype("float32")

    def metrics(self, samples, min_share: float = 0.2) -> dict:
        """Clusters covered and high-quality share, with the keys of :func:`mode_metrics`.
        Samples are rounded to float32 like the stored points, so a sample equal to a
        point is at distance 0 from it, whatever precision it came in."""
        samples = _as_samples(samples).astype("float32").astype("float64")
        d = _distances(samples, self.data.astype("float64"))
        good = np.isfinite(d).all(axis=1) & (d <= self.radius[None, :]).any(axis=1)
        nearest = np.where(np.isfinite(d), d, np.inf).argmin(axis=1)
        weights = np.bincount(self.cluster, minlength=self.num_modes) / len(self.cluster)
        return _coverage(good, self.cluster[nearest], weights, min_share)


def moons(scale: float = 1.5, std: float = 0.05, pieces: int = 4) -> Curve:
    """Two interleaved half circles (the "two moons"), centred on the origin; each moon is
    cut into ``pieces`` equal arcs, so there are ``2 * pieces`` modes."""
    t = np.linspace(0.0, np.pi, 1000)
    upper = np.stack([np.cos(t) - 0.5, np.sin(t) - 0.25], axis=1)
    lower = np.stack([0.5 - np.cos(t), 0.25 - np.sin(t)], axis=1)
    seg = np.minimum((np.arange(1000) * pieces) // 1000, pieces - 1)
    return Curve(
        "moons",
        (scale * np.vstack([upper, lower])).astype("float32"),
        np.concatenate([seg, seg + pieces]),
        std,
    )


def spiral(turns: float = 1.5, radius: float = 3.0, std: float = 0.05, pieces: int = 8) -> Curve:
    """An Archimedean spiral (r grows linearly with the angle) of ``turns`` turns out to
    ``radius``, cut into ``pieces`` arcs of equal length (the modes)."""
    theta = np.linspace(0.5 * np.pi, (0.5 + 2 * turns) * np.pi, 20000)
    r = radius * theta / theta[-1]
    dense = np.stack([r * np.cos(theta), r * np.sin(theta)], axis=1)
    arc = np.concatenate([[0.0], np.cumsum(np.linalg.norm(np.diff(dense, axis=0), axis=1))])
    even = np.linspace(0.0, arc[-1], 3000)  # resample at equal arc-length spacing
    pts = np.stack([np.interp(even, arc, dense[:, 0]), np.interp(even, arc, dense[:, 1])], axis=1)
    seg = np.minimum((np.arange(3000) * pieces) // 3000, pieces - 1)
    return Curve("spiral", pts.astype("float32"), seg, std)


def points(data, num_modes: int = 8, k: int = 3, seed: int = 0) -> PointCloud:
    """Wrap a learner's own array of 2-D points, shape (n, 2) with n >= 10, as a toy
    distribution (see :class:`PointCloud` for its metrics)."""
    from .errors import DataError

    try:
        data = np.asarray(data, dtype="float64")
    except (TypeError, ValueError) as exc:
        raise DataError(f"points must be a numeric array of shape (n, 2): {exc}") from None
    if data.ndim != 2 or data.shape[1] != 2 or len(data) < 10:
        raise DataError(
            f"points must be an array of shape (n, 2) with at least 10 points, "
            f"got shape {data.shape}"
        )
    if not np.isfinite(data).all():
        raise DataError("points contain NaN or infinite values")
    for name, value in (("k", k), ("num_modes", num_modes)):
        whole = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
            value, bool
        )
        if not whole or not float(value).is_integer() or value < 1:
            raise DataError(f"{name} must be a whole number of at least 1, got {value!r}")
    k = int(min(k, len(data) - 1))
    # The points are stored in float32; the radii are measured between the stored points,
    # so a repeated point keeps radius 0 and a sample equal to it still lies in its ball.
    data = data.astype("float32").astype("float64")
    d = _distances(data, data)
    radius = np.sort(d, axis=1)[:, k]  # column 0 is the point itself
    cluster = _kmeans(data, int(min(num_modes, len(data) // 5)), seed)
    return PointCloud("points", data.astype("float32"), cluster, radius)


TOYS = {
    "ring": ring,
    "ring8": ring,
    "grid": grid,
    "grid25": grid,
    "moons": moons,
    "two_moons": moons,
    "spiral": spiral,
}


def get_toy(name: str):
    """A toy distribution by name: ``ring`` (8 Gaussians), ``grid`` (25 Gaussians),
    ``moons`` (two moons) or ``spiral``. For your own points use :func:`points`."""
    from .errors import UnknownDatasetError

    if name not in TOYS:
        raise UnknownDatasetError(
            f"Unknown toy distribution {name!r}. Known: ring, grid, moons, spiral "
            f"(or gancourse.toy.points(array) for your own 2-D points)."
        )
    return TOYS[name]()


def mode_metrics(samples, centers, std: float, min_share: float = 0.2) -> dict:
    """How well ``samples`` cover the modes at ``centers``.

    Returns ``modes_covered`` (count), ``num_modes``, ``high_quality`` (fraction of samples
    within 3 std of their nearest mode) and ``counts`` (high-quality samples per mode).
    A mode counts as covered when it holds at least ``min_share * n / k`` high-quality samples.
    ``modes_any`` counts the modes with at least one high-quality sample: the looser
    definition of the papers (VEEGAN, PacGAN), for comparison with their tables.
    """
    samples = _as_samples(samples)
    centers = np.asarray(centers, dtype="float64")
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
        "modes_any": int((counts >= 1).sum()),
    }


def toy_pipeline(mixture: Mixture, n: int = 20000, batch_size: int = 256, seed: int = 0):
    """A shuffled, batched ``tf.data.Dataset`` of ``n`` points from ``mixture``."""
    import tensorflow as tf

    points = mixture.sample(n, seed=seed)
    ds = tf.data.Dataset.from_tensor_slices(points).cache()
    return (
        ds.shuffle(n, seed=seed).batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)
    )


def train_toy(
    gan,
    mixture: Mixture,
    steps: int = 3000,
    snapshots: int = 6,
    batch_size: int = 256,
    n_eval: int = 2000,
    seed: int = 0,
) -> list:
    """Train ``gan`` on ``mixture`` for ``steps`` batches, stopping ``snapshots`` times to
    sample ``n_eval`` points. Returns ``[(step, samples, metrics), ...]`` starting at step 0,
    which is what the mode-collapse pictures of notebooks 01 and 04 are drawn from."""
    ds = toy_pipeline(mixture, n=batch_size * 100, batch_size=batch_size, seed=seed).repeat()
    frames = [(0, gan.generate(n_eval, seed=seed + 1), None)]
    per_chunk = max(1, steps // snapshots)
    # The networks are tiny, so a step's time is mostly TensorFlow's per-call overhead: run
    # up to TOY_STEPS_PER_CALL steps inside one graph call (see GAN.fit's steps_per_call).
    # The steps are the same ones; benchmarks/toy_training.py measures the saving.
    for i in range(snapshots):
        gan.fit(
            ds,
            epochs=i + 1,
            initial_epoch=i,
            steps_per_epoch=per_chunk,
            verbose=0,
            shuffle=False,
            steps_per_call=TOY_STEPS_PER_CALL,
        )
        frames.append(((i + 1) * per_chunk, gan.generate(n_eval, seed=seed + 1), None))
    return [(step, pts, mixture.metrics(pts)) for step, pts, _ in frames]


#: How many toy training steps :func:`train_toy` runs per graph call (at most).
TOY_STEPS_PER_CALL = 50


# --------------------------------------------------------------------------- helpers


def _as_samples(samples) -> np.ndarray:
    from .errors import MetricError

    try:
        samples = np.asarray(samples, dtype="float64")
    except (TypeError, ValueError) as exc:
        raise MetricError(f"samples must be a numeric array of shape (n, 2): {exc}") from None
    if samples.ndim == 0 or samples.shape[-1] != 2:
        raise MetricError(f"samples must have shape (n, 2), got {samples.shape}")
    samples = samples.reshape(-1, 2)
    if len(samples) == 0:
        raise MetricError("toy metrics need at least one sample")
    return samples


def _distances(a, b) -> np.ndarray:
    """Euclidean distances (len(a), len(b)); NaN rows of ``a`` give NaN."""
    return np.sqrt(np.maximum(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1), 0.0))


def _nearest(samples, pts, chunk=500):
    """Distance to and index of the nearest of ``pts`` for each sample (inf/0 for NaN)."""
    dist = np.full(len(samples), np.inf)
    idx = np.zeros(len(samples), dtype=int)
    for i in range(0, len(samples), chunk):
        d = _distances(samples[i : i + chunk], pts)
        d = np.where(np.isfinite(d), d, np.inf)
        idx[i : i + chunk] = d.argmin(axis=1)
        dist[i : i + chunk] = d[np.arange(len(d)), idx[i : i + chunk]]
    return dist, idx


def _coverage(good, mode, weights, min_share) -> dict:
    """The metrics dict from a high-quality mask, each sample's mode and the modes' weights."""
    counts = np.bincount(mode[good], minlength=len(weights))
    threshold = np.maximum(1.0, min_share * len(good) * np.asarray(weights))
    return {
        "modes_covered": int((counts >= threshold).sum()),
        "num_modes": len(weights),
        "high_quality": float(good.mean()),
        "counts": counts,
        "modes_any": int((counts >= 1).sum()),
    }


def _kmeans(data, k, seed, iters=50) -> np.ndarray:
    """Cluster labels of plain k-means (k-means++ start, seeded): the modes of a point cloud."""
    rng = np.random.default_rng(seed)
    k = max(1, k)
    centers = [data[rng.integers(len(data))]]
    for _ in range(k - 1):
        d2 = (_distances(data, np.array(centers)) ** 2).min(axis=1)
        centers.append(data[rng.choice(len(data), p=d2 / d2.sum())] if d2.sum() > 0 else data[0])
    centers = np.array(centers)
    for _ in range(iters):
        labels = _distances(data, centers).argmin(axis=1)
        new = np.array(
            [
                data[labels == j].mean(axis=0) if (labels == j).any() else centers[j]
                for j in range(k)
            ]
        )
        if np.allclose(new, centers):
            break
        centers = new
    # renumber clusters 0..m-1 (an empty cluster would otherwise leave a gap)
    return np.unique(labels, return_inverse=True)[1]
