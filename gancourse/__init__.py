"""gancourse: the helper package of a hands-on course on Generative Adversarial Networks.

The main names (each also in its module):

- data:      ``load_dataset``, ``make_pipeline``, ``image_pipeline``, ``dataset_info``
- models:    ``gancourse.models`` builders (MLP, DCGAN, conditional, critic, scenarios)
- training:  ``GAN``, ``WGAN``, ``ConditionalGAN``, ``build_gan``, ``train``; ``InfoGAN``
- translation: ``Pix2Pix``, ``CycleGAN``, ``build_translator`` (image-to-image translation)
- sampling:  ``gancourse.sampling.sample_latent`` / ``sample_codes`` / ``generate_images``
- runs:      ``RunConfig``, the record of what a training run is
- pictures:  ``gancourse.viz``; toys: ``gancourse.toy``; metrics: ``gancourse.metrics``

Importing the package is light: TensorFlow is imported (with its start-up logs silenced)
only when a name that needs it is first used, e.g. ``gancourse.GAN`` or ``gancourse.models``.
"""

import importlib

from .config import is_fast, quiet_tensorflow, seed_everything, setup_notebook
from .data import DATASETS, dataset_info, image_pipeline, load_dataset, make_pipeline
from .errors import (
    ConfigError,
    CorruptDataError,
    DataError,
    DataNotFoundError,
    GancourseError,
    ModelError,
    OutputError,
    RunInUseError,
    TrainingError,
    UnknownDatasetError,
)
from .runs import RunConfig
from .version import __version__

#: Submodules loaded on first use (``gancourse.viz`` ...), so ``import gancourse`` stays fast.
SUBMODULES = (
    "augment",
    "callbacks",
    "cli",
    "config",
    "data",
    "editing",
    "errors",
    "evaluation",
    "exercises",
    "files",
    "losses",
    "metrics",
    "models",
    "playground",
    "pretrained",
    "runs",
    "sampling",
    "stylegan",
    "toy",
    "training",
    "translation",
    "viz",
    "weights",
    "widgets",
)

#: Names re-exported from a submodule, loaded on first use.
_LAZY_NAMES = {
    "GAN": "training",
    "WGAN": "training",
    "ConditionalGAN": "training",
    "InfoGAN": "training",
    "build_gan": "training",
    "train": "training",
    "make_strategy": "training",
    "Pix2Pix": "translation",
    "CycleGAN": "translation",
    "build_translator": "translation",
}

__all__ = [
    "__version__",
    "show_source",
    "is_fast",
    "quiet_tensorflow",
    "seed_everything",
    "setup_notebook",
    "DATASETS",
    "dataset_info",
    "image_pipeline",
    "load_dataset",
    "make_pipeline",
    "RunConfig",
    "GancourseError",
    "DataError",
    "UnknownDatasetError",
    "DataNotFoundError",
    "CorruptDataError",
    "ModelError",
    "ConfigError",
    "OutputError",
    "RunInUseError",
    "TrainingError",
    *_LAZY_NAMES,
]


def __getattr__(name):
    if name in _LAZY_NAMES:
        return getattr(importlib.import_module(f".{_LAZY_NAMES[name]}", __name__), name)
    if name in SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'gancourse' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_LAZY_NAMES) | set(SUBMODULES))


def show_source(obj):
    """Display the source code of a package function or class in a notebook (so notebooks
    can show the package's code instead of pasting a copy)."""
    import inspect

    from IPython.display import Markdown, display

    display(Markdown(f"```python\n{inspect.getsource(obj)}\n```"))
