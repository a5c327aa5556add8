"""Latent-space widgets for notebooks 07, 10 and 13: sliders over the directions that matter
(in Z, or in W for a StyleGAN), interpolation between two latent vectors (linear and
spherical), classifier guidance step by step (:func:`latent_editor`) and StyleGAN's style
mixing (:func:`style_mixing`); for notebooks 11 and 12, a translator at work on held-out or
uploaded images (:func:`translator_explorer`).

Both widgets take any generator: one just trained (``gan.generator``) or a pretrained one
(``gancourse.pretrained.load(name)``); a conditional generator (inputs ``[z, label]``) gets
a class picker. Each picture is one generator call, PNG-encoded with NumPy (no matplotlib),
so a slider answers at once even on a CPU.

Where widgets cannot render (ipywidgets missing, or no Jupyter kernel to talk to, e.g. a
plain script or a static notebook viewer), or with ``static=True``, the functions print a
short note and return a static picture of the same exploration instead.

    from gancourse import pretrained, widgets
    g = pretrained.load("dcgan-fashion_mnist")
    widgets.latent_explorer(g)              # six sliders over the principal directions
    widgets.interpolate(g, seeds=(1, 2))    # a path between two random codes
    widgets.latent_explorer(sg, space="w")  # a StyleGAN generator: sliders in W, truncation
    widgets.style_mixing(sg)                # coarse styles from A, fine styles from B
"""

from __future__ import annotations

import html

import numpy as np

from .config import quiet_tensorflow

tf = quiet_tensorflow()
import keras  # noqa: E402

from . import stylegan, viz  # noqa: E402
from .data import (  # noqa: E402
    DATASETS,
    TRANSLATION_TASKS,
    get_task,
    grayscale,
    to_model_range,
    translation_examples,
)
from .errors import ModelError  # noqa: E402
from .models import is_conditional, latent_dim_of, num_classes_of  # noqa: E402
from .sampling import generate_images, sample_inputs  # noqa: E402

#: Interpolation modes: label shown on the toggle -> function.
MODES = ("linear", "spherical")
#: The latent spaces the explorer moves in: z (every generator), w (a StyleGAN's).
SPACES = ("z", "w")


def latent_explorer(
    generator,
    k: int = 6,
    seed: int = 0,
    dims=None,
    span: float = 3.0,
    label: int = 0,
    class_names=None,
    dataset: str | None = None,
    size: int = 224,
    probes: int = 8,
    static: bool | None = None,
    space: str = "z",
    psi: float | None = None,
):
    """Sliders over the ``k`` latent directions that change the picture most.

    The directions are the top principal directions of the generator's response: the
    eigenvectors of E_z[J(z)^T J(z)], J the Jacobian of the image with respect to z,
    estimated by finite differences at ``probes`` random z. (A slider along one of them
    changes the picture a lot; most of the other 90-odd directions barely do.) With
    ``dims=[3, 17, ...]`` the sliders move those coordinates of z instead.

    Each slider adds ``value * direction`` to a base vector drawn from ``seed``, in
    [-span, span]. "randomise" draws a new base vector (the next seed), "reset" sets every
    slider back to 0. A conditional generator adds a class dropdown (names from ``class_names``,
    ``dataset`` or, for a pretrained generator, its dataset).

    ``space="w"`` (a StyleGAN generator, :mod:`gancourse.stylegan`): the sliders move w, the
    mapping network's output, instead of z, along the principal directions of sampled w's
    (:func:`principal_directions`; ``dims`` picks coordinates of w), each one standard
    deviation of the w's per slider unit; the picture is synthesised from the w, truncated
    towards the average w by a psi slider (``psi``, default 1 = no truncation).

    Returns a :class:`LatentExplorer` (an ``ipywidgets.VBox``; ``.sliders``, ``.image``,
    ``.randomise_button``, ``.reset_button``, ``.class_dropdown``, ``.psi_slider`` (W only),
    ``.z``, ``.w`` (W only), ``.seed``), or a :class:`StaticView` when widgets cannot render.
    """
    _check_generator(generator, "latent_explorer")
    psi = _check_space(generator, space, psi)
    dim = latent_dim_of(generator) if space == "z" else stylegan.w_dim(generator)
    labels = _class_names(generator, class_names, dataset)
    if dims is not None:
        dims = [int(d) for d in dims]
        if not dims or min(dims) < 0 or max(dims) >= dim:
            raise ModelError(f"dims must be coordinates of {space} in 0..{dim - 1}, got {dims}")
        directions = np.eye(dim, dtype="float32")[dims]
        if space == "w":  # one standard deviation of the w's per slider unit
            directions *= _sampled_ws(generator, seed).std(axis=0)[dims, None]
        names = [f"{space}[{d}]" for d in dims]
    else:
        k = int(min(k, dim))
        directions = principal_directions(generator, k, probes=probes, seed=seed, space=space)
        names = [f"pc{i + 1}" for i in range(k)]
    args = (generator, directions, names, seed, span, label, labels, size, space, psi)
    if _use_static(static):
        return _static_sweep(*args)
    return LatentExplorer(*args)


def interpolate(
    generator,
    seeds=(0, 1),
    z0=None,
    z1=None,
    steps: int = 8,
    mode: str = "spherical",
    label: int = 0,
    class_names=None,
    dataset: str | None = None,
    size: int = 224,
    static: bool | None = None,
):
    """Walk from one latent vector to another: a slider for t in [0, 1], a linear/spherical
    toggle, the picture at t and a strip of ``steps`` pictures along the whole path.

    The endpoints are ``z0``/``z1`` if given, else drawn from ``seeds``. Spherical
    interpolation (:func:`slerp`) is the better default for Gaussian z: the midpoint of a
    straight line is much shorter than a typical z (norm about 0.7 * sqrt(latent_dim) instead
    of sqrt(latent_dim)), so a linear path passes through codes the generator rarely saw
    in training.

    Returns an :class:`Interpolator` (``.t_slider``, ``.mode_toggle``, ``.image``,
    ``.strip``, ``.class_dropdown``, ``.z0``, ``.z1``), or a :class:`StaticView`.
    """
    _check_generator(generator, "interpolate")
    if mode not in MODES:
        raise ModelError(f"mode must be one of {MODES}, not {mode!r}")
    latent_dim = latent_dim_of(generator)
    z0 = sample_inputs(generator, 1, seed=seeds[0])[0] if z0 is None else _as_vector(z0, latent_dim)
    z1 = sample_inputs(generator, 1, seed=seeds[1])[0] if z1 is None else _as_vector(z1, latent_dim)
    labels = _class_names(generator, class_names, dataset)
    if _use_static(static):
        return _static_paths(generator, z0, z1, steps, label, labels, size)
    return Interpolator(generator, z0, z1, steps, mode, label, labels, size)


