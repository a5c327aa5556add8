"""A GAN playground in the notebook: train a small GAN on 2-D toy data and watch, while it
trains, where the discriminator draws its boundary and which way it pushes the generator's
samples (after GAN Lab, Kahng et al. 2019).

    from gancourse.widgets import playground
    pg = playground(toy="ring", loss="minimax")   # a live widget: Play / Pause / Step / Reset
    pg.snapshots([0, 500, 2000])                  # pictures at a few moments of the same run

The picture: the plane, coloured by the discriminator's output D(x) (green where D says
"real", purple where it says "fake"); real samples in dark green, generated samples in
purple; on some generated samples an orange arrow, the negative gradient of the generator
loss at that sample (the direction, and with its length the strength, with which training
pushes it); thin grey lines, the generator's *manifold*: the image of a regular grid of
latent points. Under the plane, the two losses. Beside it, modes covered (recall) and the
share of high-quality samples (precision) of 1,000 generated samples, both live.

Three layers, each usable alone: :class:`ToyGAN` trains and measures (no widgets),
:func:`render` draws a :class:`Frame` with NumPy (a few milliseconds, so the view keeps up
with training on a laptop CPU), :class:`Playground` is the ipywidgets front end. Training
runs in small chunks scheduled on the kernel's asyncio event loop, so buttons and sliders
answer during a run, in JupyterLab and Colab alike.
"""

from __future__ import annotations

import asyncio
import dataclasses
import time
import zlib
from dataclasses import dataclass, field

import numpy as np

from .config import quiet_tensorflow

tf = quiet_tensorflow()
import keras  # noqa: E402
from keras import ops  # noqa: E402

from . import losses, models  # noqa: E402
from . import toy as toys  # noqa: E402
from .errors import ModelError  # noqa: E402

LOSSES = ("minimax", "non-saturating", "hinge", "wgan-gp")
OPTIMIZERS = ("adam", "rmsprop", "sgd")
TOY_NAMES = ("ring", "grid", "moons", "spiral")
#: Choices that can change while a run goes on; any other change builds new networks.
LIVE = ("g_lr", "d_lr")
#: WGAN-GP penalty weight for 2-D toys (Gulrajani et al. use 0.1 for their toy data).
GP_WEIGHT = 0.1


@dataclass
class Choices:
    """Everything that defines a run. The same choices (seed included) give the same run."""

    toy: object = "ring"  # a name in TOY_NAMES, a toy object, or an (n, 2) array
    loss: str = "non-saturating"
    g_lr: float = 1e-3
    d_lr: float = 1e-3
    optimizer: str = "adam"  # Adam with beta_1 = 0.5, the course's default
    d_steps: int = 1  # discriminator steps per generator step
    g_hidden: int = 64  # units in each of the generator's hidden layers
    d_hidden: int = 64
    noise_dim: int = 2
    seed: int = 0
    depth: int = 3  # hidden layers in each network
    batch_size: int = 256

    def validated(self) -> Choices:
        """A copy with numbers cast, or a :class:`ModelError` that says what is wrong."""
        c = dataclasses.replace(self)
        if c.loss not in LOSSES:
            raise ModelError(f"loss must be one of {', '.join(LOSSES)}, not {c.loss!r}")
        if c.optimizer not in OPTIMIZERS:
            raise ModelError(
                f"optimizer must be one of {', '.join(OPTIMIZERS)}, not {c.optimizer!r}"
            )
        for name in LIVE:
            check_learning_rate(getattr(c, name), name)
        for name, low, high in (
            ("d_steps", 1, 50),
            ("g_hidden", 1, 1024),
            ("d_hidden", 1, 1024),
            ("noise_dim", 1, 64),
            ("depth", 1, 8),
            ("batch_size", 2, 8192),
        ):
            value = getattr(c, name)
            if int(value) != value or not low <= value <= high:
                raise ModelError(
                    f"{name} must be a whole number from {low} to {high}, got {value!r}"
                )
            setattr(c, name, int(value))
        c.seed = int(c.seed)
        return c


def check_learning_rate(lr, name="learning rate") -> float:
    """``lr`` as a float, or a :class:`ModelError` if it is not in (0, 1]."""
    try:
        lr = float(lr)
    except (TypeError, ValueError):
        raise ModelError(f"{name} must be a number, got {lr!r}") from None
    if not 0.0 < lr <= 1.0:
        raise ModelError(f"{name} must be in (0, 1], e.g. 1e-3; got {lr!r}")
    return lr


