"""Shipped weights files: checked before they are loaded, stored small.

The package ships Keras ``.weights.h5`` files (the pretrained generators of
:mod:`gancourse.pretrained`, the classifiers of :mod:`gancourse.evaluation`), each recorded
in a manifest with its SHA-256. Before a file is loaded it is checked twice:

- its layout (the name and shape of every array) must be exactly what the model would
  save, so a file of another architecture gives a clear error that says what differs,
  instead of half-loaded weights;
- its SHA-256 must be the one in the manifest, so a damaged file (a few overwritten bytes
  would otherwise load as NaN weights), a Git LFS pointer, or the file of another model
  with the same layout (``dcgan-mnist`` in place of ``dcgan-fashion_mnist``) is refused.

Shipped files hold float16 arrays: half the size, and Keras casts them back to the model's
float32 on loading.
"""

from __future__ import annotations

import hashlib
import tempfile
import warnings
from pathlib import Path

import numpy as np

from .errors import ModelError
from .files import atomic_write


def load_checked(model, path, sha256, what="this model", remedy=""):
    """Load the weights file ``path`` into ``model`` after :func:`check_weights_file` and
    :func:`check_sha256`; returns ``model``. ``what`` names the model in error messages and
    ``remedy`` says what to do about a bad file."""
    check_weights_file(model, path, what, remedy)
    check_sha256(path, sha256, what, remedy)
    with warnings.catch_warnings():  # the layout is already checked; Keras' notes are noise
        warnings.simplefilter("ignore")
        model.load_weights(path)
    return model


def check_weights_file(model, path, what="this model", remedy=""):
    """Raise :class:`ModelError` unless the ``.weights.h5`` file at ``path`` holds exactly
    the arrays (names and shapes) that ``model`` would save."""
    try:
        found = h5_layout(path)
    except (OSError, RuntimeError) as e:  # h5py: RuntimeError for a damaged symbol table
        raise ModelError(
            _sentence(
                f"{path} is not a readable Keras weights file ({e}); it is "
                f"damaged, or a Git LFS pointer instead of the file",
                remedy,
            )
        ) from None
    with tempfile.TemporaryDirectory() as tmp:
        reference = Path(tmp) / "reference.weights.h5"
        model.save_weights(reference)
        expected = h5_layout(reference)
    if found == expected:
        return
    problems = []
    for key in sorted(set(found) | set(expected)):
        if key not in found:
            problems.append(f"{key} is missing from the file (model: {expected[key]})")
        elif key not in expected:
            problems.append(f"{key} {found[key]} is in the file but not in the model")
        elif found[key] != expected[key]:
            problems.append(
                f"{key} has shape {found[key]} in the file but {expected[key]} in the model"
            )
    more = f" (and {len(problems) - 3} more)" if len(problems) > 3 else ""
    raise ModelError(
        _sentence(
            f"The weights file {path} does not match the architecture of {what}: "
            f"{'; '.join(problems[:3])}{more}. It was written for another architecture or is "
            f"damaged",
            remedy,
        )
    )


def check_sha256(path, expected, what="this model", remedy=""):
    """Raise :class:`ModelError` unless the SHA-256 of the file at ``path`` is ``expected``
    (the hex digest a manifest records). A missing record is refused too: an unrecorded
    file cannot be told from a damaged one."""
    if not expected:
        raise ModelError(
            _sentence(
                f"The manifest records no SHA-256 for the weights of {what} "
                f"({path}), so the file cannot be checked",
                remedy,
            )
        )
    actual = sha256_of(path)
    if actual != expected:
        raise ModelError(
            _sentence(
                f"{path} is not the weights file recorded for {what}: its SHA-256 begins "
                f"{actual[:16]} where the manifest records {expected[:16]}. The file is damaged, "
                f"or it belongs to another model with the same layout",
                remedy,
            )
        )


def sha256_of(path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB pieces."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def save_float16(model, path) -> Path:
    """Save ``model``'s weights to ``path`` with every float array stored as float16, written
    atomically (a crash leaves the previous file intact). Returns ``path``."""
    path = Path(path)
    with atomic_write(path, "weights file") as tmp:
        model.save_weights(tmp)
        to_float16(tmp)
    return path


def h5_layout(path) -> dict:
    """``{dataset path: shape}`` of every array in an HDF5 file."""
    import h5py

    layout = {}
    with h5py.File(path, "r") as f:
        f.visititems(
            lambda key, obj: (
                layout.__setitem__(key, tuple(obj.shape)) if isinstance(obj, h5py.Dataset) else None
            )
        )
    return layout


def to_float16(path):
    """Rewrite an HDF5 weights file with every float array stored as float16 (half the
    size; generated pictures change by far less than one grey level, classifier accuracy
    not measurably). A new file is written, because HDF5 does not give back the space of
    deleted arrays."""
    import h5py

    path = Path(path)
    half = path.with_name(path.name + ".f16")
    with h5py.File(path, "r") as src, h5py.File(half, "w") as dst:
        dst.attrs.update(dict(src.attrs))

        def copy(key, obj):
            if isinstance(obj, h5py.Group):
                dst.require_group(key).attrs.update(dict(obj.attrs))
                return
            data = obj[()]
            if np.issubdtype(data.dtype, np.floating):
                data = data.astype("float16")
            dst.create_dataset(key, data=data).attrs.update(dict(obj.attrs))

        src.visititems(copy)
    half.replace(path)


# --------------------------------------------------------------------------- helpers


def _sentence(problem, remedy):
    """A message of the problem and, when given, what to do about it."""
    return f"{problem}. {remedy}".strip() if remedy else f"{problem}."
