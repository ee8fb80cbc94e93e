"""Frame stores: an LMDB written the way BasicSR writes it is read back bit-identical to the real
Vimeo-90K frames on disk; errors name the key and the LMDB; each process opens its own env."""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path

import cv2
import lmdb
import numpy as np
import pytest
from torch.utils.data import DataLoader, Dataset

from tests.conftest import shared_path
from vsr.data import storage
from vsr.data.storage import DiskFrameStore, LmdbFrameStore, frame_key, open_store
from vsr.io.image import FrameReadError, read_image, write_image

CLIPS = ["00002/0004", "00002/0007", "00002/0008"]  # the real septuplets of sep_testlist.txt


def write_basicsr_lmdb(src: Path, clips: list[str], out: Path, level: int = 1) -> None:
    """An LMDB as basicsr/utils/lmdb_util.py makes it, written independently of our script:
    key = relative path without extension, value = cv2.imencode PNG of the BGR image read by
    cv2.imread, meta_info.txt lines ``<key>.png (h,w,c) <level>``."""
    env = lmdb.open(str(out), map_size=1 << 27)
    lines = []
    with env.begin(write=True) as txn:
        for clip in clips:
            for path in sorted((src / clip).glob("*.png")):
                img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
                ok, buf = cv2.imencode(".png", img, [cv2.IMWRITE_PNG_COMPRESSION, level])
                assert ok
                key = f"{clip}/{path.stem}"
                txn.put(key.encode(), buf.tobytes())
                lines.append(f"{key}.png ({img.shape[0]},{img.shape[1]},{img.shape[2]}) {level}")
    env.close()
    (out / "meta_info.txt").write_text("\n".join(lines) + "\n")


@pytest.fixture(scope="module")
def vimeo_lmdb(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(real sequences folder, BasicSR-layout LMDB of three of its septuplets)."""
    sequences = shared_path("data", "Vimeo90K", "sequences")
    out = tmp_path_factory.mktemp("lmdb") / "vimeo_test_GT.lmdb"
    write_basicsr_lmdb(sequences, CLIPS, out)
    return sequences, out


def test_basicsr_lmdb_round_trip_is_bit_identical(vimeo_lmdb) -> None:
    sequences, path = vimeo_lmdb
    store, disk = open_store(path), open_store(sequences)
    assert isinstance(store, LmdbFrameStore) and isinstance(disk, DiskFrameStore)
    assert store.clips() == CLIPS
    for clip in CLIPS:
        frames = store.frames(clip, expected=7)
        assert [f.stem for f in frames] == [f"im{t}" for t in range(1, 8)]
        assert [f.stem for f in frames] == [f.stem for f in disk.frames(clip)]
        for frame in frames:
            got, expected = frame.read(), read_image(sequences / clip / frame.name)
            assert got.dtype == np.uint8 and got.shape == (256, 448, 3)
            assert np.array_equal(got, expected)


def test_index_from_keys_when_meta_info_is_absent(vimeo_lmdb, tmp_path: Path) -> None:
    copy = tmp_path / "no_meta.lmdb"
    shutil.copytree(vimeo_lmdb[1], copy)
    (copy / "meta_info.txt").unlink()
    store = LmdbFrameStore(copy)
    assert store.clips() == CLIPS and len(store.frames("00002/0007", expected=7)) == 7
    assert np.array_equal(
        store.read("00002/0007", "im3.png"), open_store(vimeo_lmdb[1]).read("00002/0007", "im3.png")
    )


def test_missing_key_names_the_key_and_the_lmdb(vimeo_lmdb, tmp_path: Path) -> None:
    copy = tmp_path / "broken.lmdb"
    shutil.copytree(vimeo_lmdb[1], copy)
    with (copy / "meta_info.txt").open("a") as f:  # listed but never written
        f.write("00002/0004/im8.png (256,448,3) 1\n")
    store = LmdbFrameStore(copy)
    frames = store.frames("00002/0004")
    assert frames[-1].stem == "im8"
    with pytest.raises(
        FrameReadError, match=r"key '00002/0004/im8' not found in LMDB .*broken\.lmdb"
    ):
        frames[-1].read()
    with pytest.raises(FrameReadError, match=r"clip '00009/0001' not found in LMDB .*broken\.lmdb"):
        store.frames("00009/0001")
    with pytest.raises(FrameReadError, match=r"holds 8 frames but meta_info lists 7"):
        store.frames("00002/0004", expected=7)


def test_gap_in_lmdb_numbering_is_named(tmp_path: Path) -> None:
    env = lmdb.open(str(tmp_path / "gap.lmdb"), map_size=1 << 20)
    with env.begin(write=True) as txn:
        for t in (0, 1, 3):
            txn.put(f"000/{t:08d}".encode(), cv2.imencode(".png", np.zeros((2, 2, 3), np.uint8))[1])
    env.close()
    with pytest.raises(FrameReadError, match=r"gap\.lmdb\[000/00000002\] \(gap in numbering\)"):
        open_store(tmp_path / "gap.lmdb").frames("000")


def test_open_store_picks_the_backend(tmp_path: Path, vimeo_lmdb) -> None:
    store = open_store(vimeo_lmdb[1])
    assert open_store(store) is store
    (tmp_path / "frames.lmdb").mkdir()
    with pytest.raises(FrameReadError, match=r"frames\.lmdb has no data\.mdb"):
        open_store(tmp_path / "frames.lmdb")
    assert isinstance(open_store(tmp_path), DiskFrameStore)


def test_disk_store_with_images_at_the_root(tmp_path: Path) -> None:
    for t in range(3):
        write_image(tmp_path / f"{t:04d}.png", np.full((2, 2, 3), t, np.uint8))
    store = DiskFrameStore(tmp_path)
    assert store.clips() == [""]
    assert [f.stem for f in store.frames("")] == ["0000", "0001", "0002"]
    assert frame_key("", "0001.png") == "0001" and frame_key("a/b", "im1.jpg") == "a/b/im1"


class _PidProbe(Dataset):
    """Reads one frame per item and reports which process opened the env it used."""

    def __init__(self, store: LmdbFrameStore) -> None:
        self.store = store

    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int) -> tuple[int, int, int]:
        frame = self.store.read(CLIPS[i % 3], "im4.png")
        env_pid = storage._ENVS[str(self.store.path.resolve())][0]
        return os.getpid(), env_pid, int(frame.astype(np.int64).sum())


def test_each_dataloader_worker_opens_its_own_env(vimeo_lmdb) -> None:
    store = LmdbFrameStore(vimeo_lmdb[1])
    parent_sums = [
        int(store.read(CLIPS[i % 3], "im4.png").astype(np.int64).sum()) for i in range(4)
    ]
    pickle.dumps(store)  # the env opened above stays in this process; the store still pickles
    loader = DataLoader(_PidProbe(store), batch_size=None, num_workers=2)
    results = list(loader)
    for worker_pid, env_pid, _ in results:
        assert worker_pid == env_pid != os.getpid()
    assert [total for _, _, total in results] == parent_sums
    # Workers closed only their inherited copies: the parent's env still reads.
    assert int(store.read(CLIPS[0], "im4.png").astype(np.int64).sum()) == parent_sums[0]