def make_toy(spec):
    """A toy from a name (``ring``, ``grid``, ``moons``, ``spiral``), a toy object, or a
    learner's own (n, 2) array of points (see :func:`gancourse.toy.points`)."""
    if isinstance(spec, str):
        return toys.get_toy(spec)
    if hasattr(spec, "sample") and hasattr(spec, "metrics"):
        return spec
    return toys.points(spec)


@dataclass
class Frame:
    """What one picture shows, as numbers (tests and notebooks can check them).

    ``heat[i, j]`` is the discriminator's output at ``ToyGAN.plane_points[i * res + j]``
    (row 0 at the top of the picture): a probability for minimax and non-saturating, the
    raw critic score for hinge and WGAN-GP. ``arrows[k]`` is the negative gradient of the
    generator loss of the single sample ``arrow_at[k]``; ``d_fake`` is D's output (as in
    ``heat``) at every generated sample.
    """

    step: int
    real: np.ndarray
    fake: np.ndarray
    d_fake: np.ndarray
    heat: np.ndarray
    arrow_at: np.ndarray
    arrows: np.ndarray
    manifold: np.ndarray
    metrics: dict
    history: list = field(default_factory=list)  # [(step, d_loss, g_loss), ...]


class ToyGAN:
    """A small MLP GAN on a 2-D toy, trained by a compiled ``tf.function`` in chunks of
    generator steps (each after ``d_steps`` discriminator steps). No widgets: the
    playground, the tests and the benchmark all drive this class.

    Seeded: weights come from ``keras.utils.set_random_seed(seed)`` at construction (which
    also seeds NumPy and Python), batches and noise from a ``tf.random.Generator`` of the
    same seed, so the same choices give the same run however it is cut into chunks.
    """

    def __init__(
        self,
        choices: Choices | None = None,
        n_eval=1000,
        n_arrows=48,
        res=64,
        manifold_grid=15,
        **kw,
    ):
        c = (choices or Choices(**kw)).validated()
        self.choices, self.toy = c, make_toy(c.toy)
        self.lim, self.res = self.toy.lim, res
        keras.utils.set_random_seed(c.seed)
        self.generator = models.toy_generator(
            latent_dim=c.noise_dim, hidden=c.g_hidden, depth=c.depth
        )
        self.discriminator = models.toy_discriminator(hidden=c.d_hidden, depth=c.depth)
        self.g_opt, self.d_opt = _optimizer(c.optimizer, c.g_lr), _optimizer(c.optimizer, c.d_lr)
        self._rng = tf.random.Generator.from_seed(c.seed)
        self._gp_seed = keras.random.SeedGenerator(c.seed + 1)
        self._pool = tf.constant(self.toy.sample(50_000, seed=c.seed + 2))
        self._d_steps = c.d_steps
        rng = np.random.default_rng(c.seed + 3)
        self.z_eval = rng.standard_normal((n_eval, c.noise_dim)).astype("float32")
        self.real_shown = self.toy.sample(500, seed=c.seed + 4)
        self.n_arrows = n_arrows
        ticks = (np.arange(res) + 0.5) / res * 2 * self.lim - self.lim  # cell centres
        xx, yy = np.meshgrid(ticks, ticks[::-1])
        self.plane_points = np.stack([xx.ravel(), yy.ravel()], axis=1).astype("float32")
        self.latent_grid = _latent_grid(c.noise_dim, manifold_grid)
        self.step_count, self.history = 0, []
        self._train = tf.function(self._train_chunk)
        self._probe = tf.function(self._probe_tensors)

    # ----------------------------------------------------------------- public

    def train(self, steps: int):
        """Run ``steps`` generator steps; record the chunk's mean losses. Returns them."""
        steps = int(steps)
        if steps <= 0:
            return None
        d_loss, g_loss = (float(v) for v in self._train(tf.constant(steps)))
        self.step_count += steps
        self.history.append((self.step_count, d_loss, g_loss))
        return d_loss, g_loss

    def train_to(self, step: int, chunk=250):
        """Train until the step count reaches ``step`` (in chunks, for the loss curve)."""
        while self.step_count < step:
            self.train(min(chunk, step - self.step_count))

    def set_learning_rates(self, g_lr=None, d_lr=None):
        """Change learning rates in place, without new networks (also while a run goes on)."""
        if g_lr is not None:
            self.g_opt.learning_rate.assign(check_learning_rate(g_lr, "g_lr"))
            self.choices.g_lr = float(g_lr)
        if d_lr is not None:
            self.d_opt.learning_rate.assign(check_learning_rate(d_lr, "d_lr"))
            self.choices.d_lr = float(d_lr)

    def frame(self) -> Frame:
        """Everything the picture shows at the current step."""
        fake, d_fake, heat, arrows, manifold = (
            t.numpy()
            for t in self._probe(
                self.z_eval, self.plane_points, self.latent_grid.reshape(-1, self.choices.noise_dim)
            )
        )
        return Frame(
            step=self.step_count,
            real=self.real_shown,
            fake=fake,
            d_fake=d_fake,
            heat=heat.reshape(self.res, self.res),
            arrow_at=fake[: self.n_arrows],
            arrows=arrows,
            manifold=manifold.reshape(*self.latent_grid.shape[:-1], 2),
            metrics=self.toy.metrics(fake),
            history=list(self.history),
        )

    def d_output(self, points):
        """What the heat map shows at ``points``: D's probability (minimax, non-saturating)
        or the critic's raw score (hinge, WGAN-GP)."""
        logits = self.discriminator(np.asarray(points, "float32"), training=False)
        return self._d_output(logits).numpy()[:, 0]

    def generator_loss(self, logits):
        """The generator's loss (a mean over samples) from D's logits or critic scores."""
        kind = self.choices.loss
        if kind in ("minimax", "non-saturating"):
            return losses.generator_loss(logits, kind)
        if kind == "hinge":
            return losses.hinge_generator_loss(logits)
        return losses.wasserstein_generator_loss(logits)

    def discriminator_loss(self, real, fake):
        """The discriminator's (or critic's) loss on one batch of real and fake points."""
        real_out = self.discriminator(real, training=True)
        fake_out = self.discriminator(fake, training=True)
        kind = self.choices.loss
        if kind in ("minimax", "non-saturating"):
            return losses.discriminator_loss(real_out, fake_out)
        if kind == "hinge":
            return losses.hinge_discriminator_loss(real_out, fake_out)
        penalty = losses.gradient_penalty(self.discriminator, real, fake, seed=self._gp_seed)
        return losses.critic_loss(real_out, fake_out) + GP_WEIGHT * penalty

    def __repr__(self):
        return f"ToyGAN({_toy_name(self.toy)}, {self.choices.loss}, step {self.step_count})"

    # ----------------------------------------------------------------- compiled parts

    def _train_chunk(self, steps):
        c = self.choices
        d_sum, g_sum = tf.constant(0.0), tf.constant(0.0)
        for _ in tf.range(steps):
            for _ in tf.range(self._d_steps):
                idx = self._rng.uniform([c.batch_size], 0, len(self._pool), dtype=tf.int32)
                real = tf.gather(self._pool, idx)
                fake = self.generator(self._rng.normal([c.batch_size, c.noise_dim]), training=True)
                with tf.GradientTape() as tape:
                    d_loss = self.discriminator_loss(real, fake)
                _apply(tape, d_loss, self.discriminator, self.d_opt)
            with tf.GradientTape() as tape:
                fake = self.generator(self._rng.normal([c.batch_size, c.noise_dim]), training=True)
                g_loss = self.generator_loss(self.discriminator(fake, training=True))
            _apply(tape, g_loss, self.generator, self.g_opt)
            d_sum += d_loss
            g_sum += g_loss
        n = tf.cast(steps, "float32")
        return d_sum / n, g_sum / n

    def _probe_tensors(self, z, plane, latent_grid):
        fake = self.generator(z, training=False)
        d_fake = self._d_output(self.discriminator(fake, training=False))
        heat = self._d_output(self.discriminator(plane, training=False))
        at = fake[: self.n_arrows]
        with tf.GradientTape() as tape:
            tape.watch(at)
            loss = self.generator_loss(self.discriminator(at, training=False))
        # the loss is a mean over the samples: times n, each row is one sample's own gradient
        arrows = -tape.gradient(loss, at) * tf.cast(tf.shape(at)[0], "float32")
        return fake, d_fake[:, 0], heat[:, 0], arrows, self.generator(latent_grid, training=False)

    def _d_output(self, logits):
        if self.choices.loss in ("minimax", "non-saturating"):
            return ops.sigmoid(logits)
        return logits


