"""InfoGAN (Chen et al. 2016): a GAN whose generator learns meaningful codes without labels.

The latent vector is ``[noise | one-hot categorical code | continuous codes]``
(:func:`gancourse.sampling.sample_codes`). Besides its real/fake score the discriminator has
a second head, Q, that guesses the codes back from the image
(:func:`gancourse.models.infogan_discriminator`). Both G and Q minimise how badly Q guesses
(:func:`gancourse.losses.information_terms`), which maximises a lower bound on the mutual
information between the codes and the image: the generator is pushed to make the codes
*visible* in its pictures, and on MNIST the categorical code ends up choosing the digit and
the continuous ones its slant and width. Training, checkpoints, EMA, grids and time budgets
are those of :class:`~gancourse.training.GAN`; only the train step adds the term.
"""

from __future__ import annotations

import numpy as np

from .config import quiet_tensorflow

tf = quiet_tensorflow()
import keras  # noqa: E402
from keras import ops  # noqa: E402

from . import losses  # noqa: E402
from .errors import ModelError  # noqa: E402
from .sampling import code_grid, generate_images, sample_codes  # noqa: E402
from .training import GAN  # noqa: E402


class InfoGAN(GAN):
    """A :class:`~gancourse.training.GAN` with InfoGAN's codes and Q head.

    ``generator``: built by :func:`~gancourse.models.infogan_generator` (it carries
    ``code_sizes`` = (noise, categories, continuous)); ``discriminator``: by
    :func:`~gancourse.models.infogan_discriminator` for the same codes (outputs ``[logit,
    q]``). Reported besides the GAN's numbers: ``info_cat``, the cross-entropy of Q's guess
    of the categorical code (log 10 = 2.30 nats for a blind guess among 10, 0 for a perfect
    one), and ``info_cont``, the Gaussian negative log-likelihood of the continuous codes.
    """

    def __init__(self, generator, discriminator, **kwargs):
        sizes = getattr(generator, "code_sizes", None)
        if not sizes:
            raise ModelError(
                "InfoGAN needs a generator with codes: build it with models.infogan_generator()."
            )
        outputs = discriminator.outputs
        q_size = sizes[1] + sizes[2]
        if len(outputs) != 2 or outputs[1].shape[-1] != q_size:
            raise ModelError(
                f"InfoGAN needs a discriminator with a real/fake logit and a Q head of "
                f"{q_size} numbers ({sizes[1]} categories + {sizes[2]} continuous codes): "
                f"build it with models.infogan_discriminator(categories={sizes[1]}, "
                f"continuous={sizes[2]})."
            )
        super().__init__(generator, discriminator, **kwargs)
        self.code_sizes = tuple(sizes)
        if self.ema_generator is not None:
            self.ema_generator.code_sizes = self.code_sizes

    def compile(self, *args, categorical_weight=1.0, continuous_weight=1.0, **kwargs):
        """:meth:`GAN.compile` with the settings of the paper's published MNIST experiment:
        the generator learns faster than the discriminator (Adam 1e-3 against 2e-4, unless
        ``g_lr`` or a ``g_optimizer`` is given), and the information term weighs
        ``categorical_weight`` = 1 for the categorical code and ``continuous_weight`` = 1
        for the continuous ones. (The paper's text suggests a smaller weight for continuous
        codes, to keep the term on the scale of the GAN losses; with their variance fixed at
        1 the term is small already. In a first epoch on MNIST, with 0.1 and G at 2e-4 the
        continuous codes' NLL ended at 2.33 nats, worse than the 2.17 of always guessing 0;
        with these settings it fell to 1.99, and the categorical code matched the digits at
        0.37 instead of 0.18, see ``benchmarks/code_accuracy.py``.)"""
        if kwargs.get("g_lr") is None and kwargs.get("g_optimizer") is None and not args:
            kwargs["g_lr"] = 1e-3
        for name, value in (
            ("categorical_weight", categorical_weight),
            ("continuous_weight", continuous_weight),
        ):
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or not 0.0 <= value < float("inf")
            ):
                raise ModelError(f"{name} must be a number >= 0 such as 1 or 0.1, not {value!r}")
        super().compile(*args, **kwargs)
        self.categorical_weight = float(categorical_weight)
        self.continuous_weight = float(continuous_weight)

    def metric_names(self):
        return super().metric_names() + ("info_cat", "info_cont")

    @property
    def categories(self) -> int:
        return self.code_sizes[1]

    def sample_noise(self, n):
        """``n`` latent vectors in the graph: noise, a uniform category, U(-1, 1) codes."""
        noise_dim, k, c = self.code_sizes
        if self.noise == "uniform":
            noise = keras.random.uniform((n, noise_dim), -1.0, 1.0, seed=self.seed_generator)
        else:
            noise = keras.random.normal((n, noise_dim), seed=self.seed_generator)
        category = keras.random.randint((n,), 0, k, seed=self.seed_generator)
        values = keras.random.uniform((n, c), -1.0, 1.0, seed=self.seed_generator)
        return ops.concatenate([noise, ops.one_hot(category, k), values], axis=1)

    def train_step(self, data):
        real, _ = self._unpack(data)
        z = self.sample_noise(ops.shape(real)[0])
        codes = z[:, self.code_sizes[0] :]
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = self.generator(z, training=True)
            real = self.augment(real)
            real_logits, _ = self.discriminator(real, training=True)
            fake_logits, q = self.discriminator(self.augment(fake), training=True)
            d_loss, g_loss = self.adversarial_losses(real_logits, fake_logits)
            info_cat, info_cont = losses.information_terms(q, codes, self.categories)
            info = self.categorical_weight * info_cat + self.continuous_weight * info_cont
            d_loss, g_loss = d_loss + info, g_loss + info  # Q is part of D's network
            if self.r1_gamma:
                d_loss = d_loss + self.r1_term(real)
        return self.update_networks(
            d_tape,
            d_loss,
            g_tape,
            g_loss,
            real_logits,
            fake_logits,
            info_cat=info_cat,
            info_cont=info_cont,
        )

    # ---------------------------------------------------------------- sampling
    def generate(
        self,
        n=None,
        labels=None,
        seed=0,
        z=None,
        use_ema=True,
        batch_size=500,
        truncation=None,
        *,
        category=None,
        values=None,
    ):
        """Images in [-1, 1] from ``z`` (full latent vectors) or from ``n`` vectors drawn
        by :func:`~gancourse.sampling.sample_codes` from ``seed``, with the categorical code
        fixed by ``category`` (one value or one per image) and the continuous codes by
        ``values`` if given. An InfoGAN has no labels: its categorical code stands in."""
        if labels is not None:
            raise ModelError(
                "an InfoGAN takes no labels: fix its categorical code with category= instead"
            )
        if z is None:
            z = sample_codes(
                n,
                *self.code_sizes,
                noise=self.noise,
                seed=seed,
                category=category,
                values=values,
                truncation=truncation,
            )
        else:
            if category is not None or values is not None or truncation is not None:
                raise ModelError(
                    "category=, values= and truncation= apply to the vectors generate() "
                    "draws: pass n= instead of z=, or draw z with sampling.sample_codes()."
                )
            z = np.asarray(z, dtype="float32")
            if z.ndim != 2 or z.shape[1] != self.latent_dim:
                raise ModelError(
                    f"z must have shape (n, {self.latent_dim}) (noise, one-hot category, "
                    f"continuous codes: {self.code_sizes}), not {z.shape}"
                )
        return generate_images(self.sampling_generator(use_ema), z, None, batch_size)

    def code_grid(self, vary=None, steps=8, span=1.0, seed=0, use_ema=True):
        """``(images, ncols)`` of :func:`~gancourse.sampling.code_grid`: one row per value of
        the categorical code; along the columns other noise (``vary=None``) or continuous
        code ``vary`` from ``-span`` to ``span``. Draw it with ``viz.image_grid(images,
        ncols)``."""
        z, ncols = code_grid(
            *self.code_sizes, vary=vary, steps=steps, span=span, noise=self.noise, seed=seed
        )
        return self.generate(z=z, use_ema=use_ema), ncols

    def predict_codes(self, images, batch_size=500):
        """``(category, values)``: Q's guess of the categorical code (its most likely value)
        and of the continuous codes (the Gaussians' means) of images in [-1, 1], e.g. real
        test images, which lets the categorical code be compared with their labels."""
        images = np.asarray(images, dtype="float32")
        want = tuple(self.generator.output_shape[1:])
        if images.ndim != 4 or images.shape[1:] != want:
            raise ModelError(f"images must have shape (n,) + {want}, not {images.shape}")
        k = self.categories
        qs = [
            ops.convert_to_numpy(self.discriminator(images[i : i + batch_size], training=False)[1])
            for i in range(0, len(images), batch_size)
        ]
        q = np.concatenate(qs) if qs else np.zeros((0, k + self.code_sizes[2]), "float32")
        return q[:, :k].argmax(axis=1), q[:, k:]
