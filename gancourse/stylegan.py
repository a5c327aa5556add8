"""StyleGAN's components as Keras layers, and a small StyleGAN2-style generator.

StyleGAN (Karras, Laine & Aila 2019) and StyleGAN2 (Karras et al. 2020) do not feed the
latent vector z into the first layer. A *mapping network* turns it into an intermediate
latent w; every layer of the *synthesis network*, which starts from a learned constant,
gets its own copy of w as a *style* that scales its feature maps, and per-pixel *noise*
adds stochastic detail. Training mixes two w's (*style mixing*), and sampling can pull w
towards its average (*truncation in W*).

Each layer below is short and names its equation. :func:`stylegan_generator` assembles them
into a functional ``keras.Model`` from z to images, so the course's engine trains it like any
other generator (``build_gan("stylegan")``, ``gancourse train --model stylegan``): EMA,
checkpoints, resume, strategies, sample grids, export. The functions at the end take such a
generator apart for the notebook and the widgets: :func:`mapping` (z -> w), :func:`synthesis`
(one w per style layer, explicit noise -> images), :func:`w_avg`, :func:`num_ws`, :func:`w_dim`,
:func:`truncate`, :func:`mix`.
"""

from __future__ import annotations

import math

import numpy as np

from .config import quiet_tensorflow

quiet_tensorflow()
import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

from .errors import ModelError  # noqa: E402
from .models import ReplicaSeedGenerator, latent_dim_of  # noqa: E402
from .sampling import check_count, sample_latent  # noqa: E402

#: StyleGAN's defaults: style mixing on 90% of the training batches' samples, and the tracked
#: average of w moving 0.5% of the way to each batch's mean (w_avg_beta = 0.995).
MIXING = 0.9
W_AVG_BETA = 0.995
#: The generator's learning rate (StyleGAN2's 0.002): with the equalised learning rate its
#: weights are of order 1, not 1 / sqrt(fan_in), so it takes steps ten times the DCGAN's 2e-4.
G_LR = 2e-3

_register = keras.saving.register_keras_serializable(package="gancourse")


@_register
def lrelu(x):
    """StyleGAN's activation: LeakyReLU(0.2) times sqrt(2), which keeps unit variance."""
    return ops.leaky_relu(x, 0.2) * math.sqrt(2.0)


# --------------------------------------------------------------------------- the layers


@_register
class EqualDense(layers.Layer):
    """Dense layer with an *equalised learning rate* (Karras et al. 2018, 4.1):
    y = c * lr_mul * (x W) + lr_mul * b, with W ~ N(0, 1 / lr_mul^2) and c = 1 / sqrt(fan_in).

    The He scaling c is applied at every call instead of at initialisation, so every weight
    is of order 1 and Adam, which normalises steps per weight, moves all layers at the same
    relative speed. ``lr_mul`` = 0.01 slows the mapping network down, as in the paper.
    ``bias_init`` = 1 starts the style affines at a neutral scale of 1."""

    def __init__(self, units, lr_mul=1.0, bias_init=0.0, activation=None, **kwargs):
        super().__init__(**kwargs)
        self.units, self.lr_mul, self.bias_init = int(units), float(lr_mul), float(bias_init)
        self.activation = activation

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self.scale = self.lr_mul / math.sqrt(fan_in)
        self.kernel = self.add_weight(
            shape=(fan_in, self.units),
            initializer=keras.initializers.RandomNormal(stddev=1.0 / self.lr_mul),
            name="kernel",
        )
        self.bias = self.add_weight(
            shape=(self.units,),
            initializer=keras.initializers.Constant(self.bias_init / self.lr_mul),
            name="bias",
        )

    def call(self, x):
        y = ops.matmul(x, self.kernel * self.scale) + self.bias * self.lr_mul
        return lrelu(y) if self.activation == "lrelu" else y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "lr_mul": self.lr_mul,
            "bias_init": self.bias_init,
            "activation": self.activation,
        }


@_register
class PixelNorm(layers.Layer):
    """x / sqrt(mean(x^2) + 1e-8) over the last axis: z is put on the sphere of radius
    sqrt(dim) before the mapping network, so only its direction matters."""

    def call(self, x):
        return x * ops.rsqrt(ops.mean(ops.square(x), axis=-1, keepdims=True) + 1e-8)


