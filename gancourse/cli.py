"""Command line: ``gancourse data|train|sample|evaluate ...`` (see ``gancourse --help``).

The CLI calls the same functions as the notebooks: ``data.load_dataset``,
``training.build_gan`` and ``training.train``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from . import __version__


def main(argv=None):
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 0
    from .errors import GancourseError

    try:
        return args.func(args) or 0
    except GancourseError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("\nInterrupted. Re-run the same command to resume from the last checkpoint.",
              file=sys.stderr)
        return 130


def _parser():
    p = argparse.ArgumentParser(prog="gancourse", description="Helpers of the GAN course.")
    p.add_argument("--version", action="version", version=f"gancourse {__version__}")
    sub = p.add_subparsers(title="commands")

    d = sub.add_parser("data", help="list datasets or describe one")
    dsub = d.add_subparsers(title="data commands")
    dl = dsub.add_parser("list", help="the known datasets and whether they are available offline")
    dl.set_defaults(func=_data_list)
    di = dsub.add_parser("info", help="shapes, class counts and pixel statistics of a dataset")
    di.add_argument("name")
    di.set_defaults(func=_data_info)

    t = sub.add_parser("train", help="train a GAN; re-running the same command resumes")
    t.add_argument("--model", choices=("gan", "dcgan", "wgan", "wgan-gp", "cgan"), default="dcgan")
    t.add_argument("--dataset", default="fashion_mnist")
    t.add_argument("--epochs", type=_positive, default=10)
    t.add_argument("--scenario", choices=("baseline", "weak-d", "weak-g"),
                   help="a model of the DCGAN study (dcgan only)")
    t.add_argument("--batch-size", type=_positive, default=64)
    t.add_argument("--subset", type=_positive, help="train on the first N images only")
    t.add_argument("--sample-every", type=_positive, default=1, help="save a grid every N epochs")
    t.add_argument("--ema", type=float, help="EMA decay of the generator weights, e.g. 0.999")
    t.add_argument("--seed", type=int, default=42)
    t.add_argument("--out", type=Path, help="run folder (default: runs/<model>-<dataset>)")
    t.set_defaults(func=_train)

    s = sub.add_parser("sample", help="write a grid of generated images")
    src = s.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", type=Path, help="a run folder written by `gancourse train`")
    src.add_argument("--pretrained", help="a pretrained generator shipped with the package")
    s.add_argument("--n", type=_positive, default=64)
    s.add_argument("--label", type=int, help="class to generate (conditional models)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--out", type=Path, default=Path("samples.png"))
    s.set_defaults(func=_sample)

    e = sub.add_parser("evaluate", help="FID, KID, Inception Score and class histogram of a generator")
    src = e.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", type=Path, help="a run folder written by `gancourse train`")
    src.add_argument("--pretrained", help="a pretrained generator shipped with the package")
    e.add_argument("--n", type=_positive, help="generated images (default 10000; 500 in fast mode)")
    e.add_argument("--dataset", help="reference dataset (default: the generator's own)")
    e.add_argument("--extractor", help="feature extractor: a dataset's classifier (default) or inception")
    e.add_argument("--reference", choices=("test", "train"), default="test")
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--json", action="store_true", help="print the report as JSON")
    e.set_defaults(func=_evaluate)
    return p


def _evaluate(args):
    from .metrics import evaluate_command

    return evaluate_command(args)


def _positive(text):
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


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
        print(f"  {split}: images {s['images']} uint8, labels {s['labels']}, "
              f"pixel mean {s['pixel_mean']:.4f} std {s['pixel_std']:.4f}")
        print("    class counts: " + ", ".join(f"{k} {v}" for k, v in s["class_counts"].items()))


def _train(args):
    from . import config, data, training

    spec = data.get_spec(args.dataset)
    out = args.out or config.runs_dir() / f"{args.model}{'-' + args.scenario if args.scenario else ''}-{spec.name}"
    run_config = {"model": args.model, "dataset": spec.name, "scenario": args.scenario,
                  "latent_dim": 100, "image_shape": list(spec.model_shape),
                  "num_classes": spec.num_classes, "batch_size": args.batch_size,
                  "subset": args.subset, "ema": args.ema, "seed": args.seed}
    training.save_run_config(out, run_config)
    config.seed_everything(args.seed)
    ds = data.load_dataset(spec.name)
    pipe = data.make_pipeline(ds.x_train, ds.y_train if args.model == "cgan" else None,
                              batch_size=args.batch_size, subset=args.subset, seed=args.seed)
    gan = training.build_gan(args.model, spec.model_shape, spec.num_classes, args.scenario,
                             ema=args.ema, seed=args.seed)
    print(f"Training {args.model} on {spec.name} for {args.epochs} epochs -> {out}")
    training.train(gan, pipe, args.epochs, run_dir=out, sample_every=args.sample_every)
    print(f"Done. Grids in {out / 'samples'}, timeline {out / 'timeline.gif'}, "
          f"losses {out / 'losses.png'}, history {out / 'history.csv'}.")


def _sample(args):
    import numpy as np

    from . import viz
    from .errors import ModelError
    from .training import generate_images, sample_latent

    if args.run:
        from .training import load_run

        gan, cfg = load_run(args.run)
        generator, noise = gan.sampling_generator(), gan.noise
        conditional, num_classes = gan.conditional, cfg.get("num_classes", 10)
    else:
        from . import pretrained
        from .models import is_conditional

        generator, noise = pretrained.load(args.pretrained), "normal"
        conditional, num_classes = is_conditional(generator), 10
    labels = None
    if conditional:
        labels = np.arange(args.n) % num_classes if args.label is None else np.full(args.n, args.label)
        if args.label is not None and not 0 <= args.label < num_classes:
            raise ModelError(f"--label must be in 0..{num_classes - 1}")
    elif args.label is not None:
        raise ModelError("--label needs a conditional model (cgan)")
    from .models import latent_dim_of

    z = sample_latent(args.n, latent_dim_of(generator), noise, args.seed)
    images = generate_images(generator, z, labels)
    ncols = num_classes if (conditional and args.label is None) else 8
    viz.save_png(viz.upscale(viz.image_grid(images, ncols), 2), args.out)
    print(f"Wrote {args.n} samples to {args.out}")


if __name__ == "__main__":
    sys.exit(main())
