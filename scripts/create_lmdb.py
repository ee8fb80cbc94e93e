"""Write an LMDB of any frame-folder dataset in the BasicSR layout (MODELS.md §7.7).

    python scripts/create_lmdb.py SRC OUT.lmdb [--compress-level 1] [--map-size BYTES]
                                               [--commit-every 100] [--overwrite] [--quiet]

Every folder under SRC that holds images is a clip (Vimeo ``sequences/``, REDS ``train_sharp/``,
Vid4 ``GT/``). Frame ``SRC/<clip>/<stem>.<ext>`` is stored under key ``<clip>/<stem>`` as PNG bytes
(cv2, BGR) and listed in ``OUT/meta_info.txt`` as ``<key>.png (h,w,c) <level>``, so the result is
interchangeable with LMDBs made by BasicSR/KAIR. The LMDB is built in ``OUT.tmp``, every frame is
read back and compared with the source pixels, and only then is it renamed to OUT. A map that
fills up is grown (doubled) and the transaction retried.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import cv2
import lmdb
import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vsr.data.storage import (  # noqa: E402
    LMDB_META,
    DiskFrameStore,
    LmdbFrameStore,
    close_lmdb,
    frame_key,
)
from vsr.io.image import FrameReadError, encode_image  # noqa: E402


class VerifyError(RuntimeError):
    """A frame read back from the new LMDB differs from its source."""


@dataclass
class LmdbReport:
    frames: int
    clips: int
    map_size: int  # final map size in bytes
    map_grows: int  # times the map was full and grown


def encode_png(img: np.ndarray, level: int) -> bytes:
    """uint8 RGB -> PNG bytes of the BGR image, as BasicSR stores frames."""
    return encode_image(img, ".png", [cv2.IMWRITE_PNG_COMPRESSION, level])


def _digest(img: np.ndarray) -> bytes:
    """Fingerprint of pixels and shape: verifying against it avoids reading the source twice."""
    return hashlib.blake2b(img.tobytes() + repr(img.shape).encode(), digest_size=16).digest()


def _commit(env: lmdb.Environment, batch: list[tuple[bytes, bytes]]) -> int:
    """Write ``batch`` in one transaction, doubling the map until it fits; returns the grows."""
    grows = 0
    while True:
        try:
            with env.begin(write=True) as txn:  # aborted on MapFullError
                for key, value in batch:
                    txn.put(key, value)
            return grows
        except lmdb.MapFullError:
            env.set_mapsize(env.info()["map_size"] * 2)
            grows += 1


def _replace(tmp: Path, out: Path) -> None:
    """Move the finished LMDB into place; an old LMDB at ``out`` is removed only after."""
    old = out.with_name(out.name + ".old")
    if out.exists():
        close_lmdb(out)  # a reader in this process must not keep the replaced file mapped
        os.replace(out, old)
    os.replace(tmp, out)
    if old.exists():
        shutil.rmtree(old)


def create_lmdb(
    src: str | os.PathLike,
    out: str | os.PathLike,
    compress_level: int = 1,
    map_size: int | None = None,
    commit_every: int = 100,
    overwrite: bool = False,
    progress: bool = True,
) -> LmdbReport:
    """Build ``out`` from the frame folders under ``src``; see the module docstring."""
    src, out = Path(src), Path(out)
    if not 0 <= compress_level <= 9:
        raise ValueError(f"PNG compress level must be in 0..9, got {compress_level}")
    if out.exists():
        if not overwrite:
            raise FileExistsError(f"{out} exists; pass --overwrite to replace it")
        if not (out / "data.mdb").is_file():
            raise FileExistsError(f"{out} exists and is not an LMDB; refusing to replace it")
    store = DiskFrameStore(src)
    clips = store.clips()
    frames = [(clip, name) for clip in clips for name in sorted(store.frame_names(clip))]
    keys = [frame_key(clip, name) for clip, name in frames]
    dup = next((k for k, n in Counter(keys).items() if n > 1), None)
    if dup is not None:
        raise ValueError(f"two frames of {src} map to key {dup!r} (same stem, different suffix)")
    if map_size is None:  # PNG of PNG sources: about the source size; growth covers the rest
        total = sum((src / clip / name).stat().st_size for clip, name in frames)
        map_size = max(2 * total, 1 << 20)

    tmp = out.with_name(out.name + ".tmp")
    if tmp.exists():  # left by an interrupted run
        shutil.rmtree(tmp)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    try:
        digests, final_size, grows = _write(
            store, frames, keys, tmp, compress_level, map_size, commit_every, progress
        )
        _verify(store, frames, digests, tmp, progress)
        _replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return LmdbReport(len(frames), len(clips), final_size, grows)


def _write(
    store: DiskFrameStore,
    frames: list[tuple[str, str]],
    keys: list[str],
    tmp: Path,
    compress_level: int,
    map_size: int,
    commit_every: int,
    progress: bool,
) -> tuple[list[bytes], int, int]:
    """Write frames and meta_info.txt into ``tmp``; returns (pixel digests, map size, grows)."""
    env = lmdb.open(str(tmp), map_size=map_size)
    meta, digests, batch, grows = [], [], [], 0
    try:
        for (clip, name), key in tqdm(
            zip(frames, keys), total=len(frames), desc="write", unit="frame", disable=not progress
        ):
            img = store.read(clip, name)
            batch.append((key.encode(), encode_png(img, compress_level)))
            h, w, c = img.shape
            meta.append(f"{key}.png ({h},{w},{c}) {compress_level}")
            digests.append(_digest(img))
            if len(batch) >= commit_every:
                grows += _commit(env, batch)
                batch = []
        grows += _commit(env, batch)
        final_size = env.info()["map_size"]
    finally:
        env.close()
    (tmp / LMDB_META).write_text("\n".join(meta) + "\n")
    return digests, final_size, grows


def _verify(
    store: DiskFrameStore,
    frames: list[tuple[str, str]],
    digests: list[bytes],
    tmp: Path,
    progress: bool,
) -> None:
    """Read every frame back through the dataset reader and compare with the source pixels."""
    written = LmdbFrameStore(tmp)
    try:
        if written.clips() != sorted({clip for clip, _ in frames}):
            raise VerifyError(f"{tmp}: meta_info clips differ from the clips of {store.root}")
        for (clip, name), digest in tqdm(
            zip(frames, digests),
            total=len(frames),
            desc="verify",
            unit="frame",
            disable=not progress,
        ):
            if _digest(written.read(clip, name)) != digest:
                raise VerifyError(
                    f"{written.locate(clip, name)} differs from {store.locate(clip, name)}"
                )
    finally:
        close_lmdb(tmp)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("src", type=Path, help="dataset root holding clip folders of frames")
    parser.add_argument("out", type=Path, help="LMDB folder to write (conventionally *.lmdb)")
    parser.add_argument("--compress-level", type=int, default=1, help="PNG level 0-9 (1)")
    parser.add_argument("--map-size", type=int, help="initial map size in bytes (estimated)")
    parser.add_argument("--commit-every", type=int, default=100, help="frames per transaction")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing LMDB")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    try:
        report = create_lmdb(
            args.src,
            args.out,
            compress_level=args.compress_level,
            map_size=args.map_size,
            commit_every=args.commit_every,
            overwrite=args.overwrite,
            progress=not args.quiet,
        )
    except (FileExistsError, FrameReadError, ValueError, VerifyError) as exc:
        print(f"create_lmdb: {exc}", file=sys.stderr)
        return 1
    print(
        f"wrote {args.out}: {report.frames} frames of {report.clips} clips, verified; "
        f"map size {report.map_size} bytes (grown {report.map_grows} times)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
