"""Steering and inverting a generator (notebook 10): classifier guidance in latent space, class
directions, projection of real images and an encoder.

- **Guidance** (Nguyen et al. 2016): move z up the gradient of a classifier's score for a
  target class, with a penalty that keeps |z| near sqrt(d), where the prior puts almost all
  its vectors (notebook 07). :func:`guidance_step` is one step (a learner writes it),
  :func:`guide` the whole walk with per-step diagnostics.
- **Class directions** (Radford et al. 2016, notebook 07): the mean z of the images the
  classifier puts in each class; :func:`walk_directions` moves along mean(target) - mean(start)
  with the same diagnostics, so :func:`guidance_report` measures both by the same numbers.
- **Inversion** (Zhu et al. 2016): :func:`project` finds z with G(z) close to a given image
  (pixel + classifier-feature loss, gradient descent with restarts, a loss-vs-time trace);
  :func:`train_encoder` learns E(x) -> z from generated pairs, and ``project(init=encoder)``
  starts from its guess.

Any generator of the course works: plain (``dcgan-*`` trained without clusters), conditional
(``cgan-fashion_mnist``: pass ``labels=``; z moves, the label stays) and cluster-conditioned
(the shipped ``dcgan-mnist`` and ``dcgan-fashion_mnist``, whose last latent coordinate picks a
k-means cluster through a step function). A gradient cannot pass a step function, so on a
cluster-conditioned generator the gradient moves only the 100 noise coordinates and the shell
term is measured on them. ``cluster="hold"`` (the default) keeps the cluster; with
``cluster="move"`` guidance first jumps to the cluster whose picture of the same noise the
classifier likes best for the target, a class direction keeps its cluster component, and
projection starts its restarts in the clusters whose typical pictures are closest.

    from gancourse import editing, pretrained
    g = pretrained.load("dcgan-fashion_mnist")
    walk = editing.guide(g, "fashion_mnist", n=16, target="Ankle boot")
    print(editing.guidance_report(g, "fashion_mnist", n=500))
    fit = editing.project(g, real_images, steps=200, restarts=4)
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from .config import quiet_tensorflow

tf = quiet_tensorflow()
import keras  # noqa: E402
from keras import layers  # noqa: E402

from .callbacks import CLOCKS, TimeBudget  # noqa: E402
from .data import DATASETS, get_spec  # noqa: E402
from .errors import ConfigError, ModelError  # noqa: E402
from .evaluation import Extractor, load_classifier  # noqa: E402
from .metrics import precision_recall  # noqa: E402
from .models import (  # noqa: E402
    ClusterChoice,
    _conv_discriminator_body,
    is_conditional,
    latent_dim_of,
    num_classes_of,
)
from .sampling import generate_images, sample_latent  # noqa: E402
from .viz import read_picture  # noqa: E402

#: What guidance climbs: the target's logit (Nguyen et al.) or its log-probability.
OBJECTIVES = ("logit", "log_prob")
#: What an edit may do with a cluster-conditioned generator's cluster coordinate.
CLUSTER_MOVES = ("hold", "move")


# =========================================================================== guidance


def guidance_step(generator, classifier, z, target, lr=0.5, shell_weight=0.5, labels=None):
    """One step of classifier guidance: z + lr * grad_z [score_target(G(z)) - shell_weight *
    (|z| - sqrt(d))^2], for a batch of latent vectors ``z`` (B, d).

    ``classifier`` maps images to class scores (B, K), e.g. logits; ``target`` is one class
    or one per vector. The first term moves z towards pictures the classifier scores higher
    for the target; the second pulls |z| back to sqrt(d), the shell where the prior
    N(0, I) puts nearly every vector, so the generator is not asked for codes it never saw.
    ``labels``: the labels of a conditional generator (they stay fixed)."""
    z = tf.convert_to_tensor(z, tf.float32)
    target = tf.broadcast_to(tf.convert_to_tensor(target, tf.int32), tf.shape(z)[:1])
    with tf.GradientTape() as tape:
        tape.watch(z)
        images = generator(z if labels is None else [z, labels], training=False)
        scores = tf.gather(classifier(images, training=False), target, axis=1, batch_dims=1)
        radius = tf.norm(z, axis=1)
        shell = tf.square(radius - tf.sqrt(tf.cast(tf.shape(z)[1], tf.float32)))
        objective = tf.reduce_sum(scores - shell_weight * shell)
    return z + lr * tape.gradient(objective, z)


def guide(
    generator,
    classifier=None,
    z=None,
    target=0,
    steps: int = 100,
    lr: float = 0.5,
    shell_weight: float = 0.5,
    labels=None,
    objective: str = "logit",
    reach: float = 0.5,
    stop_when_reached: bool = True,
    cluster: str = "hold",
    keep_path: bool = False,
    n: int | None = None,
    seed: int = 0,
) -> Walk:
    """Classifier guidance for a batch of latent vectors: ``steps`` steps of
    :func:`guidance_step` (the coordinates a gradient can move, see the module's note on
    clusters), recording at every step the classifier's probability of the target.

    ``classifier``: a dataset name (its shipped classifier; default: the generator's
    dataset), an :class:`~gancourse.evaluation.Extractor` or a Keras classifier.
    ``z``: starting vectors (B, d), or ``n`` vectors drawn from ``seed``. ``target``: a class
    number or name, one for all or one per vector. ``objective``: climb the target's
    ``"logit"`` (Nguyen et al.) or its ``"log_prob"`` (which also pushes the other classes
    down). A vector has *reached* the target when its probability is at least ``reach`` and
    the largest; with ``stop_when_reached`` it stops there, so the edit is the smallest that
    works. Returns a :class:`Walk`.
    """
    scorer = _Scorer(classifier, generator)
    z, labels = _start(generator, z, n, seed, labels)
    target = scorer.targets(target, len(z))
    _check_options(steps=steps, lr=lr, shell_weight=shell_weight, reach=reach)
    if objective not in OBJECTIVES:
        raise ConfigError(f"objective must be one of {OBJECTIVES}, not {objective!r}")
    moving = _moving(generator, cluster) * _moving(generator, "hold")  # no gradient moves it
    t0 = time.perf_counter()
    record = _Recorder("guidance", z, target, labels, moving, reach, stop_when_reached, keep_path)
    if cluster == "move" and _cluster_layer(generator) is not None and steps:
        # the jump to another cluster is the first step; the gradient walk follows
        record(z, scorer.probabilities(generate_images(generator, z, labels)))
        z = _best_cluster(generator, scorer, z, target, labels, record.active, reach)
    step = _guidance_function(generator, scorer, moving, objective, labels is not None)
    zt, tt = tf.Variable(z), tf.constant(target)
    lab = None if labels is None else tf.constant(labels.reshape(-1, 1))
    while record.steps_done <= steps:
        probs, grad = step(zt, tt, lr, shell_weight, lab)
        active = record(zt.numpy(), probs.numpy())
        if not active.any():
            break
        zt.assign_add(lr * grad.numpy() * moving * active[:, None])
    return record.finish(steps, time.perf_counter() - t0, scorer.class_names)


def class_directions(generator, classifier=None, n: int = 10000, seed: int = 1, labels=None):
    """The mean latent vector of each class: ``n`` vectors drawn from ``seed``, their images
    classified, their z averaged per predicted class (notebook 07's latent arithmetic). A
    (K, d) array; a class the classifier never saw drawn gets a row of NaN. The direction
    from class a to class b is ``means[b] - means[a]``."""
    scorer = _Scorer(classifier, generator)
    z, labels = _start(generator, None, n, seed, labels)
    kind = scorer.probabilities(generate_images(generator, z, labels)).argmax(axis=1)
    means = np.full((scorer.num_classes, z.shape[1]), np.nan, "float32")
    for k in range(scorer.num_classes):
        if (kind == k).any():
            means[k] = z[kind == k].mean(axis=0)
    return means


def walk_directions(
    generator,
    classifier=None,
    z=None,
    target=0,
    directions=None,
    steps: int = 100,
    step_size: float = 0.02,
    labels=None,
    reach: float = 0.5,
    stop_when_reached: bool = True,
    cluster: str = "hold",
    keep_path: bool = False,
    n: int | None = None,
    seed: int = 0,
) -> Walk:
    """Move each z along the averaged class direction ``means[target] - means[start]``
    (``directions``: the class means of :func:`class_directions`, computed if not given;
    start: the class of z's own picture), ``step_size`` of the direction per step, so
    step s adds ``s * step_size`` times the direction. The same diagnostics as
    :func:`guide`, so the two compare by the same numbers. With ``cluster="hold"`` the
    direction's cluster component (a cluster-conditioned generator's last coordinate) is
    dropped; ``"move"`` keeps it."""
    scorer = _Scorer(classifier, generator)
    z, labels = _start(generator, z, n, seed, labels)
    target = scorer.targets(target, len(z))
    _check_options(steps=steps, lr=step_size, reach=reach)
    moving = _moving(generator, cluster)
    means = class_directions(generator, scorer, labels=labels) if directions is None else directions
    means = np.asarray(means, "float32")
    if means.shape != (scorer.num_classes, z.shape[1]):
        raise ModelError(
            f"directions must be the ({scorer.num_classes}, {z.shape[1]}) class means of "
            f"class_directions, not an array of shape {means.shape}"
        )
    t0 = time.perf_counter()
    start = scorer.probabilities(generate_images(generator, z, labels)).argmax(axis=1)
    direction = (means[target] - means[start]) * moving
    missing = ~np.isfinite(direction).all(axis=1)
    if missing.any():
        absent = sorted({int(k) for k in np.r_[target[missing], start[missing]]})
        raise ModelError(
            f"no class direction for class(es) {absent}: the classifier put none of the "
            "vectors of class_directions there. Use more vectors (n=) or another target."
        )
    record = _Recorder("directions", z, target, labels, moving, reach, stop_when_reached, keep_path)
    alpha = np.zeros(len(z), "float32")
    while record.steps_done <= steps:
        z_now = z + alpha[:, None] * direction
        active = record(z_now, scorer.probabilities(generate_images(generator, z_now, labels)))
        if not active.any():
            break
        alpha += step_size * active
    return record.finish(steps, time.perf_counter() - t0, scorer.class_names)


@dataclass
class Walk:
    """The result of :func:`guide` or :func:`walk_directions`, for B vectors over S steps.

    ``z_start``, ``z``: the vectors before and after (B, d); ``target`` (B,); ``labels`` of a
    conditional generator or None; ``probabilities``: the classifier's class probabilities
    at every step (S + 1, B, K); ``first_reached``: the step at which each vector first
    reached its target (-1: never); ``norm``: |z| of the moving coordinates at every step
    (S + 1, B); ``path``: every z (S + 1, B, d) if asked for; ``seconds``: wall time;
    ``class_names``: the classifier's."""

    method: str
    z_start: np.ndarray
    z: np.ndarray
    target: np.ndarray
    labels: np.ndarray | None
    probabilities: np.ndarray
    first_reached: np.ndarray
    norm: np.ndarray
    path: np.ndarray | None
    seconds: float
    class_names: tuple = ()

    @property
    def reached(self) -> np.ndarray:
        """Which vectors reached their target (B,)."""
        return self.first_reached >= 0

    @property
    def target_probability(self) -> np.ndarray:
        """The target's probability at every step (S + 1, B)."""
        return self.probabilities[:, np.arange(len(self.target)), self.target]

    def __repr__(self):
        return (
            f"Walk({self.method}: {len(self.target)} vectors, {len(self.norm) - 1} steps, "
            f"{self.reached.mean():.1%} reached their target)"
        )


def guidance_report(
    generator,
    classifier=None,
    n: int = 500,
    steps: int = 100,
    method: str = "guidance",
    target=None,
    dataset: str | None = None,
    seed: int = 0,
    labels=None,
    walk: Walk | None = None,
    **options,
) -> EditReport:
    """What an edit does, measured over ``n`` starting vectors drawn from ``seed`` (or the
    vectors of a given ``walk``): ``method`` ``"guidance"`` (:func:`guide`) or
    ``"directions"`` (:func:`walk_directions`), for at most ``steps`` steps, ``options``
    passed on. ``target``: one class for all, else each vector gets a random class other
    than its own picture's.

    Reported: the share of vectors that reached the target and the steps it took; how far
    the picture moved (root-mean-square pixel change, and distance in the classifier's
    features, each also as a share of the distance between two random pictures); what else
    changed: the probability of the start class, the total change of the *other* classes'
    probabilities, the mean brightness and the ink area (share of pixels brighter than mid
    grey); |z| after the edit. With ``dataset`` (default: the generator's, when it has one
    and it is the classifier's), the precision (Kynkaanniemi et al. 2019, k=3) of the
    pictures before and after against ``n`` real test images: do edited pictures still look
    real?"""
    scorer = _Scorer(classifier, generator)
    if method not in ("guidance", "directions"):
        raise ConfigError(f"method must be 'guidance' or 'directions', not {method!r}")
    if walk is None:
        z, labels = _start(generator, None, n, seed, labels)
        if target is None:
            start = scorer.probabilities(generate_images(generator, z, labels)).argmax(axis=1)
            shift = np.random.default_rng(seed + 1).integers(1, scorer.num_classes, len(z))
            target = (start + shift) % scorer.num_classes
        run = guide if method == "guidance" else walk_directions
        walk = run(generator, scorer, z, target, steps=steps, labels=labels, **options)
    before = generate_images(generator, walk.z_start, walk.labels)
    after = generate_images(generator, walk.z, walk.labels)
    f0, p0 = scorer.features_and_probabilities(before)
    f1, p1 = scorer.features_and_probabilities(after)
    b = np.arange(len(walk.target))
    start = p0.argmax(axis=1)
    others = np.ones_like(p0, bool)
    others[b, walk.target] = others[b, start] = False
    pairs = np.random.default_rng(seed + 2).permutation(len(before))
    pixel = _rms(after - before)
    noise = _moving(generator, "hold")  # |z| of the noise part, without a cluster coordinate
    feature = np.linalg.norm(f1 - f0, axis=1)
    reached = walk.reached
    report = EditReport(
        method=walk.method,
        n=len(walk.target),
        steps=len(walk.norm) - 1,
        seconds=walk.seconds,
        success_rate=float(reached.mean()),
        started_on_target=float((walk.first_reached == 0).mean()),
        median_steps=float(np.median(walk.first_reached[reached])) if reached.any() else None,
        mean_steps=float(walk.first_reached[reached].mean()) if reached.any() else None,
        target_probability_before=float(p0[b, walk.target].mean()),
        target_probability_after=float(p1[b, walk.target].mean()),
        start_probability_before=float(p0[b, start].mean()),
        start_probability_after=float(p1[b, start].mean()),
        other_classes_change=float((np.abs(p1 - p0) * others).sum(axis=1).mean()),
        pixel_distance=float(pixel.mean()),
        pixel_distance_random_pairs=float(_rms(before - before[pairs]).mean()),
        feature_distance=float(feature.mean()),
        feature_distance_random_pairs=float(np.linalg.norm(f0 - f0[pairs], axis=1).mean()),
        brightness_change=float((after.mean(axis=(1, 2, 3)) - before.mean(axis=(1, 2, 3))).mean()),
        brightness_abs_change=float(
            np.abs(after.mean(axis=(1, 2, 3)) - before.mean(axis=(1, 2, 3))).mean()
        ),
        ink_change=float((_ink(after) - _ink(before)).mean()),
        ink_abs_change=float(np.abs(_ink(after) - _ink(before)).mean()),
        latent_distance=float(np.linalg.norm(walk.z - walk.z_start, axis=1).mean()),
        norm_before=float(np.linalg.norm(walk.z_start * noise, axis=1).mean()),
        norm_after=float(np.linalg.norm(walk.z * noise, axis=1).mean()),
    )
    dataset = dataset or scorer.dataset
    if dataset is not None:
        from .data import load_dataset

        x_real, _ = load_dataset(dataset).split("test")
        idx = np.random.default_rng(seed + 3).choice(len(x_real), min(len(x_real), len(f0)), False)
        real = scorer.features(x_real[np.sort(idx)])
        report["precision_before"] = precision_recall(real, f0, 3)["precision"]
        report["precision_after"] = precision_recall(real, f1, 3)["precision"]
    return report


class EditReport(dict):
    """The result of :func:`guidance_report`: a plain dict that prints as a short summary."""

    def __str__(self):
        r = self
        lines = [
            f"{r['method']}: {r['n']} vectors, at most {r['steps']} steps ({r['seconds']:.1f} s)",
            f"  reached the target: {r['success_rate']:.1%}"
            + (
                f" (median {r['median_steps']:.0f} steps, mean {r['mean_steps']:.1f})"
                if r["median_steps"] is not None
                else ""
            ),
            f"  target probability {r['target_probability_before']:.3f} -> "
            f"{r['target_probability_after']:.3f}; start class {r['start_probability_before']:.3f}"
            f" -> {r['start_probability_after']:.3f}; other classes changed by "
            f"{r['other_classes_change']:.3f} in total",
            f"  moved: pixels {r['pixel_distance']:.3f} rms ({r['pixel_distance_random_pairs']:.3f}"
            f" between random pictures), features {r['feature_distance']:.2f} "
            f"({r['feature_distance_random_pairs']:.2f}), |z| {r['norm_before']:.2f} -> "
            f"{r['norm_after']:.2f}, latent distance {r['latent_distance']:.2f}",
            f"  brightness {r['brightness_change']:+.3f} "
            f"(|change| {r['brightness_abs_change']:.3f}), ink area {r['ink_change']:+.3f} "
            f"(|change| {r['ink_abs_change']:.3f})",
        ]
        if "precision_before" in r:
            lines.append(
                f"  precision {r['precision_before']:.3f} before, {r['precision_after']:.3f} after"
            )
        return "\n".join(lines)


def report_table(reports) -> str:
    """A Markdown table of several :func:`guidance_report` results, ``{name: report}``."""
    columns = [
        ("reached", "success_rate", "{:.1%}"),
        ("median steps", "median_steps", "{:.0f}"),
        ("pixels moved", "pixel_distance", "{:.3f}"),
        ("features moved", "feature_distance", "{:.2f}"),
        ("other classes", "other_classes_change", "{:.3f}"),
        ("brightness", "brightness_change", "{:+.3f}"),
        ("ink area", "ink_change", "{:+.3f}"),
        ("|z| after", "norm_after", "{:.2f}"),
        ("precision before", "precision_before", "{:.3f}"),
        ("precision after", "precision_after", "{:.3f}"),
        ("seconds", "seconds", "{:.1f}"),
    ]
    rows = ["| edit | " + " | ".join(c[0] for c in columns) + " |"]
    rows.append("|---" * (len(columns) + 1) + "|")
    for name, r in reports.items():
        cells = [fmt.format(r[key]) if r.get(key) is not None else "" for _, key, fmt in columns]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(rows)


# =========================================================================== inversion


def project(
    generator,
    images,
    steps: int = 200,
    restarts: int = 4,
    pixel_weight: float = 1.0,
    feature_weight: float = 0.1,
    lr: float = 0.05,
    init=None,
    classifier=None,
    labels=None,
    seconds: float | None = None,
    clock: str = "wall",
    seed: int = 0,
) -> Projection:
    """Invert the generator: find z with G(z) close to each of ``images`` (N, H, W[, C]), in
    [-1, 1] (uint8 is scaled), by gradient descent (Adam, ``lr``) on

        pixel_weight * mean (G(z) - x)^2 + feature_weight * mean (F(G(z)) - F(x))^2 / mean F(x)^2

    F the classifier's features (default: the generator's dataset's classifier; the
    feature term is relative, so both terms start near the same scale). Each image gets
    ``restarts`` starting vectors, optimised side by side; the one with the lowest loss
    wins. ``init``: None (random starts), an encoder from :func:`train_encoder` (every
    restart starts at its guess) or starting vectors (N, d) (the first restart starts
    there). On a cluster-conditioned generator, whose cluster coordinate no gradient can
    move, the restarts start in the clusters whose typical pictures (noise 0) are nearest
    the image, nearest first (an encoder's guess of that coordinate is replaced: a
    regression cannot learn a step function). Stops after ``steps`` steps or
    ``seconds`` of ``clock`` time (``"wall"``, or ``"cpu"``: this process's CPU time, which
    other programs on a shared machine do not eat into; the trace counts the same clock).
    ``steps=0`` just evaluates the starts (e.g. the encoder
    alone). Returns a :class:`Projection` with the loss-vs-time trace.
    """
    x = check_images(images, generator)
    _check_options(steps=steps, lr=lr)
    if isinstance(restarts, bool) or not isinstance(restarts, (int, np.integer)) or restarts < 1:
        raise ConfigError(f"restarts must be a positive integer such as 4, not {restarts!r}")
    for name, w in (("pixel_weight", pixel_weight), ("feature_weight", feature_weight)):
        if not (np.isfinite(w) and w >= 0):
            raise ConfigError(f"{name} must be a number >= 0, not {w!r}")
    if pixel_weight == 0 and feature_weight == 0:
        raise ConfigError("pixel_weight and feature_weight are both 0: there is nothing to fit")
    scorer = _Scorer(classifier, generator) if feature_weight else None
    n, d = len(x), latent_dim_of(generator)
    labels = _labels(generator, labels, n)
    if clock not in CLOCKS:
        raise ConfigError(f"clock must be one of {', '.join(CLOCKS)}, not {clock!r}")
    now = CLOCKS[clock]
    t0 = now()
    z0 = _project_starts(generator, x, restarts, init, seed)
    xr = np.repeat(x, restarts, axis=0)
    lab = None if labels is None else tf.constant(np.repeat(labels, restarts).reshape(-1, 1))
    moving = _moving(generator, "hold")
    target_feats = None
    if scorer is not None:
        target_feats = np.repeat(scorer.features(x), restarts, axis=0)
    loss_fn = _projection_loss(generator, scorer, pixel_weight, feature_weight, lab)
    z = tf.Variable(z0)
    optimizer = keras.optimizers.Adam(lr)
    optimizer.build([z])
    xt = tf.constant(xr)
    ft = None if target_feats is None else tf.constant(target_feats)
    scale = (
        None
        if target_feats is None
        else tf.constant(np.mean(target_feats**2, axis=1, keepdims=True) + 1e-6)
    )
    mask = tf.constant(moving[None])

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            loss, pixel = loss_fn(z, xt, ft, scale)
            total = tf.reduce_sum(loss)
        grad = tape.gradient(total, z) * mask
        optimizer.apply_gradients([(grad, z)])
        return loss, pixel

    evaluate = tf.function(lambda: loss_fn(z, xt, ft, scale))
    times, losses, pixels = [], [], []
    best_z = best_loss = best_pixel = None
    for s in range(steps + 1):
        last = s == steps or (seconds is not None and now() - t0 > seconds)
        z_before = z.numpy()
        loss, pixel = evaluate() if last else step()
        loss = loss.numpy().reshape(n, restarts)
        pixel = pixel.numpy().reshape(n, restarts)
        pick = loss.argmin(axis=1)
        best_loss, best_pixel = loss[np.arange(n), pick], pixel[np.arange(n), pick]
        best_z = z_before.reshape(n, restarts, -1)[np.arange(n), pick]
        times.append(now() - t0)
        losses.append(best_loss)
        pixels.append(best_pixel)
        if last:
            break
    reconstruction = generate_images(generator, best_z, labels)
    return Projection(
        z=best_z.reshape(n, d),
        reconstruction=reconstruction,
        loss=best_loss,
        pixel_mse=best_pixel,
        trace_seconds=np.asarray(times),
        trace_loss=np.stack(losses),
        trace_pixel_mse=np.stack(pixels),
        labels=labels,
    )


@dataclass
class Projection:
    """The result of :func:`project` for N images over T recorded steps: the best ``z``
    (N, d) and its ``reconstruction`` (N, H, W, C); its ``loss`` and ``pixel_mse`` (mean
    squared pixel error in [-1, 1]) (N,); the trace: ``trace_seconds`` (T,) since the start
    (the starts' preparation included), ``trace_loss`` and ``trace_pixel_mse`` (T, N) of the
    best restart at each step."""

    z: np.ndarray
    reconstruction: np.ndarray
    loss: np.ndarray
    pixel_mse: np.ndarray
    trace_seconds: np.ndarray
    trace_loss: np.ndarray
    trace_pixel_mse: np.ndarray
    labels: np.ndarray | None = None

    def __repr__(self):
        return (
            f"Projection({len(self.z)} images, {len(self.trace_seconds) - 1} steps in "
            f"{self.trace_seconds[-1]:.1f} s, pixel MSE {self.pixel_mse.mean():.4f})"
        )


def build_encoder(generator, width: int = 64, name: str = "encoder") -> keras.Model:
    """An untrained encoder E(x) -> z for ``generator``: the DCGAN discriminator's two
    stride-2 convolutions (LeakyReLU, layer norm), a Dense layer of 256 and a linear output
    of the generator's latent size."""
    shape = tuple(generator.output_shape[1:])
    image = keras.Input(shape, name="image")
    # layer norm, not batch norm: batch norm's running averages lag far behind after a short
    # training, and the encoder's guesses in inference mode would be off
    h = _conv_discriminator_body(image, width, 0.0, "layer", 4, "glorot_uniform", logit=False)
    h = layers.Dense(256, name="hidden")(h)
    h = layers.LeakyReLU(negative_slope=0.2, name="hidden_lrelu")(h)
    z = layers.Dense(latent_dim_of(generator), name="z")(h)
    return keras.Model(image, z, name=name)


def train_encoder(
    generator,
    steps: int = 2000,
    seconds: float | None = None,
    clock: str = "wall",
    batch_size: int = 64,
    pairs: int = 20000,
    lr: float = 1e-3,
    seed: int = 0,
    labels=None,
    encoder=None,
    verbose: int = 0,
) -> keras.Model:
    """Train an encoder E(x) -> z on ``pairs`` generated pairs (z, G(z)) with the mean
    squared error in z (Keras ``fit``, Adam ``lr``), for ``steps`` batches or ``seconds`` of
    ``clock`` time (see :class:`~gancourse.callbacks.TimeBudget`), whichever ends first;
    the budget counts the training, not the pairs' generation. A conditional generator
    draws its pairs with random ``labels`` (or the given ones, one per pair). Returns the
    trained encoder (``encoder`` if given, else :func:`build_encoder`);
    ``encoder.history`` keeps its losses."""
    _check_options(steps=steps, lr=lr)
    if isinstance(pairs, bool) or not isinstance(pairs, (int, np.integer)) or pairs < batch_size:
        raise ConfigError(f"pairs must be an integer >= batch_size ({batch_size}), not {pairs!r}")
    if labels is None and is_conditional(generator):
        labels = np.random.default_rng(seed).integers(0, num_classes_of(generator), pairs)
    z, labels = _start(generator, None, pairs, seed + 7, labels)
    x = generate_images(generator, z, labels)
    keras.utils.set_random_seed(seed)
    encoder = encoder or build_encoder(generator)
    encoder.compile(optimizer=keras.optimizers.Adam(lr), loss="mse", jit_compile=False)
    per_epoch = pairs // batch_size
    epochs = -(-steps // per_epoch)
    callbacks = [_StopAfter(steps)]
    if seconds is not None:
        callbacks.append(TimeBudget(seconds, clock))
    encoder.history = encoder.fit(
        x, z, batch_size=batch_size, epochs=epochs, callbacks=callbacks, verbose=verbose
    )
    return encoder


def check_images(images, generator) -> np.ndarray:
    """``images`` as float32 (N, H, W, C) in [-1, 1] if the generator can draw them, else a
    :class:`ModelError` that says what is wrong (size, channels, values, emptiness)."""
    shape = tuple(generator.output_shape[1:])
    x = np.asarray(images)
    if x.dtype == np.uint8:
        x = x.astype("float32") / 127.5 - 1.0
    if not np.issubdtype(x.dtype, np.number) or x.dtype == bool:
        raise ModelError(f"images must be numbers (uint8 or floats in [-1, 1]), not {x.dtype}")
    x = x.astype("float32")
    if x.size == 0:
        raise ModelError(f"no images were given: an array of shape {x.shape}")
    if x.ndim == len(shape) - 1 + 1 and x.shape[1:] == shape[:2] and shape[2] == 1:
        x = x[..., None]  # (N, H, W) grey images
    elif x.ndim == len(shape) and x.shape == shape:
        x = x[None]  # one image
    elif x.ndim == 2 and x.shape == shape[:2] and shape[2] == 1:
        x = x[None, ..., None]  # one grey image without channel axis
    if x.ndim != 4 or x.shape[1:3] != shape[:2]:
        raise ModelError(
            f"this generator draws {shape[0]}x{shape[1]} images; got an array of shape "
            f"{np.asarray(images).shape}. Resize the image, or use the generator of its dataset."
        )
    if x.shape[3] != shape[2]:
        raise ModelError(
            f"this generator draws images with {shape[2]} channel(s) "
            f"({'grey' if shape[2] == 1 else 'RGB'}); the image has {x.shape[3]}. "
            + (
                "Convert it to greyscale first."
                if shape[2] == 1
                else "Give it three colour channels (RGB)."
            )
        )
    if not np.isfinite(x).all():
        raise ModelError(
            f"{int((~np.isfinite(x)).reshape(len(x), -1).any(axis=1).sum())} of {len(x)} "
            "images contain NaN or infinite values: there is nothing to match."
        )
    if x.min() < -1.01 or x.max() > 1.01:
        raise ModelError(
            f"image values must lie in [-1, 1] (or be uint8 0-255), got {x.min():.3g} to "
            f"{x.max():.3g}; scale them with gancourse.data.to_model_range."
        )
    return np.clip(x, -1.0, 1.0)


def read_image(path, generator) -> np.ndarray:
    """An image file (PNG or another format imageio reads) as one float32 image (1, H, W, C)
    in [-1, 1] for ``generator``: 8-bit values (:func:`gancourse.viz.read_picture`); grey,
    or RGB whose channels are equal, for a grey generator; RGB (an opaque alpha channel is
    dropped) for a colour one. Anything else is a :class:`ModelError` that says what to
    change."""
    image = read_picture(path)
    grey = generator.output_shape[-1] == 1
    if grey and image.ndim == 3 and image.shape[-1] == 3:
        if (image != image[..., :1]).any():
            raise ModelError(
                f"{path} is a colour image; this generator draws grey images. Convert it "
                "to greyscale first."
            )
        image = image[..., 0]
    return check_images(image, generator)


# =========================================================================== helpers


class _Scorer:
    """The classifier an edit uses: class scores (logits), probabilities and features of
    images, from a dataset name, an Extractor, a course classifier or any Keras model."""

    def __init__(self, classifier, generator):
        if isinstance(classifier, _Scorer):
            self.__dict__.update(classifier.__dict__)
            return
        self.dataset = None
        self.class_names = None
        if classifier is None:
            classifier = getattr(generator, "dataset_name", None)
            if classifier is None:
                raise ModelError(
                    "which classifier? pass classifier= a dataset name ('mnist', "
                    "'fashion_mnist', 'cifar10') or a Keras classifier"
                )
        if isinstance(classifier, str):
            spec = get_spec(classifier)
            self.dataset, self.class_names = spec.name, spec.class_names
            classifier = load_classifier(spec.name)
        elif isinstance(classifier, Extractor):
            if classifier.class_names in [s.class_names for s in DATASETS.values()]:
                self.class_names = classifier.class_names
                self.dataset = next(
                    s.name for s in DATASETS.values() if s.class_names == self.class_names
                )
            classifier = classifier.model
        if not isinstance(classifier, keras.Model):
            raise ModelError(
                f"classifier must be a dataset name, an Extractor or a Keras model, not a "
                f"{type(classifier).__name__}"
            )
        names = {layer.name for layer in classifier.layers}
        if "logits" in names:  # a course classifier: logits and features by layer name
            outputs = [classifier.get_layer("logits").output]
            outputs.append(
                classifier.get_layer("features").output if "features" in names else outputs[0]
            )
            self.model = keras.Model(classifier.inputs, outputs)
        else:  # any other classifier: its output are the scores, and also the features
            self.model = keras.Model(classifier.inputs, [classifier.outputs[0]] * 2)
        self.num_classes = int(self.model.outputs[0].shape[-1])
        self.input_shape = tuple(self.model.inputs[0].shape[1:])
        if tuple(generator.output_shape[1:]) != self.input_shape:
            raise ModelError(
                f"the classifier takes images of shape {self.input_shape}, the generator "
                f"draws {tuple(generator.output_shape[1:])}: use the classifier of the "
                "generator's dataset"
            )
        if self.class_names is None:
            self.class_names = tuple(f"class {k}" for k in range(self.num_classes))
        self._forward = tf.function(lambda x: self.model(x, training=False))

    def logits(self, images):
        return self.model(images, training=False)[0]

    def __call__(self, images, training=False):
        return self.model(images, training=training)[0]

    def features_and_probabilities(self, images, batch_size=500):
        feats, probs = [], []
        for i in range(0, len(images), batch_size):
            lo, f = self._forward(tf.constant(np.asarray(images[i : i + batch_size], "float32")))
            feats.append(f.numpy())
            probs.append(tf.nn.softmax(lo).numpy())
        return np.concatenate(feats), np.concatenate(probs)

    def features(self, images):
        x = np.asarray(images)
        if x.dtype == np.uint8:
            x = x.astype("float32") / 127.5 - 1.0
        if x.ndim == 3:
            x = x[..., None]
        return self.features_and_probabilities(x)[0]

    def probabilities(self, images):
        return self.features_and_probabilities(images)[1]

    def targets(self, target, n) -> np.ndarray:
        """One class number per vector, from a number, a class name or one of either per
        vector; an unknown class is a ConfigError that lists the known ones."""
        items = list(np.ravel(np.asarray(target, dtype=object)))
        if len(items) not in (1, n):
            raise ConfigError(f"target must be one class or one per vector ({n}), not {len(items)}")
        out = []
        for t in items:
            if isinstance(t, str) and t in self.class_names:
                out.append(self.class_names.index(t))
            elif isinstance(t, (int, np.integer)) and not isinstance(t, bool):
                if not 0 <= t < self.num_classes:
                    raise ConfigError(
                        f"unknown class {t}: the classifier knows classes 0..{self.num_classes - 1}"
                    )
                out.append(int(t))
            else:
                raise ConfigError(
                    f"unknown class {t!r}: give a class number 0..{self.num_classes - 1} or "
                    f"one of {', '.join(map(repr, self.class_names))}"
                )
        return np.asarray(out * (n if len(out) == 1 else 1), "int32")


class _Recorder:
    """The diagnostics of a walk, step by step: call it with the vectors and their class
    probabilities at each step; it returns which vectors go on moving."""

    def __init__(self, method, z, target, labels, moving, reach, stop, keep_path):
        self.method, self.z_start, self.target, self.labels = method, z.copy(), target, labels
        self.moving, self.reach, self.stop, self.keep_path = moving, reach, stop, keep_path
        self.probs, self.norms, self.path = [], [], []
        self.first = np.full(len(z), -1)
        self.active = np.ones(len(z), bool)
        self.z = z.copy()

    @property
    def steps_done(self) -> int:
        return len(self.probs)

    def __call__(self, z, probs):
        self.z[self.active] = z[self.active]  # a stopped vector keeps where it stopped
        self.probs.append(probs)
        self.norms.append(np.linalg.norm(z * self.moving, axis=1))
        if self.keep_path:
            self.path.append(self.z.copy())
        now = _reached(probs, self.target, self.reach) & (self.first < 0)
        self.first[now] = len(self.probs) - 1
        if self.stop:
            self.active &= self.first < 0
        return self.active

    def finish(self, steps, seconds, class_names) -> Walk:
        """The :class:`Walk`; when every vector stopped early, the rest of the path stays put."""
        missing = steps + 1 - len(self.probs)
        stack = lambda rows: np.stack(rows + rows[-1:] * missing)  # noqa: E731
        return Walk(
            method=self.method,
            z_start=self.z_start,
            z=self.z,
            target=self.target,
            labels=self.labels,
            probabilities=stack(self.probs),
            first_reached=self.first,
            norm=stack(self.norms),
            path=stack(self.path) if self.keep_path else None,
            seconds=seconds,
            class_names=tuple(class_names),
        )


class _StopAfter(keras.callbacks.Callback):
    """Stop ``fit`` after ``steps`` batches."""

    def __init__(self, steps):
        super().__init__()
        self.steps, self.done = steps, 0

    def on_train_batch_end(self, batch, logs=None):
        self.done += 1
        if self.done >= self.steps:
            self.model.stop_training = True


def _guidance_function(generator, scorer, moving, objective, conditional):
    """A compiled step: the class probabilities at z and the gradient of the objective."""
    mask = tf.constant(moving[None])
    radius = float(np.sqrt(moving.sum()))

    @tf.function(reduce_retracing=True)
    def step(z, target, lr, shell_weight, labels):
        with tf.GradientTape() as tape:
            tape.watch(z)
            images = generator([z, labels] if conditional else z, training=False)
            logits = scorer(images)
            score = logits if objective == "logit" else tf.nn.log_softmax(logits)
            score = tf.gather(score, target, axis=1, batch_dims=1)
            shell = tf.square(tf.norm(z * mask, axis=1) - radius)
            objective_value = tf.reduce_sum(score - shell_weight * shell)
        return tf.nn.softmax(logits), tape.gradient(objective_value, z)

    return step


def _projection_loss(generator, scorer, pixel_weight, feature_weight, labels):
    def loss_fn(z, x, target_feats, scale):
        images = generator(z if labels is None else [z, labels], training=False)
        pixel = tf.reduce_mean(tf.square(images - x), axis=[1, 2, 3])
        loss = pixel_weight * pixel
        if scorer is not None:
            feats = scorer.model(images, training=False)[1]
            rel = tf.reduce_mean(tf.square(feats - target_feats), axis=1) / scale[:, 0]
            loss = loss + feature_weight * rel
        return loss, pixel

    return loss_fn


def _project_starts(generator, x, restarts, init, seed):
    """Starting vectors (N * restarts, d), see :func:`project`."""
    n, d = len(x), latent_dim_of(generator)
    z = sample_latent(n * restarts, d, seed=seed).reshape(n, restarts, d)
    first = None
    if init is not None:
        if isinstance(init, keras.Model):
            first = np.asarray(init.predict(x, verbose=0, batch_size=500), "float32")
        else:
            first = np.asarray(init, "float32")
        if first.shape != (n, d):
            raise ModelError(
                f"init must give one latent vector of {d} numbers per image, i.e. shape "
                f"({n}, {d}), not {first.shape}"
            )
        z[:, 0] = first
    layer = _cluster_layer(generator)
    given = first is not None and not isinstance(init, keras.Model)  # kept as it is
    if layer is not None and restarts > given:
        ranked = _rank_clusters(generator, layer, x)  # (N, K), the nearest first
        coords = _cluster_coordinates(layer)
        for r in range(given, restarts):
            if first is not None:
                z[:, r] = first  # the encoder's (or given) noise, in the nearest clusters
            z[:, r, -1] = coords[ranked[:, (r - given) % ranked.shape[1]]]
    return z.reshape(n * restarts, d)


def _rank_clusters(generator, layer, x):
    """For each image, the clusters ordered by the pixel distance of their typical picture."""
    coords = _cluster_coordinates(layer)
    d = latent_dim_of(generator)
    zc = np.zeros((len(coords), d), "float32")
    zc[:, -1] = coords
    typical = generate_images(generator, zc)
    dist = ((x.reshape(len(x), 1, -1) - typical.reshape(1, len(coords), -1)) ** 2).mean(axis=2)
    return np.argsort(dist, axis=1)


def _best_cluster(generator, scorer, z, target, labels, active, reach):
    """z with the cluster coordinate of each ``active`` vector moved to the cluster whose
    picture of the same noise is the nearest (in pixels) of those the classifier counts as
    the target; where none is, to the one with the target's highest probability."""
    coords = _cluster_coordinates(_cluster_layer(generator))
    start = generate_images(generator, z, labels)
    rows = np.arange(len(z))
    best_prob, best_dist = np.full(len(z), -1.0), np.full(len(z), np.inf)
    out = z.copy()
    for c in coords:
        zc = z.copy()
        zc[:, -1] = c
        images = generate_images(generator, zc, labels)
        probs = scorer.probabilities(images)
        p, ok = probs[rows, target], _reached(probs, target, reach)
        dist = _rms(images - start)
        # a cluster that reaches the target beats one that does not; then the nearer wins
        found = best_prob >= 2.0
        better = active & np.where(ok, ~found | (dist < best_dist), ~found & (p > best_prob))
        best_prob[better] = np.where(ok[better], 2.0, p[better])
        best_dist[better] = np.where(ok[better], dist[better], np.inf)
        out[better, -1] = c
    return out


def _cluster_layer(generator):
    """The :class:`ClusterChoice` layer of a cluster-conditioned generator, else None."""
    for layer in generator.layers:
        if isinstance(layer, ClusterChoice):
            return layer
    return None


def _cluster_coordinates(layer) -> np.ndarray:
    """For each cluster k, the value of the cluster coordinate in the middle of its interval."""
    edges = np.r_[0.0, np.cumsum(np.asarray(layer.prior)[layer.order])]
    coords = np.zeros(len(layer.prior), "float32")
    for place, k in enumerate(layer.order):
        middle = (edges[place] + edges[place + 1]) / 2
        coords[k] = NormalDist().inv_cdf(float(np.clip(middle, 1e-6, 1 - 1e-6)))
    return coords


def _moving(generator, cluster) -> np.ndarray:
    """1 for the latent coordinates an edit moves, 0 for a held cluster coordinate."""
    if cluster not in CLUSTER_MOVES:
        raise ConfigError(f"cluster must be one of {CLUSTER_MOVES}, not {cluster!r}")
    moving = np.ones(latent_dim_of(generator), "float32")
    if _cluster_layer(generator) is not None and cluster == "hold":
        moving[-1] = 0.0
    return moving


def _start(generator, z, n, seed, labels):
    """Starting vectors (checked, or ``n`` drawn from ``seed``) and the labels of a
    conditional generator (checked), as float32 / int32 NumPy."""
    d = latent_dim_of(generator)
    if z is None:
        if n is None:
            raise ConfigError("give starting vectors z= or their number n=")
        z = sample_latent(n, d, seed=seed)
    z = np.array(z, dtype="float32", ndmin=2)
    if z.ndim != 2 or z.shape[1] != d or not len(z):
        raise ModelError(
            f"latent vectors of this generator have {d} numbers: z must have shape (B, {d}), "
            f"not {np.shape(z)}"
        )
    if not np.isfinite(z).all():
        raise ModelError("the latent vectors contain NaN or infinite values")
    return z, _labels(generator, labels, len(z))


def _labels(generator, labels, n):
    if not is_conditional(generator):
        if labels is not None:
            raise ModelError("labels= is for conditional generators; this one is unconditional")
        return None
    if labels is None:
        raise ModelError(
            "this generator is conditional: pass labels= (one class, or one per image)"
        )
    labels = np.asarray(labels).reshape(-1)
    if len(labels) == 1:
        labels = np.repeat(labels, n)
    k = num_classes_of(generator)
    integer = np.issubdtype(labels.dtype, np.integer)
    if len(labels) != n or not integer or labels.min() < 0 or labels.max() >= k:
        raise ModelError(f"labels must be one class in 0..{k - 1}, or one per vector ({n})")
    return labels.astype("int32")


def _reached(probs, target, reach):
    p = probs[np.arange(len(target)), target]
    return (p >= reach) & (probs.argmax(axis=1) == target)


def _check_options(**options):
    for name, value in options.items():
        if name == "steps":
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
                raise ConfigError(f"steps must be a whole number >= 0, not {value!r}")
        elif name == "reach":
            if not (isinstance(value, (int, float)) and 0 < value <= 1):
                raise ConfigError(f"reach must be a probability in (0, 1], not {value!r}")
        elif (
            not (
                isinstance(value, (int, float))
                and not isinstance(value, bool)
                and np.isfinite(value)
            )
            or value < 0
            or (name in ("lr", "step_size") and value == 0)
        ):
            raise ConfigError(f"{name} must be a positive number, not {value!r}")


def _rms(diff):
    return np.sqrt((diff.reshape(len(diff), -1) ** 2).mean(axis=1))


def _ink(images):
    """Share of pixels brighter than mid grey (the garment or digit on a dark ground)."""
    return (images.reshape(len(images), -1) > 0).mean(axis=1)