# --------------------------------------------------------------------------- drawing

GREEN, PURPLE, ORANGE, GREY = (35, 139, 69), (106, 81, 163), (230, 85, 13), (120, 120, 120)
_LIGHT_GREEN, _LIGHT_PURPLE = np.array([161, 217, 155]), np.array([188, 189, 220])


def render(
    frame: Frame,
    lim: float,
    loss: str = "non-saturating",
    size=320,
    loss_height=70,
    arrow_scale=0.5,
    max_arrow=None,
) -> np.ndarray:
    """The picture of ``frame`` as a uint8 RGB array (size + loss_height, size, 3), drawn
    with NumPy alone so that a frame costs a few milliseconds.

    Heat map: green where D says "real", white at the boundary, purple where it says
    "fake" (for hinge/WGAN-GP: the critic's score around the middle of its range on the
    plane). Arrows: ``arrow_scale`` plane units per unit of gradient, capped at
    ``max_arrow`` (default lim / 3), so a vanishing gradient shows as short arrows.
    """
    res = frame.heat.shape[0]
    scale = max(1, size // res)
    size = res * scale
    if loss in ("minimax", "non-saturating"):
        v = frame.heat
    else:  # critic scores: centre on the mid-range, spread to the largest deviation
        centred = frame.heat - (frame.heat.max() + frame.heat.min()) / 2
        v = 0.5 + 0.5 * centred / max(float(np.abs(centred).max()), 1e-6)
    w = np.clip(2 * v - 1, -1, 1)[..., None]  # -1 fake ... 0 boundary ... +1 real
    colour = np.where(w > 0, 255 + w * (_LIGHT_GREEN - 255), 255 - w * (_LIGHT_PURPLE - 255))
    img = np.repeat(np.repeat(colour.astype(np.uint8), scale, axis=0), scale, axis=1)

    def px(points):  # plane coordinates -> (row, col) pixel coordinates
        points = np.nan_to_num(np.asarray(points, "float64"), nan=1e6)
        rc = np.stack([(lim - points[..., 1]), (points[..., 0] + lim)], axis=-1)
        return rc / (2 * lim) * size

    m = px(frame.manifold)
    if m.ndim == 3:  # a 2-D grid of latent points: join neighbours along both axes
        _segments(
            img,
            np.concatenate([m[:-1].reshape(-1, 2), m[:, :-1].reshape(-1, 2)]),
            np.concatenate([m[1:].reshape(-1, 2), m[:, 1:].reshape(-1, 2)]),
            GREY,
        )
    else:
        _segments(img, m[:-1], m[1:], GREY)
    _dots(img, px(frame.real), GREEN, radius=2)
    _dots(img, px(frame.fake), PURPLE)
    max_arrow = lim / 3 if max_arrow is None else max_arrow
    vec = frame.arrows * arrow_scale
    length = np.linalg.norm(vec, axis=1, keepdims=True)
    vec = np.where(length > max_arrow, vec * max_arrow / np.maximum(length, 1e-12), vec)
    start, end = px(frame.arrow_at), px(frame.arrow_at + vec)
    _segments(img, start, end, ORANGE)
    for turn in (0.5, -0.5):  # arrow heads: two short strokes back from the tip
        back = _rotate(start - end, turn)
        norm = np.linalg.norm(back, axis=1, keepdims=True)
        tip = back / np.maximum(norm, 1e-9) * np.minimum(norm * 0.35, 4)
        _segments(img, end, end + tip, ORANGE)
    return np.concatenate([img, _loss_panel(frame.history, size, loss_height)], axis=0)


def png(picture) -> bytes:
    """PNG bytes of a uint8 RGB picture: a minimal encoder (zlib level 1), several times
    faster than a general-purpose one at this size, which matters at many frames a second."""
    h, w, _ = picture.shape
    raw = np.concatenate([np.zeros((h, 1), np.uint8), picture.reshape(h, w * 3)], axis=1).tobytes()

    def chunk(kind, data):
        return (
            len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")
        )

    header = w.to_bytes(4, "big") + h.to_bytes(4, "big") + bytes([8, 2, 0, 0, 0])
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 1))
        + chunk(b"IEND", b"")
    )


