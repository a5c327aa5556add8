"""GAN, WGAN and ConditionalGAN as ``keras.Model`` subclasses, trained with ``fit()``.

The shape follows the keras-io GAN examples: ``compile`` takes one optimizer per network,
``train_step`` does the adversarial update, and a ``metrics`` property of ``Mean`` trackers
gives per-epoch averages in ``History`` and the progress bar. :func:`train` wraps ``fit``
with the course's callbacks: checkpoint/resume, sample grids, a GIF, history, NaN guard.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from .config import quiet_tensorflow

tf = quiet_tensorflow()
import keras  # noqa: E402
from keras import ops  # noqa: E402

from . import losses  # noqa: E402
from .errors import ModelError  # noqa: E402
from .models import is_conditional, latent_dim_of  # noqa: E402

NOISE = ("normal", "uniform")


class GAN(keras.Model):
    """A generator and a discriminator trained against each other.

    One ``train_step`` is the simultaneous update of the TensorFlow DCGAN tutorial: one
    forward pass (G makes a batch, D scores real and fake), then each network takes a
    gradient step on its own loss. Reported per epoch: ``d_loss``, ``g_loss``, and the mean
    probabilities ``d_real`` = D(x) and ``d_fake`` = D(G(z)) (0.5 each at the equilibrium).

    ``noise``: "normal" (N(0, 1)) or "uniform" (U(-1, 1)) latent vectors.
    ``ema``: if set (e.g. 0.999), keep an exponential moving average of the generator's
    weights in ``ema_generator``; :meth:`generate` then samples from it (smoother images).
    """

    def __init__(self, generator, discriminator, noise="normal", ema=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if noise not in NOISE:
            raise ModelError(f"noise must be one of {NOISE}, not {noise!r}")
        if is_conditional(generator) != is_conditional(discriminator):
            raise ModelError("generator and discriminator must both take labels, or neither "
                             "(use ConditionalGAN with conditional models).")
        self.generator = generator
        self.discriminator = discriminator
        self.latent_dim = latent_dim_of(generator)
        self.conditional = is_conditional(generator)
        self.noise = noise
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.ema_decay = ema
        self.ema_generator = None
        if ema:
            self.ema_generator = keras.models.clone_model(generator)
            self.ema_generator.set_weights(generator.get_weights())
        self._check_shapes()
        self.trackers = {n: keras.metrics.Mean(name=n) for n in self.metric_names()}

    # ---------------------------------------------------------------- Keras API
    def compile(self, g_optimizer=None, d_optimizer=None, loss="non-saturating",
                label_smoothing=0.0, label_noise=0.0, **kwargs):
        """Defaults: Adam(2e-4, beta_1=0.5) for both networks (Radford et al. 2016).
        XLA is off unless asked for (``jit_compile=True``): on CPUs it trains these small
        convolutional models slower than plain graph mode (see benchmarks/throughput.py)."""
        kwargs.setdefault("jit_compile", False)
        super().compile(**kwargs)
        if loss not in losses.GENERATOR_LOSSES:
            raise ModelError(f"loss must be one of {losses.GENERATOR_LOSSES}, not {loss!r}")
        self.g_optimizer = g_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.d_optimizer = d_optimizer or keras.optimizers.Adam(2e-4, beta_1=0.5)
        self.loss_kind = loss
        self.label_smoothing = float(label_smoothing)
        self.label_noise = float(label_noise)
        self._prepare_optimizers()

    @property
    def metrics(self):
        return list(self.trackers.values())

    def metric_names(self):
        return ("d_loss", "g_loss", "d_real", "d_fake")

    def call(self, z, training=False):
        return self.generator(z, training=training)

    def train_step(self, data):
        real, labels = self._unpack(data)
        batch = ops.shape(real)[0]
        z = self.sample_noise(batch)
        with tf.GradientTape() as g_tape, tf.GradientTape() as d_tape:
            fake = self._generate(z, labels, training=True)
            real_logits = self._discriminate(real, labels)
            fake_logits = self._discriminate(fake, labels)
            d_loss = losses.discriminator_loss(real_logits, fake_logits, self.label_smoothing,
                                               self.label_noise, seed=self.seed_generator)
            g_loss = losses.generator_loss(fake_logits, self.loss_kind)
        self._step(d_tape, d_loss, self.discriminator, self.d_optimizer)
        self._step(g_tape, g_loss, self.generator, self.g_optimizer)
        self._update_ema()
        return self._report(d_loss=d_loss, g_loss=g_loss,
                            d_real=ops.mean(ops.sigmoid(ops.cast(real_logits, "float32"))),
                            d_fake=ops.mean(ops.sigmoid(ops.cast(fake_logits, "float32"))))

    # ---------------------------------------------------------------- sampling
    def sample_noise(self, n):
        """A batch of ``n`` latent vectors from the model's noise distribution (seeded)."""
        shape = (n, self.latent_dim)
        if self.noise == "uniform":
            return keras.random.uniform(shape, -1.0, 1.0, seed=self.seed_generator)
        return keras.random.normal(shape, seed=self.seed_generator)

    def generate(self, n=None, labels=None, seed=0, z=None, use_ema=True, batch_size=500):
        """Images in [-1, 1] as a NumPy array: from ``z`` if given, else ``n`` latent vectors
        drawn with NumPy from ``seed`` (so a fixed seed gives the same noise every time)."""
        if z is None:
            z = sample_latent(n, self.latent_dim, self.noise, seed)
        return generate_images(self.sampling_generator(use_ema), z, labels, batch_size)

    def sampling_generator(self, use_ema=True):
        return self.ema_generator if (use_ema and self.ema_generator is not None) else self.generator

    # ---------------------------------------------------------------- helpers
    def _prepare_optimizers(self):
        """Build optimizer state up front (needed for checkpoint restore and tf.cond), and
        wrap it for loss scaling under a mixed-precision policy."""
        if keras.mixed_precision.dtype_policy().name == "mixed_float16":
            if not isinstance(self.g_optimizer, keras.optimizers.LossScaleOptimizer):
                self.g_optimizer = keras.optimizers.LossScaleOptimizer(self.g_optimizer)
                self.d_optimizer = keras.optimizers.LossScaleOptimizer(self.d_optimizer)
        self.g_optimizer.build(self.generator.trainable_variables)
        self.d_optimizer.build(self.discriminator.trainable_variables)

    def _unpack(self, data):
        if isinstance(data, (tuple, list)):
            real, labels = data[0], data[1] if len(data) > 1 else None
        else:
            real, labels = data, None
        if self.conditional and labels is None:
            raise ModelError("a conditional GAN needs (images, labels) batches: "
                             "build the dataset with labels=True")
        if not self.conditional:
            labels = None
        return real, labels

    def _generate(self, z, labels, training):
        return self.generator([z, labels] if self.conditional else z, training=training)

    def _discriminate(self, images, labels, training=True):
        return self.discriminator([images, labels] if self.conditional else images, training=training)

    def _step(self, tape, loss, net, optimizer):
        # Under mixed precision the loss is scaled up before differentiating (so float16
        # gradients do not underflow); the scaling must be recorded by the tape, so it
        # re-enters it. Without a LossScaleOptimizer scale_loss returns the loss unchanged.
        with tape:
            loss = optimizer.scale_loss(loss)
        grads = tape.gradient(loss, net.trainable_variables)
        optimizer.apply_gradients(zip(grads, net.trainable_variables))

    def _update_ema(self):
        if self.ema_generator is None:
            return
        d = self.ema_decay
        for w, e in zip(self.generator.weights, self.ema_generator.weights):
            e.assign(d * e + (1.0 - d) * ops.cast(w, e.dtype))

    def _report(self, **values):
        for name, value in values.items():
            if value is not None:
                self.trackers[name].update_state(value)
        return {name: t.result() for name, t in self.trackers.items()}

    def _check_shapes(self):
        out = tuple(self.generator.output_shape[1:])
        d_in = self.discriminator.inputs[0] if self.conditional else self.discriminator.inputs[0]
        if tuple(d_in.shape[1:]) != out:
            raise ModelError(f"the generator makes images of shape {out} but the discriminator "
                             f"expects {tuple(d_in.shape[1:])}: build both for the same image_shape.")


