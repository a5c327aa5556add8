"""Command line: ``gancourse data|train|sample|evaluate|invert|translate ...`` (see
``gancourse --help``).

The CLI calls the same functions as the notebooks: ``data.load_dataset``,
``training.build_gan`` (``translation.build_translator`` for pix2pix and CycleGAN) and
``training.train``. It imports TensorFlow only inside the commands
that need it, so ``--version``, ``--help`` and ``data list`` answer at once, and it checks
every option (with :class:`gancourse.runs.RunConfig`) before it writes anything.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import shutil
import sys
from pathlib import Path

from .data import TRANSLATION_TASKS
from .runs import LOSSES, MODELS, NOISES, SCENARIOS, TRANSLATORS, UPSAMPLINGS, RunConfig
from .version import __version__

DEFAULTS = RunConfig()
#: ``training.STRATEGIES`` and ``training.STEPS_PER_CALL``, repeated here so that ``--help``
#: needs no TensorFlow (a test checks that they agree).
STRATEGIES = ("default", "mirrored")
STEPS_PER_CALL = 10
PRETRAINED_MANIFEST = Path(__file__).resolve().parent / "pretrained" / "manifest.json"


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        (getattr(args, "help_of", None) or parser).print_help()
        return 0
    from .errors import GancourseError

    try:
        return args.func(args) or 0
    except GancourseError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(
            "\nInterrupted. Re-run the same command to resume from the last checkpoint.",
            file=sys.stderr,
        )
        return 130


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Shows "(default: X)" after each option's help, except where there is no default."""

    def _get_help_string(self, action):
        if action.default in (None, False) or action.default is argparse.SUPPRESS:
            return action.help
        return super()._get_help_string(action)