@_register
class AdaIN(layers.Layer):
    """Adaptive instance normalisation (StyleGAN 1; Huang & Belongie 2017), on ``[x, w]``:
    AdaIN(x, w) = y_s * (x - mu(x)) / sigma(x) + y_b, with (y_s, y_b) = A(w) per channel,
    mu and sigma over each sample's pixels. Each style replaces the statistics of every
    feature map, so a style only acts until the next AdaIN. (StyleGAN2 replaces this by
    weight demodulation, :class:`ModulatedConv2D`, which avoids its "droplet" artefacts.)"""

    def build(self, input_shape):
        channels = int(input_shape[0][-1])
        self.affine = EqualDense(2 * channels, bias_init=0.0, name="affine")
        self.affine.build(input_shape[1])
        self.channels = channels

    def call(self, inputs):
        x, w = inputs
        style = self.affine(w)
        y_s, y_b = 1.0 + style[:, : self.channels], style[:, self.channels :]
        mean = ops.mean(x, axis=(1, 2), keepdims=True)
        std = ops.sqrt(ops.var(x, axis=(1, 2), keepdims=True) + 1e-8)
        return y_s[:, None, None, :] * (x - mean) / std + y_b[:, None, None, :]

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])


@_register
class ModulatedConv2D(layers.Layer):
    """StyleGAN2's modulated convolution, on ``[x, w]`` (Karras et al. 2020, 2.2):

    - modulation: w'_ijk = s_i * w_ijk, with the style s = A(w) per *input* channel i;
    - demodulation: w''_ijk = w'_ijk / sqrt(sum_{i,k} w'_ijk^2 + eps) per *output* channel j,

    so for inputs of unit variance each output has unit variance again, whatever the style.
    Weights use the equalised learning rate (N(0, 1), scaled by 1 / sqrt(fan_in)).

    Computed as the paper's equivalent unfused form: scaling the input's channels by s and
    convolving with the shared weight is the same as convolving with the modulated weight,
    and demodulation is then one factor per sample and output channel,
    d_j = 1 / sqrt(sum_i s_i^2 sum_k w_ijk^2 + eps). One ordinary convolution for the whole
    batch, instead of one per sample. ``demodulate=False`` gives the plain modulated
    convolution (the toRGB layers)."""

    def __init__(self, filters, kernel_size=3, demodulate=True, use_bias=True, **kwargs):
        super().__init__(**kwargs)
        self.filters, self.kernel_size = int(filters), int(kernel_size)
        self.demodulate, self.use_bias = bool(demodulate), bool(use_bias)

    def build(self, input_shape):
        x_shape, w_shape = input_shape
        cin, k = int(x_shape[-1]), self.kernel_size
        self.affine = EqualDense(cin, bias_init=1.0, name="affine")
        self.affine.build(w_shape)
        self.scale = 1.0 / math.sqrt(k * k * cin)
        self.kernel = self.add_weight(
            shape=(k, k, cin, self.filters),
            initializer=keras.initializers.RandomNormal(stddev=1.0),
            name="kernel",
        )
        if self.use_bias:
            self.bias = self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")

    def call(self, inputs):
        x, w = inputs
        s = self.affine(w)  # (B, cin): the style
        if not self.demodulate:  # toRGB: the style gets the He scale too (StyleGAN2-ADA),
            s = s * self.scale  # so that the images start small, not at tanh's limits
        kernel = self.kernel * self.scale
        y = ops.conv(x * s[:, None, None, :], kernel, padding="same")
        if self.demodulate:  # d_j = 1 / sqrt(sum_i s_i^2 sum_k w_ijk^2)
            energy = ops.sum(ops.square(kernel), axis=(0, 1))  # (cin, cout)
            d = ops.rsqrt(ops.matmul(ops.square(s), energy) + 1e-8)  # (B, cout)
            y = y * d[:, None, None, :]
        return y + self.bias if self.use_bias else y

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0][:-1]) + (self.filters,)

    def get_config(self):
        return {
            **super().get_config(),
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "demodulate": self.demodulate,
            "use_bias": self.use_bias,
        }


