"""TecoGAN-PyTorch's raw-bytes LMDB (keys ``<clip>_<frames>x<h>x<w>_<index>``) reads frame for
frame as the folders it was made from, without unpickling its meta_info.pkl."""

from __future__ import annotations

import pickle
from pathlib import Path

import lmdb
import numpy as np
import pytest
import torch

from vsr.data.storage import TecoGANLmdbFrameStore, open_store
from vsr.data.video_folder import GTVideoFolder
from vsr.io.image import FrameReadError


def write_tecogan_lmdb(out: Path, clips: dict[str, list[np.ndarray]], meta=None) -> None:
    """As TecoGAN-PyTorch's scripts/create_lmdb.py writes it: raw RGB bytes per frame."""
    keys = []
    env = lmdb.open(str(out), map_size=1 << 26)
    with env.begin(write=True) as txn:
        for clip, frames in clips.items():
            h, w, _ = frames[0].shape
            for i, frame in enumerate(frames):
                key = f"{clip}_{len(frames)}x{h}x{w}_{i:04d}"
                txn.put(key.encode(), np.ascontiguousarray(frame).tobytes())
                keys.append(key)
    env.close()
    meta = meta if meta is not None else {"name": "test", "color": "RGB", "keys": keys}
    (out / "meta_info.pkl").write_bytes(pickle.dumps(meta))


@pytest.fixture
def clips(tmp_path):
    rng = np.random.default_rng(0)
    data = {name: [rng.integers(0, 256, (8, 12, 3), np.uint8) for _ in range(n)]
            for name, n in (("000", 3), ("scene_2000", 12))}
    write_tecogan_lmdb(tmp_path / "GT.lmdb", data)
    return tmp_path / "GT.lmdb", data


def test_frames_read_back_bit_identical_in_order(clips):
    path, data = clips
    store = open_store(path)
    assert isinstance(store, TecoGANLmdbFrameStore)
    assert store.clips() == ["000", "scene_2000"]
    for clip, frames in data.items():
        refs = store.frames(clip)  # natural order: 0002 before 0010
        assert [r.stem for r in refs] == [f"{i:04d}" for i in range(len(frames))]
        for ref, frame in zip(refs, frames):
            assert np.array_equal(ref.read(), frame)
    assert str(refs[0]).endswith("GT.lmdb[scene_2000_12x8x12_0000]")


def test_meta_info_pickle_is_never_loaded(tmp_path):
    class Boom:
        def __reduce__(self):
            return (exec, ("raise SystemExit('unpickled')",))

    frames = {"a": [np.zeros((4, 4, 3), np.uint8)] * 2}
    write_tecogan_lmdb(tmp_path / "x.lmdb", frames, meta=Boom())
    store = open_store(tmp_path / "x.lmdb")
    assert np.array_equal(store.frames("a")[1].read(), frames["a"][1])


def test_a_training_set_reads_the_tecogan_lmdb(clips):
    path, data = clips
    dataset = GTVideoFolder(path, degradation="BI", scale=2, num_frames=3, use_hflip=False)
    windows = {(clip, start): torch.from_numpy(np.stack(frames[start:start + 3])).permute(
        0, 3, 1, 2).float() / 255 for clip, frames in data.items()
        for start in range(len(frames) - 2)}
    for seed in range(4):
        sample = dataset[(seed, seed)]
        assert sample["gt"].shape == (3, 3, 8, 12) and sample["lr"].shape == (3, 3, 4, 6)
        assert any(torch.equal(sample["gt"], w) for w in windows.values())


def test_foreign_keys_and_short_values_are_named(tmp_path):
    env = lmdb.open(str(tmp_path / "bad.lmdb"), map_size=1 << 20)
    with env.begin(write=True) as txn:
        txn.put(b"000_2x4x4_0000", bytes(48))
        txn.put(b"000_2x4x4_0001", bytes(40))
    env.close()
    (tmp_path / "bad.lmdb" / "meta_info.pkl").write_bytes(b"")
    store = open_store(tmp_path / "bad.lmdb")
    with pytest.raises(FrameReadError, match=r"key '000_2x4x4_0001' in LMDB .*: 40 bytes, "
                                             r"expected 4x4x3 = 48"):
        store.frames("000")[1].read()
    env = lmdb.open(str(tmp_path / "foreign.lmdb"), map_size=1 << 20)
    with env.begin(write=True) as txn:
        txn.put(b"im1", bytes(3))
    env.close()
    (tmp_path / "foreign.lmdb" / "meta_info.pkl").write_bytes(b"")
    with pytest.raises(FrameReadError, match=r"key 'im1' is not TecoGAN's"):
        open_store(tmp_path / "foreign.lmdb").clips()
