"""Latent-space widgets for notebooks 07 and 10: sliders over the directions that matter,
interpolation between two latent vectors (linear and spherical), and classifier guidance
step by step (:func:`latent_editor`).

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
"""

from __future__ import annotations

import numpy as np

from .config import quiet_tensorflow

tf = quiet_tensorflow()
import keras  # noqa: E402

from . import viz  # noqa: E402
from .data import DATASETS  # noqa: E402
from .errors import ModelError  # noqa: E402
from .models import is_conditional, latent_dim_of, num_classes_of  # noqa: E402
from .sampling import generate_images, sample_inputs  # noqa: E402

#: Interpolation modes: label shown on the toggle -> function.
MODES = ("linear", "spherical")


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

    Returns a :class:`LatentExplorer` (an ``ipywidgets.VBox``; ``.sliders``, ``.image``,
    ``.randomise_button``, ``.reset_button``, ``.class_dropdown``, ``.z``, ``.seed``), or a
    :class:`StaticView` when widgets cannot render.
    """
    _check_generator(generator, "latent_explorer")
    latent_dim = latent_dim_of(generator)
    labels = _class_names(generator, class_names, dataset)
    if dims is not None:
        dims = [int(d) for d in dims]
        if not dims or min(dims) < 0 or max(dims) >= latent_dim:
            raise ModelError(f"dims must be coordinates of z in 0..{latent_dim - 1}, got {dims}")
        directions = np.eye(latent_dim, dtype="float32")[dims]
        names = [f"z[{d}]" for d in dims]
    else:
        k = int(min(k, latent_dim))
        directions = principal_directions(generator, k, probes=probes, seed=seed)
        names = [f"pc{i + 1}" for i in range(k)]
    if _use_static(static):
        return _static_sweep(generator, directions, names, seed, span, label, labels, size)
    return LatentExplorer(generator, directions, names, seed, span, label, labels, size)


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
    generator, k: int = 6, probes: int = 8, seed: int = 0, eps: float = 0.1
) -> np.ndarray:
    """The ``k`` unit latent directions along which the generator's output changes most,
    as a (k, latent_dim) array, strongest first.

    For each of ``probes`` random z (and, for a conditional generator, classes in turn) we
    nudge every coordinate by ``eps``: the differences form the Jacobian J(z) (one
    generator call of latent_dim + 1 images). The eigenvectors of the summed J^T J are the
    directions; each is signed so that its largest component is positive (stable output).
    """
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

    def __init__(self, generator, directions, names, seed, span, label, class_names, size):
        self.generator, self.directions, self.span, self.size = generator, directions, span, size
        self.seed = int(seed)
        self.base = sample_inputs(generator, 1, seed=self.seed)[0]
        self.z = self.base.copy()
        self._hold = False
        self.sliders = [
            _w.FloatSlider(
                value=0.0,
                min=-span,
                max=span,
                step=0.05,
                description=name,
                continuous_update=True,
                readout_format=".2f",
                layout=_w.Layout(width="340px"),
            )
            for name in names
        ]
        self.class_dropdown = _class_dropdown(generator, class_names, label)
        self.randomise_button = _w.Button(
            description="randomise", icon="random", tooltip="a new random base vector (next seed)"
        )
        self.reset_button = _w.Button(
            description="reset", icon="undo", tooltip="all sliders back to 0"
        )
        self.seed_label = _w.Label()
        self.image = _w.Image(format="png", layout=_w.Layout(width=f"{size}px", height=f"{size}px"))
        for slider in self.sliders:
            slider.observe(self._changed, names="value")
        if self.class_dropdown is not None:
            self.class_dropdown.observe(self._changed, names="value")
        self.randomise_button.on_click(self.randomise)
        self.reset_button.on_click(self.reset)
        controls = [
            *self.sliders,
            _w.HBox([self.randomise_button, self.reset_button, self.seed_label]),
        ]
        if self.class_dropdown is not None:
            controls.insert(0, self.class_dropdown)
        super().__init__([_w.HBox([self.image, _w.VBox(controls)])])
        self.update()

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
        self.base = sample_inputs(self.generator, 1, seed=self.seed)[0]
        self.reset()

    def update(self):
        """Recompute z from the sliders and redraw (one generator call)."""
        offsets = np.array([s.value for s in self.sliders], "float32")
        self.z = self.base + offsets @ self.directions
        label = 0 if self.class_dropdown is None else self.class_dropdown.value
        self.image.value = _png(_run(self.generator, self.z[None], label)[0], self.size)
        self.seed_label.value = f"seed {self.seed}"

    def _changed(self, _change):
        if not self._hold:
            self.update()

    def __repr__(self):  # short and stable (nbval compares the text form of widget outputs)
        return f"LatentExplorer({len(self.sliders)} sliders, seed {self.seed})"


class Interpolator(_Box):
    """The widget of :func:`interpolate` (build it through that function)."""

    def __init__(self, generator, z0, z1, steps, mode, label, class_names, size):
        self.generator, self.z0, self.z1, self.steps, self.size = generator, z0, z1, steps, size
        self.t_slider = _w.FloatSlider(
            value=0.0,
            min=0.0,
            max=1.0,
            step=0.01,
            description="t",
            continuous_update=True,
            layout=_w.Layout(width="340px"),
        )
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
        self.step_slider = _w.IntSlider(
            value=steps,
            min=0,
            max=steps,
            description="step",
            continuous_update=True,
            layout=_w.Layout(width="340px"),
        )
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


def _static_sweep(generator, directions, names, seed, span, label, class_names, size):
    """Rows: the directions; columns: offsets from -span to +span around the seed's z."""
    base = sample_inputs(generator, 1, seed=seed)[0]
    offsets = np.linspace(-span, span, 7, dtype="float32")
    z = (base[None, None] + offsets[None, :, None] * directions[:, None]).reshape(
        -1, directions.shape[1]
    )
    frames = _run(generator, z, label)
    scale = max(1, round(size / 3 / frames.shape[1]))
    what = f", class {class_names[label]}" if is_conditional(generator) else ""
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


def _run(generator, z, label=0):
    """Images in [-1, 1] (NumPy) for latent vectors ``z``, all of class ``label`` if the
    generator is conditional."""
    labels = np.full(len(z), int(label)) if is_conditional(generator) else None
    return generate_images(generator, z, labels)


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
