"""gancourse: the helper package of a hands-on course on Generative Adversarial Networks.

Importing it first silences TensorFlow's start-up logs. The main names:

- data:      ``load_dataset``, ``make_pipeline``, ``image_pipeline``, ``dataset_info``
- models:    ``gancourse.models`` builders (MLP, DCGAN, conditional, critic, scenarios)
- training:  ``GAN``, ``WGAN``, ``ConditionalGAN``, ``train``
- pictures:  ``gancourse.viz``; toys: ``gancourse.toy``
"""
__version__ = "0.1.0"

from .config import is_fast, quiet_tensorflow, seed_everything, setup_notebook  # noqa: E402

quiet_tensorflow()

from .data import DATASETS, dataset_info, image_pipeline, load_dataset, make_pipeline  # noqa: E402
from .errors import (CorruptDataError, DataError, DataNotFoundError, GancourseError,  # noqa: E402
                     ModelError, TrainingError, UnknownDatasetError)
from .training import GAN, WGAN, ConditionalGAN, train  # noqa: E402
from . import callbacks, config, data, exercises, losses, metrics, models, toy, viz  # noqa: E402,F401


def show_source(obj):
    """Display the source code of a package function or class in a notebook (so notebooks
    can show the package's code instead of pasting a copy)."""
    import inspect

    from IPython.display import Markdown, display

    display(Markdown(f"```python\n{inspect.getsource(obj)}\n```"))
