"""GAN, WGAN and ConditionalGAN as ``keras.Model`` subclasses, trained with ``fit()``, and
the engine every adversarial model of the course trains with (:class:`AdversarialModel`,
:func:`train`).

The shape follows the keras-io GAN examples: ``compile`` takes one optimizer per network,
``train_step`` does the adversarial update, and a ``metrics`` property of ``Mean`` trackers
gives per-epoch averages in ``History`` and the progress bar. :func:`train` wraps ``fit``
with the course's callbacks: checkpoint/resume, sample grids, a GIF, history, NaN guard.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import numpy as np

from .config import quiet_tensorflow

tf = quiet_tensorflow()
import keras  # noqa: E402
from keras import ops  # noqa: E402

from . import losses  # noqa: E402
from .errors import ConfigError, ModelError  # noqa: E402
from .files import write_text  # noqa: E402
from .models import ReplicaSeedGenerator, is_conditional, latent_dim_of  # noqa: E402
from .runs import (  # noqa: E402
    KINDS,
    LOSSES,
    TRANSLATOR_ONLY,
    TRANSLATORS,
    RunConfig,
    load_config,
    run_lock,
)
from .sampling import (  # noqa: E402
    NOISE,
    check_count,
    code_grid,
    generate_images,
    sample_codes,
    sample_latent,
)

#: Training steps :func:`train` runs in one graph call by default (see :meth:`GAN.fit`).
STEPS_PER_CALL = 10


class AdversarialModel(keras.Model):
    """What every adversarial model of the course shares with the engine of :func:`train`:
    a ``generator`` and a ``discriminator`` (each one Keras model; a model with several
    networks, such as CycleGAN, wraps them in one), one optimizer for each
    (``g_optimizer``, ``d_optimizer``), a seeded random stream (``seed_generator``), an
    optional exponential moving average of the generator (``ema_generator``), ``Mean``
    trackers of what :meth:`metric_names` lists, several steps per graph call
    (:meth:`fit`) and the linear learning-rate decay of ``lr_decay``. The checkpoints,
    strategy checks, time budget, NaN guard and loggers of :func:`train` see only these.

    Subclasses give :meth:`metric_names`, ``compile`` (which calls :meth:`_compile_keras`,
    makes the optimizers with :meth:`_optimizer`, then :meth:`_prepare_optimizers` and
    :meth:`_set_lr_decay`) and ``train_step``.

    ``ema``: if set (e.g. 0.999), keep an exponential moving average of the generator's
    weights in ``ema_generator``, which then draws the samples (smoother images).
    ``ema_warmup``: ramp the EMA's decay up from 0 (see :meth:`ema_decay_at`), so that
    early samples of the average are not the flat grey of the untrained generator.
    """

    def __init__(self, generator, discriminator, ema=None, seed=None, ema_warmup=False, **kwargs):
        super().__init__(**kwargs)
        if ema is not None and (
            isinstance(ema, bool)
            or not isinstance(ema, (int, float, np.floating))
            or not 0.0 <= ema < 1.0
        ):
            raise ModelError(f"ema must be a decay in [0, 1) such as 0.999, or None, not {ema!r}")
        if ema_warmup and not ema:
            raise ModelError("ema_warmup ramps up the EMA's decay: also pass ema=, e.g. ema=0.999")
        self.generator = generator
        self.discriminator = discriminator
        self.seed_generator = ReplicaSeedGenerator(seed)
        self.ema_decay = ema
        self.ema_warmup = bool(ema_warmup)
        self.ema_generator = None
        if ema:
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.set_weights(generator.get_weights())
        self.trackers = {n: keras.metrics.Mean(name=n) for n in self.metric_names()}
        # Both networks are built functional models and the model has no weights of its
        # own; saying so keeps fit() under a tf.distribute strategy from "building" it by
        # calling it on a data batch.
        self.built = True

    def metric_names(self):
        """Names of the numbers ``train_step`` reports (one ``Mean`` tracker each)."""
        raise NotImplementedError

    def data_shape(self):
        """Shape of one example of the first element of a training batch (checked by
        :func:`train` against the data before training starts): here the generator's
        output, the real images a GAN is given."""
        return tuple(self.generator.output_shape[1:])

    def fit(self, *args, steps_per_call=None, **kwargs):
        """``keras.Model.fit`` with ``shuffle=False`` by default: the course's ``tf.data``
        pipelines shuffle themselves, and Keras would only warn that it ignores the flag.

        ``steps_per_call``: training steps run in one graph call (default: ``compile``'s
        ``steps_per_execution``, 1). They are the same steps, so the same weights come out;
        what changes is that callbacks' ``on_train_batch_begin`` and ``on_train_batch_end``
        run once per call, with the indices of its first and last batch. With
        ``steps_per_epoch``, a call runs the largest divisor of it up to ``steps_per_call``
        steps, so that no call runs past the end of an epoch (the last call of an epoch that
        ends with its data runs the batches that are left). On several replicas of a
        ``tf.distribute`` strategy it runs one step per call: Keras's loop of several steps
        fails there (Keras 3.15, TensorFlow 2.21; with any model).
        """
        kwargs.setdefault("shuffle", False)
        per_call = self.steps_per_execution
        if steps_per_call is not None:
            per_call = _check_steps_per_call(steps_per_call)
        if self.distribute_strategy.num_replicas_in_sync > 1:
            per_call = 1
        if kwargs.get("steps_per_epoch"):
            per_call = _largest_divisor(kwargs["steps_per_epoch"], per_call)
        compiled, self.steps_per_execution = self.steps_per_execution, per_call
        try:
            return super().fit(*args, **kwargs)
        finally:
            self.steps_per_execution = compiled

    def make_train_function(self, force=False):
        """Keras's train function for the current ``steps_per_execution``, traced once per
        setting and kept, so that :meth:`fit` switches between settings without tracing
        again (``compile`` drops them all)."""
        functions = self._train_functions
        if force or self.steps_per_execution not in functions:
            super().make_train_function(force=True)
            functions[self.steps_per_execution] = self.train_function
        self.train_function = functions[self.steps_per_execution]
        return self.train_function

    @property
    def metrics(self):
        return list(self.trackers.values())

    def update_networks(self, d_tape, d_loss, g_tape, g_loss, real_logits, fake_logits, **extra):
        """The end of a simultaneous train step: each network's gradient step on its loss,
        the EMA update, and the report (the losses, D's mean probabilities, ``extra``)."""
        self._step(d_tape, d_loss, self.discriminator, self.d_optimizer)
        self._step(g_tape, g_loss, self.generator, self.g_optimizer)
        self._update_ema()
        return self._report(
            d_loss=d_loss,
            g_loss=g_loss,
            d_real=ops.mean(ops.sigmoid(ops.cast(real_logits, "float32"))),
            d_fake=ops.mean(ops.sigmoid(ops.cast(fake_logits, "float32"))),
            **extra,
        )

    def augment(self, images):
        """``images`` through the DiffAugment policy of :meth:`compile` (unchanged without
        one); a new random transform every call, reproducible from the GAN's seed."""
        if not getattr(self, "augment_policy", ""):
            return images
        from .augment import diff_augment

        return diff_augment(images, self.augment_policy, seed=self.seed_generator)

    def ema_decay_at(self, step):
        """The EMA decay used after generator step number ``step`` (0 for the first).

        Without ``ema_warmup``: ``ema``. With it: min(ema, step / (step + 10)), i.e. 0 at the
        first step (the average starts as a copy of the trained weights), 0.5 after 10
        steps, 0.9 after 90, ``ema`` = 0.999 from step 9990 on. This is the ramp of
        TensorFlow's ``ExponentialMovingAverage(num_updates=...)``, (1 + n) / (10 + n),
        counted from n = -1, so that a constant decay of 0.999 does not keep the untrained
        generator's flat grey in the average for thousands of steps.
        """
        if not self.ema_warmup:
            return self.ema_decay
        step = ops.cast(step, "float32")
        return ops.minimum(self.ema_decay, step / (step + 10.0))

    def set_training_progress(self, done, per_step=0.0):
        """Tell the learning-rate decay of ``lr_decay`` how far the training is: the share
        ``done`` (in [0, 1]) at the next step, growing by ``per_step`` with every step after
        it. Each step then sets both learning rates in the graph, so that a graph call of
        many steps decays them step by step, as one step per call does.
        :class:`~gancourse.callbacks.LearningRateDecay` calls this before every call."""
        if self._lr_plan is not None:
            first = float(self.d_optimizer.iterations.numpy())  # D steps once per batch
            self._lr_plan.assign([float(done), float(per_step), first])

    def sampling_generator(self, use_ema=True):
        return (
            self.ema_generator if (use_ema and self.ema_generator is not None) else self.generator
        )

    def _prepare_optimizers(self):
        """Build optimizer state up front (needed for checkpoint restore and tf.cond), and
        wrap it for loss scaling under a mixed-precision policy."""
        if keras.mixed_precision.dtype_policy().name == "mixed_float16":
            if not isinstance(self.g_optimizer, keras.optimizers.LossScaleOptimizer):
                self.g_optimizer = keras.optimizers.LossScaleOptimizer(self.g_optimizer)
                self.d_optimizer = keras.optimizers.LossScaleOptimizer(self.d_optimizer)
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    def _step(self, tape, loss, net, optimizer):
        # Under mixed precision the loss is scaled up before differentiating (so float16
        # gradients do not underflow); the scaling must be recorded by the tape, so it
        # re-enters it. Without a LossScaleOptimizer scale_loss returns the loss unchanged.
        # Under a tf.distribute strategy each replica's loss is the mean over its share of
        # the batch and apply_gradients *sums* the replicas' gradients: dividing by the
        # number of replicas makes that sum the gradient of the mean over the global batch.
        with tape:
            loss = optimizer.scale_loss(loss * _replica_share())
        grads = tape.gradient(loss, net.trainable_variables)
        optimizer.apply_gradients(zip(grads, net.trainable_variables))

    def _compile_keras(self, kwargs):
        """``keras.Model.compile``, with XLA off unless asked for."""
        kwargs.setdefault("jit_compile", False)
        keras.Model.compile(self, **kwargs)
        self._train_functions = {}  # steps_per_execution -> traced train function

    def _decay_learning_rates(self):
        """Set both learning rates for this step, in the graph, from the progress last
        given to :meth:`set_training_progress` (nothing without ``lr_decay``)."""
        if self._lr_plan is None:
            return
        done, per_step, first = tf.unstack(self._lr_plan)
        done = done + (tf.cast(self.d_optimizer.iterations, tf.float64) - first) * per_step
        scale = tf.clip_by_value((1.0 - tf.minimum(done, 1.0)) / self.lr_decay, 0.0, 1.0)
        for opt, base in zip((self.g_optimizer, self.d_optimizer), self.base_learning_rates):
            opt.learning_rate.assign(tf.cast(base * scale, opt.learning_rate.dtype))

    def _update_ema(self):
        if self.ema_generator is None:
            return
        d = self.ema_decay_at(self.g_optimizer.iterations - 1)  # G has just taken its step
        for w, e in zip(self.generator.weights, self.ema_generator.weights):
            e.assign(d * e + (1.0 - d) * ops.cast(w, e.dtype))

    def _optimizer(self, given, lr, net, make, default_lr):
        """``given``, or ``make(lr)`` with the learning rate ``lr`` (``default_lr`` if None)."""
        if lr is not None:
            if given is not None:
                raise ModelError(
                    f"pass {net}_optimizer or {net}_lr, not both: set the learning "
                    f"rate on the optimizer you pass."
                )
            if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0.0 < lr < 1.0:
                raise ModelError(
                    f"{net}_lr must be a learning rate in (0, 1) such as 2e-4, not {lr!r}"
                )
        return given if given is not None else make(float(default_lr if lr is None else lr))

    def _set_lr_decay(self, fraction):
        """Remember the decay share and the optimizers' starting rates (the rates the
        :class:`~gancourse.callbacks.LearningRateDecay` of :func:`train` scales down)."""
        number = isinstance(fraction, (int, float)) and not isinstance(fraction, bool)
        if not (number and 0.0 <= fraction <= 1.0):  # also refuses NaN
            raise ModelError(f"lr_decay must be a share in [0, 1] such as 0.5, not {fraction!r}")
        self.lr_decay = float(fraction)
        self.base_learning_rates = self._lr_plan = None
        if self.lr_decay:
            optimizers = (self.g_optimizer, self.d_optimizer)
            rates = [
                getattr(getattr(o, "inner_optimizer", o), "_learning_rate", None)
                for o in optimizers
            ]
            if any(callable(r) for r in rates):  # a LearningRateSchedule or a function
                raise ModelError(
                    "lr_decay needs optimizers with a constant learning rate (not a "
                    "LearningRateSchedule): give one or the other."
                )
            self.base_learning_rates = tuple(float(o.learning_rate.numpy()) for o in optimizers)
            # [share of the training done, its growth per step, the D step it was given at]
            self._lr_plan = tf.Variable(tf.zeros(3, tf.float64), trainable=False, name="lr_plan")

    def _report(self, **values):
        for name, value in values.items():
            if value is not None:
                self.trackers[name].update_state(value)
        return {name: t.result() for name, t in self.trackers.items()}


class GAN(AdversarialModel):
    """A generator and a discriminator trained against each other.

    One ``train_step`` is the simultaneous update of the TensorFlow DCGAN tutorial: one
    forward pass (G makes a batch, D scores real and fake), then each network takes a
    gradient step on its own loss. Reported per epoch: ``d_loss``, ``g_loss``, and the mean
    probabilities ``d_real`` = D(x) and ``d_fake`` = D(G(z)) (0.5 each at the equilibrium).

    ``noise``: "normal" (N(0, 1)) or "uniform" (U(-1, 1)) latent vectors.
    ``ema``: if set (e.g. 0.999), keep an exponential moving average of the generator's
    weights in ``ema_generator``; :meth:`generate` then samples from it (smoother images).
    ``ema_warmup``: ramp the EMA's decay up from 0 (see :meth:`ema_decay_at`), so that
    early samples of the average are not the flat grey of the untrained generator.

    The stabilising options of notebook 09 (hinge loss, TTUR learning rates, R1 penalty,
    DiffAugment) are arguments of :meth:`compile`; all are off by default.
    """

    def __init__(
        self,
        generator,
        discriminator,
        noise="normal",
        ema=None,
        seed=None,
        ema_warmup=False,
        **kwargs,
    ):
        if noise not in NOISE:
            raise ModelError(f"noise must be one of {NOISE}, not {noise!r}")
        if is_conditional(generator) != is_conditional(discriminator):
            raise ModelError(
                "generator and discriminator must both take labels, or neither "
                "(use ConditionalGAN with conditional models)."
            )
        super().__init__(
            generator, discriminator, ema=ema, seed=seed, ema_warmup=ema_warmup, **kwargs
        )
        self.latent_dim = latent_dim_of(generator)
        self.conditional = is_conditional(generator)
        self.noise = noise
        self._check_shapes()

    # ---------------------------------------------------------------- Keras API
    def compile(
        self,
        g_optimizer=None,
        d_optimizer=None,
        loss="non-saturating",
        label_smoothing=0.0,
        label_noise=0.0,
        g_lr=None,
        d_lr=None,
        r1_gamma=0.0,
        r1_every=1,
        augment=None,
        lr_decay=0.0,
        **kwargs,
    ):
        """Defaults: Adam(2e-4, beta_1=0.5) for both networks (Radford et al. 2016).
        XLA is off unless asked for (``jit_compile=True``): on CPUs it trains these small
        convolutional models slower than plain graph mode (see benchmarks/throughput.py).

        ``loss``: "non-saturating", "minimax" or "hinge" (Lim & Ye 2017; SAGAN, BigGAN; see
        :func:`gancourse.losses.hinge_discriminator_loss`). Label smoothing and label noise
        are tricks of the cross-entropy losses and do not combine with the hinge loss.

        ``g_lr``, ``d_lr``: learning rates of the default Adam optimizers, one per network:
        the two time-scale update rule (TTUR, Heusel et al. 2017, which proves convergence
        to a local equilibrium when the two rates differ), e.g. ``d_lr=4e-4, g_lr=1e-4`` as
        in SAGAN. To use other optimizers, pass them (with their rates) instead.

        ``r1_gamma``: weight gamma of the R1 penalty gamma/2 * E||grad D(x)||^2 on the real
        images D sees (Mescheder et al. 2018), added to D's loss and reported as ``r1``
        (E||grad D(x)||^2). ``r1_every`` = k > 1 is the lazy variant of StyleGAN2 (Karras et
        al. 2020): the penalty is computed on every k-th D step only and multiplied by k,
        which keeps its average weight and saves most of its cost.

        ``augment``: a DiffAugment policy such as "color,translation,cutout" (Zhao et al.
        2020, :mod:`gancourse.augment`): real and generated images are randomly transformed
        every time D sees them, in both networks' updates. For small datasets.

        ``lr_decay``: the share of the training, at its end, over which :func:`train` lowers
        both learning rates linearly to 0 (0 = constant rates; 0.5 = the second half, the
        schedule of pix2pix and CycleGAN, Isola et al. 2017, Zhu et al. 2017). The end is the
        last epoch, or the end of ``train``'s ``time_budget``.
        """
        from .augment import parse_policy

        self._compile_keras(kwargs)
        if loss not in LOSSES:
            raise ModelError(f"loss must be one of {LOSSES}, not {loss!r}")
        if loss == "hinge" and (label_smoothing or label_noise):
            raise ModelError(
                "label_smoothing and label_noise change the targets of the "
                "cross-entropy losses; the hinge loss has no targets: drop them."
            )
        adam = lambda lr: keras.optimizers.Adam(lr, beta_1=0.5)  # noqa: E731
        self.g_optimizer = self._optimizer(g_optimizer, g_lr, "g", adam, 2e-4)
        self.d_optimizer = self._optimizer(d_optimizer, d_lr, "d", adam, 2e-4)
        self.loss_kind = loss
        self.label_smoothing = float(label_smoothing)
        self.label_noise = float(label_noise)
        self._set_r1(r1_gamma, r1_every)
        self.augment_policy = ",".join(parse_policy(augment))
        self._prepare_optimizers()
        self._set_lr_decay(lr_decay)

    def metric_names(self):
        return ("d_loss", "g_loss", "d_real", "d_fake")

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def train_step(self, data):
        self._decay_learning_rates()
        real, labels = self._unpack(data)
        batch = ops.shape(real)[0]
        z = self.sample_noise(batch)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = self._generate(z, labels, training=True)
            real = self.augment(real)
            real_logits = self._discriminate(real, labels)
            fake_logits = self._discriminate(self.augment(fake), labels)
            d_loss, g_loss = self.adversarial_losses(real_logits, fake_logits)
            if self.r1_gamma:
                d_loss = d_loss + self.r1_term(real, labels)
        return self.update_networks(d_tape, d_loss, g_tape, g_loss, real_logits, fake_logits)

    def adversarial_losses(self, real_logits, fake_logits):
        """``(d_loss, g_loss)`` of the compiled loss (with its label tricks) from D's logits."""
        if self.loss_kind == "hinge":
            return (
                losses.hinge_discriminator_loss(real_logits, fake_logits),
                losses.hinge_generator_loss(fake_logits),
            )
        d_loss = losses.discriminator_loss(
            real_logits,
            fake_logits,
            self.label_smoothing,
            self.label_noise,
            seed=self.seed_generator,
        )
        return d_loss, losses.generator_loss(fake_logits, self.loss_kind)

    # ---------------------------------------------------------------- options
    def r1_term(self, real, labels=None):
        """What R1 adds to D's loss at this step: gamma/2 * k * E||grad D(x)||^2 on every
        k-th D step (k = ``r1_every``; the count is ``d_optimizer.iterations``, so step 0
        is one of them), 0 on the others."""

        def penalty():
            r1 = losses.r1_penalty(self.discriminator, real, labels)
            self.trackers["r1"].update_state(r1)
            return 0.5 * self.r1_gamma * self.r1_every * r1

        if self.r1_every == 1:
            return penalty()
        return tf.cond(self.d_optimizer.iterations % self.r1_every == 0, penalty, lambda: 0.0)

    # ---------------------------------------------------------------- sampling
    def sample_noise(self, n):
        """A batch of ``n`` latent vectors from the model's noise distribution (seeded)."""
        shape = (n, self.latent_dim)
        if self.noise == "uniform":
            return keras.random.uniform(shape, -1.0, 1.0, seed=self.seed_generator)
        return keras.random.normal(shape, seed=self.seed_generator)

    def generate(
        self, n=None, labels=None, seed=0, z=None, use_ema=True, batch_size=500, truncation=None
    ):
        """Images in [-1, 1] as a NumPy array: from ``z`` if given, else ``n`` latent vectors
        drawn with NumPy from ``seed`` (so a fixed seed gives the same noise every time).
        ``truncation`` (e.g. 0.5): draw them with the truncation trick, trading variety for
        quality (see :func:`gancourse.sampling.sample_latent`)."""
        if z is None:
            z = sample_latent(n, self.latent_dim, self.noise, seed, truncation=truncation)
        elif truncation is not None:
            raise ModelError(
                "truncation= applies to the latent vectors generate() draws: pass n= "
                "instead of z=, or draw z with sample_latent(..., truncation=)."
            )
        return generate_images(self._sampler(use_ema, labels), z, labels, batch_size)

    def _sampler(self, use_ema, labels):
        """The generator :meth:`generate` draws with (given labels or not)."""
        return self.sampling_generator(use_ema)

    # ---------------------------------------------------------------- helpers
    def _unpack(self, data):
        if isinstance(data, (tuple, list)):
            real, labels = data[0], data[1] if len(data) > 1 else None
        else:
            real, labels = data, None
        if self.conditional and labels is None:
            raise ModelError(
                "a conditional GAN needs (images, labels) batches: "
                "build the dataset with labels=True"
            )
        if not self.conditional:
            labels = None
        return real, labels

    def _generate(self, z, labels, training):
        return self.generator([z, labels] if self.conditional else z, training=training)

    def _discriminate(self, images, labels, training=True):
        return self.discriminator(
            [images, labels] if self.conditional else images, training=training
        )

    def _set_r1(self, gamma, every):
        if (
            isinstance(gamma, bool)
            or not isinstance(gamma, (int, float))
            or not 0.0 <= gamma < float("inf")
        ):
            raise ModelError(
                f"r1_gamma must be a number >= 0 (e.g. 10; 0 turns R1 off), not {gamma!r}"
            )
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ModelError(
                f"r1_every must be a whole number of steps >= 1 (e.g. 16), not {every!r}"
            )
        self.r1_gamma, self.r1_every = float(gamma), int(every)
        if self.r1_gamma and "r1" not in self.trackers:
            self.trackers["r1"] = keras.metrics.Mean(name="r1")
        elif not self.r1_gamma and "r1" in self.trackers:
            del self.trackers["r1"]

    def _check_shapes(self):
        out = tuple(self.generator.output_shape[1:])
        d_in = self.discriminator.inputs[0] if self.conditional else self.discriminator.inputs[0]
        if tuple(d_in.shape[1:]) != out:
            raise ModelError(
                f"the generator makes images of shape {out} but the discriminator "
                f"expects {tuple(d_in.shape[1:])}: build both for the same image_shape."
            )


class ConditionalGAN(GAN):
    """A GAN whose generator and discriminator both see the class label (Mirza & Osindero
    2014). Train on ``(images, labels)`` batches; :meth:`generate` takes ``labels``."""

    def __init__(self, generator, discriminator, num_classes=10, **kwargs):
        if not (is_conditional(generator) and is_conditional(discriminator)):
            raise ModelError(
                "ConditionalGAN needs models with a label input, e.g. "
                "models.cgan_dcgan_generator() and models.cgan_dcgan_discriminator()."
            )
        super().__init__(generator, discriminator, **kwargs)
        self.num_classes = num_classes
        # Set (to each cluster's share of the images) when the "classes" are k-means
        # clusters (``--clusters``): the GAN then samples as the unconditional generator
        # models.marginal_generator makes of it.
        self.cluster_prior = None
        self.cluster_order = None  # the clusters' sequence along the latent coordinate

    def generate(
        self, n=None, labels=None, seed=0, z=None, use_ema=True, batch_size=500, truncation=None
    ):
        """``labels``: one class for all, or one per image; by default classes in turn.
        A cluster-conditioned GAN (``cluster_prior`` set) draws its clusters from ``z``
        instead (one coordinate more than the generator's noise), unless ``labels`` are
        given."""
        if self.cluster_prior is not None and labels is None:
            if z is None:
                z = sample_latent(n, self.latent_dim + 1, self.noise, seed, truncation=truncation)
            elif truncation is not None:
                raise ModelError("truncation= applies to the latent vectors generate() draws.")
            return generate_images(self.sampling_generator(use_ema), z, None, batch_size)
        count = check_count(n) if z is None else len(z)
        if labels is None:
            labels = np.arange(count) % self.num_classes
        labels = np.broadcast_to(np.asarray(labels, "int32"), (count,))
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise ModelError(
                f"labels must be in 0..{self.num_classes - 1}, got {labels.min()}..{labels.max()}"
            )
        return super().generate(
            n,
            labels=labels,
            seed=seed,
            z=z,
            use_ema=use_ema,
            batch_size=batch_size,
            truncation=truncation,
        )

    def sampling_generator(self, use_ema=True, conditional=False):
        """The (EMA) generator; for a cluster-conditioned GAN, unless ``conditional``, the
        unconditional generator that draws its cluster from the last latent coordinate."""
        generator = super().sampling_generator(use_ema)
        if self.cluster_prior is None or conditional:
            return generator
        from .models import marginal_generator

        return marginal_generator(generator, self.cluster_prior, self.cluster_order)

    def _sampler(self, use_ema, labels):
        return self.sampling_generator(use_ema, conditional=labels is not None)


class WGAN(GAN):
    """Wasserstein GAN: a critic (linear output) instead of a discriminator.

    Each ``train_step`` updates the critic on a fresh real batch; the generator is updated
    every ``n_critic``-th step (Arjovsky et al.'s Algorithm 1). Keep the critic 1-Lipschitz
    with ``clip_value`` (weight clipping, WGAN) or ``gp_weight`` (gradient penalty, WGAN-GP).
    Reported: ``d_loss`` (critic loss), ``g_loss``, ``w_dist`` (the critic's estimate of the
    Wasserstein distance, E[f(x)] - E[f(G(z))]) and ``gp``.
    """

    def compile(
        self,
        g_optimizer=None,
        d_optimizer=None,
        n_critic=5,
        clip_value=None,
        gp_weight=None,
        g_lr=None,
        d_lr=None,
        augment=None,
        lr_decay=0.0,
        **kwargs,
    ):
        """Defaults follow the papers: with ``gp_weight`` Adam(1e-4, beta_1=0, beta_2=0.9);
        otherwise weight clipping at 0.01 with RMSprop(5e-5). ``g_lr``, ``d_lr`` (TTUR) and
        ``augment`` (DiffAugment; the penalty is then taken between augmented images) and
        ``lr_decay``: as in :meth:`GAN.compile`."""
        from .augment import parse_policy

        if clip_value is None and gp_weight is None:
            clip_value = 0.01
        if gp_weight:
            make, default_lr = (lambda lr: keras.optimizers.Adam(lr, beta_1=0.0, beta_2=0.9)), 1e-4
        else:
            make, default_lr = (lambda lr: keras.optimizers.RMSprop(lr)), 5e-5
        self._compile_keras(kwargs)
        self.g_optimizer = self._optimizer(g_optimizer, g_lr, "g", make, default_lr)
        self.d_optimizer = self._optimizer(d_optimizer, d_lr, "d", make, default_lr)
        self.n_critic = int(n_critic)
        self.clip_value = clip_value
        self.gp_weight = float(gp_weight or 0.0)
        self.loss_kind, self.label_smoothing, self.label_noise = "wasserstein", 0.0, 0.0
        self.r1_gamma, self.r1_every = 0.0, 1
        self.augment_policy = ",".join(parse_policy(augment))
        self._prepare_optimizers()
        self._set_lr_decay(lr_decay)
        self._critic_steps = self.d_optimizer.iterations

    def metric_names(self):
        return ("d_loss", "g_loss", "w_dist", "gp")

    def train_step(self, data):
        self._decay_learning_rates()
        real, labels = self._unpack(data)
        batch = ops.shape(real)[0]
        z = self.sample_noise(batch)
        with tf.GradientTape() as tape:
            fake = self.augment(self._generate(z, labels, training=True))
            real = self.augment(real)
            real_scores = self._discriminate(real, labels)
            fake_scores = self._discriminate(fake, labels)
            d_loss = losses.critic_loss(real_scores, fake_scores)
            gp = 0.0
            if self.gp_weight:
                gp = losses.gradient_penalty(
                    self.discriminator, real, fake, labels, seed=self.seed_generator
                )
                d_loss = d_loss + self.gp_weight * gp
        self._step(tape, d_loss, self.discriminator, self.d_optimizer)
        if self.clip_value:
            for w in self.discriminator.trainable_variables:
                w.assign(ops.clip(w, -self.clip_value, self.clip_value))
        w_dist = ops.mean(ops.cast(real_scores, "float32")) - ops.mean(
            ops.cast(fake_scores, "float32")
        )

        def generator_step(batch, labels):
            with tf.GradientTape() as g_tape:
                fake_g = self.augment(
                    self._generate(self.sample_noise(batch), labels, training=True)
                )
                g_loss = losses.wasserstein_generator_loss(self._discriminate(fake_g, labels))
            self._step(g_tape, g_loss, self.generator, self.g_optimizer)
            self._update_ema()
            self.trackers["g_loss"].update_state(g_loss)

        # the critic has just taken step number `iterations`; every n_critic-th, train G too
        _run_if(self._critic_steps % self.n_critic == 0, generator_step, batch, labels)
        return self._report(d_loss=d_loss, w_dist=w_dist, gp=gp if self.gp_weight else None)


# InfoGAN (Chen et al. 2016): a GAN whose generator learns meaningful codes without labels.
# The latent vector is ``[noise | one-hot categorical code | continuous codes]``
# (:func:`gancourse.sampling.sample_codes`). Besides its real/fake score the discriminator has
# a second head, Q, that guesses the codes back from the image
# (:func:`gancourse.models.infogan_discriminator`). Both G and Q minimise how badly Q guesses
# (:func:`gancourse.losses.information_terms`), which maximises a lower bound on the mutual
# information between the codes and the image: the generator is pushed to make the codes
# *visible* in its pictures, and on MNIST the categorical code ends up choosing the digit and
# the continuous ones its slant and width. Training, checkpoints, EMA, grids and time budgets
# are those of :class:`~gancourse.training.GAN`; only the train step adds the term.
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


def train(
    gan,
    dataset,
    epochs: int,
    run_dir=None,
    config: RunConfig | None = None,
    sample_every: int = 1,
    checkpoint_every: int = 1,
    show: bool = False,
    progress: bool = True,
    extra_callbacks=(),
    steps_per_epoch: int | None = None,
    keep_checkpoints: int | None = 3,
    tensorboard: bool = True,
    strategy=None,
    time_budget: float | None = None,
    budget_clock: str = "wall",
    steps_per_call: int = STEPS_PER_CALL,
):
    """Fit ``gan`` on ``dataset`` for ``epochs`` epochs with the course's callbacks.

    With ``run_dir`` it writes ``samples/epoch_NNNN.png`` grids of fixed noise every
    ``sample_every`` epochs and ``timeline.gif``, ``history.csv``/``history.json``,
    ``losses.png``, and checkpoints in ``checkpoints/`` (the last ``keep_checkpoints``; ``None``
    keeps every one, e.g. to evaluate a run over its training); calling it again with the same
    ``run_dir`` resumes at the next epoch after the last checkpoint. ``show`` also displays
    each grid inline (in a notebook). Returns the ``keras.callbacks.History`` of this call
    (earlier epochs of a resumed run are in ``gancourse.callbacks.load_history(run_dir)``).
    ``progress=False`` trains silently. With ``config`` (a :class:`~gancourse.runs.RunConfig`)
    the run folder records it as ``config.json``, and a folder holding a run with other
    options is refused before anything changes. ``tensorboard`` (with ``run_dir``) also logs
    the losses and the sample grids for TensorBoard in ``run_dir/tensorboard``.
    Images of another shape than the GAN's are refused before training starts, and so is a
    ``run_dir`` that another training is writing (see :func:`~gancourse.runs.run_lock`).

    ``strategy``: a ``tf.distribute`` strategy (e.g. ``make_strategy("mirrored")``) to train
    with data parallelism. Build the GAN in its scope first (``build_gan(...,
    strategy=strategy)``), so that its networks, optimizers, EMA and noise seeds are
    mirrored on every replica: a GAN built elsewhere is refused. Each global batch is split
    between the replicas, the gradients are summed over them (each replica's loss is divided
    by their number, so the sum is the gradient of the mean over the global batch), and
    checkpoints and sample grids are made in the scope. The dataset's batches must split
    evenly, e.g. a ``make_pipeline`` batch size that is a multiple of the replica count.
    BatchNorm layers keep per-replica batch statistics (as ``keras`` does by default). A run
    may resume under another strategy: the strategy is not part of its ``config``.
    ``None`` trains with the strategy the GAN was built under (none for a plain GAN).

    ``time_budget``: stop after that many seconds of ``budget_clock`` time ("wall", or
    "cpu": this process's CPU time, which other programs on the machine do not eat into),
    counting the epochs of earlier calls of a resumed run (their ``seconds`` or
    ``cpu_seconds`` in the history); ``epochs`` is then an upper limit. The epoch the budget
    ends in is cut short, logged and checkpointed like the others. A GAN compiled with
    ``lr_decay`` decays its learning rates towards the end of the budget (without one:
    towards the end of ``epochs``).

    ``steps_per_call``: training steps run in one graph call (Keras's
    ``steps_per_execution``; see :meth:`GAN.fit`). Several steps per call spare the Python
    work between steps, which on a GPU takes longer than a step of these small models; the
    steps, and so the weights that come out, are the same. The NaN guard, the time budget,
    the progress bar and callbacks' ``on_train_batch_end`` act at the end of each call, so
    at most one call late: a time budget can be overrun by one call's steps. The learning-
    rate decay, the EMA and R1's every-k-th step count single steps in the graph. 1 gives
    callbacks every step; on several replicas of a ``strategy`` it is always 1. Not part of
    a run's ``config``: a run may resume with another.
    """
    from . import callbacks as cb

    steps_per_call = _check_steps_per_call(steps_per_call)
    strategy = _check_strategy(gan, strategy)
    _check_data(gan, dataset, strategy.num_replicas_in_sync)
    with run_lock(run_dir), strategy.scope():  # one training writes a run folder at a time
        cbs = [cb.NanGuard()]
        start, spent = 0, 0.0
        if run_dir is not None:
            run_dir = Path(run_dir)
            if config is not None and not config.check_resume(run_dir):
                config.save(run_dir)
            ckpt = cb.Checkpoint(
                run_dir / "checkpoints", every=checkpoint_every, max_to_keep=keep_checkpoints
            )
            start = ckpt.restore(gan)
            spent = _time_spent(run_dir, start, budget_clock)
            # history first: a kill between the two leaves a row that resuming drops and redoes,
            # never a checkpoint whose row is missing
            cbs += [cb.HistoryLogger(run_dir), ckpt]
        grid = None
        if sample_every:
            grid = cb.SampleGrid(
                out_dir=None if run_dir is None else run_dir / "samples",
                every=sample_every,
                show=show,
            )
            cbs.append(grid)
        if run_dir is not None and tensorboard:
            cbs.append(cb.TensorBoardLogger(run_dir / "tensorboard", grid=grid))  # after the grid
        budget = None
        if time_budget is not None:
            budget = cb.TimeBudget(time_budget, clock=budget_clock, spent=spent)
            cbs.insert(1, budget)  # before the loggers: its decision is known at epoch end
        if getattr(gan, "lr_decay", 0.0):
            cbs.insert(1, cb.LearningRateDecay(epochs=epochs, budget=budget))
        if progress:
            cbs.append(cb.ProgressBar())
        cbs += list(extra_callbacks)
        if 0 < start < epochs:
            print(f"Resuming training at epoch {start + 1}.")
        if budget is not None and spent >= time_budget:
            print(
                f"The time budget of {time_budget:g} s ({budget_clock}) is used up "
                f"({spent:.0f} s in {start} epochs): nothing to do. Raise it to train further."
            )
            return None
        if start >= epochs:
            print(
                f"Already trained for {start} epochs (asked for {epochs}): nothing to do. "
                f"Raise epochs to train further."
            )
        history = gan.fit(
            dataset,
            epochs=epochs,
            initial_epoch=start,
            callbacks=cbs,
            verbose=0,
            shuffle=False,
            steps_per_epoch=steps_per_epoch,
            steps_per_call=steps_per_call,
        )
        return history


def _time_spent(run_dir, epochs_done, clock):
    """Seconds of ``clock`` time the first ``epochs_done`` epochs of a run took, from its
    history (wall seconds for rows written before CPU time was recorded)."""
    from .callbacks import load_history

    key = "cpu_seconds" if clock == "cpu" else "seconds"
    rows = [r for r in load_history(run_dir) if r["epoch"] <= epochs_done]
    return float(sum(r.get(key, r.get("seconds", 0.0)) for r in rows))


def _check_steps_per_call(n):
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ConfigError(
            f"steps_per_call must be a whole number of training steps >= 1 (e.g. "
            f"{STEPS_PER_CALL}; 1 runs one step per graph call), not {n!r}."
        )
    return int(n)


def _largest_divisor(n: int, at_most: int) -> int:
    """The largest divisor of ``n`` that is at most ``at_most`` (so every call runs as many
    steps as every other)."""
    return max(d for d in range(1, min(n, at_most) + 1) if n % d == 0)


def _check_data(gan, dataset, replicas):
    """Refuse, before anything is written, data of the wrong image shape, and (on several
    replicas) data that cannot be split evenly between them."""
    # (x) or (x, labels) batches, from a tf.data pipeline's element_spec or an array's shape
    spec = getattr(dataset, "element_spec", None)
    spec = spec[0] if isinstance(spec, (tuple, list)) else spec
    shape = spec.shape if spec is not None else getattr(dataset, "shape", None)
    want = gan.data_shape()
    got = None if shape is None or getattr(shape, "rank", 0) is None else tuple(shape)[1:]
    if got is not None and (
        len(got) != len(want) or any(g is not None and g != w for g, w in zip(got, want))
    ):
        if not isinstance(gan, GAN):  # a translator: the first images of a batch go in
            raise ModelError(
                f"The data's first images have shape {got} but this model translates images "
                f"of shape {want}: give it batches built for its task "
                f"(data.translation_pipeline) or build it for the data."
            )
        raise ModelError(
            f"The data are images of shape {got} but this GAN makes and judges "
            f"images of shape {want}. Build the GAN for the data (e.g. "
            f"build_gan(kind, image_shape={got})) or give it data of shape {want}."
        )
    if replicas > 1:
        batch = None if shape is None or getattr(shape, "rank", 0) is None else tuple(shape)[0]
        if spec is None or batch is None or batch % replicas:
            given = "arrays" if spec is None else f"batches of {batch or 'varying size'}"
            raise ModelError(
                f"Training on {replicas} replicas needs a tf.data pipeline whose batches all "
                f"have the same size, a multiple of {replicas} (got {given}), so that every "
                f"replica gets an equal share: use make_pipeline(..., batch_size={replicas * 32}) "
                f"(it drops the last incomplete batch)."
            )


#: Names of the strategies :func:`make_strategy` makes (``gancourse train --strategy``).
STRATEGIES = ("default", "mirrored")


def make_strategy(name: str = "default"):
    """A ``tf.distribute`` strategy by name, for ``build_gan(..., strategy=)`` and
    ``train(..., strategy=)``:

    - ``"default"``: no distribution, one device (TensorFlow's default strategy).
    - ``"mirrored"``: ``tf.distribute.MirroredStrategy`` on every visible GPU of this
      machine, or, on a machine without a GPU, on every visible logical CPU device (one,
      unless the CPU was split with ``tf.config.set_logical_device_configuration``). Each
      replica holds a copy of every variable and gets an equal share of each batch.

    Other strategies (TPUs, several machines) are not offered: they could not be tested
    here (see the README). A ``tf.distribute`` strategy made by hand can still be passed to
    :func:`build_gan` and :func:`train`.
    """
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        devices = gpus or tf.config.list_logical_devices("CPU")
        return tf.distribute.MirroredStrategy([d.name for d in devices])
    raise ModelError(f"Unknown strategy {name!r}. Known: {', '.join(STRATEGIES)}.")


def build_gan(
    kind="dcgan",
    image_shape=(28, 28, 1),
    num_classes=10,
    scenario=None,
    latent_dim=100,
    ema=None,
    seed=None,
    *,
    noise="normal",
    ema_warmup=False,
    spectral_norm=False,
    minibatch_std=False,
    projection=False,
    upsampling="transpose",
    loss=None,
    g_lr=None,
    d_lr=None,
    r1_gamma=0.0,
    r1_every=1,
    augment=None,
    lr_decay=0.0,
    mixing=None,
    strategy=None,
):
    """A compiled GAN of one of the course's kinds, with the course's default models and
    hyperparameters (the ones the notebooks teach):

    - ``gan``: MLP G 256-512-1024 / D 512-256, Adam 2e-4, beta_1 0.5
    - ``dcgan``: 4x4-kernel DCGAN, Adam 2e-4, beta_1 0.5 (``scenario`` picks a study model)
    - ``wgan``: DCGAN G + critic, weight clipping 0.01, n_critic 5, RMSprop 5e-5
    - ``wgan-gp``: DCGAN G + critic, gradient penalty 10, n_critic 5, Adam 1e-4 (0, 0.9)
    - ``cgan``: conditional DCGAN (label embedding concatenated), Adam 2e-4, beta_1 0.5
    - ``infogan``: DCGAN G on [noise (``latent_dim``) | a categorical code of
      ``num_classes`` values | 2 continuous codes], DCGAN D with a Q head; the information
      term weighs 1; Adam 1e-3 (G) and 2e-4 (D), beta_1 0.5, as the paper's MNIST code
      (:class:`InfoGAN`)
    - ``stylegan``: a small StyleGAN2-style generator (:func:`gancourse.stylegan.
      stylegan_generator`: mapping network, modulated convolutions, noise, style mixing with
      probability ``mixing``, 0.9 by default) against the DCGAN discriminator; Adam with
      beta_1 0.5, 2e-4 for D and 2e-3 for G (StyleGAN2's rate: with the equalised learning
      rate G's weights are of order 1, so it needs steps ten times larger). StyleGAN's own
      training choices are the options below: ``minibatch_std``, ``r1_gamma`` with
      ``r1_every`` (lazy R1), the non-saturating loss (the default), an ``ema`` of G.

    The stabilising options of notebook 09, all off by default, combine freely where they
    apply (each is documented where it is implemented):

    - models (:mod:`gancourse.models`): ``spectral_norm`` (D/critic; drops D's BatchNorm),
      ``minibatch_std`` (conv D/critic), ``upsampling`` ("transpose", "nearest" or
      "bilinear"; DCGAN generators), ``projection`` (cgan: a projection discriminator).
      Not with ``scenario`` (those keep the study's models).
    - training (:meth:`GAN.compile`): ``loss`` ("non-saturating", "minimax", "hinge"; not
      for the WGANs, which have their own), ``g_lr``/``d_lr`` (TTUR), ``r1_gamma``/
      ``r1_every`` (R1 penalty; not for the WGANs), ``augment`` (DiffAugment policy),
      ``lr_decay`` (linear decay of both rates to 0 over the end of the training).
    - the generator's average (:class:`GAN`): ``ema`` with ``ema_warmup``.

    ``strategy``: a ``tf.distribute`` strategy (see :func:`make_strategy`) in whose scope the
    networks, optimizers, EMA generator and noise seeds are created, to train with
    ``train(..., strategy=strategy)``.
    """
    from . import models, stylegan

    image_shape = tuple(image_shape)
    if kind not in KINDS:
        raise ModelError(f"Unknown model kind {kind!r}. Known: {', '.join(KINDS)}.")
    if mixing is not None and kind != "stylegan":
        raise ModelError("mixing is StyleGAN's style mixing probability: use kind 'stylegan'.")
    if kind == "stylegan" and upsampling != "transpose":
        raise ModelError(
            "upsampling changes the DCGAN generators; the StyleGAN generator has its own."
        )
    if scenario and kind != "dcgan":
        raise ModelError("--scenario applies to the dcgan model only")
    arch = {
        "spectral_norm": spectral_norm,
        "minibatch_std": minibatch_std,
        "upsampling": upsampling != "transpose",
    }
    if scenario and any(arch.values()):
        raise ModelError(
            f"{', '.join(k for k, v in arch.items() if v)} change(s) the architecture; "
            f"the --scenario models keep the study's own: drop one or the other."
        )
    if kind == "gan" and (minibatch_std or arch["upsampling"]):
        raise ModelError(
            "minibatch_std and upsampling are options of the convolutional models: "
            "use kind 'dcgan', 'cgan', 'wgan' or 'wgan-gp', or drop them."
        )
    if projection and kind != "cgan":
        raise ModelError(
            "projection is how a conditional discriminator takes its label: use kind 'cgan'."
        )
    wgan = kind in ("wgan", "wgan-gp")
    if wgan and (loss is not None or r1_gamma):
        raise ModelError(
            f"{kind} trains with the Wasserstein loss and its own Lipschitz "
            f"constraint: loss= and r1_gamma= apply to gan, dcgan and cgan."
        )
    with _scope(strategy):
        width = 256 if image_shape[-1] == 3 else 128  # colour images get a wider generator
        d_opts = {"spectral_norm": spectral_norm, "minibatch_std": minibatch_std}
        common = {"noise": noise, "ema": ema, "seed": seed, "ema_warmup": ema_warmup}
        if kind == "gan":
            gan = GAN(
                models.mlp_generator(latent_dim, image_shape),
                models.mlp_discriminator(image_shape, spectral_norm=spectral_norm),
                **common,
            )
        elif kind == "dcgan":
            if scenario:
                g, d = models.scenario_models(scenario, latent_dim, image_shape)
            else:
                g = models.dcgan_generator(
                    latent_dim, image_shape, width=width, upsampling=upsampling
                )
                d = models.dcgan_discriminator(image_shape, width=width // 2, **d_opts)
            gan = GAN(g, d, **common)
        elif kind == "cgan":
            gan = ConditionalGAN(
                models.cgan_dcgan_generator(
                    latent_dim, image_shape, num_classes, width=width, upsampling=upsampling
                ),
                models.cgan_dcgan_discriminator(
                    image_shape, num_classes, width=width // 2, projection=projection, **d_opts
                ),
                num_classes=num_classes,
                **common,
            )
        elif kind == "stylegan":
            g = stylegan.stylegan_generator(
                image_shape,
                latent_dim,
                mixing=stylegan.MIXING if mixing is None else mixing,
                seed=seed,
            )
            gan = GAN(
                g, models.dcgan_discriminator(image_shape, width=width // 2, **d_opts), **common
            )
            if g_lr is None:
                g_lr = stylegan.G_LR
        elif kind == "infogan":
            gan = InfoGAN(
                models.infogan_generator(
                    latent_dim, image_shape, num_classes, width=width, upsampling=upsampling
                ),
                models.infogan_discriminator(image_shape, num_classes, width=width // 2, **d_opts),
                **common,
            )
        else:
            gp = kind == "wgan-gp"
            gan = WGAN(
                models.dcgan_generator(latent_dim, image_shape, width=width, upsampling=upsampling),
                models.wgan_critic(
                    image_shape, width=width // 2, norm="layer" if gp else None, **d_opts
                ),
                **common,
            )
            gan.compile(
                gp_weight=10.0 if gp else None,
                g_lr=g_lr,
                d_lr=d_lr,
                augment=augment,
                lr_decay=lr_decay,
            )
            return gan
        gan.compile(
            loss=loss or "non-saturating",
            g_lr=g_lr,
            d_lr=d_lr,
            r1_gamma=r1_gamma,
            r1_every=r1_every,
            augment=augment,
            lr_decay=lr_decay,
        )
        return gan


def gan_from_config(config: RunConfig, strategy=None):
    """The compiled, untrained GAN a :class:`~gancourse.runs.RunConfig` describes (built in
    the scope of ``strategy`` if given: see :func:`build_gan`)."""
    if config.model in TRANSLATORS:
        raise ModelError(
            f"a {config.model} run is an image-to-image translator, not a GAN that draws from "
            f"noise: build it with gancourse.translation.translator_from_config(config) and "
            f"load its run with gancourse.translation.load_run(run_dir)."
        )
    options = config.options()
    for name in ("model", "dataset", "scenario", "latent_dim", "batch_size", "subset", "clusters"):
        options.pop(name)
    for name in TRANSLATOR_ONLY:
        options.pop(name)
    return build_gan(
        config.model,
        config.image_shape,
        config.num_classes,
        config.scenario,
        latent_dim=config.latent_dim,
        strategy=strategy,
        **options,
    )


def use_clusters(gan, x, labels):
    """Make a :class:`ConditionalGAN` trained on k-means clusters of the images ``x``
    (``labels``, from ``data.cluster_labels``) sample as an unconditional generator: each
    cluster as often as it holds images (``cluster_prior``), in an order in which neighbours
    look alike along the latent coordinate that picks it (``cluster_order``)."""
    from .data import cluster_chain

    k, labels = gan.num_classes, np.asarray(labels)
    if labels.shape != (len(x),) or not np.issubdtype(labels.dtype, np.integer):
        raise ModelError(
            f"use_clusters needs one whole-number cluster per image: {len(x)} images, "
            f"labels of shape {labels.shape} ({labels.dtype})"
        )
    if len(labels) == 0 or labels.min() < 0 or labels.max() >= k:
        raise ModelError(
            f"the GAN was built for {k} clusters; the labels must be in 0..{k - 1}"
            + (f", not {labels.min()}..{labels.max()}" if len(labels) else " (none given)")
        )
    gan.cluster_prior = np.bincount(labels, minlength=k) / len(labels)
    gan.cluster_order = cluster_chain(x, labels, k)


def save_clusters(run_dir, labels, order) -> Path:
    """Record how many training images each k-means cluster holds (``clusters.json`` in the
    run folder; the share of each cluster is how often an unconditional sample draws it) and
    the clusters' ``order`` along the latent coordinate (see :func:`use_clusters`)."""
    k = len(order)
    counts = np.bincount(np.asarray(labels), minlength=k)
    record = {"clusters": k, "counts": counts.tolist(), "order": [int(j) for j in order]}
    path = Path(run_dir) / "clusters.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, json.dumps(record) + "\n", "clusters")
    return path


def load_clusters(run_dir):
    """``(shares, order)`` of a cluster-conditioned run, from its ``clusters.json``: the
    clusters' shares of the training images (summing to 1) and their sequence along the
    latent coordinate (None: 0, 1, ...)."""
    path = Path(run_dir) / "clusters.json"
    try:
        record = json.loads(path.read_text())
        counts = np.asarray(record["counts"], dtype=np.float64)
        if counts.ndim != 1 or len(counts) < 2 or (counts < 0).any() or counts.sum() <= 0:
            raise ValueError("counts must be a list of non-negative numbers")
        order = record.get("order")
        if order is not None and sorted(order) != list(range(len(counts))):
            raise ValueError("order must list every cluster once")
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise ModelError(
            f"{path} is missing or damaged ({e}); it records the sizes of the run's k-means "
            f"clusters. Resume the run with `gancourse train` (same options) to write it again."
        ) from None
    return counts / counts.sum(), None if order is None else np.asarray(order)


def load_run(run_dir, build=None):
    """Rebuild the GAN of a run folder from its ``config.json`` and restore its latest
    intact checkpoint. Returns ``(gan, config, epoch)``. ``build``: what makes the untrained
    model from the config (:func:`gan_from_config`; the translators pass their own, see
    :func:`gancourse.translation.load_run`)."""
    from .callbacks import Checkpoint

    config = load_config(run_dir)
    gan = (build or gan_from_config)(config)
    epoch = Checkpoint(Path(run_dir) / "checkpoints").restore(gan)
    if config.clusters:
        gan.cluster_prior, gan.cluster_order = load_clusters(run_dir)
    if epoch == 0:
        raise ModelError(f"{run_dir} has no checkpoint yet: train at least one epoch first.")
    return gan, config, epoch


# ---------------------------------------------------------------- distribution helpers


def _run_if(condition, step, *args):
    """``step(*args)`` if ``condition`` holds, in a train step (a ``tf.cond``).

    Under a strategy that synchronises its replicas through ``merge_call`` (e.g.
    ``MirroredStrategy``), ``apply_gradients`` cannot run inside a ``tf.cond`` of a replica:
    as Keras' ``LossScaleOptimizer`` does, the condition is then taken in the cross-replica
    context and ``step`` run there on every replica (with each replica's own ``args``).
    ``condition`` must be the same on every replica (e.g. computed from an optimizer's step
    count, which is mirrored)."""
    if tf.__internal__.distribute.strategy_supports_no_merge_call():
        tf.cond(condition, lambda: step(*args) or tf.constant(True), lambda: tf.constant(False))
        return

    def cross_replica(strategy, condition, *args):
        def run():
            strategy.extended.call_for_each_replica(step, args=args)
            return tf.constant(True)

        condition = strategy.experimental_local_results(condition)[0]
        tf.cond(condition, run, lambda: tf.constant(False))

    tf.distribute.get_replica_context().merge_call(cross_replica, args=(condition,) + args)


def _replica_share():
    """The factor of each replica's loss: 1 / number of replicas (1 without a strategy)."""
    return 1.0 / tf.distribute.get_strategy().num_replicas_in_sync


def _scope(strategy):
    return strategy.scope() if strategy is not None else contextlib.nullcontext()


def _check_strategy(gan, strategy):
    """The strategy to train ``gan`` with (``strategy``, or by default the one it was built
    under); a GAN whose variables were not all made in that strategy's scope is refused."""
    built = getattr(gan, "_distribute_strategy", None)  # Keras records the scope of a Model
    if strategy is None:
        strategy = built or tf.distribute.get_strategy()
    if not isinstance(strategy, tf.distribute.Strategy):
        raise ModelError(
            f"strategy must be a tf.distribute strategy such as "
            f"make_strategy('mirrored'), or None, not {strategy!r}"
        )
    with strategy.scope():
        wanted = strategy if tf.distribute.has_strategy() else None
    parts = {
        "generator": gan.generator.weights,
        "discriminator": gan.discriminator.weights,
        "g_optimizer": gan.g_optimizer.variables,
        "d_optimizer": gan.d_optimizer.variables,
        "noise seed": [gan.seed_generator.state],
    }
    if gan.ema_generator is not None:
        parts["ema_generator"] = gan.ema_generator.weights
    outside = [
        name
        for name, variables in parts.items()
        if not all(
            strategy.extended.variable_created_in_scope(getattr(v, "value", v)) for v in variables
        )
    ]

    def where(s):
        return (
            "without a tf.distribute strategy"
            if s is None
            else f"in the scope of {type(s).__name__} ({s.num_replicas_in_sync} replica(s))"
        )

    fix = (
        "Build the GAN for the strategy it trains with: build_gan(..., strategy=strategy) or "
        "gan_from_config(config, strategy=strategy), or make the networks and the GAN and "
        "compile it inside `with strategy.scope():`."
    )
    if built is not wanted:
        raise ModelError(
            f"This GAN was built {where(built)} but is to be trained {where(wanted)}. {fix}"
        )
    if outside:
        raise ModelError(
            f"Part of this GAN ({', '.join(outside)}) was made outside the scope "
            f"of the strategy it trains with ({where(wanted)}), e.g. by compiling "
            f"it again outside the scope. {fix}"
        )
    return strategy
