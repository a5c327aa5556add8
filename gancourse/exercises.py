"""Self-checks for the notebooks' exercises. Each ``check_*`` prints whether the answer is
right (with a hint when it is not) and returns True or False, so a learner gets feedback
without looking at the solution."""
from __future__ import annotations

import math

import numpy as np


def check_normalise(fn) -> bool:
    """00: ``fn(x_uint8)`` must return float32 images in [-1, 1] with a channel axis."""
    x = np.array([[[0, 255], [127, 128]]], dtype=np.uint8)  # one 2x2 image
    try:
        out = np.asarray(fn(x))
    except Exception as e:  # a learner's bug is feedback, not a crash
        return _no(f"your function raised {type(e).__name__}: {e}")
    if out.shape != (1, 2, 2, 1):
        return _no(f"shape {out.shape}; expected (1, 2, 2, 1): add a channel axis with x[..., None]")
    if out.dtype != np.float32:
        return _no(f"dtype {out.dtype}; expected float32")
    if not np.allclose(out[0, :, :, 0], [[-1, 1], [127 / 127.5 - 1, 128 / 127.5 - 1]], atol=1e-6):
        return _no("values are off: 0 must map to -1 and 255 to +1 (x / 127.5 - 1)")
    return _yes("0 -> -1, 255 -> +1, float32, channels-last.")


def check_class_balance(answer, dataset="fashion_mnist") -> bool:
    """00: the number of training images of each class (one number: they are balanced)."""
    from .data import load_dataset

    counts = np.bincount(load_dataset(dataset).y_train)
    if counts.min() != counts.max():
        return _no(f"{dataset} is not balanced here; counts are {counts.tolist()}")
    if int(answer) == counts[0]:
        return _yes(f"every class has {counts[0]} training images.")
    return _no("count with np.bincount(y_train)")


def check_optimal_discriminator(fn) -> bool:
    """01: ``fn(p_data, p_g)`` must return D*(x) = p_data / (p_data + p_g), elementwise."""
    p, q = np.array([0.2, 1.0, 0.0, 3.0]), np.array([0.2, 0.0, 1.0, 1.0])
    try:
        out = np.asarray(fn(p, q), dtype=float)
    except Exception as e:
        return _no(f"your function raised {type(e).__name__}: {e}")
    if not np.allclose(out, [0.5, 1.0, 0.0, 0.75]):
        return _no(f"got {out.tolist()} for p_data={p.tolist()}, p_g={q.tolist()}; "
                   "expected [0.5, 1.0, 0.0, 0.75]")
    return _yes("D* is 1/2 where the densities agree, 1 where only data lives.")


def check_value_at_equilibrium(answer) -> bool:
    """01: V(D*, G) when p_g = p_data, i.e. -log 4."""
    if math.isclose(float(answer), -math.log(4), rel_tol=1e-3):
        return _yes("V = log(1/2) + log(1/2) = -log 4 = -1.386; the JS divergence is 0.")
    return _no("at p_g = p_data, D* = 1/2 everywhere: V = E[log 1/2] + E[log 1/2]")


def check_smoothed_targets(fn) -> bool:
    """02: ``fn(batch, smoothing)`` must return one-sided smoothed targets for the real batch."""
    try:
        out = np.asarray(fn(4, 0.1), dtype=float).reshape(-1)
    except Exception as e:
        return _no(f"your function raised {type(e).__name__}: {e}")
    if out.shape != (4,) or not np.allclose(out, 0.9):
        return _no(f"got {out.tolist()}; real targets should all be 1 - 0.1 = 0.9 "
                   "(one-sided: fake targets stay 0, so they are not part of this)")
    return _yes("real targets 0.9, fakes stay 0.")


def check_param_count(answer, model) -> bool:
    """02/03: the total number of parameters of ``model`` (worked out by hand)."""
    from .models import count_params

    total = count_params(model)["total"]
    if int(answer) == total:
        return _yes(f"{total:,} parameters.")
    return _no(f"{int(answer):,} is {'too many' if int(answer) > total else 'too few'}. A Dense "
               "layer has in*out + out parameters; BatchNormalization has 4 per feature "
               "(2 trainable, 2 moving statistics).")


def check_transposed_size(answer) -> bool:
    """03: output side of Conv2DTranspose(kernel 4, strides 2, padding "same") on 7x7."""
    if int(answer) == 14:
        return _yes("'same' padding with stride 2 doubles the side: 7 -> 14 -> 28.")
    return _no("with padding='same' the output side is input side x stride")


def check_deeper_generator(generator, baseline=None) -> bool:
    """03: a deeper generator still makes 28x28x1 images in [-1, 1] and has more
    convolution layers than the default one."""
    from .models import dcgan_generator, latent_dim_of

    baseline = baseline or dcgan_generator()
    if tuple(generator.output_shape[1:]) != (28, 28, 1):
        return _no(f"output shape {generator.output_shape[1:]}; it must stay (28, 28, 1)")
    convs = lambda m: sum("Conv" in layer.__class__.__name__ for layer in m.layers)  # noqa: E731
    if convs(generator) <= convs(baseline):
        return _no(f"{convs(generator)} convolution layers, no more than the default "
                   f"{convs(baseline)}: add stride-1 Conv2DTranspose blocks")
    z = np.random.default_rng(0).normal(size=(2, latent_dim_of(generator))).astype("float32")
    out = np.asarray(generator(z, training=False))
    if out.min() < -1 or out.max() > 1:
        return _no("outputs leave [-1, 1]: keep tanh on the last layer")
    return _yes(f"{convs(generator)} convolution layers (default {convs(baseline)}), 28x28x1 in [-1, 1].")


def _yes(msg) -> bool:
    print(f"✅ Correct: {msg}")
    return True


def _no(msg) -> bool:
    print(f"❌ Not yet: {msg}")
    return False