@_register
class NoiseInjection(layers.Layer):
    """Per-pixel noise, on ``[x, noise]``: x + b_c * noise, with one noise image (B, H, W, 1)
    shared by all channels and a learned strength b_c per channel, initialised at 0 (so the
    generator starts deterministic and learns how much randomness each feature wants)."""

    def build(self, input_shape):
        self.strength = self.add_weight(
            shape=(int(input_shape[0][-1]),), initializer="zeros", name="strength"
        )

    def call(self, inputs):
        x, noise = inputs
        return x + self.strength * noise

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])


@_register
class ConstantInput(layers.Layer):
    """The synthesis network's learned starting point, a (size, size, channels) tensor
    ~ N(0, 1) repeated for every sample of the batch (the batch size is read from the input,
    the styles, which it otherwise ignores)."""

    def __init__(self, size, channels, **kwargs):
        super().__init__(**kwargs)
        self.size, self.channels = int(size), int(channels)

    def build(self, input_shape):
        self.const = self.add_weight(
            shape=(1, self.size, self.size, self.channels),
            initializer=keras.initializers.RandomNormal(stddev=1.0),
            name="const",
        )

    def call(self, ws):
        return ops.repeat(self.const, ops.shape(ws)[0], axis=0)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.size, self.size, self.channels)

    def get_config(self):
        return {**super().get_config(), "size": self.size, "channels": self.channels}


@_register
class StyleOf(layers.Layer):
    """The style of layer ``index``: ws[:, index] of the (B, num_ws, w_dim) styles."""

    def __init__(self, index, **kwargs):
        super().__init__(**kwargs)
        self.index = int(index)

    def call(self, ws):
        return ws[:, self.index]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[2])

    def get_config(self):
        return {**super().get_config(), "index": self.index}


@_register
class TrackedMean(layers.Layer):
    """Passes w through unchanged; in training it moves the tracked mean w_avg towards
    each batch's mean: w_avg <- w_avg + (1 - beta) (mean_batch(w) - w_avg). Truncation in
    W pulls samples towards this point (:func:`truncate`)."""

    def __init__(self, beta=W_AVG_BETA, **kwargs):
        super().__init__(**kwargs)
        self.beta = float(beta)

    def build(self, input_shape):
        self.w_avg = self.add_weight(
            shape=(int(input_shape[-1]),),
            initializer="zeros",
            trainable=False,
            aggregation="mean",
            name="w_avg",
        )

    def call(self, w, training=False):
        if training:
            batch_mean = ops.mean(ops.cast(w, "float32"), axis=0)
            self.w_avg.assign(self.w_avg + (1.0 - self.beta) * (batch_mean - self.w_avg))
        return w

    def get_config(self):
        return {**super().get_config(), "beta": self.beta}


