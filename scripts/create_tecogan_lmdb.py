"""Write an LMDB in TecoGAN-PyTorch's layout (MODELS.md §7.7) from any frame store.

    python scripts/create_tecogan_lmdb.py SRC OUT.lmdb [--clips LIST] [--overwrite]

SRC is anything ``open_store`` reads (frame folders, a BasicSR LMDB, videos). Frame i of clip C
(natural order) is stored as raw uint8 RGB bytes under ``C_<frames>x<h>x<w>_<i:04d>``, and
``meta_info.pkl`` holds ``{name, color: 'RGB', keys}`` as TecoGAN's scripts/create_lmdb.py writes
it, so TecoGAN-PyTorch reads the result too (vsr itself never unpickles it). Every frame is read
back and compared before the command reports success.
"""

from __future__ import annotations

import argparse
import pickle
import shutil
import sys
from pathlib import Path

import lmdb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vsr.data.storage import TecoGANLmdbFrameStore, close_lmdb, open_store  # noqa: E402
from vsr.data.video_folder import read_clip_list  # noqa: E402
from vsr.errors import VSRError  # noqa: E402


def create_tecogan_lmdb(src: str | Path, out: str | Path, clips: list[str] | None = None,
                        overwrite: bool = False) -> int:
    """Build ``out`` from the clips of ``src`` (all, or ``clips``); returns the frame count."""
    store, out = open_store(src), Path(out)
    if out.exists():
        if not overwrite:
            raise FileExistsError(f"{out} exists; pass --overwrite to replace it")
        close_lmdb(out)
        shutil.rmtree(out)
    names = clips if clips is not None else store.clips()
    refs = {clip: store.frames(clip) for clip in names}
    env = lmdb.open(str(out), map_size=1 << 20)
    keys = []
    try:
        for clip, frames in refs.items():
            first = frames[0].read()
            h, w = first.shape[:2]
            for i, ref in enumerate(frames):
                img = first if i == 0 else ref.read()
                if img.shape != first.shape:
                    raise VSRError(f"frame {ref} is {img.shape[0]}x{img.shape[1]}, but the first "
                                   f"frame of clip {clip!r} is {h}x{w}: one size per clip")
                key = f"{clip}_{len(frames)}x{h}x{w}_{i:04d}"
                _put(env, key.encode(), np.ascontiguousarray(img).tobytes())
                keys.append(key)
    finally:
        env.close()
    meta = {"name": out.stem, "color": "RGB", "keys": keys}
    (out / "meta_info.pkl").write_bytes(pickle.dumps(meta))
    written = TecoGANLmdbFrameStore(out)
    for clip, frames in refs.items():
        for ref, back in zip(frames, written.frames(clip), strict=True):
            if not np.array_equal(ref.read(), back.read()):
                raise VSRError(f"{back} differs from its source {ref}")
    return len(keys)


def _put(env: lmdb.Environment, key: bytes, value: bytes) -> None:
    """One frame per transaction, doubling the map when it is full."""
    while True:
        try:
            with env.begin(write=True) as txn:
                txn.put(key, value)
            return
        except lmdb.MapFullError:
            env.set_mapsize(env.info()["map_size"] * 2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("src", help="frame folders, a BasicSR LMDB or videos")
    parser.add_argument("out", help="the TecoGAN LMDB to write (X.lmdb)")
    parser.add_argument("--clips", help="file with one clip name per line (default: all)")
    parser.add_argument("--overwrite", action="store_true")
    args = parser.parse_args(argv)
    try:
        clips = read_clip_list(args.clips) if args.clips else None
        count = create_tecogan_lmdb(args.src, args.out, clips, args.overwrite)
    except (VSRError, FileExistsError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{count} frames written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
