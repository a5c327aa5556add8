"""Writing files so that nothing is ever left half-written.

Every file the package writes (dataset archives, sample grids, GIFs, history, exported
weights, manifests, run configurations) goes through :func:`atomic_write`: the content is
written to a hidden temporary file next to the target and renamed over it only when
complete. A crash, a kill or a full disk mid-write leaves the previous file intact and no
temporary file behind, and the error a user sees says what happened and what to do.
"""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

from .errors import OutputError


@contextlib.contextmanager
def atomic_write(path, what: str = "file"):
    """Context manager yielding a temporary path to write ``path``'s new content to.

    On leaving the block the temporary file replaces ``path`` (``os.replace`` is atomic on
    POSIX and Windows). If the block raises, the temporary file is deleted and ``path`` is
    untouched; an ``OSError`` (disk full, read-only folder, no permission) becomes an
    :class:`~gancourse.errors.OutputError` naming the file and the fix. The temporary name
    keeps the target's extensions (``.npz``, ``.png``, ``.weights.h5``), which some writers
    use to pick the format.

        with atomic_write(run_dir / "history.json") as tmp:
            tmp.write_text(text)
    """
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial-{os.getpid()}{''.join(path.suffixes)}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        os.replace(tmp, path)
    except OSError as e:
        raise output_error(path, e, what) from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def write_text(path, text: str, what: str = "file") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write`)."""
    with atomic_write(path, what) as tmp:
        tmp.write_text(text)
    return Path(path)


def output_error(path, error: OSError, what: str = "file") -> OutputError:
    """The :class:`OutputError` for an ``OSError`` met while writing ``path``."""
    reason = error.strerror or str(error)
    if error.errno == errno.ENOSPC:
        fix = "The disk is full: free some space, then run the same command again."
    elif error.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        fix = (
            "The folder is not writable: choose another output folder (e.g. --out) or fix "
            "its permissions, then run the same command again."
        )
    elif error.errno in (errno.EISDIR, errno.ENOTDIR, errno.EEXIST):
        fix = "A folder and a file are in each other's way: choose another output path."
    else:
        fix = "Check that the folder exists and is writable, then run the same command again."
    return OutputError(f"Could not write the {what} {path}: {reason}. Nothing was changed. {fix}")
