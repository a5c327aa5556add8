"""Differentiable augmentation (DiffAugment) for training GANs on little data.

Zhao, Liu, Lin, Zhu & Han 2020, "Differentiable Augmentation for Data-Efficient GAN
Training". With a few thousand images, D memorises the training set and its feedback to G
becomes useless. Augmenting only the real images does not help: G then learns to make
augmented-looking images. DiffAugment applies the *same kind* of random transform to real
and fake images, every time D sees them, in D's step and in G's step; the transforms are
differentiable, so G's gradient flows back through them.

The three transforms of the paper, for images in [-1, 1] of shape (batch, h, w, channels):

- ``color``: random brightness (+-0.5), saturation (x0 to x2) and contrast (x0.5 to x1.5)
- ``translation``: shift by up to 1/8 of the image size, filling with zeros
- ``cutout``: zero a random square half the image size

Each image of a batch gets its own random draw.
"""

from __future__ import annotations

from .config import quiet_tensorflow

tf = quiet_tensorflow()
import keras  # noqa: E402
from keras import ops  # noqa: E402

from .errors import ModelError  # noqa: E402

#: The transforms a policy string can name, in the order they are applied.
POLICIES = ("color", "translation", "cutout")


def diff_augment(images, policy="color,translation,cutout", seed=None):
    """``images`` randomly transformed by the comma-separated ``policy`` (a subset of
    :data:`POLICIES`, applied in that order); same shape and dtype.

    ``seed``: an int (the same int gives the same transform of the same images every call),
    a ``keras.random.SeedGenerator`` (a new transform every call, reproducible from its seed:
    what a train step uses), or None (unseeded).
    """
    names = parse_policy(policy)
    if len(images.shape) != 4:
        raise ModelError(
            f"DiffAugment works on image batches (batch, height, width, channels), "
            f"got shape {tuple(images.shape)}: turn augment off for this data."
        )
    dtype = images.dtype
    x = ops.cast(images, "float32")
    for i, name in enumerate(names):
        x = _TRANSFORMS[name](x, lambda k, i=i: _subseed(seed, 3 * i + k))
    return ops.cast(x, dtype)


def parse_policy(policy) -> tuple:
    """The transform names of a policy string such as ``"color,translation,cutout"``, checked
    and in application order (None or "" gives no transform)."""
    if not policy:
        return ()
    names = [p.strip() for p in str(policy).split(",") if p.strip()]
    unknown = [n for n in names if n not in POLICIES]
    if unknown:
        raise ModelError(
            f"Unknown DiffAugment transform {unknown[0]!r} in policy {policy!r}. "
            f"Known: {', '.join(POLICIES)} (comma-separated, e.g. "
            f"'color,translation,cutout')."
        )
    return tuple(n for n in POLICIES if n in names)


# --------------------------------------------------------------------------- transforms


def _color(x, seed):
    batch = ops.shape(x)[0]
    shape = (batch, 1, 1, 1)
    x = x + (keras.random.uniform(shape, seed=seed(0)) - 0.5)  # brightness
    mean = ops.mean(x, axis=3, keepdims=True)
    x = (x - mean) * (keras.random.uniform(shape, seed=seed(1)) * 2.0) + mean  # saturation
    mean = ops.mean(x, axis=(1, 2, 3), keepdims=True)
    return (x - mean) * (keras.random.uniform(shape, seed=seed(2)) + 0.5) + mean  # contrast


def _translation(x, seed, ratio=0.125):
    batch = ops.shape(x)[0]
    h, w = int(x.shape[1]), int(x.shape[2])
    dy, dx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    ty = keras.random.randint((batch, 1, 1), -dy, dy + 1, seed=seed(0))
    tx = keras.random.randint((batch, 1, 1), -dx, dx + 1, seed=seed(1))
    # source pixel of every output pixel in a copy padded by one zero pixel on each side;
    # sources that fall outside the image land on that zero border
    ys = ops.clip(ops.arange(h, dtype="int32")[None, :, None] + ty + 1, 0, h + 1)
    xs = ops.clip(ops.arange(w, dtype="int32")[None, None, :] + tx + 1, 0, w + 1)
    padded = ops.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    flat = ops.reshape(padded, (batch, (h + 2) * (w + 2), x.shape[3]))
    index = ops.reshape(ys * (w + 2) + xs, (batch, h * w))
    return ops.reshape(tf.gather(flat, index, batch_dims=1), ops.shape(x))


def _cutout(x, seed, ratio=0.5):
    batch = ops.shape(x)[0]
    h, w = int(x.shape[1]), int(x.shape[2])
    sy, sx = int(h * ratio + 0.5), int(w * ratio + 0.5)
    cy = keras.random.randint((batch, 1, 1), 0, h, seed=seed(0))  # square centres
    cx = keras.random.randint((batch, 1, 1), 0, w, seed=seed(1))
    y = ops.arange(h, dtype="int32")[None, :, None] - cy + sy // 2
    xx = ops.arange(w, dtype="int32")[None, None, :] - cx + sx // 2
    inside = (y >= 0) & (y < sy) & (xx >= 0) & (xx < sx)
    return x * ops.cast(~inside, x.dtype)[..., None]


_TRANSFORMS = {"color": _color, "translation": _translation, "cutout": _cutout}


def _subseed(seed, k):
    """The ``k``-th seed of one call: distinct ints from an int seed (so the draws of one call
    differ but repeat from call to call), the generator itself otherwise (it advances)."""
    if isinstance(seed, int):
        return seed * 1009 + k
    return seed
