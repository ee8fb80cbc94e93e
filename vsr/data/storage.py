"""Where a dataset's frames live: clip folders on disk or an LMDB, read through one interface.

A frame is addressed by ``(clip, name)``: the clip is a relative posix path (``000``,
``00001/0001``), the name a file name (``im1.png``). On disk that is ``root/clip/name``; in an
LMDB it is the BasicSR key ``clip/stem`` (MODELS.md §7.7: value = PNG bytes, BGR), so LMDBs made
by BasicSR/KAIR and by ``scripts/create_lmdb.py`` are read alike and every dataset that reads
through a ``FrameStore`` works from either backend.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path, PurePosixPath
from typing import Annotated

import lmdb
import numpy as np

from vsr.config.data_root import DataPath
from vsr.io.image import IMAGE_SUFFIXES, FrameReadError, decode_image, list_frames, read_image
from vsr.io.video import VIDEO_SUFFIXES

PathLike = str | os.PathLike
# a dataset parameter read under the data root when it comes from a config (vsr.config.data_root)
DataPathLike = Annotated[str | os.PathLike, DataPath()]
LMDB_META = "meta_info.txt"
_NUMBERED = re.compile(r"^(.*?)(\d+)$")


def frame_key(clip: str, name: str) -> str:
    """BasicSR LMDB key of a frame: relative path without extension (``00001/0001/im1``)."""
    stem = PurePosixPath(name).stem
    return stem if clip in ("", ".") else f"{clip}/{stem}"


@dataclass(frozen=True, eq=False)
class FrameRef:
    """One frame of a store; ``str()`` gives its location for error messages."""

    store: FrameStore
    clip: str
    name: str

    @property
    def stem(self) -> str:
        return PurePosixPath(self.name).stem

    @property
    def suffix(self) -> str:
        return PurePosixPath(self.name).suffix

    def read(self) -> np.ndarray:
        """uint8 RGB (H, W, 3)."""
        return self.store.read(self.clip, self.name)

    def __str__(self) -> str:
        return self.store.locate(self.clip, self.name)


class FrameStore(ABC):
    """Clips of frames under one root, whatever the backend."""

    @abstractmethod
    def clips(self) -> list[str]:
        """Every clip, sorted."""

    @abstractmethod
    def has_clip(self, clip: str) -> bool: ...

    @abstractmethod
    def frame_names(self, clip: str) -> list[str]:
        """File names of a clip's frames, in no particular order; FrameReadError if it has none."""

    @abstractmethod
    def read(self, clip: str, name: str) -> np.ndarray:
        """Frame as uint8 RGB (H, W, 3); FrameReadError naming the frame if missing or corrupt."""

    @abstractmethod
    def locate(self, clip: str, name: str | None = None) -> str:
        """Human-readable location of a clip or frame, for error messages."""

    def frames(self, clip: str, expected: int | None = None) -> list[FrameRef]:
        """Frames of one clip in natural order, with gaps in the numbering reported by name.

        Natural order keeps ``im2`` before ``im10``; a gap (``0003`` between ``0002`` and ``0004``
        missing) would otherwise silently join two motion segments into one window.
        """
        frames = [FrameRef(self, clip, name) for name in sorted(self.frame_names(clip))]
        matches = [_NUMBERED.match(f.stem) for f in frames]
        if all(matches) and len({m.group(1) for m in matches}) == 1:
            numbered = sorted(zip((int(m.group(2)) for m in matches), frames), key=lambda p: p[0])
            frames = [f for _, f in numbered]
            for (prev_n, prev), (n, _) in itertools.pairwise(numbered):
                if n != prev_n + 1:
                    width = len(_NUMBERED.match(prev.stem).group(2))  # keeps zero padding
                    missing = f"{matches[0].group(1)}{prev_n + 1:0{width}d}{prev.suffix}"
                    raise FrameReadError(
                        f"frame not found: {self.locate(clip, missing)} (gap in numbering)"
                    )
        if expected is not None and len(frames) != expected:
            raise FrameReadError(
                f"{self.locate(clip)} holds {len(frames)} frames but meta_info lists {expected}"
            )
        return frames