class ConditionalGAN(GAN):
    """A GAN whose generator and discriminator both see the class label (Mirza & Osindero
    2014). Train on ``(images, labels)`` batches; :meth:`generate` takes ``labels``."""

    def __init__(self, generator, discriminator, num_classes=10, **kwargs):
        if not (is_conditional(generator) and is_conditional(discriminator)):
            raise ModelError("ConditionalGAN needs models with a label input, e.g. "
                             "models.cgan_dcgan_generator() and models.cgan_dcgan_discriminator().")
        super().__init__(generator, discriminator, **kwargs)
        self.num_classes = num_classes

    def generate(self, n=None, labels=None, seed=0, z=None, use_ema=True, batch_size=500):
        """``labels``: one class for all, or one per image; by default classes in turn."""
        count = n if z is None else len(z)
        if labels is None:
            labels = np.arange(count) % self.num_classes
        labels = np.broadcast_to(np.asarray(labels, "int32"), (count,))
        if labels.min() < 0 or labels.max() >= self.num_classes:
            raise ModelError(f"labels must be in 0..{self.num_classes - 1}, got {labels.min()}..{labels.max()}")
        return super().generate(n, labels=labels, seed=seed, z=z, use_ema=use_ema, batch_size=batch_size)


class WGAN(GAN):
    """Wasserstein GAN: a critic (linear output) instead of a discriminator.

    Each ``train_step`` updates the critic on a fresh real batch; the generator is updated
    every ``n_critic``-th step (Arjovsky et al.'s Algorithm 1). Keep the critic 1-Lipschitz
    with ``clip_value`` (weight clipping, WGAN) or ``gp_weight`` (gradient penalty, WGAN-GP).
    Reported: ``d_loss`` (critic loss), ``g_loss``, ``w_dist`` (the critic's estimate of the
    Wasserstein distance, E[f(x)] - E[f(G(z))]) and ``gp``.
    """

    def compile(self, g_optimizer=None, d_optimizer=None, n_critic=5, clip_value=None,
                gp_weight=None, **kwargs):
        """Defaults follow the papers: with ``gp_weight`` Adam(1e-4, beta_1=0, beta_2=0.9);
        otherwise weight clipping at 0.01 with RMSprop(5e-5)."""
        if clip_value is None and gp_weight is None:
            clip_value = 0.01
        if gp_weight:
            make = lambda: keras.optimizers.Adam(1e-4, beta_1=0.0, beta_2=0.9)  # noqa: E731
        else:
            make = lambda: keras.optimizers.RMSprop(5e-5)  # noqa: E731
        kwargs.setdefault("jit_compile", False)
        keras.Model.compile(self, **kwargs)
        self.g_optimizer = g_optimizer or make()
        self.d_optimizer = d_optimizer or make()
        self.n_critic = int(n_critic)
        self.clip_value = clip_value
        self.gp_weight = float(gp_weight or 0.0)
        self.loss_kind, self.label_smoothing, self.label_noise = "wasserstein", 0.0, 0.0
        self._prepare_optimizers()
        self._critic_steps = self.d_optimizer.iterations

    def metric_names(self):
        return ("d_loss", "g_loss", "w_dist", "gp")

    def train_step(self, data):
        real, labels = self._unpack(data)
        batch = ops.shape(real)[0]
        z = self.sample_noise(batch)
        with tf.GradientTape() as tape:
            fake = self._generate(z, labels, training=True)
            real_scores = self._discriminate(real, labels)
            fake_scores = self._discriminate(fake, labels)
            d_loss = losses.critic_loss(real_scores, fake_scores)
            gp = 0.0
            if self.gp_weight:
                gp = losses.gradient_penalty(self.discriminator, real, fake, labels, seed=self.seed_generator)
                d_loss = d_loss + self.gp_weight * gp
        self._step(tape, d_loss, self.discriminator, self.d_optimizer)
        if self.clip_value:
            for w in self.discriminator.trainable_variables:
                w.assign(ops.clip(w, -self.clip_value, self.clip_value))
        w_dist = ops.mean(ops.cast(real_scores, "float32")) - ops.mean(ops.cast(fake_scores, "float32"))

        def generator_step():
            with tf.GradientTape() as g_tape:
                fake_g = self._generate(self.sample_noise(batch), labels, training=True)
                g_loss = losses.wasserstein_generator_loss(self._discriminate(fake_g, labels))
            self._step(g_tape, g_loss, self.generator, self.g_optimizer)
            self._update_ema()
            self.trackers["g_loss"].update_state(g_loss)
            return g_loss

        # the critic has just taken step number `iterations`; every n_critic-th, train G too
        tf.cond(self._critic_steps % self.n_critic == 0, generator_step, lambda: 0.0)
        return self._report(d_loss=d_loss, w_dist=w_dist, gp=gp if self.gp_weight else None)


