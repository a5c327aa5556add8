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


def sample_latent(n: int, latent_dim: int, noise: str = "normal", seed: int = 0) -> np.ndarray:
    """``n`` latent vectors as float32 NumPy of shape ``(n, latent_dim)``, reproducible from
    ``seed``."""
    if noise not in NOISE:
        raise ModelError(f"noise must be one of {NOISE}, not {noise!r}")
    rng = np.random.default_rng(seed)
    if noise == "uniform":
        return rng.uniform(-1.0, 1.0, size=(n, latent_dim)).astype("float32")
    return rng.standard_normal((n, latent_dim)).astype("float32")


def generate_images(generator, z, labels=None, batch_size: int = 500) -> np.ndarray:
    """Run ``generator`` on latent vectors ``z`` (and labels) in batches; NumPy in [-1, 1]."""
    z = np.asarray(z, dtype="float32")
    out = []
    for i in range(0, len(z), batch_size):
        args = z[i:i + batch_size]
        if is_conditional(generator):
            if labels is None:
                raise ModelError("this generator is conditional: pass labels=")
            args = [args, np.asarray(labels, "int32")[i:i + batch_size].reshape(-1, 1)]
        out.append(ops.convert_to_numpy(generator(args, training=False)).astype("float32"))
    return np.concatenate(out) if out else np.zeros((0,) + tuple(generator.output_shape[1:]), "float32")