class DiskFrameStore(FrameStore):
    """Frame folders ``root/<clip>/<frame>.<ext>``; clips may be nested (Vimeo ``00001/0001``)."""

    def __init__(self, root: PathLike) -> None:
        self.root = Path(root)

    def clips(self) -> list[str]:
        """Every folder under the root that holds images (recursive)."""
        if not self.root.is_dir():
            raise FrameReadError(f"dataset folder not found: {self.root}")
        clips = []
        for dirpath, dirnames, filenames in os.walk(self.root):
            dirnames.sort()
            if any(Path(f).suffix.lower() in IMAGE_SUFFIXES for f in filenames):
                clip = Path(dirpath).relative_to(self.root).as_posix()
                clips.append("" if clip == "." else clip)  # images directly under the root
        if not clips:
            raise FrameReadError(f"no clip folders with images under {self.root}")
        return sorted(clips)

    def has_clip(self, clip: str) -> bool:
        return (self.root / clip).is_dir()

    def frame_names(self, clip: str) -> list[str]:
        return [p.name for p in list_frames(self.root / clip)]

    def read(self, clip: str, name: str) -> np.ndarray:
        return read_image(self.root / clip / name)

    def locate(self, clip: str, name: str | None = None) -> str:
        return str(self.root / clip / name) if name is not None else str(self.root / clip)

    def __repr__(self) -> str:
        return f"DiskFrameStore({str(self.root)!r})"


# One environment per (LMDB, process): an environment must not be used across fork() (DataLoader
# workers), and LMDB refuses to open a file twice in one process, so a forked worker closes the
# copy it inherited (its own mapping only; the parent's is untouched) and opens its own.
_ENVS: dict[str, tuple[int, lmdb.Environment]] = {}


@contextlib.contextmanager
def lmdb_errors(path: Path) -> Iterator[None]:
    """``lmdb.Error`` (a zero-byte, truncated or foreign ``data.mdb``) as a FrameReadError."""
    try:
        yield
    except lmdb.Error as exc:
        raise FrameReadError(f"LMDB {path} cannot be read: {exc} (a corrupt or truncated "
                             f"data.mdb? rebuild it with scripts/create_lmdb.py)") from None


def _check_not_truncated(env: lmdb.Environment, path: Path) -> None:
    """A data.mdb shorter than the pages its header counts would crash the process (SIGBUS) on
    the first read past its end: the file is memory-mapped. Refuse it while that is an error."""
    needed = (env.info()["last_pgno"] + 1) * env.stat()["psize"]
    size = (path / "data.mdb").stat().st_size
    if size < needed:
        env.close()
        raise FrameReadError(f"LMDB {path} is truncated: data.mdb holds {size} bytes but its "
                             f"header counts {needed}; copy it again or rebuild it with "
                             f"scripts/create_lmdb.py")


def open_lmdb_readonly(path: Path) -> lmdb.Environment:
    """The calling process's read-only environment for the resolved ``path``, opened on first
    use (per-frame reads call this, so the path is resolved once, by the store)."""
    key = str(path)
    cached = _ENVS.get(key)
    if cached is None or cached[0] != os.getpid():
        if cached is not None:
            cached[1].close()
        with lmdb_errors(path):
            env = lmdb.open(key, readonly=True, lock=False, readahead=False, meminit=False)
        _check_not_truncated(env, path)
        _ENVS[key] = cached = (os.getpid(), env)
    return cached[1]


def close_lmdb(path: Path) -> None:
    """Close this process's environment for ``path`` (before the LMDB is moved or deleted)."""
    cached = _ENVS.pop(str(path.resolve()), None)
    if cached is not None:
        cached[1].close()