def _parser():
    fmt = _HelpFormatter
    p = argparse.ArgumentParser(
        prog="gancourse", description="Helpers of the GAN course.", formatter_class=fmt
    )
    p.add_argument("--version", action="version", version=f"gancourse {__version__}")
    sub = p.add_subparsers(title="commands")

    d = sub.add_parser("data", help="list datasets or describe one", formatter_class=fmt)
    d.set_defaults(help_of=d)
    dsub = d.add_subparsers(title="data commands")
    dl = dsub.add_parser("list", help="the known datasets and where their files are")
    dl.set_defaults(func=_data_list)
    di = dsub.add_parser("info", help="shapes, class counts and pixel statistics of a dataset")
    di.add_argument("name", help="mnist, fashion_mnist or cifar10")
    di.set_defaults(func=_data_info)

    t = sub.add_parser(
        "train", help="train a GAN; re-running the same command resumes", formatter_class=fmt
    )
    t.add_argument(
        "--model",
        choices=MODELS,
        default=DEFAULTS.model,
        help="kind of GAN, or an image-to-image translator (pix2pix, cyclegan: give --task)",
    )
    t.add_argument(
        "--dataset",
        help=f"mnist, fashion_mnist or cifar10 (default: {DEFAULTS.dataset}; for a translator, "
        "the first its --task is built from)",
    )
    t.add_argument(
        "--epochs", type=_positive, default=10, help="train until this many epochs are done"
    )
    t.add_argument(
        "--time-budget",
        type=_seconds,
        metavar="SECONDS",
        help="stop after this much training time, counting earlier sessions of a resumed "
        "run (--epochs is then an upper limit; default: no budget)",
    )
    t.add_argument(
        "--budget-clock",
        choices=("wall", "cpu"),
        default="wall",
        help="what --time-budget counts: elapsed time, or this process's CPU time, which "
        "other programs on the machine do not eat into",
    )
    t.add_argument(
        "--scenario",
        choices=SCENARIOS,
        default=DEFAULTS.scenario,
        help="a model of notebook 03's DCGAN study (dcgan only)",
    )
    t.add_argument(
        "--batch-size", type=_positive, default=DEFAULTS.batch_size, help="images per step"
    )
    t.add_argument(
        "--subset",
        type=_positive,
        default=DEFAULTS.subset,
        help="train on the first N images only (all when not given)",
    )
    t.add_argument("--latent-dim", type=_positive, default=DEFAULTS.latent_dim, help="size of z")
    t.add_argument("--noise", choices=NOISES, default=DEFAULTS.noise, help="distribution of z")
    t.add_argument(
        "--ema",
        type=float,
        default=DEFAULTS.ema,
        help="EMA decay of the generator weights in [0, 1), e.g. 0.999 (none when not given)",
    )
    t.add_argument(
        "--seed",
        type=_nonnegative,
        default=DEFAULTS.seed,
        help="seed of weights, data order and noise",
    )
    s9 = t.add_argument_group("stabilising options (notebook 09; all off by default)")
    s9.add_argument(
        "--ema-warmup",
        action="store_true",
        help="ramp the EMA decay up from 0 (early grids are not grey)",
    )
    s9.add_argument(
        "--spectral-norm",
        action="store_true",
        help="spectral normalisation of the discriminator's layers (Miyato et al. 2018)",
    )
    s9.add_argument(
        "--minibatch-std",
        action="store_true",
        help="minibatch standard deviation layer in D (Karras et al. 2018)",
    )
    s9.add_argument(
        "--projection",
        action="store_true",
        help="cgan: projection discriminator (Miyato & Koyama 2018)",
    )
    s9.add_argument(
        "--clusters",
        type=int,
        help="cgan: condition on K k-means clusters of the images, not the labels",
    )
    s9.add_argument(
        "--upsampling",
        choices=UPSAMPLINGS,
        default=DEFAULTS.upsampling,
        help="how the generator doubles its resolution",
    )
    s9.add_argument("--loss", choices=LOSSES, help="GAN loss (default: non-saturating)")
    s9.add_argument(
        "--g-lr", type=float, help="generator learning rate (TTUR; default: the model's)"
    )
    s9.add_argument(
        "--d-lr", type=float, help="discriminator learning rate (TTUR; default: the model's)"
    )
    s9.add_argument(
        "--r1-gamma",
        type=float,
        default=DEFAULTS.r1_gamma,
        help="weight of the R1 penalty on real data (Mescheder et al. 2018; 0 = off)",
    )
    s9.add_argument(
        "--r1-every",
        type=_positive,
        default=DEFAULTS.r1_every,
        help="lazy R1: apply the penalty every k steps, scaled by k",
    )
    s9.add_argument(
        "--lr-decay",
        type=float,
        default=DEFAULTS.lr_decay,
        metavar="SHARE",
        help="lower both learning rates linearly to 0 over this last share of the training "
        "(its epochs or --time-budget), e.g. 0.5 (0 = constant)",
    )
    s9.add_argument(
        "--augment",
        metavar="POLICY",
        help="DiffAugment policy, e.g. color,translation,cutout (Zhao et al. 2020)",
    )
    tr = t.add_argument_group("image-to-image translation (--model pix2pix or cyclegan)")
    tr.add_argument(
        "--task",
        choices=list(TRANSLATION_TASKS),
        help="; ".join(
            f"{s.name}: {s.model}, {' or '.join(s.datasets)}, {s.description}"
            for s in TRANSLATION_TASKS.values()
        ),
    )
    tr.add_argument(
        "--l1-weight", type=float, help="pix2pix: lambda, the weight of the L1 term (default 100)"
    )
    tr.add_argument(
        "--gan-weight",
        type=float,
        help="pix2pix: weight of the GAN term (default 1; 0 trains on L1 alone, without D)",
    )
    tr.add_argument(
        "--no-skips",
        dest="skips",
        action="store_false",
        help="pix2pix: a plain encoder-decoder instead of the U-Net (for the ablation)",
    )
    tr.add_argument(
        "--cycle-weight", type=float, help="cyclegan: lambda of the cycle loss (default 10)"
    )
    tr.add_argument(
        "--identity-weight",
        type=float,
        help="cyclegan: weight of the identity loss (default 5; 0 = off)",
    )
    t.add_argument(
        "--mixing",
        type=float,
        metavar="P",
        help="stylegan: style mixing probability in [0, 1] (default: StyleGAN's 0.9)",
    )
    t.add_argument(
        "--strategy",
        choices=STRATEGIES,
        default="default",
        help="mirrored: data-parallel on every GPU (without a GPU: every logical CPU device) "
        "with tf.distribute.MirroredStrategy; not part of the run's config, so a run may "
        "resume with another",
    )
    t.add_argument(
        "--steps-per-call",
        type=_positive,
        default=STEPS_PER_CALL,
        metavar="N",
        help=f"training steps per graph call (default {STEPS_PER_CALL}): the same steps, less "
        "Python work between them; not part of the run's config, so a run may resume with another",
    )
    t.add_argument("--sample-every", type=_positive, default=1, help="save a grid every N epochs")
    t.add_argument(
        "--keep-checkpoints",
        type=_positive,
        default=3,
        help="how many of the latest checkpoints to keep",
    )
    t.add_argument(
        "--out",
        type=Path,
        help="run folder (default: <runs folder>/<model>[-<scenario>]-<dataset>)",
    )
    t.set_defaults(func=_train)

    s = sub.add_parser("sample", help="write a grid of generated images", formatter_class=fmt)
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", type=Path, help="a run folder written by `gancourse train`")
    src.add_argument(
        "--pretrained",
        metavar="NAME",
        help=f"a generator shipped with the package: {', '.join(_pretrained_names())}",
    )
    s.add_argument("--n", type=_positive, default=64, help="how many images")
    s.add_argument(
        "--label",
        type=int,
        help="class to generate (conditional models; all classes in turn if not given); for "
        "a run trained with --clusters, the k-means cluster to generate",
    )
    s.add_argument("--seed", type=_nonnegative, default=0, help="seed of the latent vectors")
    s.add_argument(
        "--out",
        type=Path,
        help="PNG file to write (default: samples/seed<SEED>.png in the run folder, or "
        "<runs folder>/pretrained-samples/<NAME>-seed<SEED>.png)",
    )
    s.set_defaults(func=_sample)

    e = sub.add_parser(
        "evaluate",
        help="FID, KID, Inception Score and class histogram of a generator",
        formatter_class=fmt,
    )
    src = e.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", type=Path, help="a run folder written by `gancourse train`")
    src.add_argument(
        "--pretrained",
        metavar="NAME",
        help=f"a generator shipped with the package: {', '.join(_pretrained_names())}",
    )
    e.add_argument("--n", type=_positive, help="generated images (default 10000; 500 in fast mode)")
    e.add_argument("--dataset", help="reference dataset (default: the generator's own)")
    e.add_argument(
        "--extractor", help="feature extractor: a dataset's classifier (default) or inception"
    )
    e.add_argument("--reference", choices=("test", "train"), default="test", help="reference split")
    e.add_argument(
        "--seed", type=_nonnegative, default=0, help="seed of the latent vectors and subsets"
    )
    e.add_argument("--json", action="store_true", help="print the report as JSON")
    e.set_defaults(func=_evaluate)

    v = sub.add_parser(
        "invert",
        help="find the latent vector whose picture matches an image, and draw it",
        formatter_class=fmt,
    )
    v.add_argument(
        "--pretrained",
        metavar="NAME",
        required=True,
        help=f"a generator shipped with the package: {', '.join(_pretrained_names())}",
    )
    v.add_argument(
        "--image",
        type=Path,
        required=True,
        help="an 8-bit image of the generator's size (28x28 grey, or 32x32 RGB for CIFAR-10)",
    )
    v.add_argument("--out", type=Path, required=True, help="PNG file for the reconstruction")
    v.add_argument("--steps", type=_positive, default=200, help="optimisation steps")
    v.add_argument("--restarts", type=_positive, default=4, help="starting vectors tried")
    v.add_argument("--label", type=int, help="the class, for a conditional generator")
    v.add_argument("--seed", type=_nonnegative, default=0, help="seed of the starting vectors")
    v.set_defaults(func=_invert)

    tl = sub.add_parser(
        "translate",
        help="translate an image with a pix2pix or CycleGAN translator and draw it beside "
        "its input",
        formatter_class=fmt,
    )
    src = tl.add_mutually_exclusive_group(required=True)
    src.add_argument(
        "--run", type=Path, help="a pix2pix or cyclegan run folder written by `gancourse train`"
    )
    src.add_argument(
        "--pretrained",
        metavar="NAME",
        help="a translator shipped with the package: "
        f"{', '.join(_pretrained_names('translators')) or '(none yet)'}",
    )
    tl.add_argument(
        "--image",
        type=Path,
        required=True,
        help="an 8-bit PNG or JPEG of the translator's size (32x32 for colorize, 28x28 for "
        "mnist-texture), or a .npy array of one image or several (uint8, or floats in [-1, 1])",
    )
    tl.add_argument(
        "--out",
        type=Path,
        required=True,
        help="PNG file: input | output (| the way back, for CycleGAN), one row per image",
    )
    tl.add_argument(
        "--direction",
        choices=("a2b", "b2a"),
        default="a2b",
        help="a2b: the task's input to its output (pix2pix: the only one); b2a: back (CycleGAN)",
    )
    tl.set_defaults(func=_translate)
    return p


