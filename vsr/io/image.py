"""Image files in and out: uint8 RGB arrays, errors that name the file, atomic writes."""

from __future__ import annotations

import contextlib
import os
import tempfile
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import BinaryIO

import cv2
import numpy as np

from vsr.errors import VSRError, VSRWarning, WriteError
from vsr.io.tempfiles import temp_prefix

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")


def _read_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# mkstemp creates files 0600; finished outputs get the mode a plain open() would give them
_FILE_MODE = 0o666 & ~_read_umask()


class FrameReadError(VSRError, OSError):
    """A frame file is missing, unreadable or of the wrong kind."""


_ALPHA_WARNED: set[Path] = set()  # folders (clips) already warned about, one warning each


def _warn_alpha(path: Path) -> None:
    if path.parent not in _ALPHA_WARNED:
        _ALPHA_WARNED.add(path.parent)
        warnings.warn(f"frame {path} has an alpha channel; it is dropped (frames are RGB), "
                      f"here and in the rest of {path.parent}", VSRWarning, stacklevel=3)


class FrameWriteError(WriteError):
    """An output file or folder cannot be written (full disk, bad path, encoder failure)."""


def read_image(path: str | os.PathLike) -> np.ndarray:
    """Read an image as uint8 RGB (H, W, 3); grey images are expanded to 3 channels."""
    path = Path(path)
    if not path.is_file():
        raise FrameReadError(f"frame file not found: {path}")
    data = np.fromfile(str(path), dtype=np.uint8)
    img = cv2.imdecode(data, cv2.IMREAD_UNCHANGED) if data.size else None
    if img is None:
        raise FrameReadError(f"cannot decode frame {path}: not a readable image (corrupt or empty)")
    if img.dtype != np.uint8:
        raise FrameReadError(f"frame {path} has dtype {img.dtype}; expected 8-bit")
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    elif img.shape[2] == 4:
        _warn_alpha(path)
        img = cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    else:
        img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    return img


def encode_image(img: np.ndarray, suffix: str = ".png", params: Sequence[int] = ()) -> bytes:
    """Encode a uint8 RGB (H, W, 3) array to image file bytes (PNG by default); ``params`` are
    OpenCV's ``IMWRITE_*`` flag/value pairs."""
    ok, buf = cv2.imencode(suffix, cv2.cvtColor(img, cv2.COLOR_RGB2BGR), list(params))
    if not ok:
        raise ValueError(f"cannot encode image of shape {img.shape} as {suffix}")
    return buf.tobytes()


def decode_image(data: bytes, name: str = "<bytes>") -> np.ndarray:
    """Decode image bytes (e.g. an LMDB value) to uint8 RGB; ``name`` goes into errors."""
    img = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise FrameReadError(f"cannot decode frame {name}")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


@contextlib.contextmanager
def atomic_file(path: str | os.PathLike) -> Iterator[BinaryIO]:
    """A binary handle on a temporary file beside ``path``, renamed to it only on success, so
    readers never see half a file and a failure leaves the old one (or none). An OSError (a full
    disk, a name the file system refuses) becomes a ``WriteError`` naming ``path``."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=temp_prefix(path), suffix=".tmp")
    except OSError as exc:
        raise _write_error(path, exc) from exc
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
        os.chmod(tmp, _FILE_MODE)
        os.replace(tmp, path)
    except BaseException as exc:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(exc, OSError) and not isinstance(exc, VSRError):  # not a frame read
            raise _write_error(path, exc) from exc
        raise


def _write_error(path: Path, exc: OSError) -> WriteError:
    errno = f"[Errno {exc.errno}] " if exc.errno else ""
    error = WriteError(f"cannot write {path}: {errno}{exc.strerror or exc}")
    error.errno = exc.errno
    return error


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write ``data`` through :func:`atomic_file`."""
    with atomic_file(path) as f:
        f.write(data)


def write_image(path: str | os.PathLike, img: np.ndarray) -> None:
    """Write a uint8 RGB array atomically; the format follows the suffix."""
    atomic_write_bytes(path, encode_image(img, Path(path).suffix or ".png"))


def list_frames(folder: str | os.PathLike) -> list[Path]:
    """Image files of a frame folder in name order; an empty or missing folder is an error."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FrameReadError(f"frame folder not found: {folder}")
    frames = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not frames:
        raise FrameReadError(f"frame folder {folder} holds no images ({', '.join(IMAGE_SUFFIXES)})")
    return frames