def latent_editor(
    generator,
    classifier=None,
    seed: int = 0,
    z=None,
    target=0,
    steps: int = 40,
    label: int = 0,
    size: int = 224,
    static: bool | None = None,
    **guidance,
):
    """Classifier guidance, live: a starting picture (drawn from ``seed``, or the latent
    vector ``z``, e.g. of an inverted real image from :func:`gancourse.editing.project`), a
    dropdown of the class to steer towards, a slider over the ``steps`` steps of
    :func:`gancourse.editing.guide`, and the picture and the classifier's probabilities at
    that step. ``classifier`` as for ``guide`` (default: the generator's dataset's);
    ``guidance``: more options of ``guide`` (``lr``, ``shell_weight``, ``cluster``, ...).
    "randomise" draws a new start (the next seed). A conditional generator draws class
    ``label``.

    Returns a :class:`LatentEditor` (``.target_dropdown``, ``.step_slider``, ``.image``,
    ``.probabilities``, ``.randomise_button``, ``.walk``, ``.z``), or a :class:`StaticView`
    of the path when widgets cannot render.
    """
    _check_generator(generator, "latent_editor")
    if z is not None:
        z = _as_vector(z, latent_dim_of(generator))
    labels = [int(label)] if is_conditional(generator) else None
    walk = _edit(generator, classifier, z, seed, target, steps, labels, guidance)
    if _use_static(static):
        frames = _run(generator, walk.path[:, 0], label)
        p = walk.probabilities[:, 0, walk.target[0]]
        marks = ", ".join(f"step {s}: {p[s]:.2f}" for s in range(0, steps + 1, max(1, steps // 4)))
        print(f"Towards {walk.class_names[walk.target[0]]}; its probability at {marks}.")
        scale = max(1, round(size / 3 / frames.shape[1]))
        picked = frames[:: max(1, steps // 8)]
        return StaticView(
            viz.upscale(viz.image_grid(picked, ncols=len(picked)), scale),
            f"guidance towards {walk.class_names[walk.target[0]]}, {steps} steps",
        )
    return LatentEditor(generator, classifier, walk, seed, steps, labels, size, guidance)


def translator_explorer(
    model,
    dataset: str | None = None,
    index: int = 0,
    size: int = 160,
    examples: int = 100,
    task: str | None = None,
    static: bool | None = None,
):
    """A trained translator at work on held-out images: a slider over the first
    ``examples`` test images of the model's task (:func:`gancourse.data.translation_examples`),
    starting at ``index``, and three pictures side by side: the input, its translation, and
    for pix2pix the truth, for CycleGAN the way back (F(G(a)): what the cycle loss compares
    with the input). A CycleGAN gets a toggle between its two directions.

    "upload" takes a PNG or JPEG of the model's size instead (32x32 for CIFAR-10, 28x28 for
    MNIST): a colour picture for the colouriser is turned grey first (and shown as the
    truth), a grey one given to a colour side becomes RGB. A file that does not fit gets a
    message in the widget saying what to change.

    ``model``: a translator (:func:`gancourse.translation.build_translator`, a run's
    :func:`~gancourse.translation.load_run`, a shipped one); ``dataset``: which of the task's
    datasets to draw from (default: the model's); ``task``: only for a model that does not
    know its own.

    Returns a :class:`TranslatorExplorer` (``.index_slider``, ``.direction_toggle`` (None
    for pix2pix), ``.upload``, ``.images``, ``.captions``, ``.message``, ``.source``,
    ``.output``), or a :class:`StaticView` of eight examples when widgets cannot render.
    """
    directions, task, dataset = _translator(model, task, dataset)
    for value, what, low in ((index, "index", 0), (size, "size", 16), (examples, "examples", 1)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ModelError(f"{what} must be a whole number >= {low}, not {value!r}")
    if index >= examples:
        raise ModelError(
            f"index {index} is past the {examples} test images the explorer loads: pick "
            f"0..{examples - 1}, or pass examples={index + 1} or more"
        )
    a, b = translation_examples(task, dataset, "test", n=int(examples))
    if _use_static(static):
        return _static_translations(model, directions, a, b, index, size)
    return TranslatorExplorer(model, directions, task, dataset, a, b, int(index), int(size))


def style_mixing(
    generator,
    seed_a: int = 0,
    seed_b: int = 1,
    crossover: int | None = None,
    w_a=None,
    w_b=None,
    psi: float = 1.0,
    size: int = 160,
    static: bool | None = None,
):
    """StyleGAN's style mixing, live: two samples A and B (drawn from ``seed_a`` and
    ``seed_b``, or given as w's ``w_a`` / ``w_b``, each (w_dim,)), a crossover slider over
    the synthesis network's style layers, and the mix: layers 0 .. crossover-1 take A's w,
    the rest B's (:func:`gancourse.stylegan.mix`). Crossover 0 is B's picture, num_ws is
    A's; a small crossover takes only A's coarse styles (the 4x4 and 8x8 layers: pose,
    shape), a large one all but the finest (colour, texture). Each sample is re-drawn with
    its seed box or its "new" button (the next seed). ``psi`` truncates both w's
    (:func:`gancourse.stylegan.truncate`); the pictures use the generator's fixed noise.

    Returns a :class:`StyleMixer` (``.crossover_slider``, ``.seed_a_box``, ``.seed_b_box``,
    ``.new_a_button``, ``.new_b_button``, ``.image_a``, ``.image_b``, ``.image_mix``,
    ``.w_a``, ``.w_b``, ``.ws``), or a :class:`StaticView` of the mix at every crossover
    when widgets cannot render.
    """
    if not stylegan.is_stylegan(generator):
        raise ModelError(
            f"style_mixing needs a StyleGAN generator (stylegan.stylegan_generator, or a "
            f"shipped stylegan-* one): it mixes the w's of the synthesis network's layers, "
            f"which {getattr(generator, 'name', type(generator).__name__)!r} does not have."
        )
    n_ws = stylegan.num_ws(generator)
    crossover = n_ws // 2 if crossover is None else crossover
    if isinstance(crossover, bool) or not isinstance(crossover, (int, np.integer)):
        raise ModelError(f"crossover must be a whole number in 0..{n_ws}, not {crossover!r}")
    if not 0 <= crossover <= n_ws:
        raise ModelError(
            f"crossover must be in 0..{n_ws} (this generator has {n_ws} style layers; 0 gives "
            f"B's picture, {n_ws} A's), not {crossover}"
        )
    psi = stylegan.check_psi(psi)
    dim = stylegan.w_dim(generator)
    w_a = _base(generator, seed_a, "w") if w_a is None else _as_w(w_a, dim, "w_a")
    w_b = _base(generator, seed_b, "w") if w_b is None else _as_w(w_b, dim, "w_b")
    if _use_static(static):
        every = np.repeat(w_a[None, None], n_ws, axis=1)  # A's w at every layer
        rows = [stylegan.mix(every, w_b[None], c) for c in range(n_ws + 1)]
        frames = _draw(generator, np.concatenate(rows), "w", psi=psi)
        scale = max(1, round(size / 2 / frames.shape[1]))
        print(
            f"Crossover 0 ... {n_ws} from left to right: layers below the crossover take A's "
            f"style, the rest B's; 0 is B's picture, {n_ws} is A's (seeds {seed_a}, {seed_b})."
        )
        return StaticView(
            viz.upscale(viz.image_grid(frames, ncols=n_ws + 1), scale),
            f"style mixing, crossover 0..{n_ws}",
        )
    return StyleMixer(generator, seed_a, seed_b, w_a, w_b, crossover, psi, size)


def lerp(z0, z1, t) -> np.ndarray:
    """Linear interpolation (1 - t) z0 + t z1. ``t`` a number gives one vector; an array of
    n values gives n vectors (n, latent_dim)."""
    z0, z1 = np.asarray(z0, "float32"), np.asarray(z1, "float32")
    t = np.asarray(t, "float32")
    return ((1.0 - t)[..., None] * z0 + t[..., None] * z1).astype("float32")


def slerp(z0, z1, t) -> np.ndarray:
    """Spherical interpolation: the direction turns along the great circle from z0 to z1
    (Shoemake's slerp) while the length goes linearly from |z0| to |z1|. For endpoints of
    equal length this is exactly the classic formula
    sin((1-t) w)/sin(w) z0 + sin(t w)/sin(w) z1, w the angle between them; unlike it, the
    length always stays between the endpoints' lengths. ``t`` as in :func:`lerp`."""
    z0, z1 = np.asarray(z0, "float64"), np.asarray(z1, "float64")
    t = np.asarray(t, "float64")[..., None]
    r0, r1 = np.linalg.norm(z0), np.linalg.norm(z1)
    if r0 == 0.0 or r1 == 0.0:
        return lerp(z0, z1, t[..., 0])
    u0, u1 = z0 / r0, z1 / r1
    omega = np.arccos(np.clip(np.dot(u0, u1), -1.0, 1.0))
    if np.sin(omega) < 1e-6:  # parallel or opposite: no single great circle; go straight
        return lerp(z0, z1, t[..., 0])
    direction = (np.sin((1.0 - t) * omega) * u0 + np.sin(t * omega) * u1) / np.sin(omega)
    return (((1.0 - t) * r0 + t * r1) * direction).astype("float32")


def interpolation_path(z0, z1, t, mode: str = "spherical") -> np.ndarray:
    """Points at ``t`` on the linear or spherical path from z0 to z1."""
    if mode not in MODES:
        raise ModelError(f"mode must be one of {MODES}, not {mode!r}")
    return (slerp if mode == "spherical" else lerp)(z0, z1, t)


def principal_directions(
    generator, k: int = 6, probes: int = 8, seed: int = 0, eps: float = 0.1, space: str = "z"
) -> np.ndarray:
    """The ``k`` unit latent directions along which the generator's output changes most,
    as a (k, latent_dim) array, strongest first.

    For each of ``probes`` random z (and, for a conditional generator, classes in turn) we
    nudge every coordinate by ``eps``: the differences form the Jacobian J(z) (one
    generator call of latent_dim + 1 images). The eigenvectors of the summed J^T J are the
    directions; each is signed so that its largest component is positive (stable output).

    ``space="w"`` (a StyleGAN generator): the principal components of 2,000 w's mapped from
    random z (the recipe of GANSpace, Harkonen et al. 2020), as a (k, w_dim) array, each
    scaled to one standard deviation of the w's along it: z has one along every unit
    direction, so a step of 1 means the same in both spaces. (W is not a round Gaussian like
    Z, so its directions of largest spread are the ones that matter; ``probes`` and ``eps``
    are not used.)
    """
    _check_space(generator, space, None)
    if space == "w":
        ws = _sampled_ws(generator, seed).astype("float64")
        values, vectors = np.linalg.eigh(np.cov(ws, rowvar=False))
        order = np.argsort(values)[::-1][:k]
        top = vectors[:, order].T
        signs = np.sign(top[np.arange(len(top)), np.abs(top).argmax(axis=1)])
        scale = np.sqrt(np.maximum(values[order], 0.0))
        return (top * (signs * scale)[:, None]).astype("float32")
    latent_dim = latent_dim_of(generator)
    rng = np.random.default_rng(seed + 10_000)  # independent of the explorer's base vectors
    gram = np.zeros((latent_dim, latent_dim))
    eye = np.eye(latent_dim, dtype="float32")
    for i in range(probes):
        z = rng.standard_normal(latent_dim).astype("float32")
        batch = np.vstack([z[None], z[None] + eps * eye])
        out = _run(
            generator, batch, i % num_classes_of(generator) if is_conditional(generator) else 0
        )
        diffs = (out[1:] - out[:1]).reshape(latent_dim, -1).astype("float64") / eps
        gram += diffs @ diffs.T
    values, vectors = np.linalg.eigh(gram)
    top = vectors[:, np.argsort(values)[::-1][:k]].T
    signs = np.sign(top[np.arange(len(top)), np.abs(top).argmax(axis=1)])
    return (top * signs[:, None]).astype("float32")


# --------------------------------------------------------------------------- widget classes

try:  # the classes below need ipywidgets; without it the functions fall back to StaticView
    import ipywidgets as _w

    _Box = _w.VBox
except ImportError:  # pragma: no cover - ipywidgets is a dependency, but be gentle
    _w = None
    _Box = object


class LatentExplorer(_Box):
    """The widget of :func:`latent_explorer` (build it through that function)."""

    def __init__(
        self, generator, directions, names, seed, span, label, class_names, size, space, psi
    ):
        self.generator, self.directions, self.span, self.size = generator, directions, span, size
        self.seed, self.space = int(seed), space
        self.base = _base(generator, self.seed, space)
        self.vector = self.base.copy()
        self._hold = False
        self.sliders = [
            _slider(_w.FloatSlider, name, 0.0, -span, span, step=0.05, readout_format=".2f")
            for name in names
        ]
        self.class_dropdown = _class_dropdown(generator, class_names, label)
        self.psi_slider = None
        if space == "w":
            self.psi_slider = _slider(
                _w.FloatSlider, "psi", psi, 0.0, 1.0, step=0.05, readout_format=".2f"
            )
        self.randomise_button = _w.Button(
            description="randomise", icon="random", tooltip="a new random base vector (next seed)"
        )
        self.reset_button = _w.Button(
            description="reset", icon="undo", tooltip="all sliders back to 0"
        )
        self.seed_label = _w.Label()
        self.image = _w.Image(format="png", layout=_w.Layout(width=f"{size}px", height=f"{size}px"))
        for widget in (*self.sliders, self.class_dropdown, self.psi_slider):
            if widget is not None:
                widget.observe(self._changed, names="value")
        self.randomise_button.on_click(self.randomise)
        self.reset_button.on_click(self.reset)
        controls = [
            *self.sliders,
            _w.HBox([self.randomise_button, self.reset_button, self.seed_label]),
        ]
        if self.psi_slider is not None:
            controls.insert(len(self.sliders), self.psi_slider)
        if self.class_dropdown is not None:
            controls.insert(0, self.class_dropdown)
        super().__init__([_w.HBox([self.image, _w.VBox(controls)])])
        self.update()

    @property
    def z(self):
        """The latent vector shown (in W: the z of the base w)."""
        return (
            self.vector
            if self.space == "z"
            else sample_inputs(self.generator, 1, seed=self.seed)[0]
        )

    @property
    def w(self):
        """The w shown, before truncation (W only; None in Z)."""
        return self.vector if self.space == "w" else None

    def reset(self, _button=None):
        """All sliders back to 0: the picture of the base vector again."""
        self._hold = True
        try:
            for slider in self.sliders:
                slider.value = 0.0
        finally:
            self._hold = False
        self.update()

    def randomise(self, _button=None):
        """A new base vector from the next seed, sliders back to 0."""
        self.seed += 1
        self.base = _base(self.generator, self.seed, self.space)
        self.reset()

    def update(self):
        """Recompute the vector from the sliders and redraw (one generator call)."""
        offsets = np.array([s.value for s in self.sliders], "float32")
        self.vector = self.base + offsets @ self.directions
        label = 0 if self.class_dropdown is None else self.class_dropdown.value
        psi = 1.0 if self.psi_slider is None else float(self.psi_slider.value)
        image = _draw(self.generator, self.vector[None], self.space, label, psi)[0]
        self.image.value = _png(image, self.size)
        self.seed_label.value = f"seed {self.seed}"

    def _changed(self, _change):
        if not self._hold:
            self.update()

    def __repr__(self):  # short and stable (nbval compares the text form of widget outputs)
        where = "" if self.space == "z" else " in W"
        return f"LatentExplorer({len(self.sliders)} sliders{where}, seed {self.seed})"


class Interpolator(_Box):
    """The widget of :func:`interpolate` (build it through that function)."""

    def __init__(self, generator, z0, z1, steps, mode, label, class_names, size):
        self.generator, self.z0, self.z1, self.steps, self.size = generator, z0, z1, steps, size
        self.t_slider = _slider(_w.FloatSlider, "t", 0.0, 0.0, 1.0, step=0.01)
        self.mode_toggle = _w.ToggleButtons(options=list(MODES), value=mode, description="path")
        self.class_dropdown = _class_dropdown(generator, class_names, label)
        self.image = _w.Image(format="png", layout=_w.Layout(width=f"{size}px", height=f"{size}px"))
        self.strip = _w.Image(format="png")
        self.t_slider.observe(lambda _: self.update(strip=False), names="value")
        self.mode_toggle.observe(lambda _: self.update(), names="value")
        controls = [self.t_slider, self.mode_toggle]
        if self.class_dropdown is not None:
            self.class_dropdown.observe(lambda _: self.update(), names="value")
            controls.insert(0, self.class_dropdown)
        super().__init__([_w.HBox([self.image, _w.VBox(controls)]), self.strip])
        self.update()

    @property
    def z(self):
        """The latent vector at the slider's t on the chosen path."""
        return interpolation_path(self.z0, self.z1, self.t_slider.value, self.mode_toggle.value)

    def update(self, strip=True):
        """Redraw the picture at t (and the strip of the whole path)."""
        label = 0 if self.class_dropdown is None else self.class_dropdown.value
        self.image.value = _png(_run(self.generator, self.z[None], label)[0], self.size)
        if strip:
            ts = np.linspace(0.0, 1.0, self.steps)
            frames = _run(
                self.generator,
                interpolation_path(self.z0, self.z1, ts, self.mode_toggle.value),
                label,
            )
            scale = max(1, round(self.size / 3 / frames.shape[1]))
            self.strip.value = viz.png_bytes(
                viz.upscale(viz.image_grid(frames, ncols=len(ts)), scale)
            )

    def __repr__(self):
        return f"Interpolator({self.mode_toggle.value}, {self.steps} steps)"


class LatentEditor(_Box):
    """The widget of :func:`latent_editor` (build it through that function)."""

    def __init__(self, generator, classifier, walk, seed, steps, labels, size, guidance):
        self.generator, self.classifier, self.walk = generator, classifier, walk
        self.seed, self.steps, self.labels, self.size = int(seed), steps, labels, size
        self.guidance = guidance
        names = walk.class_names
        self.target_dropdown = _w.Dropdown(
            options=[(name, i) for i, name in enumerate(names)],
            value=int(walk.target[0]),
            description="towards",
        )
        self.step_slider = _slider(_w.IntSlider, "step", steps, 0, steps)
        self.randomise_button = _w.Button(
            description="randomise", icon="random", tooltip="a new starting vector (next seed)"
        )
        self.image = _w.Image(format="png", layout=_w.Layout(width=f"{size}px", height=f"{size}px"))
        self.probabilities = _w.HTML()
        self.target_dropdown.observe(lambda _: self.recompute(), names="value")
        self.step_slider.observe(lambda _: self.update(), names="value")
        self.randomise_button.on_click(self.randomise)
        controls = _w.VBox(
            [self.target_dropdown, self.step_slider, self.randomise_button, self.probabilities]
        )
        super().__init__([_w.HBox([self.image, controls])])
        self.update()

    @property
    def z(self):
        """The latent vector at the slider's step."""
        return self.walk.path[self.step_slider.value, 0]

    def recompute(self):
        """Guide the same start towards the chosen class (one walk of ``steps`` steps)."""
        self._walk(self.walk.z_start[0])

    def randomise(self, _button=None):
        """A new starting vector from the next seed."""
        self.seed += 1
        self._walk(None)

    def _walk(self, z):
        self.walk = _edit(
            self.generator,
            self.classifier,
            z,
            self.seed,
            self.target_dropdown.value,
            self.steps,
            self.labels,
            self.guidance,
        )
        self.update()

    def update(self):
        """Redraw the picture and the probabilities at the slider's step."""
        step = self.step_slider.value
        label = 0 if self.labels is None else self.labels[0]
        self.image.value = _png(_run(self.generator, self.z[None], label)[0], self.size)
        probs = self.walk.probabilities[step, 0]
        target = int(self.walk.target[0])
        rows = []
        for k in np.argsort(probs)[::-1][:5]:
            bar = "#" * int(round(20 * probs[k]))
            name = self.walk.class_names[k]
            mark = " <- target" if k == target else ""
            rows.append(f"{name[:12]:12s} {probs[k]:5.3f} {bar}{mark}")
        reached = self.walk.first_reached[0]
        note = f"reached at step {reached}" if reached >= 0 else "not reached"
        self.probabilities.value = (
            f"<pre>seed {self.seed}, step {step}, |z| {np.linalg.norm(self.z):.2f}, "
            f"{note}\n" + "\n".join(rows) + "</pre>"
        )

    def __repr__(self):
        return f"LatentEditor({self.steps} steps, seed {self.seed})"


class TranslatorExplorer(_Box):
    """The widget of :func:`translator_explorer` (build it through that function)."""

    def __init__(self, model, directions, task, dataset, a, b, index, size):
        self.model, self.directions, self.task, self.dataset = model, directions, task, dataset
        self.test = {"a2b": a, "b2a": b}
        self.paired = directions == ("a2b",)
        self.size = size
        self.uploaded = None  # (file name, uint8 picture) while an upload is shown
        self.source = self.output = None
        self.index_slider = _w.IntSlider(
            value=index,
            min=0,
            max=len(a) - 1,
            description="test image",
            continuous_update=True,
            style={"description_width": "initial"},
            layout=_w.Layout(width="360px"),
        )
        self.direction_toggle = None
        if len(directions) > 1:
            self.direction_toggle = _w.ToggleButtons(
                options=[({"a2b": "A -> B", "b2a": "B -> A"}[d], d) for d in directions],
                value=directions[0],
                description="direction",
            )
            self.direction_toggle.observe(lambda _: self.update(), names="value")
        self.upload = _w.FileUpload(
            accept=".png,.jpg,.jpeg,image/png,image/jpeg", multiple=False, description="upload"
        )
        self.images = [
            _w.Image(format="png", layout=_w.Layout(width=f"{size}px", height=f"{size}px"))
            for _ in range(3)
        ]
        self.captions = [_w.Label() for _ in range(3)]
        self.message = _w.HTML()
        self.index_slider.observe(self._slider_moved, names="value")
        self.upload.observe(self._uploaded, names="value")
        controls = [self.index_slider, self.upload]
        if self.direction_toggle is not None:
            controls.insert(1, self.direction_toggle)
        panels = [_w.VBox([c, i]) for c, i in zip(self.captions, self.images)]
        super().__init__([_w.HBox(controls), _w.HBox(panels), self.message])
        self.update()

    @property
    def direction(self):
        return self.directions[0] if self.direction_toggle is None else self.direction_toggle.value

    def load_image(self, content, name="your image"):
        """Show the translation of an image file's bytes (PNG or JPEG) instead of a test
        image (True); a file that does not fit leaves the pictures as they are and says why
        in :attr:`message` (False)."""
        try:
            picture = _decode(content, name)
            self._fit(picture, name)  # refuse now, not at the next redraw
        except ModelError as e:
            self.message.value = f"<b>Not translated:</b> {html.escape(str(e))}"
            return False
        self.uploaded = (name, picture)
        self.update()
        return True

    def update(self):
        """Redraw the three pictures for the test image at the slider (or the upload) in
        the chosen direction (one or two calls of the translator)."""
        forward, back = self.direction, "b2a" if self.direction == "a2b" else "a2b"
        truth = None
        if self.uploaded is None:
            i = self.index_slider.value
            source = self.test[forward][i : i + 1]
            if self.paired:
                truth = self.test["b2a"][i : i + 1]
            where = f"test image {i} of {len(self.test['a2b'])} ({self.dataset}, {self.task})"
        else:
            name, picture = self.uploaded
            source, truth, note = self._fit(picture, name)
            where = f"{html.escape(name)}{note}; move the slider to go back to the test images"
        output = _translate(self.model, source, forward)
        third = truth if self.paired else _translate(self.model, output, back)
        self.source, self.output = source[0], output[0]
        x, y = ("a", "b") if forward == "a2b" else ("b", "a")
        g, f = ("G", "F") if forward == "a2b" else ("F", "G")
        if self.paired:
            captions = ("input", "translation G(input)", "truth")
        else:
            captions = (
                f"input ({x.upper()})",
                f"{g}({x}), to {y.upper()}",
                f"{f}({g}({x})), back to {x.upper()}",
            )
        for image, caption, text, picture in zip(
            self.images, self.captions, captions, (source, output, third)
        ):
            caption.value = text if picture is not None else f"{text}: none for this image"
            blank = np.full_like(output, -1.0)
            image.value = _png((blank if picture is None else picture)[0], self.size)
        self.message.value = where

    def _fit(self, picture, name):
        """(source, truth or None, note) for an uploaded uint8 picture, on the input side of
        the chosen direction; a ModelError if its size is not the model's."""
        shape = tuple(self.test[self.direction].shape[1:])
        h, w = picture.shape[:2]
        if (h, w) != shape[:2]:
            raise ModelError(
                f"{name} is {w} pixels wide and {h} high; this model translates "
                f"{shape[1]}x{shape[0]} images. Crop or resize it to that size and upload it "
                f"again."
            )
        image = to_model_range(picture.reshape(1, h, w, -1))
        truth, note = None, ""
        if image.shape[-1] == 3 and shape[-1] == 1:
            if self.paired and self.task == "colorize":
                truth, note = image, " (colour: its grey version is the input, itself the truth)"
            else:
                note = " (colour, turned grey: this side takes grey images)"
            image = keras.ops.convert_to_numpy(grayscale(image))
        elif image.shape[-1] == 1 and shape[-1] == 3:
            image, note = np.repeat(image, 3, axis=-1), " (grey, given as RGB)"
        return image, truth, note

    def _slider_moved(self, _change):
        self.uploaded = None
        self.update()

    def _uploaded(self, change):
        files = _upload_files(change["new"])
        if files:
            name, content = files[-1]
            self.load_image(content, name)
            # emptied, so that the same file can be chosen again (ipywidgets 7's value is
            # read-only, but its upload counter already fires for a repeated file)
            self.upload.set_trait("value", type(change["new"])())

    def __repr__(self):
        return f"TranslatorExplorer({self.task}, {len(self.test['a2b'])} test images)"


class StyleMixer(_Box):
    """The widget of :func:`style_mixing` (build it through that function)."""

    def __init__(self, generator, seed_a, seed_b, w_a, w_b, crossover, psi, size):
        self.generator, self.psi, self.size = generator, psi, size
        self.w_a, self.w_b = w_a, w_b
        n_ws = stylegan.num_ws(generator)
        self.crossover_slider = _slider(_w.IntSlider, "crossover", crossover, 0, n_ws)
        self.seed_a_box = _w.IntText(value=int(seed_a), description="seed A")
        self.seed_b_box = _w.IntText(value=int(seed_b), description="seed B")
        self.new_a_button = _w.Button(description="new A", icon="random", tooltip="next seed")
        self.new_b_button = _w.Button(description="new B", icon="random", tooltip="next seed")
        layout = _w.Layout(width=f"{size}px", height=f"{size}px")
        self.image_a, self.image_b, self.image_mix = (
            _w.Image(format="png", layout=layout) for _ in range(3)
        )
        self.caption = _w.Label()
        self.crossover_slider.observe(lambda _: self.update(), names="value")
        self.seed_a_box.observe(lambda change: self._redraw("a", change["new"]), names="value")
        self.seed_b_box.observe(lambda change: self._redraw("b", change["new"]), names="value")
        self.new_a_button.on_click(lambda _: setattr(self.seed_a_box, "value", self.seed_a + 1))
        self.new_b_button.on_click(lambda _: setattr(self.seed_b_box, "value", self.seed_b + 1))

        def column(image, title):
            return _w.VBox([_w.Label(title), image])

        super().__init__(
            [
                _w.HBox(
                    [
                        column(self.image_a, "A"),
                        column(self.image_b, "B"),
                        column(self.image_mix, "mix"),
                    ]
                ),
                self.crossover_slider,
                self.caption,
                _w.HBox([self.seed_a_box, self.new_a_button]),
                _w.HBox([self.seed_b_box, self.new_b_button]),
            ]
        )
        self.update(samples=True)

    @property
    def seed_a(self):
        return int(self.seed_a_box.value)

    @property
    def seed_b(self):
        return int(self.seed_b_box.value)

    @property
    def ws(self):
        """The mix's styles, (num_ws, w_dim): A's w below the crossover, B's from it on."""
        every = np.repeat(self.w_a[None, None], self.crossover_slider.max, axis=1)
        return stylegan.mix(every, self.w_b[None], self.crossover_slider.value)[0]

    def update(self, samples=False):
        """Redraw the mix (and, with ``samples``, the pictures of A and B)."""
        if samples:
            a, b = _draw(self.generator, np.stack([self.w_a, self.w_b]), "w", psi=self.psi)
            self.image_a.value, self.image_b.value = _png(a, self.size), _png(b, self.size)
        mix = _draw(self.generator, self.ws[None], "w", psi=self.psi)[0]
        self.image_mix.value = _png(mix, self.size)
        c, n_ws = self.crossover_slider.value, self.crossover_slider.max
        self.caption.value = (
            f"styles 0..{c - 1} from A, {c}..{n_ws - 1} from B"
            if 0 < c < n_ws
            else f"all {n_ws} styles from {'A' if c else 'B'}"
        )

    def _redraw(self, which, seed):
        w = _base(self.generator, int(seed), "w")
        if which == "a":
            self.w_a = w
        else:
            self.w_b = w
        self.update(samples=True)

    def __repr__(self):
        c, n_ws = self.crossover_slider.value, self.crossover_slider.max
        return f"StyleMixer(crossover {c} of {n_ws}, seeds {self.seed_a} and {self.seed_b})"


class StaticView:
    """A picture that stands in for a widget where widgets cannot render: shows as a PNG in
    a notebook, and keeps ``.picture`` (uint8) and ``.png`` (bytes) for scripts."""

    def __init__(self, picture, caption):
        self.picture, self.caption = picture, caption
        self.png = viz.png_bytes(picture)

    def save(self, path):
        """Write the picture as a PNG file."""
        return viz.save_png(self.picture, path)

    def _repr_png_(self):
        return self.png

    def __repr__(self):
        return f"StaticView({self.caption})"


# --------------------------------------------------------------------------- helpers


def _check_generator(generator, caller):
    """Refuse, with a message that says what was expected, anything that is not a generator:
    a name, a whole GAN, or a model that maps images to scores (a discriminator)."""
    expected = (
        f"{caller} expects a generator: a Keras model from latent vectors (batch, "
        f"latent_dim) [and labels] to images (batch, height, width, channels), such as "
        f"gan.generator or gancourse.pretrained.load(name)"
    )
    if hasattr(generator, "sampling_generator"):
        raise ModelError(
            f"{expected}. This is a whole GAN: pass gan.sampling_generator() (or gan.generator)."
        )
    if not isinstance(generator, keras.Model):
        hint = (
            " (to load a shipped generator by name use gancourse.pretrained.load)"
            if isinstance(generator, str)
            else ""
        )
        raise ModelError(f"{expected}, not a {type(generator).__name__}{hint}.")
    inputs = generator.inputs if isinstance(generator.inputs, (list, tuple)) else [generator.inputs]
    z_shape = tuple(inputs[0].shape) if inputs else ()
    out_shape = tuple(generator.outputs[0].shape) if generator.outputs else ()
    if len(z_shape) != 2:
        raise ModelError(
            f"{expected}. The model {generator.name!r} takes inputs of shape "
            f"{z_shape}, which is not a batch of latent vectors; if it takes "
            f"images it is a discriminator or classifier."
        )
    if len(out_shape) != 4 or out_shape[-1] not in (1, 3):
        raise ModelError(
            f"{expected}. The model {generator.name!r} outputs shape {out_shape}, "
            f"which is not a batch of images; a discriminator outputs one score "
            f"per image."
        )


def _use_static(static) -> bool:
    """True when we should draw a static picture: asked for, or widgets cannot render
    (ipywidgets missing, or no kernel behind this Python to carry widget messages)."""
    if static is not None:
        if not static and _w is None:
            raise ModelError("interactive widgets need ipywidgets: pip install ipywidgets")
        return bool(static)
    reason = None
    if _w is None:
        reason = "ipywidgets is not installed (pip install ipywidgets)"
    else:
        try:
            from IPython import get_ipython

            shell = get_ipython()
        except ImportError:
            shell = None
        if shell is None or getattr(shell, "kernel", None) is None:
            reason = "there is no Jupyter kernel here to run widgets"
    if reason:
        print(f"Interactive widgets are not available: {reason}. Showing a static picture instead.")
        return True
    return False


def _static_sweep(generator, directions, names, seed, span, label, class_names, size, space, psi):
    """Rows: the directions; columns: offsets from -span to +span around the seed's vector."""
    base = _base(generator, seed, space)
    offsets = np.linspace(-span, span, 7, dtype="float32")
    vectors = (base[None, None] + offsets[None, :, None] * directions[:, None]).reshape(
        -1, directions.shape[1]
    )
    frames = _draw(generator, vectors, space, label, psi)
    scale = max(1, round(size / 3 / frames.shape[1]))
    what = f", class {class_names[label]}" if is_conditional(generator) else ""
    what += f", in W, psi {psi:g}" if space == "w" else ""
    print(
        f"Rows: {', '.join(names)}; columns: offsets "
        f"{', '.join(f'{o:g}' for o in offsets)} (seed {seed}{what})."
    )
    return StaticView(
        viz.upscale(viz.image_grid(frames, ncols=len(offsets)), scale),
        f"latent sweep, {len(names)} directions, seed {seed}",
    )


def _static_paths(generator, z0, z1, steps, label, class_names, size):
    """Two rows: the linear path, then the spherical path."""
    ts = np.linspace(0.0, 1.0, steps)
    frames = np.concatenate(
        [_run(generator, interpolation_path(z0, z1, ts, mode), label) for mode in MODES]
    )
    scale = max(1, round(size / 3 / frames.shape[1]))
    print(f"Top row: linear path; bottom row: spherical path; t = 0 ... 1 in {steps} steps.")
    return StaticView(
        viz.upscale(viz.image_grid(frames, ncols=steps), scale), f"interpolation, {steps} steps"
    )


def _translator(model, task, dataset):
    """(directions, task, dataset) of a translator, or a ModelError saying what was
    expected: the directions it translates in ("a2b" and, for CycleGAN, "b2a"), its task and
    the dataset its test images come from."""
    if isinstance(model, str) or not callable(getattr(model, "translate", None)):
        hint = " (a generator draws from noise: see latent_explorer)"
        if isinstance(model, str):
            hint = " (a name: build the model first)"
        raise ModelError(
            f"translator_explorer expects a translator (pix2pix or CycleGAN), such as "
            f"gancourse.translation.build_translator(kind, task) or a trained run's model, "
            f"not a {type(model).__name__}"
            + (hint if isinstance(model, (str, keras.Model)) else "")
        )
    task = task or getattr(model, "task", None)
    if task is None:
        raise ModelError(
            "this translator does not say which task it learnt: pass task= (one of "
            f"{', '.join(TRANSLATION_TASKS)})"
        )
    spec = get_task(task, dataset or getattr(model, "dataset", None))
    dataset = dataset or getattr(model, "dataset", None) or spec.datasets[0]
    directions = getattr(model, "directions", None)
    if directions is None:
        directions = ("a2b", "b2a") if spec.model == "cyclegan" else ("a2b",)
    return tuple(directions), spec.name, dataset


def _translate(model, images, direction):
    """The model's translation of ``images`` (NumPy in [-1, 1]) in ``direction``."""
    if direction == "a2b":
        return model.translate(images)
    return model.translate(images, direction=direction)


def _upload_files(value):
    """[(file name, bytes)] from a FileUpload's value, in either of its two forms: a tuple of
    dicts with "name" and "content" (ipywidgets 8) or a dict of file name -> {"metadata",
    "content"} (ipywidgets 7, which Colab keeps)."""
    if isinstance(value, dict):
        return [(name, bytes(f["content"])) for name, f in value.items()]
    return [(f["name"], bytes(f["content"])) for f in value]


def _decode(content, name):
    """An uploaded PNG or JPEG as a uint8 picture (H, W) or (H, W, 3); a ModelError for
    anything else."""
    import imageio.v3 as iio

    try:
        picture = np.asarray(iio.imread(bytes(content)))
    except Exception:  # imageio raises OSError, ValueError, ... for what it cannot read
        raise ModelError(f"{name} could not be read as a PNG or JPEG image.") from None
    if picture.dtype != np.uint8:
        raise ModelError(f"{name} has {picture.dtype} pixels; save it as an 8-bit PNG or JPEG.")
    if picture.ndim == 3 and picture.shape[-1] == 4:
        if (picture[..., 3] != 255).any():
            raise ModelError(f"{name} has transparent pixels; save it without transparency.")
        picture = picture[..., :3]
    if picture.ndim == 3 and picture.shape[-1] == 2:  # grey + alpha
        picture = picture[..., 0]
    if picture.ndim not in (2, 3) or (picture.ndim == 3 and picture.shape[-1] not in (1, 3)):
        raise ModelError(f"{name} is not a grey or RGB picture (shape {picture.shape}).")
    return picture


def _static_translations(model, directions, a, b, index, size):
    """Per direction three rows (inputs, translations, truth or way back) of eight test
    images from ``index``."""
    chosen = slice(index, index + 8)
    rows = []
    for forward in directions:
        source = (a if forward == "a2b" else b)[chosen]
        output = _translate(model, source, forward)
        back = "b2a" if forward == "a2b" else "a2b"
        third = b[chosen] if directions == ("a2b",) else _translate(model, output, back)
        rows += [source, output, third]
    channels = max(r.shape[-1] for r in rows)
    frames = np.concatenate([np.repeat(r, channels // r.shape[-1], axis=-1) for r in rows])
    n = len(rows[0])
    scale = max(1, round(size / 2 / frames.shape[1]))
    third = "truth" if directions == ("a2b",) else "way back"
    print(
        f"Rows: inputs, translations, {third}"
        + (" (A -> B, then B -> A)" if len(directions) > 1 else "")
        + f"; test images {index}..{index + n - 1}."
    )
    return StaticView(
        viz.upscale(viz.image_grid(frames, ncols=n), scale), f"translations, {n} test images"
    )


def _run(generator, z, label=0):
    """Images in [-1, 1] (NumPy) for latent vectors ``z``, all of class ``label`` if the
    generator is conditional."""
    labels = np.full(len(z), int(label)) if is_conditional(generator) else None
    return generate_images(generator, z, labels)


def _check_space(generator, space, psi):
    """``psi`` as a number (1 when not given) for an explorer in ``space``, or a ModelError."""
    if space not in SPACES:
        raise ModelError(f"space must be one of {SPACES} (z: every generator; w: a StyleGAN's)")
    if space == "w" and not stylegan.is_stylegan(generator):
        raise ModelError(
            f"space='w' needs a StyleGAN generator (stylegan.stylegan_generator, or a shipped "
            f"stylegan-* one), whose mapping network makes the w's; {generator.name!r} has no "
            f"W space: explore it with space='z'."
        )
    if psi is not None and space == "z":
        raise ModelError(
            "psi is the truncation in W (a StyleGAN's): use it with space='w'; in Z, draw "
            "truncated latent vectors with sampling.sample_latent(..., truncation=...)"
        )
    psi = 1.0 if psi is None else psi
    stylegan.check_psi(psi)
    return float(psi)


def _sampled_ws(generator, seed, n=2000):
    """``n`` w's mapped from random z (the spread of W, measured)."""
    return stylegan.mapping(generator, sample_inputs(generator, n, seed=seed + 10_000))


def _base(generator, seed, space):
    """The explorer's starting vector for ``seed``: its z, or in W the w that z maps to."""
    z = sample_inputs(generator, 1, seed=seed)
    return (z if space == "z" else stylegan.mapping(generator, z))[0]


def _draw(generator, vectors, space, label=0, psi=1.0):
    """Images in [-1, 1] for latent vectors in ``space`` (w's, or per-layer styles
    (n, num_ws, w_dim), truncated with ``psi``)."""
    if space == "z":
        return _run(generator, vectors, label)
    return stylegan.synthesis(generator, stylegan.truncate(generator, vectors, psi))


def _as_w(w, dim, what):
    w = np.asarray(w, "float32")
    if w.shape not in ((dim,), (1, dim)):
        raise ModelError(
            f"{what} must be one w of this generator, {dim} numbers (shape ({dim},)), "
            f"not shape {w.shape}"
        )
    return w.reshape(dim)


def _slider(kind, description, value, low, high, **options):
    """A slider of ``kind`` (``FloatSlider``, ``IntSlider``) that answers while it moves."""
    return kind(
        value=value,
        min=low,
        max=high,
        description=description,
        continuous_update=True,
        layout=_w.Layout(width="340px"),
        **options,
    )


def _png(image, size):
    """PNG bytes of one generated image, enlarged (nearest neighbour) to about ``size`` px."""
    return viz.png_bytes(
        viz.upscale(viz.image_grid(image[None], ncols=1, pad=0), max(1, size // image.shape[0]))
    )


def _as_vector(z, latent_dim):
    z = np.asarray(z, "float32").reshape(-1)
    if z.shape != (latent_dim,):
        raise ModelError(
            f"a latent vector of this generator has {latent_dim} numbers, got {z.size}"
        )
    return z


def _class_names(generator, class_names, dataset):
    """Class names for a conditional generator: given, from a dataset name, from a
    pretrained generator's dataset, else "class 0", "class 1", ..."""
    if not is_conditional(generator):
        return None
    n = num_classes_of(generator)
    dataset = dataset or getattr(generator, "dataset_name", None)
    if class_names is None and dataset in DATASETS:
        class_names = DATASETS[dataset].class_names
    if class_names is None:
        class_names = [f"class {i}" for i in range(n)]
    if len(class_names) != n:
        raise ModelError(
            f"the generator knows {n} classes but {len(class_names)} class names were given"
        )
    return list(class_names)


def _class_dropdown(generator, class_names, label):
    if not is_conditional(generator):
        return None
    return _w.Dropdown(
        options=[(name, i) for i, name in enumerate(class_names)],
        value=int(label),
        description="class",
    )


def _edit(generator, classifier, z, seed, target, steps, labels, guidance):
    """One guidance walk for the editor: the whole path kept, no early stop."""
    from .editing import guide

    options = {"stop_when_reached": False, **guidance, "keep_path": True}
    start = None if z is None else np.asarray(z, "float32")[None]
    return guide(
        generator, classifier, start, target, steps, n=1, seed=seed, labels=labels, **options
    )


from .playground import playground  # noqa: E402,F401