def _translate(args):
    """``gancourse translate --pretrained NAME | --run DIR --image PATH --out PATH``: read
    the image (:func:`gancourse.translation.read_images`), translate it (and, for a
    CycleGAN, back), write the pictures side by side, enlarged."""
    import numpy as np

    from .errors import ConfigError

    if args.out.is_dir() or args.out.suffix.lower() != ".png":
        raise ConfigError(f"--out {args.out} must name a .png file (not a folder).")
    if not args.image.is_file():
        raise ConfigError(f"--image {args.image} is not a file.")
    from . import translation, viz

    if args.run:
        model, _, epoch = translation.load_run(args.run)
        source = f"run {args.run} (epoch {epoch})"
    else:
        from . import pretrained

        model = pretrained.load_translator(args.pretrained)
        source = f"pretrained translator {args.pretrained}"
    images, notes = translation.read_images(args.image, model, args.direction)
    back = "b2a" if args.direction == "a2b" else "a2b"
    columns = [images, model.translate(images, args.direction)]
    names = ["input", "output"]
    if back in model.directions:
        columns.append(model.translate(columns[1], back))
        names.append("the way back")
    tiles = np.stack(translation.match_channels(*columns), axis=1)  # (n, columns, H, W, C)
    grid = viz.image_grid(tiles.reshape(-1, *tiles.shape[2:]), ncols=len(columns))
    viz.save_png(viz.upscale(grid, 4), args.out)
    for note in notes:
        print(note)
    print(
        f"Translated {len(images)} image(s) with the {source} ({model.task}, {args.direction}). "
        f"Wrote {' | '.join(names)}, enlarged 4x, to {args.out}"
    )
    return 0