@_register
class SecondLatent(layers.Layer):
    """A second z for style mixing, in training: fresh N(0, 1) vectors of z's shape (zeros
    otherwise, which the mixing then ignores)."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = ReplicaSeedGenerator(seed)

    def call(self, z, training=False):
        if training:
            return keras.random.normal(ops.shape(z), seed=self.seed_generator)
        return ops.zeros_like(z)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@_register
class StyleMixing(layers.Layer):
    """Broadcasts w to one style per layer, ``(B, num_ws, w_dim)``, on ``[w, w2]``.

    Style mixing regularisation (StyleGAN, 3.1): in training, each sample is mixed with
    probability ``probability``: a crossover c is drawn uniformly from 1 .. num_ws - 1, and
    layers 0 .. c-1 get w, layers c .. num_ws-1 get w2 (the mapping of a second z). The
    synthesis network can then not assume that neighbouring layers' styles are correlated,
    which localises each style to its layers. At inference every layer gets w."""

    def __init__(self, num_ws, probability=MIXING, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.num_ws, self.probability, self.seed = int(num_ws), float(probability), seed
        check_probability(self.probability)
        self.seed_generator = ReplicaSeedGenerator(seed)

    def call(self, inputs, training=False):
        w, w2 = inputs
        ws = ops.repeat(w[:, None, :], self.num_ws, axis=1)
        if not training or not self.probability or self.num_ws < 2:
            return ws
        batch = ops.shape(w)[0]
        cross = keras.random.randint((batch,), 1, self.num_ws, seed=self.seed_generator)
        mixed = keras.random.uniform((batch,), seed=self.seed_generator) < self.probability
        cross = ops.where(mixed, cross, self.num_ws)  # num_ws: not mixed
        first = ops.arange(self.num_ws)[None, :] < cross[:, None]  # (B, num_ws)
        return ops.where(first[:, :, None], ws, w2[:, None, :])

    def compute_output_shape(self, input_shape):
        return (input_shape[0][0], self.num_ws, input_shape[0][-1])

    def get_config(self):
        return {
            **super().get_config(),
            "num_ws": self.num_ws,
            "probability": self.probability,
            "seed": self.seed,
        }


@_register
class PixelNoise(layers.Layer):
    """The noise images of the synthesis network, one ``(B, size, size, 1)`` per entry of
    ``sizes``: fresh N(0, 1) noise in training, and at inference a fixed noise image per
    layer (a non-trainable weight, the same for every sample), as StyleGAN2's "const" noise
    mode, so a seed gives the same pictures every time. The batch size is read from the
    input (the styles)."""

    def __init__(self, sizes, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.sizes, self.seed = [int(s) for s in sizes], seed
        self.seed_generator = ReplicaSeedGenerator(seed)

    def build(self, input_shape):
        self.fixed = [
            self.add_weight(
                shape=(1, s, s, 1),
                initializer=keras.initializers.RandomNormal(stddev=1.0, seed=i),
                trainable=False,
                name=f"fixed_{i}",
            )
            for i, s in enumerate(self.sizes)
        ]

    def call(self, ws, training=False):
        batch = ops.shape(ws)[0]
        if training:
            return [
                keras.random.normal((batch, s, s, 1), seed=self.seed_generator) for s in self.sizes
            ]
        return [ops.repeat(f, batch, axis=0) for f in self.fixed]

    def compute_output_shape(self, input_shape):
        return [(input_shape[0], s, s, 1) for s in self.sizes]

    def get_config(self):
        return {**super().get_config(), "sizes": self.sizes, "seed": self.seed}


# --------------------------------------------------------------------------- the networks


def mapping_network(latent_dim=100, w_dim=128, depth=4, lr_mul=0.01, name="mapping"):
    """z -> w: pixel norm, then ``depth`` equalised Dense layers of ``w_dim`` with LeakyReLU
    (the paper: 8 layers of 512, lr_mul 0.01; smaller here for a CPU). Why an intermediate
    latent space: z must follow a fixed distribution, so the generator has to warp it into
    the shape of the data's factors; w is free of that constraint, and the paper measures
    it to be less entangled (shorter perceptual paths)."""
    z = keras.Input((latent_dim,), name="z")
    h = PixelNorm(name="pixel_norm")(z)
    for i in range(depth):
        h = EqualDense(w_dim, lr_mul=lr_mul, activation="lrelu", name=f"dense_{i}")(h)
    return keras.Model(z, h, name=name)


def synthesis_network(resolution=32, channels=1, w_dim=128, width=128, name="synthesis"):
    """``[ws, noise_0, ..., noise_{n-1}]`` -> image: StyleGAN2's synthesis network with skip
    outputs.

    A 4x4 learned constant, then one block per doubling up to ``resolution``. Block r:
    bilinear upsampling (not at 4x4), modulated 3x3 convolutions (one at 4x4, two above),
    each followed by noise, bias and LeakyReLU, then a toRGB (a modulated 1x1 convolution
    without demodulation) whose output is added to the upsampled image of the blocks before
    (the "skip" generator of StyleGAN2, Figure 7). Styles: each convolution and toRGB takes
    its own w; as in the paper a toRGB shares its w with the next block's first convolution,
    so there are 2 log2(resolution) - 2 of them (8 at 32x32). Channels: ``width`` at 4x4
    and 8x8, halving with every further doubling. The image comes out through tanh, like the
    course's other generators."""
    levels = _levels(resolution)
    n_ws = 2 * len(levels)
    ws = keras.Input((n_ws, w_dim), name="ws")
    noises = [
        keras.Input((r, r, 1), name=f"noise_{i}") for i, r in enumerate(_noise_sizes(resolution))
    ]

    style = [StyleOf(i, name=f"w_{i}")(ws) for i in range(n_ws)]

    def conv(h, filters, w_index, noise_index, name):
        h = ModulatedConv2D(filters, 3, name=name)([h, style[w_index]])
        h = NoiseInjection(name=f"{name}_noise")([h, noises[noise_index]])
        return layers.Activation(lrelu, name=f"{name}_lrelu")(h)

    h = ConstantInput(4, _channels(4, width), name="const")(ws)
    h = conv(h, _channels(4, width), 0, 0, "b4_conv")
    rgb = ModulatedConv2D(channels, 1, demodulate=False, name="b4_rgb")([h, style[1]])
    k = 1  # the next style
    for r in levels[1:]:
        h = layers.UpSampling2D(2, interpolation="bilinear", name=f"b{r}_up")(h)
        h = conv(h, _channels(r, width), k, k, f"b{r}_conv0")
        h = conv(h, _channels(r, width), k + 1, k + 1, f"b{r}_conv1")
        up = layers.UpSampling2D(2, interpolation="bilinear", name=f"b{r}_rgb_up")(rgb)
        rgb = layers.Add(name=f"b{r}_skip")(
            [
                up,
                ModulatedConv2D(channels, 1, demodulate=False, name=f"b{r}_rgb")([h, style[k + 2]]),
            ]
        )
        k += 2
    image = layers.Activation("tanh", name="image")(rgb)
    return keras.Model([ws, *noises], image, name=name)