class LmdbFrameStore(FrameStore):
    """A BasicSR-layout LMDB: ``X.lmdb/{data.mdb, lock.mdb, meta_info.txt}``.

    The clip/frame index comes from ``meta_info.txt`` (lines ``<key>.png (h,w,c) <level>``), or
    from the keys themselves when it is absent. The environment is opened lazily, read-only and
    without locking, once per process — so the store pickles into DataLoader workers and each
    worker opens its own.
    """

    def __init__(self, path: PathLike) -> None:
        self.path = Path(path).resolve()
        if not (self.path / "data.mdb").is_file():
            raise FrameReadError(f"LMDB not found: {self.path} has no data.mdb")

    @cached_property
    def _index(self) -> dict[str, list[str]]:
        meta = self.path / LMDB_META
        if meta.is_file():
            keys = []
            for lineno, line in enumerate(meta.read_text().splitlines(), start=1):
                if not line.strip():
                    continue
                name = line.split()[0]
                if not name.endswith(".png"):
                    raise ValueError(f"{meta}:{lineno}: expected '<key>.png (h,w,c) level'")
                keys.append(name[: -len(".png")])
        else:
            with lmdb_errors(self.path), open_lmdb_readonly(self.path).begin() as txn:
                keys = [k.decode() for k in txn.cursor().iternext(keys=True, values=False)]
        index: dict[str, list[str]] = {}
        for key in keys:
            clip, _, stem = key.rpartition("/")
            index.setdefault(clip, []).append(f"{stem}.png")
        if not index:
            raise FrameReadError(f"LMDB {self.path} holds no frames")
        return index

    def clips(self) -> list[str]:
        return sorted(self._index)

    def has_clip(self, clip: str) -> bool:
        return clip in self._index

    def frame_names(self, clip: str) -> list[str]:
        if clip not in self._index:
            raise FrameReadError(f"clip {clip!r} not found in LMDB {self.path}")
        return list(self._index[clip])

    def read(self, clip: str, name: str) -> np.ndarray:
        key = frame_key(clip, name)
        with lmdb_errors(self.path), open_lmdb_readonly(self.path).begin() as txn:
            value = txn.get(key.encode())
        if value is None:
            raise FrameReadError(f"key {key!r} not found in LMDB {self.path}")
        return decode_image(value, name=f"key {key!r} in LMDB {self.path}")

    def locate(self, clip: str, name: str | None = None) -> str:
        where = clip if name is None else frame_key(clip, name)
        return f"{self.path}[{where}]" if where else str(self.path)

    def __repr__(self) -> str:
        return f"LmdbFrameStore({str(self.path)!r})"


_TECOGAN_KEY = re.compile(r"^(.+)_(\d+)x(\d+)x(\d+)_(\d+)$")


class TecoGANLmdbFrameStore(LmdbFrameStore):
    """TecoGAN-PyTorch's LMDB (scripts/create_lmdb.py): raw uint8 RGB bytes per frame under keys
    ``<clip>_<frames>x<h>x<w>_<index>`` (``000_100x720x1280_0005``).

    The index comes from the keys themselves. Its ``meta_info.pkl`` lists the same keys but is a
    pickle, which vsr never loads (unpickling runs code); it only marks the layout.
    """

    @cached_property
    def _shapes(self) -> dict[str, tuple[int, int, int]]:
        """clip -> (frames, h, w) as its keys state them."""
        shapes: dict[str, tuple[int, int, int]] = {}
        with lmdb_errors(self.path), open_lmdb_readonly(self.path).begin() as txn:
            for raw in txn.cursor().iternext(keys=True, values=False):
                key = raw.decode()
                match = _TECOGAN_KEY.match(key)
                if match is None:
                    raise FrameReadError(f"LMDB {self.path}: key {key!r} is not TecoGAN's "
                                         f"'<clip>_<frames>x<h>x<w>_<index>'")
                clip, frames, h, w = match.group(1), *map(int, match.group(2, 3, 4))
                if shapes.setdefault(clip, (frames, h, w)) != (frames, h, w):
                    raise FrameReadError(f"LMDB {self.path}: clip {clip!r} has keys of two "
                                         f"shapes, {shapes[clip]} and {(frames, h, w)}")
        return shapes

    @cached_property
    def _index(self) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        with lmdb_errors(self.path), open_lmdb_readonly(self.path).begin() as txn:
            for raw in txn.cursor().iternext(keys=True, values=False):
                match = _TECOGAN_KEY.match(raw.decode())
                if match is not None:
                    index.setdefault(match.group(1), []).append(f"{match.group(5)}.raw")
        for clip, (frames, _, _) in self._shapes.items():
            if len(index[clip]) != frames:
                raise FrameReadError(f"LMDB {self.path}: clip {clip!r} has {len(index[clip])} "
                                     f"frames, its keys say {frames}")
        if not index:
            raise FrameReadError(f"LMDB {self.path} holds no frames")
        return index

    def _key(self, clip: str, name: str) -> str:
        frames, h, w = self._shapes[clip]
        return f"{clip}_{frames}x{h}x{w}_{PurePosixPath(name).stem}"

    def read(self, clip: str, name: str) -> np.ndarray:
        if clip not in self._shapes:
            raise FrameReadError(f"clip {clip!r} not found in LMDB {self.path}")
        key = self._key(clip, name)
        with lmdb_errors(self.path), open_lmdb_readonly(self.path).begin() as txn:
            value = txn.get(key.encode())
        if value is None:
            raise FrameReadError(f"key {key!r} not found in LMDB {self.path}")
        _, h, w = self._shapes[clip]
        if len(value) != h * w * 3:
            raise FrameReadError(f"key {key!r} in LMDB {self.path}: {len(value)} bytes, "
                                 f"expected {h}x{w}x3 = {h * w * 3}")
        return np.frombuffer(value, np.uint8).reshape(h, w, 3).copy()

    def locate(self, clip: str, name: str | None = None) -> str:
        if name is None or clip not in self._shapes:
            return super().locate(clip, name)
        return f"{self.path}[{self._key(clip, name)}]"

    def __repr__(self) -> str:
        return f"TecoGANLmdbFrameStore({str(self.path)!r})"