def sample_latent(n, latent_dim, noise="normal", seed=0):
    """``n`` latent vectors as float32 NumPy, reproducible from ``seed``."""
    rng = np.random.default_rng(seed)
    if noise == "uniform":
        return rng.uniform(-1.0, 1.0, size=(n, latent_dim)).astype("float32")
    return rng.standard_normal((n, latent_dim)).astype("float32")


def generate_images(generator, z, labels=None, batch_size=500):
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


def train(gan, dataset, epochs, run_dir=None, sample_every=1, checkpoint_every=1, show=False,
          progress=True, extra_callbacks=(), steps_per_epoch=None, keep_checkpoints=3):
    """Fit ``gan`` on ``dataset`` for ``epochs`` epochs with the course's callbacks.

    With ``run_dir`` it writes ``samples/epoch_NNNN.png`` grids of fixed noise every
    ``sample_every`` epochs and ``timeline.gif``, ``history.csv``/``history.json``,
    ``losses.png``, and checkpoints in ``checkpoints/`` (the last ``keep_checkpoints``; ``None``
    keeps every one, e.g. to evaluate a run over its training); calling it again with the same
    ``run_dir`` resumes at the next epoch after the last checkpoint. ``show`` also displays
    each grid inline (in a notebook). Returns the ``keras.callbacks.History`` of this call
    (earlier epochs of a resumed run are in ``gancourse.callbacks.load_history(run_dir)``).
    ``progress=False`` trains silently.
    """
    from . import callbacks as cb

    cbs = [cb.NanGuard()]
    start = 0
    if run_dir is not None:
        run_dir = Path(run_dir)
        ckpt = cb.Checkpoint(run_dir / "checkpoints", every=checkpoint_every, max_to_keep=keep_checkpoints)
        start = ckpt.restore(gan)
        cbs += [ckpt, cb.HistoryLogger(run_dir)]
    if sample_every:
        cbs.append(cb.SampleGrid(out_dir=None if run_dir is None else run_dir / "samples",
                                 every=sample_every, show=show))
    if progress:
        cbs.append(cb.ProgressBar())
    cbs += list(extra_callbacks)
    if 0 < start < epochs:
        print(f"Resuming training at epoch {start + 1}.")
    if start >= epochs:
        print(f"Already trained for {start} epochs (asked for {epochs}): nothing to do. "
              f"Raise epochs to train further.")
    history = gan.fit(dataset, epochs=epochs, initial_epoch=start, callbacks=cbs,
                      verbose=0, shuffle=False, steps_per_epoch=steps_per_epoch)
    return history