# --------------------------------------------------------------------------- pictures of a run


class Snapshots:
    """Frames at a few moments of one run: shows as one row of pictures in a notebook,
    titled with the step, modes covered (recall) and high-quality share (precision)."""

    def __init__(self, frames, pictures, title):
        self.frames, self.pictures, self.title = frames, pictures, title

    def table(self) -> str:
        """One line per frame: step, modes covered (recall), high-quality share (precision),
        D's mean output on the generated samples and the mean length of the push arrows."""
        rows = [
            f"{'step':>6s}  {'modes covered':>13s}  {'high quality':>12s}  "
            f"{'mean D(G(z))':>12s}  {'mean push':>9s}"
        ]
        for f in self.frames:
            m = f.metrics
            rows.append(
                f"{f.step:6d}  {m['modes_covered']:>6d} of {m['num_modes']:<3d}  "
                f"{m['high_quality']:12.0%}  {f.d_fake.mean():12.3f}  "
                f"{np.linalg.norm(f.arrows, axis=1).mean():9.3f}"
            )
        return "\n".join(rows)

    def figure(self, ncols=6):
        """A matplotlib figure: the plane of every frame, ``ncols`` to a row."""
        import matplotlib.pyplot as plt

        n = len(self.pictures)
        ncols = min(ncols, n)
        nrows = -(-n // ncols)
        fig, axes = plt.subplots(nrows, ncols, figsize=(2.4 * ncols, 2.95 * nrows), squeeze=False)
        for ax in axes.ravel()[n:]:
            ax.axis("off")
        for ax, f, pic in zip(axes.ravel(), self.frames, self.pictures):
            ax.imshow(pic[: pic.shape[1]], interpolation="nearest")  # the plane, no loss strip
            m = f.metrics
            ax.set_title(
                f"step {f.step}\n{m['modes_covered']}/{m['num_modes']} modes, "
                f"{m['high_quality']:.0%} HQ",
                fontsize=9,
            )
            ax.set_xticks([]), ax.set_yticks([])
        fig.suptitle(self.title, fontsize=10, y=1.0)
        fig.tight_layout()
        return fig

    def _repr_png_(self):
        from .viz import figure_png

        return figure_png(self.figure())

    def __repr__(self):
        return f"Snapshots({self.title}: steps {', '.join(str(f.step) for f in self.frames)})"


def snapshots(steps=(0, 500, 1000, 2000), title=None, **choices) -> Snapshots:
    """Train a new seeded run with ``choices`` (see :class:`Choices`) and keep the picture
    at each step in ``steps``: the static form of the playground."""
    gan = ToyGAN(Choices(**choices))
    return _snapshots(gan, steps, title)


def _snapshots(gan, steps, title):
    frames, pictures = [], []
    for step in sorted(steps):
        gan.train_to(step)
        f = gan.frame()
        frames.append(f)
        pictures.append(render(f, gan.lim, gan.choices.loss))
    c = gan.choices
    title = title or f"{_toy_name(gan.toy)}, {c.loss} loss, seed {c.seed}"
    return Snapshots(frames, pictures, title)


# --------------------------------------------------------------------------- the widget


def playground(
    toy="ring",
    loss="non-saturating",
    g_lr=1e-3,
    d_lr=1e-3,
    optimizer="adam",
    d_steps=1,
    g_hidden=64,
    d_hidden=64,
    noise_dim=2,
    seed=0,
    steps_per_frame=20,
    static=None,
    static_steps=(0, 500, 1000, 2000),
):
    """The GAN playground: a live view of a small GAN training on 2-D data.

    ``toy`` is ``"ring"`` (8 Gaussians), ``"grid"`` (25), ``"moons"``, ``"spiral"`` or your
    own (n, 2) array of points; ``loss`` one of ``minimax``, ``non-saturating``, ``hinge``,
    ``wgan-gp``; the rest as in :class:`Choices`. Returns a :class:`Playground` widget
    (Play / Pause / Step / Reset; every choice as a control; ``.gan`` the :class:`ToyGAN`).

    Where widgets cannot render (no Jupyter kernel, ipywidgets missing) or with
    ``static=True``: prints a note and returns the :class:`Snapshots` of the same seeded
    run at ``static_steps`` instead.
    """
    choices = Choices(
        toy=toy,
        loss=loss,
        g_lr=g_lr,
        d_lr=d_lr,
        optimizer=optimizer,
        d_steps=d_steps,
        g_hidden=g_hidden,
        d_hidden=d_hidden,
        noise_dim=noise_dim,
        seed=seed,
    ).validated()
    make_toy(choices.toy)  # a bad toy fails here, before any widget is built
    if static if static is not None else not _widgets_can_render():
        if static is None:
            print(
                "Interactive widgets are not available here (no Jupyter kernel or no "
                "ipywidgets): showing pictures of the same run instead."
            )
        return snapshots(static_steps, **dataclasses.asdict(choices))
    return Playground(choices, steps_per_frame)


try:  # the widget needs ipywidgets; without it playground() falls back to Snapshots
    import ipywidgets as _w

    _Box = _w.VBox
except ImportError:  # pragma: no cover
    _w, _Box = None, object


class Playground(_Box):
    """The widget of :func:`playground` (build it through that function).

    Drive it from Python as a learner's buttons would: :meth:`play`, :meth:`pause`,
    :meth:`step`, :meth:`reset`; the controls are attributes (``loss_dropdown``,
    ``g_lr_slider``, ...), ``image`` holds the PNG, ``gan`` the current :class:`ToyGAN`.
    """

    def __init__(self, choices: Choices, steps_per_frame=20, min_frame_time=0.05):
        self.choices, self.min_frame_time = choices, min_frame_time
        self.task, self.frame_count, self.frame_times = None, 0, []
        own = None if isinstance(choices.toy, str) else choices.toy
        toy_options = [(n, n) for n in TOY_NAMES]
        if own is not None:
            toy_options.append(("your points", own))
        layout = _w.Layout(width="300px")
        style = {"description_width": "110px"}

        def control(widget_cls, name, **kw):
            c = widget_cls(value=getattr(choices, name), layout=layout, style=style, **kw)
            c.observe(lambda change: self._choice_changed(name, change["new"]), names="value")
            return c

        self.toy_dropdown = control(_w.Dropdown, "toy", options=toy_options, description="data")
        self.loss_dropdown = control(_w.Dropdown, "loss", options=list(LOSSES), description="loss")
        self.optimizer_dropdown = control(
            _w.Dropdown, "optimizer", options=list(OPTIMIZERS), description="optimizer"
        )
        self.g_lr_slider = control(
            _w.FloatLogSlider,
            "g_lr",
            min=-5,
            max=-1,
            step=0.25,
            readout_format=".1e",
            description="G learning rate",
        )
        self.d_lr_slider = control(
            _w.FloatLogSlider,
            "d_lr",
            min=-5,
            max=-1,
            step=0.25,
            readout_format=".1e",
            description="D learning rate",
        )
        self.d_steps_slider = control(
            _w.IntSlider, "d_steps", min=1, max=10, description="D steps per G step"
        )
        widths = sorted({2, 4, 8, 16, 32, 64, 128, 256, choices.g_hidden, choices.d_hidden})
        self.g_hidden_dropdown = control(
            _w.Dropdown, "g_hidden", options=widths, description="G width"
        )
        self.d_hidden_dropdown = control(
            _w.Dropdown, "d_hidden", options=widths, description="D width"
        )
        self.noise_slider = control(
            _w.IntSlider, "noise_dim", min=1, max=8, description="noise dim"
        )
        self.seed_box = control(_w.BoundedIntText, "seed", min=0, max=2**31 - 1, description="seed")
        self.speed_slider = _w.IntSlider(
            value=steps_per_frame,
            min=1,
            max=200,
            description="steps / frame",
            layout=layout,
            style=style,
        )

        def button(name, icon):
            return _w.Button(description=name, icon=icon, layout=_w.Layout(width="80px"))

        self.play_button, self.pause_button = button("Play", "play"), button("Pause", "pause")
        self.step_button = button("Step", "step-forward")
        self.reset_button = button("Reset", "undo")
        self.play_button.on_click(lambda _: self.play())
        self.pause_button.on_click(lambda _: self.pause())
        self.step_button.on_click(lambda _: self.step())
        self.reset_button.on_click(lambda _: self.reset())
        self.status = _w.HTML()
        self.message = _w.HTML()
        self.image = _w.Image(format="png")
        legend = _w.HTML(
            "<small><b style='color:#238b45'>&#9679;</b> real &nbsp; "
            "<b style='color:#6a51a3'>&#9679;</b> generated &nbsp; "
            "<b style='color:#e6550d'>&rarr;</b> push on a sample "
            "(&minus;grad of G loss) "
            "&nbsp; <span style='color:#787878'>&#9638;</span> G's manifold<br>"
            "background: D(x), <span style='color:#41ab5d'>green</span> = 'real', "
            "<span style='color:#807dba'>purple</span> = 'fake'; below: "
            "<span style='color:#238b45'>D loss</span>, "
            "<span style='color:#6a51a3'>G loss</span></small>"
        )
        buttons = _w.HBox(
            [self.play_button, self.pause_button, self.step_button, self.reset_button]
        )
        controls = _w.VBox(
            [
                self.toy_dropdown,
                self.loss_dropdown,
                self.optimizer_dropdown,
                self.g_lr_slider,
                self.d_lr_slider,
                self.d_steps_slider,
                self.g_hidden_dropdown,
                self.d_hidden_dropdown,
                self.noise_slider,
                self.seed_box,
            ]
        )
        super().__init__(
            [
                buttons,
                _w.HBox([self.speed_slider, self.status]),
                _w.HBox([_w.VBox([self.image, legend]), controls]),
                self.message,
            ]
        )
        self._new_gan()

    # ----------------------------------------------------------------- actions

    @property
    def playing(self) -> bool:
        return self.task is not None and not self.task.done()

    def play(self):
        """Train in chunks of ``steps / frame`` on the kernel's event loop, one frame each,
        until :meth:`pause`. Returns the asyncio task."""
        if self.playing:
            return self.task
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.message.value = "Play needs a running event loop (a Jupyter kernel); use Step."
            return None
        self._stop = False
        self.task = loop.create_task(self._run())
        return self.task

    def pause(self):
        """Stop after the chunk under way (within one frame)."""
        self._stop = True

    def step(self):
        """Train ``steps / frame`` generator steps and draw one frame."""
        self._advance()

    def reset(self):
        """New networks from the seed: back to step 0 and the very same first frame."""
        self._new_gan()

    def snapshots(self, steps, title=None) -> Snapshots:
        """Continue this run to each of ``steps`` and keep the pictures (the live view
        follows along): the cell then shows them even where widgets do not render."""
        shots = _snapshots(self.gan, steps, title)
        self._draw()
        return shots

    # ----------------------------------------------------------------- internals

    async def _run(self):
        try:
            while not self._stop:
                started = time.perf_counter()
                if not self._advance():
                    break
                # yield to the kernel so clicks and slider moves are handled between chunks
                spent = time.perf_counter() - started
                await asyncio.sleep(max(0.005, self.min_frame_time - spent))
        finally:
            self._stop = True

    def _advance(self) -> bool:
        losses_now = self.gan.train(self.speed_slider.value)
        self._draw()
        if losses_now is not None and not np.all(np.isfinite(losses_now)):
            self.message.value = (
                "The losses became NaN: training stopped. Try a smaller learning rate, then Reset."
            )
            self._stop = True
            return False
        return True

    def _new_gan(self):
        self.gan = ToyGAN(self.choices)
        self.frame_count = 0
        self._draw()

    def _draw(self):
        started = time.perf_counter()
        frame = self.gan.frame()
        self.frame = frame
        self.image.value = png(render(frame, self.gan.lim, self.gan.choices.loss))
        m = frame.metrics
        loss_text = ""
        if frame.history:
            _, d_loss, g_loss = frame.history[-1]
            loss_text = f" &middot; D loss {d_loss:.3f}, G loss {g_loss:.3f}"
        self.status.value = (
            f"<b>step {frame.step:,}</b> &middot; "
            f"seed {self.choices.seed} &middot; "
            f"modes covered {m['modes_covered']}/{m['num_modes']} &middot; "
            f"high quality {m['high_quality']:.0%}{loss_text}"
        )
        self.frame_count += 1
        self.frame_times.append(time.perf_counter() - started)
        del self.frame_times[:-100]

    def _choice_changed(self, name, value):
        if name in LIVE:
            try:
                self.gan.set_learning_rates(**{name: value})
            except ModelError as err:
                self.message.value = str(err)
                return
            setattr(self.choices, name, float(value))
            self.message.value = f"{name.replace('_', ' ')} is now {value:.1e} (no reset needed)"
            return
        new = dataclasses.replace(self.choices, **{name: value})
        try:
            new = new.validated()
        except ModelError as err:
            self.message.value = str(err)
            return
        self.choices = new
        self._new_gan()
        self.message.value = (
            f"Changed {name.replace('_', ' ')}: that needs new networks, "
            f"so the run was reset to step 0."
        )

    def __repr__(self):  # short and stable (nbval compares the text form of widget outputs)
        c = self.choices
        return f"Playground({_toy_name(self.gan.toy)}, {c.loss}, seed {c.seed})"


# --------------------------------------------------------------------------- helpers


def _optimizer(kind, lr):
    if kind == "adam":
        return keras.optimizers.Adam(lr, beta_1=0.5)
    if kind == "rmsprop":
        return keras.optimizers.RMSprop(lr)
    return keras.optimizers.SGD(lr)


def _apply(tape, loss, net, optimizer):
    grads = tape.gradient(loss, net.trainable_variables)
    optimizer.apply_gradients(zip(grads, net.trainable_variables))


def _latent_grid(noise_dim, n):
    """A regular grid over [-2, 2] in the first two latent coordinates (others 0): shape
    (n, n, noise_dim), or (4n, 1) for a one-dimensional latent space."""
    if noise_dim == 1:
        return np.linspace(-2, 2, 4 * n, dtype="float32")[:, None]
    ticks = np.linspace(-2, 2, n, dtype="float32")
    grid = np.zeros((n, n, noise_dim), "float32")
    grid[..., 0], grid[..., 1] = np.meshgrid(ticks, ticks)
    return grid


def _toy_name(t):
    return getattr(t, "name", "points")


def _widgets_can_render() -> bool:
    """True when ipywidgets is installed and a Jupyter kernel is there to carry widget messages."""
    if _w is None:
        return False
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _dots(img, rc, colour, radius=1):
    """Small squares of (2 radius + 1) pixels at pixel coordinates ``rc`` (n, 2)."""
    h, w, _ = img.shape
    rc = np.round(rc).astype(int)
    rc = rc[(rc[:, 0] >= 0) & (rc[:, 0] < h) & (rc[:, 1] >= 0) & (rc[:, 1] < w)]
    for dr in range(-radius, radius + 1):
        for dc in range(-radius, radius + 1):
            img[np.clip(rc[:, 0] + dr, 0, h - 1), np.clip(rc[:, 1] + dc, 0, w - 1)] = colour


def _segments(img, start, end, colour):
    """Straight lines from ``start`` to ``end`` (n, 2 pixel coordinates), one pixel wide."""
    h, w, _ = img.shape
    start, end = np.asarray(start, float).reshape(-1, 2), np.asarray(end, float).reshape(-1, 2)
    if not len(start):
        return
    n = int(np.clip(np.abs(end - start).max(), 1, 2 * max(h, w))) + 1
    t = np.linspace(0.0, 1.0, n)[None, :, None]
    pts = np.round(start[:, None] + t * (end - start)[:, None]).astype(int).reshape(-1, 2)
    pts = pts[(pts[:, 0] >= 0) & (pts[:, 0] < h) & (pts[:, 1] >= 0) & (pts[:, 1] < w)]
    img[pts[:, 0], pts[:, 1]] = colour


def _rotate(v, angle):
    c, s = np.cos(angle), np.sin(angle)
    return np.stack([c * v[:, 0] - s * v[:, 1], s * v[:, 0] + c * v[:, 1]], axis=1)


def _loss_panel(history, width, height):
    """The two loss curves (D green, G purple) on one shared scale, last 400 records."""
    panel = np.full((height, width, 3), 250, np.uint8)
    panel[0] = 200
    hist = np.array([(d, g) for _, d, g in history[-400:]], "float64").reshape(-1, 2)
    hist = hist[np.isfinite(hist).all(axis=1)]
    if len(hist) < 2:
        return panel
    low, high = hist.min(), hist.max()
    span = max(high - low, 1e-6)
    cols = np.linspace(4, width - 5, len(hist))
    for k, colour in ((0, GREEN), (1, PURPLE)):
        rows = 5 + (high - hist[:, k]) / span * (height - 10)
        pts = np.stack([rows, cols], axis=1)
        _segments(panel, pts[:-1], pts[1:], colour)
    return panel