class VideoFrameStore(FrameStore):
    """Video files as clips: a folder of them (nested folders too; the clip is the path without
    its suffix), a single file, or a ``.txt`` list of files (relative to the list's folder).

    Frames are numbered in display order (``00000000.frame`` ...) and read by seeking to the
    nearest keyframe (vsr.io.video_access): training windows come straight from the mp4s, each
    DataLoader worker with its own open decoders.
    """

    def __init__(self, root: PathLike) -> None:
        self.root = Path(root)

    @cached_property
    def _files(self) -> dict[str, Path]:
        root = self.root
        if root.is_file() and root.suffix.lower() == ".txt":
            listed = [Path(line.strip()) for line in root.read_text().splitlines()
                      if line.strip() and not line.startswith("#")]
            # a clip is named by its listed path (its file name alone when absolute)
            files = {(p.stem if p.is_absolute() else p.with_suffix("").as_posix()):
                     (p if p.is_absolute() else root.parent / p) for p in listed}
        elif root.is_file():
            files = {root.stem: root}
        else:
            files = {p.relative_to(root).with_suffix("").as_posix(): p
                     for p in sorted(root.rglob("*"))
                     if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file()}
        if not files:
            raise FrameReadError(f"no video files in {root} (expected "
                                 f"{', '.join(VIDEO_SUFFIXES)})")
        missing = next((p for p in files.values() if not p.is_file()), None)
        if missing is not None:
            raise FrameReadError(f"video file not found: {missing} (listed in {root})")
        return files

    def _reader(self, clip: str):
        from vsr.io.video_access import reader_for

        if clip not in self._files:
            raise FrameReadError(f"clip {clip!r} not found among the videos of {self.root}")
        return reader_for(self._files[clip])

    def clips(self) -> list[str]:
        return sorted(self._files)

    def has_clip(self, clip: str) -> bool:
        return clip in self._files

    def frame_names(self, clip: str) -> list[str]:
        return [f"{i:08d}.frame" for i in range(len(self._reader(clip)))]

    def read(self, clip: str, name: str) -> np.ndarray:
        return self._reader(clip).read(int(PurePosixPath(name).stem))

    def locate(self, clip: str, name: str | None = None) -> str:
        path = self._files.get(clip, self.root / clip)
        return str(path) if name is None else f"{path} frame {int(PurePosixPath(name).stem)}"

    def __repr__(self) -> str:
        return f"VideoFrameStore({str(self.root)!r})"


def _holds_videos(path: Path) -> bool:
    if path.is_file():
        return path.suffix.lower() in (*VIDEO_SUFFIXES, ".txt")
    return path.is_dir() and any(p.suffix.lower() in VIDEO_SUFFIXES for p in path.rglob("*")) \
        and not any(p.suffix.lower() in IMAGE_SUFFIXES for p in path.rglob("*"))


def open_store(root: PathLike | FrameStore) -> FrameStore:
    """The store for a dataset root: an LMDB when it holds ``data.mdb`` or is named ``*.lmdb``
    (TecoGAN's layout when it holds ``meta_info.pkl``, else BasicSR's); video files when it is
    one, a ``.txt`` list of them or a folder of them with no images; else frame folders. A store
    passes through unchanged."""
    if isinstance(root, FrameStore):
        return root
    path = Path(root)
    if (path / "data.mdb").is_file() or path.suffix == ".lmdb":
        if (path / "meta_info.pkl").is_file():
            return TecoGANLmdbFrameStore(path)
        return LmdbFrameStore(path)
    if _holds_videos(path):
        return VideoFrameStore(path)
    return DiskFrameStore(path)
