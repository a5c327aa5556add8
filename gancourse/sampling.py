"""Latent noise and image generation: the one place that turns seeds into pictures.

Everything that samples a generator (training callbacks, the CLI, metrics, pretrained
generators, widgets, notebooks) goes through these two functions, so a seed means the same
latent vectors everywhere. Latent vectors are drawn with NumPy (not TensorFlow's RNG), so
they are identical on every machine and independent of what the model has trained.
"""

from __future__ import annotations

import numpy as np

from .config import quiet_tensorflow

tf = quiet_tensorflow()
from keras import ops  # noqa: E402

from .errors import ModelError  # noqa: E402
from .models import is_conditional  # noqa: E402

#: Latent distributions: N(0, 1) or U(-1, 1).
NOISE = ("normal", "uniform")


def check_count(n) -> int:
    """``n`` if it is a usable number of images (a positive integer), else a ModelError."""
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ModelError(f"the number of images must be a positive integer such as 16, not {n!r}")
    return int(n)


def sample_latent(
    n: int, latent_dim: int, noise: str = "normal", seed: int = 0, truncation: float | None = None
) -> np.ndarray:
    """``n`` latent vectors as float32 NumPy of shape ``(n, latent_dim)``, reproducible from
    ``seed``.

    ``truncation`` (e.g. 0.5): the truncation trick (Brock, Donahue & Simonyan 2019,
    BigGAN): every entry whose absolute value exceeds the threshold is drawn again until
    none does, so all entries lie in [-truncation, truncation]. Vectors near the centre of
    the latent distribution are where the generator was trained most, so their images are
    better, at the price of less variety: a lower threshold trades diversity for quality.
    Entries already within the threshold keep their values, so the same ``seed`` gives
    the same vectors with or without it, apart from the redrawn entries.
    """
    check_count(n)
    if noise not in NOISE:
        raise ModelError(f"noise must be one of {NOISE}, not {noise!r}")
    if truncation is not None and (
        isinstance(truncation, bool)
        or not isinstance(truncation, (int, float))
        or not 0.0 < truncation < float("inf")
    ):
        raise ModelError(
            f"truncation must be a threshold > 0 such as 0.5 (None turns it off), "
            f"not {truncation!r}"
        )
    rng = np.random.default_rng(seed)

    def draw(size):
        if noise == "uniform":
            return rng.uniform(-1.0, 1.0, size=size)
        return rng.standard_normal(size)

    z = draw((n, latent_dim))
    if truncation is not None:
        outside = np.abs(z) > truncation
        while outside.any():
            z[outside] = _redraw(rng, int(outside.sum()), noise, truncation)
            outside = np.abs(z) > truncation
    return z.astype("float32")


def generate_images(generator, z, labels=None, batch_size: int = 500) -> np.ndarray:
    """Run ``generator`` on latent vectors ``z`` (and labels) in batches; NumPy in [-1, 1]."""
    z = np.asarray(z, dtype="float32")
    out = []
    for i in range(0, len(z), batch_size):
        args = z[i : i + batch_size]
        if is_conditional(generator):
            if labels is None:
                raise ModelError("this generator is conditional: pass labels=")
            args = [args, np.asarray(labels, "int32")[i : i + batch_size].reshape(-1, 1)]
        out.append(ops.convert_to_numpy(generator(args, training=False)).astype("float32"))
    return (
        np.concatenate(out)
        if out
        else np.zeros((0,) + tuple(generator.output_shape[1:]), "float32")
    )


def _redraw(rng, size, noise, t):
    """``size`` fresh draws for truncated entries, mostly within [-t, t] (the rest, marked
    inf, are drawn again): from the noise itself when that accepts often, else from U(-t, t)
    kept with probability exp(-x^2 / 2), which is exactly the normal density cut at t and
    accepts at least 60% for t < 1 (so small thresholds cost no more than large ones)."""
    if noise == "uniform":
        return rng.uniform(-min(t, 1.0), min(t, 1.0), size)
    if t >= 1.0:
        return rng.standard_normal(size)
    x = rng.uniform(-t, t, size)
    x[rng.uniform(size=size) >= np.exp(-0.5 * x * x)] = np.inf
    return x
