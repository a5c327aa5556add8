"""Pretrained generators and image-to-image translators shipped with the package, loaded
by name.

Notebook 07 and ``gancourse sample --pretrained NAME`` need a generator that already makes
recognisable pictures, without a long training run first; notebooks 11 and 12 and
``gancourse translate --pretrained NAME`` a translator that already translates. The folder
``gancourse/pretrained/`` holds one ``<name>.weights.h5`` per model (Keras weights, stored as
float16 to keep the package small) and ``manifest.json``, which records for every name how
to rebuild the architecture (a builder of :mod:`gancourse.models`, :mod:`gancourse.stylegan`
or :mod:`gancourse.translation` and its arguments) and how the weights were trained
(command, epochs, CPU and wall time, machine, date). Generators and translators are listed
apart (``"generators"``, ``"translators"``). ``scripts/train_pretrained.py`` reproduces them
with the course's own CLI.

>>> from gancourse import pretrained
>>> pretrained.names()
['cgan-fashion_mnist', 'dcgan-cifar10', 'dcgan-fashion_mnist', 'dcgan-mnist', 'infogan-mnist']
>>> g = pretrained.load("dcgan-fashion_mnist")      # a keras.Model, float32 weights
>>> pretrained.names(kind="translator")
['cyclegan-mnist-texture', 'pix2pix-colorize']
>>> colouriser = pretrained.load_translator("pix2pix-colorize")   # TranslatorNetworks
>>> colour = colouriser.translate(grey_images)
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np

from .config import quiet_tensorflow

tf = quiet_tensorflow()
import keras  # noqa: E402

from . import models, stylegan, translation  # noqa: E402
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

#: Builders a translator's manifest entry may name (its generator, or CycleGAN's pair).
TRANSLATOR_BUILDERS = {
    "unet_generator": translation.unet_generator,
    "cyclegan_generators": translation.cyclegan_generators,
}

#: The manifest's section of each kind of model. Entries in "generators" (all entries
#: written before translators were shipped) are generators.
SECTIONS = {"generator": "generators", "translator": "translators"}

MACHINE = "2 CPU cores, no GPU"

#: What to do about a weights file that fails its checks.
_REMEDY = (
    "Reinstall gancourse (or restore the file from the repository); an exported "
    "model can be re-exported with gancourse.pretrained.export(), a shipped one "
    "re-created with scripts/train_pretrained.py."
)

#: How each kind is loaded, in Python and on the command line (for error messages).
_LOADERS = {
    "generator": ("load", "gancourse sample --pretrained"),
    "translator": ("load_translator", "gancourse translate --pretrained"),
}


def names(directory=None, kind="generator") -> list[str]:
    """Names of the shipped pretrained generators (``kind="translator"``: translators),
    sorted."""
    return sorted(_manifest(directory)[_section(kind)])


def info(name, directory=None) -> dict:
    """The manifest entry of ``name`` (a generator or a translator): builder and arguments,
    dataset, how it was trained."""
    kind = "translator" if name in _manifest(directory)["translators"] else "generator"
    return _entry(name, directory, kind)


def load(name, directory=None):
    """The pretrained generator ``name`` as a ready ``keras.Model`` with float32 weights.

    The architecture is rebuilt from the manifest, the file's layout and SHA-256 are checked
    against it (so a wrong or damaged file gives a clear :class:`ModelError`, not half-loaded
    or NaN weights; see :mod:`gancourse.weights`), then the float16 weights are loaded into
    the float32 model. The returned model carries ``pretrained_name`` and ``dataset_name``
    attributes (used by :mod:`gancourse.widgets` for class names).
    """
    entry = _entry(name, directory, "generator")
    generator = _load_entry(name, entry, directory)
    generator.pretrained_name = name
    generator.dataset_name = entry.get("dataset")
    return generator


def load_translator(name, directory=None):
    """The pretrained image-to-image translator ``name`` as a
    :class:`~gancourse.translation.TranslatorNetworks` (its generator, or both of a
    CycleGAN's, with float32 weights; no discriminator), checked as :func:`load` checks a
    generator. It translates like a trained model: ``.translate(images, direction)``,
    ``.directions``, ``.task``, ``.dataset``."""
    entry = _entry(name, directory, "translator")
    network = _load_entry(name, entry, directory)
    return translation.TranslatorNetworks(network, entry["task"], entry.get("dataset"), name)


def build(entry):
    """An untrained network with the architecture a manifest entry describes (a generator,
    or a translator's generator(s) for an entry of ``"kind": "translator"``)."""
    kind = entry.get("kind", "generator")
    builders = TRANSLATOR_BUILDERS if kind == "translator" else BUILDERS
    builder = entry.get("builder")
    if builder not in builders:
        raise ModelError(
            f"Unknown {kind} builder {builder!r} in the manifest. Known: {', '.join(builders)}."
        )
    kwargs = dict(entry.get("kwargs", {}))
    for key in kwargs:
        if key.endswith("shape") and isinstance(kwargs[key], list):
            kwargs[key] = tuple(kwargs[key])
    return builders[builder](**kwargs)


def export(
    run_dir, name, command=None, wall_time_s=None, use_ema=True, directory=None, notes=None
) -> Path:
    """Save the sampling generator of a training run (its EMA copy if it has one and
    ``use_ema``) as ``<name>.weights.h5`` with float16 weights, and record it in
    ``manifest.json``. Returns the weights path.

    A pix2pix or CycleGAN run (its config says which) is shipped as a translator: its
    generator, or CycleGAN's two (:func:`gancourse.translation.cyclegan_generators`, one
    file), without discriminators, recorded under ``"translators"`` with its task
    (:func:`load_translator` loads it).

    ``wall_time_s`` defaults to the sum of the run's epoch times (``history.json``), and
    ``cpu_time_s`` is the sum of their CPU times (recorded since 0.2.0). The
    export is checked by rebuilding the network from the new manifest entry alone, loading
    the file and comparing its outputs with the original's (``max_abs_diff`` in the
    manifest; a translator's on 64 random images of each side's shape).
    """
    from .callbacks import load_history
    from .runs import TRANSLATORS, RunConfig, load_config
    from .training import load_run

    kind = "translator" if load_config(run_dir).model in TRANSLATORS else "generator"
    manifest = _manifest(directory)
    for other, section in SECTIONS.items():
        if other != kind and name in manifest[section]:
            raise ModelError(
                f"{name!r} is already the name of a pretrained {other}: give the {kind} "
                f"another name."
            )
    if kind == "translator":
        model, cfg, epoch = translation.load_run(run_dir)
        network = model.sampling_generator(use_ema)
        builder, kwargs = translation.builder_of(network)
        about = {"kind": kind, "task": cfg.task, "dataset": cfg.dataset}
        about["directions"] = list(model.directions)
    else:
        model, cfg, epoch = load_run(run_dir)
        network = model.sampling_generator(use_ema)
        builder, kwargs = _builder_name(network), _builder_kwargs(network, cfg)
        about = {"dataset": cfg.dataset, "noise": model.noise}
    history = load_history(run_dir)
    if wall_time_s is None:
        wall_time_s = sum(row.get("seconds", 0.0) for row in history) or None
    cpu_time_s = sum(row["cpu_seconds"] for row in history if "cpu_seconds" in row) or None
    folder = Path(directory) if directory is not None else PRETRAINED_DIR
    folder.mkdir(parents=True, exist_ok=True)
    entry = {
        "file": f"{name}.weights.h5",
        "builder": builder,
        "kwargs": kwargs,
        **about,
        "model": cfg.model,
        "epochs": epoch,
        "batch_size": cfg.batch_size,
        "ema": cfg.ema,
        "ema_weights": bool(use_ema and model.ema_generator is not None),
        "seed": cfg.seed,
        "command": command,
        "wall_time_s": None if wall_time_s is None else round(float(wall_time_s)),
        "machine": MACHINE,
        "date": date.today().isoformat(),
        "params": models.count_params(network)["total"],
    }
    if cpu_time_s is not None:
        entry["cpu_time_s"] = round(float(cpu_time_s))
    recipe = {k: v for k, v in cfg.options().items() if v != getattr(RunConfig(), k)}
    for k in ("model", "dataset", "task", "batch_size", "ema", "seed", "noise"):  # above
        recipe.pop(k, None)
    if recipe:
        entry["options"] = recipe  # the run's other non-default options (config.json)
    if notes:
        entry["notes"] = notes
    path = save_float16(network, folder / entry["file"])

    # round trip: rebuild from the entry alone, load, compare with the trained network
    rebuilt = build(entry)
    check_weights_file(rebuilt, path, what=name, remedy=_REMEDY)
    rebuilt.load_weights(path)
    args = _probe_inputs(network, model, kind)
    a, b = (keras.tree.flatten(net(args, training=False)) for net in (network, rebuilt))
    diff = max(float(np.abs(np.asarray(x) - np.asarray(y)).max()) for x, y in zip(a, b))
    entry["max_abs_diff"] = round(diff, 5)
    entry["bytes"] = path.stat().st_size
    entry["sha256"] = sha256_of(path)

    manifest = _manifest(directory)
    manifest[SECTIONS[kind]][name] = entry
    _write_manifest(manifest, folder)
    return path


# --------------------------------------------------------------------------- helpers


def _section(kind) -> str:
    if kind not in SECTIONS:
        raise ModelError(f"kind must be 'generator' or 'translator', not {kind!r}")
    return SECTIONS[kind]


def _entry(name, directory, kind) -> dict:
    """The manifest entry of the ``kind`` ``name``; a :class:`ModelError` that lists the
    known names, or says how to load a name of the other kind."""
    manifest = _manifest(directory)
    entries = manifest[_section(kind)]
    if name in entries:
        return dict(entries[name])
    for other, section in SECTIONS.items():
        if other != kind and name in manifest[section]:
            function, command = _LOADERS[other]
            raise ModelError(
                f"{name!r} is a pretrained {other}, not a {kind}: load it with "
                f"gancourse.pretrained.{function}({name!r}) (on the command line: "
                f"{command} {name})."
            )
    known = ", ".join(sorted(entries)) or "(none shipped)"
    raise ModelError(f"Unknown pretrained {kind} {name!r}. Known: {known}.")


def _load_entry(name, entry, directory):
    """The network of a manifest entry with the weights of its file, checked
    (:func:`gancourse.weights.load_checked`)."""
    folder = Path(directory) if directory is not None else PRETRAINED_DIR
    path = folder / entry["file"]
    if not path.is_file():
        raise ModelError(
            f"The weights of {name!r} are missing: {path} does not exist. "
            f"Reinstall gancourse, or re-create them with scripts/train_pretrained.py."
        )
    network = build(entry)
    return load_checked(
        network, path, entry.get("sha256"), what=f"{name!r} ({_describe(entry)})", remedy=_REMEDY
    )


def _probe_inputs(network, model, kind):
    """Inputs to compare a network's outputs before and after its export: 64 latent
    vectors (and labels 0-9) for a generator, 64 images in [-1, 1] of each input's shape
    for a translator."""
    if kind == "translator":
        rng = np.random.default_rng(0)
        shapes = [(64, *x.shape[1:]) for x in network.inputs]
        images = [rng.uniform(-1, 1, shape).astype("float32") for shape in shapes]
        return images if len(images) > 1 else images[0]
    from .sampling import sample_inputs

    z = sample_inputs(network, 64, model.noise, seed=0)
    if models.is_conditional(network):
        return [z, (np.arange(64) % 10).reshape(-1, 1).astype("int32")]
    return z


def _manifest(directory=None) -> dict:
    folder = Path(directory) if directory is not None else PRETRAINED_DIR
    path = folder / "manifest.json"
    if not path.is_file():
        return {"format": 1, "generators": {}, "translators": {}}
    try:
        manifest = json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ModelError(f"{path} is not a valid manifest ({e}). Reinstall gancourse.") from None
    for section in SECTIONS.values():
        manifest.setdefault(section, {})
    return manifest


def _write_manifest(manifest, folder):
    path = Path(folder) / "manifest.json"
    manifest = {"format": 1, **manifest}
    for section in SECTIONS.values():  # sorted; no empty "translators" section
        entries = dict(sorted(manifest.pop(section).items()))
        if entries or section == "generators":
            manifest[section] = entries
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