def _invert(args):
    """``gancourse invert --pretrained NAME --image PATH --out PATH``: project the image
    (:func:`gancourse.editing.project`), write the reconstruction, print the error."""
    from .errors import ConfigError

    if args.out.is_dir() or args.out.suffix.lower() != ".png":
        raise ConfigError(f"--out {args.out} must name a .png file (not a folder).")
    if not args.image.is_file():
        raise ConfigError(f"--image {args.image} is not a file.")
    from . import editing, pretrained, viz
    from .models import is_conditional

    generator = pretrained.load(args.pretrained)
    image = editing.read_image(args.image, generator)
    if is_conditional(generator) and args.label is None:
        raise ConfigError(f"{args.pretrained} is conditional: give the image's class with --label.")
    fit = editing.project(
        generator,
        image,
        steps=args.steps,
        restarts=args.restarts,
        labels=None if args.label is None else [args.label],
        seed=args.seed,
    )
    viz.save_png(viz.image_grid(fit.reconstruction, ncols=1, pad=0), args.out)
    print(
        f"pixel MSE {fit.pixel_mse[0]:.4f} (mean squared error, pixels in [-1, 1]; the best "
        f"start's {fit.trace_pixel_mse[0, 0]:.4f}) after {len(fit.trace_seconds) - 1} "
        f"steps in {fit.trace_seconds[-1]:.1f} s"
    )
    print(f"Wrote the reconstruction to {args.out}")
    return 0


def _evaluate(args):
    """``gancourse evaluate --run DIR | --pretrained NAME``: print a report (see
    :func:`gancourse.evaluation.evaluate_generator`), as text or with ``--json``."""
    from .config import is_fast
    from .evaluation import evaluate_generator

    noise = None  # a run's GAN knows its own noise; a pretrained one's is in its manifest
    if args.run:
        from .training import load_run

        # the GAN: its (EMA) generator and noise. Its "Restored checkpoint" note goes to
        # stderr with --json, so that stdout is the report alone.
        with contextlib.redirect_stdout(sys.stderr if args.json else sys.stdout):
            generator, cfg, epoch = load_run(args.run)
        dataset = args.dataset or cfg.dataset
        source = f"run {args.run} (epoch {epoch})"
    else:
        from . import pretrained

        generator = pretrained.load(args.pretrained)
        entry = pretrained.info(args.pretrained)
        noise, dataset = entry.get("noise"), args.dataset or entry["dataset"]
        source = f"pretrained generator {args.pretrained}"
    report = evaluate_generator(
        generator,
        dataset,
        n=args.n or (500 if is_fast() else 10000),
        extractor=args.extractor,
        reference=args.reference,
        noise=noise,
        seed=args.seed,
    )
    if args.json:
        print(json.dumps(dict(report, source=source), indent=1))
    else:
        print(f"Evaluating {source}")
        print(report)
    return 0


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _seconds(text):
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text}")
    return value


