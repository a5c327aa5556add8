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
from .models import is_conditional, latent_dim_of  # noqa: E402

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


def sample_codes(
    n: int,
    noise_dim: int,
    categories: int = 10,
    continuous: int = 2,
    noise: str = "normal",
    seed: int = 0,
    category=None,
    values=None,
    truncation: float | None = None,
) -> np.ndarray:
    """``n`` InfoGAN latent vectors ``[noise | one-hot categorical code | continuous codes]``
    as float32 NumPy of shape ``(n, noise_dim + categories + continuous)``, reproducible from
    ``seed``: the noise as :func:`sample_latent` draws it (``truncation`` applies to it
    alone), the category uniform over 0..categories-1, the continuous codes U(-1, 1).

    ``category``: fix the categorical code (one value for all, or one per vector);
    ``values``: fix the continuous codes (shape ``(continuous,)`` for all, or ``(n,
    continuous)``). Fixed codes are how the classic grids are drawn (:func:`code_grid`).
    """
    n = check_count(n)
    z = sample_latent(n, noise_dim, noise, seed, truncation=truncation)
    rng = np.random.default_rng([seed, 1])  # the codes' own stream: the noise stays the same
    drawn = rng.integers(0, categories, n)
    c = drawn if category is None else _fixed(category, (n,), "category")
    whole = np.issubdtype(c.dtype, np.integer) or (
        np.issubdtype(c.dtype, np.floating) and np.array_equal(c, np.round(c))
    )
    if not whole:
        raise ModelError(f"category must be whole numbers in 0..{categories - 1}")
    c = c.astype(np.int64)
    if c.min() < 0 or c.max() >= categories:
        raise ModelError(f"category must be in 0..{categories - 1}, got {c.min()}..{c.max()}")
    u = rng.uniform(-1.0, 1.0, (n, continuous))
    if values is not None:
        u = _fixed(values, (n, continuous), "values").astype(np.float64)
        if not np.isfinite(u).all():
            raise ModelError("the continuous codes (values=) must be finite numbers")
    return np.concatenate([z, np.eye(categories)[c], u], axis=1).astype("float32")


def code_grid(
    noise_dim: int,
    categories: int = 10,
    continuous: int = 2,
    vary: int | None = None,
    steps: int = 8,
    span: float = 1.0,
    noise: str = "normal",
    seed: int = 0,
):
    """``(z, ncols)``: the classic InfoGAN grid, one row per value of the categorical code.

    ``vary=None``: the columns are ``steps`` different noise vectors (with their continuous
    codes), the same in every row, so a column shows one "style" in every category.
    ``vary=j``: one noise vector throughout, continuous code j going from ``-span`` to
    ``span`` along the columns and the other continuous codes at 0 (the paper's rotation
    and width grids use span 2, beyond the training range of U(-1, 1)).
    """
    steps = check_count(steps)
    if vary is None:
        cols = sample_codes(steps, noise_dim, categories, continuous, noise, seed)
        values = cols[:, noise_dim + categories :]
        z = np.tile(cols[:, :noise_dim], (categories, 1))
        values = np.tile(values, (categories, 1))
    else:
        if isinstance(vary, bool) or not isinstance(vary, (int, np.integer)):
            raise ModelError(f"vary must be the number of a continuous code, not {vary!r}")
        if not 0 <= vary < continuous:
            raise ModelError(f"vary must be in 0..{continuous - 1} (a continuous code), not {vary}")
        if not (isinstance(span, (int, float)) and 0 < span < float("inf")):
            raise ModelError(f"span must be a positive number such as 2, not {span!r}")
        z = np.tile(sample_latent(1, noise_dim, noise, seed), (categories * steps, 1))
        values = np.zeros((categories * steps, continuous))
        values[:, vary] = np.tile(np.linspace(-span, span, steps), categories)
    rows = np.repeat(np.arange(categories), steps)
    onehot = np.eye(categories)[rows]
    return np.concatenate([z, onehot, values], axis=1).astype("float32"), steps


def sample_inputs(generator, n: int, noise: str = "normal", seed: int = 0, truncation=None):
    """Latent vectors for ``generator``: :func:`sample_codes` for an InfoGAN generator (it
    carries ``code_sizes``), else :func:`sample_latent` of its latent size."""
    sizes = getattr(generator, "code_sizes", None)
    if sizes:
        return sample_codes(n, *sizes, noise=noise, seed=seed, truncation=truncation)
    return sample_latent(n, latent_dim_of(generator), noise, seed, truncation=truncation)


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


def _fixed(value, shape, what):
    """``value`` broadcast to ``shape`` as NumPy, or a ModelError naming ``what``."""
    try:
        return np.broadcast_to(np.asarray(value), shape)
    except (ValueError, TypeError):
        raise ModelError(
            f"{what} must be one value or one per vector (shape {shape}), "
            f"not shape {np.shape(value)}"
        ) from None


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
