"""Pretrained generators shipped with the package, loaded by name.

Notebook 07 and ``gancourse sample --pretrained NAME`` need a generator that already makes
recognisable pictures, without a long training run first. The folder ``gancourse/pretrained/``
holds one ``<name>.weights.h5`` per generator (Keras weights, stored as float16 to keep the
package small) and ``manifest.json``, which records for every name how to rebuild the
architecture (a builder of :mod:`gancourse.models` and its arguments) and how the weights
were trained (command, epochs, wall time, machine, date). ``scripts/train_pretrained.py``
reproduces them with the course's own CLI.

>>> from gancourse import pretrained
>>> pretrained.names()
['cgan-fashion_mnist', 'dcgan-cifar10', 'dcgan-fashion_mnist', 'dcgan-mnist', 'infogan-mnist']
>>> g = pretrained.load("dcgan-fashion_mnist")      # a keras.Model, float32 weights
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np

from .config import quiet_tensorflow

tf = quiet_tensorflow()
import keras  # noqa: E402

from . import models, stylegan  # noqa: E402
from .errors import ModelError  # noqa: E402
from .files import write_text  # noqa: E402
from .weights import check_weights_file, load_checked, save_float16, sha256_of  # noqa: E402

#: The folder of shipped weights and their manifest.
PRETRAINED_DIR = Path(__file__).resolve().parent / "pretrained"

#: Builders a manifest may name. A closed list: the manifest is data, and data should not
#: be able to call arbitrary functions of the package.
BUILDERS = {
    "dcgan_generator": models.dcgan_generator,
    "cgan_dcgan_generator": models.cgan_dcgan_generator,
    "mlp_generator": models.mlp_generator,
    "cgan_mlp_generator": models.cgan_mlp_generator,
    "clustered_generator": models.clustered_generator,
    "infogan_generator": models.infogan_generator,
    "stylegan_generator": stylegan.stylegan_generator,
}

MACHINE = "2 CPU cores, no GPU"

#: What to do about a weights file that fails its checks.
_REMEDY = (
    "Reinstall gancourse (or restore the file from the repository); an exported "
    "generator can be re-exported with gancourse.pretrained.export(), a shipped one "
    "re-created with scripts/train_pretrained.py."
)


def names(directory=None) -> list[str]:
    """Names of the shipped pretrained generators, sorted."""
    return sorted(_manifest(directory)["generators"])


def info(name, directory=None) -> dict:
    """The manifest entry of ``name``: builder and arguments, dataset, how it was trained."""
    generators = _manifest(directory)["generators"]
    if name not in generators:
        known = ", ".join(sorted(generators)) or "(none shipped)"
        raise ModelError(f"Unknown pretrained generator {name!r}. Known: {known}.")
    return dict(generators[name])


def load(name, directory=None):
    """The pretrained generator ``name`` as a ready ``keras.Model`` with float32 weights.

    The architecture is rebuilt from the manifest, the file's layout and SHA-256 are checked
    against it (so a wrong or damaged file gives a clear :class:`ModelError`, not half-loaded
    or NaN weights; see :mod:`gancourse.weights`), then the float16 weights are loaded into
    the float32 model. The returned model carries ``pretrained_name`` and ``dataset_name``
    attributes (used by :mod:`gancourse.widgets` for class names).
    """
    entry = info(name, directory)
    folder = Path(directory) if directory is not None else PRETRAINED_DIR
    path = folder / entry["file"]
    if not path.is_file():
        raise ModelError(
            f"The weights of {name!r} are missing: {path} does not exist. "
            f"Reinstall gancourse, or re-create them with scripts/train_pretrained.py."
        )
    generator = build(entry)
    load_checked(
        generator, path, entry.get("sha256"), what=f"{name!r} ({_describe(entry)})", remedy=_REMEDY
    )
    generator.pretrained_name = name
    generator.dataset_name = entry.get("dataset")
    return generator


def build(entry):
    """An untrained generator with the architecture a manifest entry describes."""
    builder = entry.get("builder")
    if builder not in BUILDERS:
        raise ModelError(
            f"Unknown generator builder {builder!r} in the manifest. Known: {', '.join(BUILDERS)}."
        )
    kwargs = dict(entry.get("kwargs", {}))
    if "image_shape" in kwargs:
        kwargs["image_shape"] = tuple(kwargs["image_shape"])
    return BUILDERS[builder](**kwargs)


def export(
    run_dir, name, command=None, wall_time_s=None, use_ema=True, directory=None, notes=None
) -> Path:
    """Save the sampling generator of a training run (its EMA copy if it has one and
    ``use_ema``) as ``<name>.weights.h5`` with float16 weights, and record it in
    ``manifest.json``. Returns the weights path.

    ``wall_time_s`` defaults to the sum of the run's epoch times (``history.json``), and
    ``cpu_time_s`` is the sum of their CPU times (recorded since 0.2.0). The
    export is checked by rebuilding the generator from the new manifest entry alone, loading
    the file and comparing pictures with the original (``max_abs_diff`` in the manifest).
    """
    from .callbacks import load_history
    from .runs import RunConfig
    from .sampling import sample_inputs
    from .training import load_run

    gan, cfg, epoch = load_run(run_dir)
    generator = gan.sampling_generator(use_ema)
    history = load_history(run_dir)
    if wall_time_s is None:
        wall_time_s = sum(row.get("seconds", 0.0) for row in history) or None
    cpu_time_s = sum(row["cpu_seconds"] for row in history if "cpu_seconds" in row) or None
    folder = Path(directory) if directory is not None else PRETRAINED_DIR
    folder.mkdir(parents=True, exist_ok=True)
    entry = {
        "file": f"{name}.weights.h5",
        "builder": _builder_name(generator),
        "kwargs": _builder_kwargs(generator, cfg),
        "dataset": cfg.dataset,
        "noise": gan.noise,
        "model": cfg.model,
        "epochs": epoch,
        "batch_size": cfg.batch_size,
        "ema": cfg.ema,
        "ema_weights": bool(use_ema and gan.ema_generator is not None),
        "seed": cfg.seed,
        "command": command,
        "wall_time_s": None if wall_time_s is None else round(float(wall_time_s)),
        "machine": MACHINE,
        "date": date.today().isoformat(),
        "params": models.count_params(generator)["total"],
    }
    if cpu_time_s is not None:
        entry["cpu_time_s"] = round(float(cpu_time_s))
    recipe = {k: v for k, v in cfg.options().items() if v != getattr(RunConfig(), k)}
    for k in ("model", "dataset", "batch_size", "ema", "seed", "noise"):  # recorded above
        recipe.pop(k, None)
    if recipe:
        entry["options"] = recipe  # the run's other non-default options (config.json)
    if notes:
        entry["notes"] = notes
    path = save_float16(generator, folder / entry["file"])

    # round trip: rebuild from the entry alone, load, compare with the trained generator
    rebuilt = build(entry)
    check_weights_file(rebuilt, path, what=name, remedy=_REMEDY)
    rebuilt.load_weights(path)
    z = sample_inputs(generator, 64, gan.noise, seed=0)
    args = (
        [z, (np.arange(64) % 10).reshape(-1, 1).astype("int32")]
        if models.is_conditional(generator)
        else z
    )
    a = keras.ops.convert_to_numpy(generator(args, training=False))
    b = keras.ops.convert_to_numpy(rebuilt(args, training=False))
    entry["max_abs_diff"] = round(float(np.abs(a - b).max()), 5)
    entry["bytes"] = path.stat().st_size
    entry["sha256"] = sha256_of(path)

    manifest = _manifest(directory)
    manifest["generators"][name] = entry
    _write_manifest(manifest, folder)
    return path


# --------------------------------------------------------------------------- helpers


def _manifest(directory=None) -> dict:
    folder = Path(directory) if directory is not None else PRETRAINED_DIR
    path = folder / "manifest.json"
    if not path.is_file():
        return {"format": 1, "generators": {}}
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ModelError(f"{path} is not a valid manifest ({e}). Reinstall gancourse.") from None
    manifest.setdefault("generators", {})
    return manifest


def _write_manifest(manifest, folder):
    path = Path(folder) / "manifest.json"
    manifest = {"format": 1, **manifest, "generators": dict(sorted(manifest["generators"].items()))}
    write_text(path, json.dumps(manifest, indent=1) + "\n", "manifest")


def _describe(entry) -> str:
    args = ", ".join(f"{k}={v}" for k, v in entry.get("kwargs", {}).items())
    return f"{entry.get('builder')}({args})"


def _builder_name(generator) -> str:
    """The builder that made ``generator``: every builder names its model after itself."""
    if generator.name not in BUILDERS:
        raise ModelError(
            f"Cannot export a generator named {generator.name!r}: only generators "
            f"built by {', '.join(BUILDERS)} can be rebuilt from a manifest."
        )
    return generator.name


def _builder_kwargs(generator, cfg) -> dict:
    """The builder arguments that rebuild ``generator`` (read off the model itself, so they
    stay right even if ``build_gan``'s defaults change later)."""
    if generator.name == "stylegan_generator":
        return stylegan.builder_kwargs(generator)
    if generator.name == "clustered_generator":  # the conditional generator inside, + prior
        inner = _builder_kwargs(
            next(m for m in generator.layers if isinstance(m, keras.Model)), cfg
        )
        inner.pop("num_classes")
        choice = generator.get_layer("cluster")
        return {**inner, "prior": choice.prior, "order": choice.order}
    kwargs = {
        "latent_dim": models.latent_dim_of(generator),
        "image_shape": list(generator.output_shape[1:]),
    }
    if generator.name == "infogan_generator":  # the latent vector is noise + codes
        noise_dim, categories, continuous = generator.code_sizes
        del kwargs["latent_dim"]
        kwargs.update(noise_dim=noise_dim, categories=categories, continuous=continuous)
    if cfg.model != "gan":
        kwargs["width"] = int(generator.get_layer("reshape").output.shape[-1])
    if models.is_conditional(generator):
        kwargs["num_classes"] = int(cfg.num_classes)
    if cfg.upsampling != "transpose":
        kwargs["upsampling"] = cfg.upsampling
    return kwargs