def _nonnegative(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 0, got {value}")
    return value


def _pretrained_names(section="generators") -> list[str]:
    """Names in a section of the shipped manifest (read as JSON: no TensorFlow needed for
    --help)."""
    try:
        return sorted(json.loads(PRETRAINED_MANIFEST.read_text()).get(section, {}))
    except (OSError, ValueError, AttributeError):
        return []


def _data_list(args):
    from . import data

    for name, spec in data.DATASETS.items():
        path = data.find_archive(name)
        where = str(path) if path else "not cached (downloaded on first use)"
        print(f"{name:14s} {spec.description:45s} {where}")


def _data_info(args):
    from . import data

    info = data.dataset_info(args.name)
    print(f"{info['name']}: {info['description']}")
    print(f"  file: {info['path']}")
    for split in ("train", "test"):
        s = info[split]
        print(
            f"  {split}: images {s['images']} uint8, labels {s['labels']}, "
            f"pixel mean {s['pixel_mean']:.4f} std {s['pixel_std']:.4f}"
        )
        print("    class counts: " + ", ".join(f"{k} {v}" for k, v in s["class_counts"].items()))


def _train(args):
    from . import config
    from .errors import ConfigError, RunInUseError

    translator = args.model in TRANSLATORS
    dataset = args.dataset
    if dataset is None:
        task = TRANSLATION_TASKS.get(args.task) if translator else None
        dataset = task.datasets[0] if task else DEFAULTS.dataset
    cfg = RunConfig(
        model=args.model,
        dataset=dataset,
        scenario=args.scenario,
        latent_dim=args.latent_dim,
        batch_size=args.batch_size,
        subset=args.subset,
        ema=args.ema,
        seed=args.seed,
        noise=args.noise,
        ema_warmup=args.ema_warmup,
        spectral_norm=args.spectral_norm,
        minibatch_std=args.minibatch_std,
        projection=args.projection,
        clusters=args.clusters,
        upsampling=args.upsampling,
        loss=args.loss,
        g_lr=args.g_lr,
        d_lr=args.d_lr,
        r1_gamma=args.r1_gamma,
        r1_every=args.r1_every,
        augment=args.augment,
        lr_decay=args.lr_decay,
        mixing=args.mixing,
        task=args.task,
        l1_weight=args.l1_weight,
        gan_weight=args.gan_weight,
        skips=args.skips,
        cycle_weight=args.cycle_weight,
        identity_weight=args.identity_weight,
    )
    name = f"{cfg.model}{'-' + cfg.scenario if cfg.scenario else ''}-{cfg.dataset}"
    if translator:
        name = f"{cfg.model}-{cfg.task}-{cfg.dataset}"
    out = args.out or config.runs_dir() / name
    if out.exists() and not out.is_dir():
        raise ConfigError(f"--out {out} is a file; the run needs a folder. Choose another --out.")
    cfg.check_resume(out)  # a different run in that folder is refused before anything is written

    from . import data, training

    config.seed_everything(cfg.seed)
    if translator:  # the task's pipeline checks the batch size against its images
        pipe = data.translation_pipeline(
            cfg.task, cfg.dataset, batch_size=cfg.batch_size, subset=cfg.subset, seed=cfg.seed
        )
    else:
        pipe, x, labels = _gan_pipeline(cfg)
    strategy = training.make_strategy(args.strategy)
    replicas = strategy.num_replicas_in_sync
    if args.strategy != "default":
        print(
            f"{type(strategy).__name__} on {replicas} replica(s): "
            f"{', '.join(strategy.extended.worker_devices)}"
        )
    if cfg.batch_size % replicas:
        raise ConfigError(
            f"--batch-size {cfg.batch_size} does not split evenly over the {replicas} "
            f"replicas: use a multiple of {replicas}, e.g. {replicas * 32}."
        )
    if translator:
        from . import translation

        gan = translation.translator_from_config(cfg, strategy=strategy)
        gan.set_preview(*data.translation_examples(cfg.task, cfg.dataset, "test"))
    else:
        gan = training.gan_from_config(cfg, strategy=strategy)
    created = not out.exists()
    print(f"Training {cfg.model} on {cfg.dataset} for {args.epochs} epochs -> {out}")
    try:
        if cfg.clusters:
            training.use_clusters(gan, x, labels)
            training.save_clusters(out, labels, gan.cluster_order)
        training.train(
            gan,
            pipe,
            args.epochs,
            run_dir=out,
            config=cfg,
            sample_every=args.sample_every,
            keep_checkpoints=args.keep_checkpoints,
            strategy=strategy,
            time_budget=args.time_budget,
            budget_clock=args.budget_clock,
            steps_per_call=args.steps_per_call,
        )
    except BaseException as e:
        # a new run that failed before its first checkpoint leaves no folder behind (unless
        # another training, which holds the folder's lock, has just created it)
        mine = not isinstance(e, RunInUseError)
        if mine and created and out.is_dir() and not any((out / "checkpoints").glob("*.index")):
            shutil.rmtree(out, ignore_errors=True)
        raise
    print(
        f"Done. Grids in {out / 'samples'}, timeline {out / 'timeline.gif'}, "
        f"losses {out / 'losses.png'}, history {out / 'history.csv'}."
    )


def _gan_pipeline(cfg):
    """``(pipeline, images, labels)`` of a GAN's run: its training images, with the labels
    (or k-means clusters) a conditional GAN needs."""
    from . import data
    from .errors import ConfigError

    ds = data.load_dataset(cfg.dataset)
    available = min(len(ds.x_train), cfg.subset or len(ds.x_train))
    if cfg.batch_size > available:
        raise ConfigError(
            f"--batch-size {cfg.batch_size} is larger than the {available} training "
            f"images; use a batch size of at most {available}."
        )
    x = ds.x_train[:available]
    labels = ds.y_train[:available] if cfg.model == "cgan" else None
    if cfg.clusters:
        print(f"Clustering the {available} training images into {cfg.clusters} (k-means) ...")
        labels = data.cluster_labels(x, cfg.clusters, cfg.seed)
    pipe = data.make_pipeline(
        x,
        labels,
        batch_size=cfg.batch_size,
        subset=cfg.subset,
        seed=cfg.seed,
    )
    return pipe, x, labels


def _sample(args):
    import numpy as np

    from . import config
    from .errors import ConfigError

    if args.out is not None and (args.out.is_dir() or args.out.suffix.lower() != ".png"):
        raise ConfigError(f"--out {args.out} must name a .png file (not a folder).")
    from . import viz
    from .models import is_conditional
    from .sampling import generate_images, sample_inputs

    if args.run:
        from .training import load_run

        gan, cfg, _ = load_run(args.run)
        generator, noise, num_classes = gan.sampling_generator(), cfg.noise, cfg.num_classes
        if cfg.clusters and args.label is not None:
            # a cluster-conditioned run draws its cluster from z; --label asks for one cluster
            # (its num_classes is already the number of clusters)
            generator = gan.sampling_generator(conditional=True)
        out = args.out or args.run / "samples" / f"seed{args.seed}.png"
    else:
        from . import pretrained

        generator, noise = pretrained.load(args.pretrained), "normal"
        num_classes = 10
        out = (
            args.out
            or config.runs_dir() / "pretrained-samples" / f"{args.pretrained}-seed{args.seed}.png"
        )
    conditional = is_conditional(generator)
    labels = None
    if conditional:
        if args.label is not None and not 0 <= args.label < num_classes:
            raise ConfigError(f"--label must be in 0..{num_classes - 1}, not {args.label}.")
        labels = (
            np.arange(args.n) % num_classes if args.label is None else np.full(args.n, args.label)
        )
    elif args.label is not None:
        source = f"run {args.run}" if args.run else f"the pretrained {args.pretrained}"
        raise ConfigError(
            f"--label needs a conditional model (a cgan run, or cgan-fashion_mnist); {source} "
            "is unconditional."
        )
    z = sample_inputs(generator, args.n, noise, args.seed)
    images = generate_images(generator, z, labels)
    ncols = num_classes if (conditional and args.label is None) else 8
    viz.save_png(viz.upscale(viz.image_grid(images, ncols), 2), out)
    print(f"Wrote {args.n} samples to {out}")


if __name__ == "__main__":
    sys.exit(main())
