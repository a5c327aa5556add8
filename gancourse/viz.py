"""Pictures: image grids, loss curves, GIF timelines and 2-D scatter plots.

Grids are built as uint8 arrays with NumPy (fast, and the same bytes go to PNG files, GIF
frames and widgets); matplotlib is used for figures with axes.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

from .data import to_uint8
from .errors import ModelError
from .files import atomic_write


def image_grid(images, ncols=8, pad=2, pad_value=255) -> np.ndarray:
    """Tile images (N, H, W[, C]) in [-1, 1] float or uint8 into one uint8 picture.
    Grayscale stays (H', W'); colour gives (H', W', 3)."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        images = to_uint8(images)
    if images.ndim == 4 and images.shape[-1] == 1:
        images = images[..., 0]
    if images.ndim not in (3, 4):
        raise ValueError(f"image_grid expects (N, H, W) or (N, H, W, C) images, got {images.shape}")
    n = len(images)
    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    h, w = images.shape[1:3]
    shape = (nrows * (h + pad) + pad, ncols * (w + pad) + pad) + images.shape[3:]
    grid = np.full(shape, pad_value, dtype=np.uint8)
    for i, img in enumerate(images):
        r, c = divmod(i, ncols)
        grid[
            pad + r * (h + pad) : pad + r * (h + pad) + h,
            pad + c * (w + pad) : pad + c * (w + pad) + w,
        ] = img
    return grid


def upscale(picture, factor=2) -> np.ndarray:
    """Nearest-neighbour enlargement (28x28 digits are tiny on a screen)."""
    return np.repeat(np.repeat(picture, factor, axis=0), factor, axis=1)


def save_png(picture, path) -> Path:
    """Write a uint8 picture as PNG (written to a temp name, then renamed)."""
    import imageio.v3 as iio

    path = Path(path)
    with atomic_write(path, "picture") as tmp:
        iio.imwrite(tmp, picture, extension=".png")
    return path


def read_picture(path) -> np.ndarray:
    """An image file (PNG, JPEG or another format imageio reads) as uint8 (H, W) or (H, W, C),
    an opaque alpha channel dropped. A file that cannot be read, whose pixels are not 8-bit or
    that has transparent pixels is a :class:`~gancourse.errors.ModelError` that says what to
    change."""
    import imageio.v3 as iio

    try:
        image = np.asarray(iio.imread(path))
    except (OSError, ValueError) as e:
        raise ModelError(f"could not read the image {path}: {e}") from None
    if image.dtype != np.uint8:
        top = image.max() if image.size and np.issubdtype(image.dtype, np.number) else "?"
        raise ModelError(
            f"{path} has {image.dtype} pixels (values up to {top}); expected an 8-bit image "
            "(values 0-255). Save it as an 8-bit PNG."
        )
    if image.ndim == 3 and image.shape[-1] in (2, 4):  # grey or RGB with alpha
        if (image[..., -1] != 255).any():
            raise ModelError(f"{path} has transparent pixels; save it without transparency.")
        image = image[..., :-1]
    return image


def png_bytes(picture) -> bytes:
    """PNG encoding of a uint8 picture (for ipywidgets.Image and IPython.display)."""
    import imageio.v3 as iio

    return iio.imwrite("<bytes>", picture, extension=".png")


def show_images(images, ncols=8, title=None, scale=2, labels=None):
    """Show images in a notebook as one grid (labels, if given, are printed below)."""
    from IPython.display import Image, display

    display(Image(png_bytes(upscale(image_grid(images, ncols), scale))))
    if title:
        print(title)
    if labels is not None:
        print(" | ".join(str(s) for s in labels))


def make_gif(frames, path, duration_ms=300, scale=1) -> Path:
    """Write frames (uint8 pictures or PNG paths) as a looping GIF, last frame held longer.
    ``scale`` enlarges each pixel; 1 keeps the file small (a notebook can still show it
    larger with ``IPython.display.Image(data, width=...)``, at no cost in size)."""
    import imageio.v3 as iio

    pics = [iio.imread(f) if isinstance(f, (str, Path)) else np.asarray(f) for f in frames]
    if not pics:
        raise ValueError("make_gif needs at least one frame")
    pics = [upscale(p, scale) for p in pics]
    durations = [duration_ms] * (len(pics) - 1) + [max(duration_ms, 1500)]
    if len(pics) == 1:  # Pillow wants a plain number for a single frame
        durations = durations[0]
    path = Path(path)
    with atomic_write(path, "GIF") as tmp:
        iio.imwrite(tmp, np.stack(pics), extension=".gif", duration=durations, loop=0)
    return path


def plot_history(history, keys=None, ax=None, title=None, label_prefix=""):
    """Plot per-epoch curves from a History, a dict of lists or a list of row dicts."""
    import matplotlib.pyplot as plt

    hist = _as_columns(history)
    epochs = hist.get("epoch") or list(range(1, len(next(iter(hist.values()), [])) + 1))
    keys = keys or [k for k in hist if k.endswith("loss")]
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 3.5))
    for k in keys:
        if k in hist:
            ax.plot(
                epochs,
                hist[k],
                marker="o" if len(epochs) < 30 else None,
                label=f"{label_prefix}{k}",
            )
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("epoch")
    ax.set_ylabel("value")
    ax.grid(alpha=0.3)
    ax.legend()
    if title:
        ax.set_title(title)
    return ax


def figure_png(fig) -> bytes:
    """PNG bytes of a matplotlib figure (and close it)."""
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    plt.close(fig)
    return buf.getvalue()


def scatter_2d(points, centers=None, ax=None, title=None, lim=None, color="C0"):
    """Scatter plot of 2-D samples, with the mixture's mode centres as red crosses."""
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(3.5, 3.5))
    points = np.asarray(points)
    ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.4, color=color)
    if centers is not None:
        ax.scatter(centers[:, 0], centers[:, 1], marker="x", color="red", s=30)
    if lim:
        ax.set_xlim(-lim, lim)
        ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def _as_columns(history) -> dict:
    if hasattr(history, "history"):
        history = history.history
    if isinstance(history, list):
        keys = list(history[0]) if history else []
        return {k: [row[k] for row in history] for k in keys}
    return dict(history)


def toy_frames(frames, mixture, title=None, lim=3.0):
    """One row of scatter plots, one per ``(step, samples, metrics)`` frame from
    :func:`gancourse.toy.train_toy`; each titled with the step, modes covered and quality."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(frames), figsize=(2.2 * len(frames), 2.5))
    for ax, (step, pts, m) in zip(np.atleast_1d(axes), frames):
        scatter_2d(
            pts,
            mixture.centers,
            ax=ax,
            lim=lim,
            title=f"step {step}\n{m['modes_covered']}/{m['num_modes']} modes, "
            f"{m['high_quality']:.0%} HQ",
        )
    if title:
        fig.suptitle(title, y=1.05)
    plt.tight_layout()
    return fig