def stylegan_generator(
    image_shape=(28, 28, 1),
    latent_dim=100,
    w_dim=128,
    mapping_layers=4,
    width=64,
    mixing=MIXING,
    seed=None,
    name="stylegan_generator",
):
    """A small StyleGAN2-style generator, z -> image, as one functional ``keras.Model``:

    z -> :func:`mapping_network` -> w (its mean tracked, :class:`TrackedMean`) ->
    :class:`StyleMixing` with the w of a second z (training only) -> one w per style layer ->
    :func:`synthesis_network` with the noise of :class:`PixelNoise` -> image.

    The synthesis network reaches 4 * 2^k pixels (8, 16, 32, 64, ...). A side of 4 less is
    cropped from the centre: 28x28 images (MNIST, Fashion-MNIST) are the middle of a 32x32
    synthesis. Cropping, rather than padding the data to 32, keeps the data, the
    discriminator and the course's 28x28 evaluation features as they are for every other
    model, and keeps the paper's 4x4 start and four resolutions (so style mixing has coarse,
    middle and fine styles); it costs the 2-pixel border, (32^2 - 28^2) / 32^2 = 23% of the
    last block's pixels. ``mixing``: the style mixing probability in [0, 1].

    Sized for a CPU: w of 128 numbers, 4 mapping layers, ``width`` = 64 channels at 4x4 and
    8x8, 32 at 16x16, 16 at 32x32 (278,276 parameters at 28x28, about half the training
    speed of the course's DCGAN per CPU-second; width 128 has 781,556 parameters and a
    quarter of the speed: ``benchmarks/stylegan.py``).
    """
    side, resolution, channels = _resolution(image_shape)
    check_probability(mixing)
    for what, value in (("latent_dim", latent_dim), ("w_dim", w_dim), ("width", width)):
        _check_whole(what, value, 1)
    _check_whole("mapping_layers", mapping_layers, 1)
    mapping = mapping_network(latent_dim, w_dim, mapping_layers)
    synthesis = synthesis_network(resolution, channels, w_dim, width)
    n_ws = synthesis.inputs[0].shape[1]
    z = keras.Input((latent_dim,), name="z")
    w = TrackedMean(name="w_avg")(mapping(z))
    w2 = mapping(SecondLatent(seed=seed, name="second_z")(z))
    ws = StyleMixing(n_ws, mixing, seed=seed, name="style_mixing")([w, w2])
    noise = PixelNoise(_noise_sizes(resolution), seed=seed, name="pixel_noise")(ws)
    image = synthesis([ws, *noise])
    if side < resolution:
        image = layers.Cropping2D((resolution - side) // 2, name="crop")(image)
    return keras.Model(z, image, name=name)


# --------------------------------------------------------------------------- taking it apart


def mapping(generator, z, batch_size=500) -> np.ndarray:
    """w = mapping(z) for latent vectors ``z`` of shape (n, latent_dim), as NumPy (n, w_dim)."""
    net = _part(generator, "mapping")
    z = _array(z, (None, latent_dim_of(generator)), "z")
    return _batched(net, [z], batch_size)


def synthesis(generator, ws, noise=None, seed=0, batch_size=500) -> np.ndarray:
    """Images in [-1, 1] (NumPy) from styles ``ws``: one w for every layer, (n, w_dim), or
    one per style layer, (n, num_ws, w_dim) (e.g. from :func:`mix`).

    ``noise``: None, the generator's fixed noise (what sampling uses); "random", fresh
    N(0, 1) noise drawn with NumPy from ``seed``; "zero", no noise; or a list of arrays, one
    per noise layer, shaped (n, size, size, 1) or (1, size, size, 1) for all (see
    :func:`noise_sizes`)."""
    net = _part(generator, "synthesis")
    n_ws, w_dim = num_ws(generator), int(net.inputs[0].shape[-1])
    ws = np.asarray(ws, dtype="float32")
    if ws.ndim == 2 and ws.shape[1] == w_dim:
        ws = np.repeat(ws[:, None, :], n_ws, axis=1)
    if ws.ndim != 3 or ws.shape[1:] != (n_ws, w_dim):
        raise ModelError(
            f"ws must have shape (n, {w_dim}) (one w for every layer) or (n, {n_ws}, {w_dim}) "
            f"(one w per style layer), not {ws.shape}: this generator's w has {w_dim} numbers."
        )
    noise = noise_images(generator, len(ws), noise, seed)
    images = _batched(net, [ws, *noise], batch_size)
    crop = _crop(generator)
    return (
        images[:, crop : images.shape[1] - crop, crop : images.shape[2] - crop] if crop else images
    )


def generate(generator, n=None, seed=0, z=None, psi=1.0, noise=None, batch_size=500):
    """Images from ``n`` latent vectors drawn with ``seed`` (or from ``z``), truncated in W
    with ``psi`` (:func:`truncate`; 1 = no truncation), with ``noise`` as in
    :func:`synthesis`. With psi = 1 and the default noise these are the pictures the model
    itself draws."""
    if z is None:
        z = sample_latent(check_count(n), latent_dim_of(generator), seed=seed)
    w = truncate(generator, mapping(generator, z, batch_size), psi)
    return synthesis(generator, w, noise=noise, seed=seed, batch_size=batch_size)


def path_length(generator, features, space="w", n=1000, epsilon=1e-4, seed=0, trim=0.01):
    """The perceptual path length of ``generator`` in Z or W
    (:func:`gancourse.metrics.perceptual_path_length`), its pictures drawn with the fixed
    noise, distances measured between ``features`` (images in [-1, 1] -> feature rows, e.g.
    ``evaluation.get_extractor("fashion_mnist").features``)."""
    from .metrics import perceptual_path_length

    return perceptual_path_length(
        lambda z: mapping(generator, z),
        lambda w: synthesis(generator, w),
        features,
        latent_dim_of(generator),
        space=space,
        n=n,
        epsilon=epsilon,
        trim=trim,
        seed=seed,
    )


def truncate(generator, w, psi=0.7) -> np.ndarray:
    """The truncation trick in W (StyleGAN, Appendix B): w' = w_avg + psi (w - w_avg).
    psi = 1 leaves w as it is, psi = 0 gives every sample the average w (the "mean face"),
    in between trades variety for typicality. ``psi`` in [0, 1] (StyleGAN also shows
    negative values, the "anti-faces"; they are refused here to keep the trick a trade-off).
    ``w``: (n, w_dim) or (n, num_ws, w_dim)."""
    psi = check_psi(psi)
    avg = w_avg(generator)
    w = np.asarray(w, dtype="float32")
    if w.shape[-1:] != avg.shape:
        raise ModelError(
            f"w must end in {len(avg)} numbers (this generator's w), not shape {w.shape}"
        )
    return (avg + psi * (w - avg)).astype("float32")


def mix(ws_a, ws_b, crossover) -> np.ndarray:
    """Style mixing by hand: layers 0 .. crossover-1 take their style from ``ws_a``, the
    rest from ``ws_b`` (both (n, num_ws, w_dim), or (n, w_dim) with ``crossover`` counted
    over ``num_ws`` given as the third axis of the other). A small crossover takes only the
    coarse styles (pose, shape) from a; a large one everything but the finest (colour,
    texture)."""
    a, b = np.asarray(ws_a, dtype="float32"), np.asarray(ws_b, dtype="float32")
    n_ws = a.shape[1] if a.ndim == 3 else b.shape[1] if b.ndim == 3 else None
    if n_ws is None:
        raise ModelError(
            "give at least one of ws_a, ws_b with one w per style layer (n, num_ws, w_dim)"
        )
    a = np.repeat(a[:, None], n_ws, axis=1) if a.ndim == 2 else a
    b = np.repeat(b[:, None], n_ws, axis=1) if b.ndim == 2 else b
    if a.shape != b.shape:
        raise ModelError(f"ws_a and ws_b must have the same shape, not {a.shape} and {b.shape}")
    if (
        isinstance(crossover, bool)
        or not isinstance(crossover, (int, np.integer))
        or not 0 <= crossover <= n_ws
    ):
        raise ModelError(
            f"crossover must be a whole number in 0..{n_ws} (the style layers), not {crossover!r}"
        )
    return np.concatenate([a[:, :crossover], b[:, crossover:]], axis=1)


def w_avg(generator) -> np.ndarray:
    """The tracked average of w (NumPy, (w_dim,)), the centre of truncation in W."""
    return np.array(_part(generator, "w_avg").w_avg.numpy(), dtype="float32")


def num_ws(generator) -> int:
    """The number of style layers (one w each): 2 log2(resolution) - 2."""
    return int(_part(generator, "synthesis").inputs[0].shape[1])


def w_dim(generator) -> int:
    """The number of numbers in one w (the mapping network's output)."""
    return int(_part(generator, "mapping").output_shape[-1])


def noise_sizes(generator) -> list[int]:
    """The side of each noise layer's image, in the synthesis network's order."""
    return [int(t.shape[1]) for t in _part(generator, "synthesis").inputs[1:]]


def set_noise_strength(generator, value=0.0):
    """Set every noise layer's learned per-channel strengths to ``value`` (0 switches the
    noise off: the pictures no longer depend on it)."""
    for layer in _part(generator, "synthesis").layers:
        if isinstance(layer, NoiseInjection):
            layer.strength.assign(np.full(layer.strength.shape, value, "float32"))


def is_stylegan(generator) -> bool:
    """True for a generator made by :func:`stylegan_generator`."""
    names = {layer.name for layer in getattr(generator, "layers", ())}
    return {"mapping", "synthesis", "w_avg", "style_mixing"} <= names


def builder_kwargs(generator) -> dict:
    """The :func:`stylegan_generator` arguments that rebuild ``generator``, read off the
    model itself (for :func:`gancourse.pretrained.export`)."""
    mapping_net, synth = _part(generator, "mapping"), _part(generator, "synthesis")
    dense = [layer for layer in mapping_net.layers if isinstance(layer, EqualDense)]
    return {
        "image_shape": list(generator.output_shape[1:]),
        "latent_dim": latent_dim_of(generator),
        "w_dim": w_dim(generator),
        "mapping_layers": len(dense),
        "width": int(synth.get_layer("const").channels),
        "mixing": float(_part(generator, "style_mixing").probability),
    }


def check_probability(p) -> float:
    """``p`` if it is a style mixing probability in [0, 1], else a ModelError."""
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p <= 1.0:
        raise ModelError(
            f"the style mixing probability must be a number in [0, 1] such as 0.9 "
            f"(0 = no mixing), not {p!r}"
        )
    return float(p)


def check_psi(psi) -> float:
    """``psi`` if it is a truncation psi in [0, 1], else a ModelError."""
    if isinstance(psi, bool) or not isinstance(psi, (int, float)) or not 0.0 <= psi <= 1.0:
        raise ModelError(
            f"psi must be a number in [0, 1] such as 0.7 (1 = no truncation), not {psi!r}"
        )
    return float(psi)


# --------------------------------------------------------------------------- helpers


def _resolution(image_shape):
    """``(side, synthesis resolution, channels)`` for ``image_shape``, or a ModelError."""
    shape = tuple(image_shape)
    if len(shape) != 3 or shape[0] != shape[1] or shape[2] not in (1, 3):
        raise ModelError(
            f"image_shape must be (side, side, 1) or (side, side, 3), such as (28, 28, 1) or "
            f"(32, 32, 3), not {image_shape}"
        )
    side = int(shape[0])
    for resolution in (4 * 2**k for k in range(1, 9)):
        if side in (resolution, resolution - 4) and side >= 8:
            return side, resolution, int(shape[2])
    raise ModelError(
        f"the synthesis network cannot reach {side}x{side}: it doubles a 4x4 start to "
        f"4 * 2^k pixels (8, 16, 32, 64, ... 1024), and crops a side of 4 less from the "
        f"centre (12, 28, 60, ...). Resize or pad the images to one of these sizes."
    )


def _levels(resolution):
    return [4 * 2**k for k in range(int(math.log2(resolution // 4)) + 1)]


def _noise_sizes(resolution):
    """One noise image per convolution: one at 4x4, two at every later resolution."""
    return [4] + [r for r in _levels(resolution)[1:] for _ in range(2)]


def _channels(resolution, width):
    return max(1, min(width, width * 8 // resolution))


def _part(generator, name):
    if not is_stylegan(generator):
        raise ModelError(
            f"this is not a StyleGAN generator ({getattr(generator, 'name', generator)!r}): "
            f"build one with stylegan.stylegan_generator() or build_gan('stylegan'); for a "
            f"trained GAN pass gan.sampling_generator()."
        )
    return generator.get_layer(name)


def _crop(generator):
    return next((layer.cropping[0][0] for layer in generator.layers if layer.name == "crop"), 0)


def _array(x, shape, what):
    x = np.asarray(x, dtype="float32")
    if x.ndim != len(shape) or any(s is not None and s != d for s, d in zip(shape, x.shape)):
        want = "(" + ", ".join("n" if s is None else str(s) for s in shape) + ")"
        raise ModelError(f"{what} must have shape {want} for this generator, not {x.shape}")
    return x


def noise_images(generator, n, noise=None, seed=0) -> list:
    """The noise images :func:`synthesis` feeds ``n`` samples, one (n, size, size, 1) array per
    noise layer: ``noise`` None (the generator's fixed noise), "random", "zero" or a list of
    arrays (checked and broadcast), as in :func:`synthesis`. Start from these to redraw the
    noise of one layer only."""
    sizes = noise_sizes(generator)
    if noise is None:
        fixed = _part(generator, "pixel_noise").fixed
        return [np.repeat(np.asarray(f.numpy()), n, axis=0) for f in fixed]
    if isinstance(noise, str) and noise == "random":
        rng = np.random.default_rng(seed)
        return [rng.standard_normal((n, s, s, 1)).astype("float32") for s in sizes]
    if isinstance(noise, str) and noise == "zero":
        return [np.zeros((n, s, s, 1), "float32") for s in sizes]
    if isinstance(noise, str) or not isinstance(noise, (list, tuple)) or len(noise) != len(sizes):
        raise ModelError(
            f"noise must be None (the fixed noise), 'random', 'zero' or a list of "
            f"{len(sizes)} arrays, one per noise layer (sides {sizes})"
        )
    out = []
    for i, (a, s) in enumerate(zip(noise, sizes)):
        a = np.asarray(a, dtype="float32")
        if a.ndim != 4 or a.shape[1:] != (s, s, 1) or a.shape[0] not in (1, n):
            raise ModelError(f"noise[{i}] must have shape ({n} or 1, {s}, {s}, 1), not {a.shape}")
        out.append(np.broadcast_to(a, (n, s, s, 1)))
    return out


def _batched(net, arrays, batch_size):
    n = len(arrays[0])
    out = [
        ops.convert_to_numpy(
            net(
                [a[i : i + batch_size] for a in arrays]
                if len(arrays) > 1
                else arrays[0][i : i + batch_size],
                training=False,
            )
        )
        for i in range(0, n, batch_size)
    ]
    if not out:
        return np.zeros((0,) + tuple(net.output_shape[1:]), "float32")
    return np.concatenate(out).astype("float32")


def _check_whole(what, value, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ModelError(f"{what} must be a whole number >= {low}, not {value!r}")