#: Model kinds the CLI and :func:`build_gan` know.
KINDS = ("gan", "dcgan", "wgan", "wgan-gp", "cgan")


def build_gan(kind="dcgan", image_shape=(28, 28, 1), num_classes=10, scenario=None,
              latent_dim=100, ema=None, seed=None):
    """A compiled GAN of one of the course's kinds, with the course's default models and
    hyperparameters (the ones the notebooks teach):

    - ``gan``: MLP G 256-512-1024 / D 512-256, Adam 2e-4, beta_1 0.5
    - ``dcgan``: 4x4-kernel DCGAN, Adam 2e-4, beta_1 0.5 (``scenario`` picks a study model)
    - ``wgan``: DCGAN G + critic, weight clipping 0.01, n_critic 5, RMSprop 5e-5
    - ``wgan-gp``: DCGAN G + critic, gradient penalty 10, n_critic 5, Adam 1e-4 (0, 0.9)
    - ``cgan``: conditional DCGAN (label embedding concatenated), Adam 2e-4, beta_1 0.5
    """
    from . import models

    image_shape = tuple(image_shape)
    if kind not in KINDS:
        raise ModelError(f"Unknown model kind {kind!r}. Known: {', '.join(KINDS)}.")
    if scenario and kind != "dcgan":
        raise ModelError("--scenario applies to the dcgan model only")
    width = 256 if image_shape[-1] == 3 else 128  # colour images get a wider generator
    if kind == "gan":
        gan = GAN(models.mlp_generator(latent_dim, image_shape), models.mlp_discriminator(image_shape),
                  ema=ema, seed=seed)
    elif kind == "dcgan":
        if scenario:
            g, d = models.scenario_models(scenario, latent_dim, image_shape)
        else:
            g = models.dcgan_generator(latent_dim, image_shape, width=width)
            d = models.dcgan_discriminator(image_shape, width=width // 2)
        gan = GAN(g, d, ema=ema, seed=seed)
    elif kind == "cgan":
        gan = ConditionalGAN(models.cgan_dcgan_generator(latent_dim, image_shape, num_classes, width=width),
                             models.cgan_dcgan_discriminator(image_shape, num_classes, width=width // 2),
                             num_classes=num_classes, ema=ema, seed=seed)
    else:
        gp = kind == "wgan-gp"
        gan = WGAN(models.dcgan_generator(latent_dim, image_shape, width=width),
                   models.wgan_critic(image_shape, width=width // 2, norm="layer" if gp else None),
                   ema=ema, seed=seed)
        gan.compile(gp_weight=10.0 if gp else None)
        return gan
    gan.compile()
    return gan


def save_run_config(run_dir, config: dict):
    """Write ``config.json`` of a run, or check that it matches the one already there
    (so re-running a command resumes the same model and never mixes two)."""
    import json

    run_dir = Path(run_dir)
    path = run_dir / "config.json"
    if path.exists():
        old = json.loads(path.read_text())
        keys = ("model", "dataset", "scenario", "latent_dim")
        diff = {k: (old.get(k), config.get(k)) for k in keys if old.get(k) != config.get(k)}
        if diff:
            changes = ", ".join(f"{k}: {a!r} -> {b!r}" for k, (a, b) in diff.items())
            raise ModelError(f"{run_dir} holds a different run ({changes}). Use another --out "
                             f"folder, or delete {run_dir} to start over.")
        return
    run_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(config, indent=1))


def load_run(run_dir):
    """Rebuild the GAN of a run folder from its ``config.json`` and restore its latest
    checkpoint. Returns ``(gan, config)``."""
    import json

    from .callbacks import Checkpoint

    run_dir = Path(run_dir)
    path = run_dir / "config.json"
    if not path.exists():
        raise ModelError(f"{run_dir} is not a training run (no config.json). Train one with "
                         f"`gancourse train ... --out {run_dir}`.")
    config = json.loads(path.read_text())
    gan = build_gan(config["model"], config["image_shape"], config.get("num_classes", 10),
                    config.get("scenario"), config.get("latent_dim", 100), config.get("ema"))
    epoch = Checkpoint(run_dir / "checkpoints").restore(gan)
    if epoch == 0:
        raise ModelError(f"{run_dir} has no checkpoint yet: train at least one epoch first.")
    config["epochs_done"] = epoch
    return gan, config
