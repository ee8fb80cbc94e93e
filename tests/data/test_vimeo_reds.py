"""Vimeo-90K and REDS datasets from frame folders and from LMDBs made by scripts/create_lmdb.py:
the same (index, seed) gives the same item from either backend."""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from tests.conftest import shared_path
from tests.scripts import load_script
from vsr.data.reds import REDS, REDSTest, partition_clips
from vsr.data.sampler import InfiniteSampler
from vsr.data.vimeo import Vimeo90K, Vimeo90KTest
from vsr.io.image import FrameReadError, read_image, write_image
from vsr.registry import DATASETS, DEGRADATIONS

TRAIN = ["00001/0001", "00001/0002"]
TEST = ["00002/0004", "00002/0007", "00002/0008"]
FLIPS = {"use_hflip": True, "use_vflip": True, "use_transpose": True, "use_reverse": True}


@DEGRADATIONS.register("_test_block_mean")
def _block_mean(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """Test-only degradation (the real BI/BD are tested elsewhere)."""
    return F.avg_pool2d(hr, scale)


def _make_lmdb(src: Path, out: Path, min_grows: int = 0) -> Path:
    """The script's LMDB of ``src``, started from a 64 KB map (grown as needed)."""
    report = load_script("create_lmdb").create_lmdb(src, out, map_size=1 << 16, progress=False)
    assert report.map_grows >= min_grows
    return out


def _assert_same_items(a, b, keys) -> None:
    for key in keys:
        x, y = a[key], b[key]
        assert x["key"] == y["key"]
        assert torch.equal(x["lr"], y["lr"]) and torch.equal(x["gt"], y["gt"])


def _frames(chw: torch.Tensor) -> np.ndarray:
    return (chw * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()


# --------------------------------------------------------------------------- Vimeo-90K


@pytest.fixture(scope="module")
def vimeo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Five real septuplets (two train, three test) as folders, a x4 LR folder made from them
    (area average), and LMDBs of both written by the script."""
    root = tmp_path_factory.mktemp("vimeo")
    real = shared_path("data", "Vimeo90K", "sequences")
    for clip in TRAIN + TEST:
        shutil.copytree(real / clip, root / "vimeo_septuplet" / "sequences" / clip)
        for path in sorted((real / clip).glob("*.png")):
            lr = cv2.resize(read_image(path), (112, 64), interpolation=cv2.INTER_AREA)
            write_image(root / "vimeo_septuplet_BDLRx4" / "sequences" / clip / path.name, lr)
    (root / "train.txt").write_text("\n".join(TRAIN) + "\n")
    (root / "test.txt").write_text("\n".join(TEST) + "\n")
    return {
        "gt": root / "vimeo_septuplet" / "sequences",
        "lr": root / "vimeo_septuplet_BDLRx4" / "sequences",
        "gt_lmdb": _make_lmdb(root / "vimeo_septuplet" / "sequences", root / "GT.lmdb", 1),
        "lr_lmdb": _make_lmdb(
            root / "vimeo_septuplet_BDLRx4" / "sequences", root / "vimeo_LR.lmdb"
        ),
        "train": root / "train.txt",
        "test": root / "test.txt",
    }


def test_vimeo_from_the_real_list_file() -> None:
    root = shared_path("data", "Vimeo90K")
    ds = DATASETS.build(
        {"type": "Vimeo90K", "degradation": "_test_block_mean", "gt_patch_size": 64},
        gt_root=root / "sequences",
        list_file=root / "sep_trainlist.txt",
    )
    assert len(ds) == 8
    item = ds[(3, 0)]
    assert item["key"] == "00001/0004/im1"
    assert item["gt"].shape == (7, 3, 64, 64) and item["lr"].shape == (7, 3, 16, 16)
    torch.testing.assert_close(item["lr"], F.avg_pool2d(item["gt"], 4))


def test_vimeo_fewer_frames_takes_the_centre_window() -> None:
    root = shared_path("data", "Vimeo90K")
    ds = Vimeo90K(
        root / "sequences", TRAIN, num_frames=5, degradation="_test_block_mean", use_hflip=False
    )
    assert len(ds) == 2
    item = ds[(1, 0)]
    assert item["key"] == "00001/0002/im2" and item["gt"].shape == (5, 3, 256, 448)
    for t in range(5):
        expected = read_image(root / "sequences" / "00001" / "0002" / f"im{t + 2}.png")
        assert np.array_equal(_frames(item["gt"][t]), expected)
    with pytest.raises(IndexError):
        ds[(2, 0)]
    with pytest.raises(ValueError, match="num_frames must be in 1..7"):
        Vimeo90K(root / "sequences", TRAIN, num_frames=8, degradation="_test_block_mean")


def test_vimeo_disk_and_lmdb_give_identical_items(vimeo) -> None:
    keys = [(0, 100), (1, 101), (1, 102)]
    gt_only = {"degradation": "_test_block_mean", "gt_patch_size": 64, **FLIPS}
    _assert_same_items(
        Vimeo90K(vimeo["gt"], vimeo["train"], **gt_only),
        Vimeo90K(vimeo["gt_lmdb"], vimeo["train"], **gt_only),
        keys,
    )
    disk = Vimeo90K(vimeo["gt"], vimeo["train"], lr_root=vimeo["lr"], gt_patch_size=64, **FLIPS)
    lmdb = Vimeo90K(
        vimeo["gt_lmdb"], vimeo["train"], lr_root=vimeo["lr_lmdb"], gt_patch_size=64, **FLIPS
    )
    _assert_same_items(disk, lmdb, keys)
    item = lmdb[(1, 7)]
    assert item["key"] == "00001/0002/im1" and item["lr"].shape == (7, 3, 16, 16)


def test_vimeo_test_set_streams_septuplets_from_lmdb(vimeo) -> None:
    clips = Vimeo90KTest(vimeo["gt_lmdb"], vimeo["test"], lr_root=vimeo["lr_lmdb"]).clips()
    assert [(c.name, c.num_frames, c.gt_size, c.lr_size) for c in clips] == [
        (name, 7, (256, 448), (64, 112)) for name in TEST
    ]
    centre_lr = list(clips[1].lr_frames())[3]
    assert np.array_equal(_frames(centre_lr), read_image(vimeo["lr"] / TEST[1] / "im4.png"))
    gt = list(clips[1].gt_frames())
    assert np.array_equal(_frames(gt[6]), read_image(vimeo["gt"] / TEST[1] / "im7.png"))
    on_the_fly = Vimeo90KTest(vimeo["gt"], TEST, degradation="_test_block_mean").clips()
    assert on_the_fly[0].lr_size == (64, 112)


def test_vimeo_list_entry_without_frames_is_named(vimeo, tmp_path: Path) -> None:
    listing = tmp_path / "sep_trainlist.txt"
    listing.write_text("00001/0001\n00001/0999\n")
    for root in (vimeo["gt"], vimeo["gt_lmdb"]):
        with pytest.raises(FrameReadError, match=r"entry '00001/0999' of .*sep_trainlist\.txt"):
            Vimeo90K(root, listing, degradation="_test_block_mean")
    with pytest.raises(FrameReadError, match=r"entry '00001/0999' of the clip list"):
        Vimeo90KTest(vimeo["gt_lmdb"], ["00001/0999"], degradation="_test_block_mean")
    with pytest.raises(ValueError, match="not both"):
        Vimeo90K(vimeo["gt"], TRAIN, degradation="_test_block_mean", lr_root=vimeo["lr"])


# --------------------------------------------------------------------------- REDS

REDS_CLIPS = ("000", "001", "011")
H, W = 16, 24


@pytest.fixture(scope="module")
def reds(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny REDS layout (clips 000, 001, 011 of 5 frames, 00000000.png …) with x4 LR, and LMDBs
    of both written by the script."""
    root = tmp_path_factory.mktemp("reds")
    rng = np.random.default_rng(0)
    for clip in REDS_CLIPS:
        for t in range(5):
            gt = rng.integers(0, 256, size=(H, W, 3), dtype=np.uint8)
            write_image(root / "train_sharp" / clip / f"{t:08d}.png", gt)
            lr = cv2.resize(gt, (W // 4, H // 4), interpolation=cv2.INTER_AREA)
            write_image(root / "train_sharp_bicubic" / "X4" / clip / f"{t:08d}.png", lr)
    return {
        "gt": root / "train_sharp",
        "lr": root / "train_sharp_bicubic" / "X4",
        "gt_lmdb": _make_lmdb(root / "train_sharp", root / "train_sharp_with_val.lmdb"),
        "lr_lmdb": _make_lmdb(root / "train_sharp_bicubic" / "X4", root / "train_sharp_X4.lmdb"),
    }


def test_reds_partitions_hold_out_clips(reds, tmp_path: Path) -> None:
    def train_keys(**kwargs) -> list[str]:
        ds = REDS(reds["gt_lmdb"], num_frames=3, degradation="_test_block_mean", **kwargs)
        return [ds[(i, 0)]["key"] for i in range(len(ds))]

    # REDS4 (000, 011, 015, 020) held out: only 001 trains; lengths (5) come from the data.
    assert train_keys() == ["001/00000000", "001/00000001", "001/00000002"]
    assert len(train_keys(partition="official")) == 3 * 3  # 240-269 absent: all clips train
    assert [k for k in train_keys(partition=["001"]) if k.endswith("0000")] == [
        "000/00000000",
        "011/00000000",
    ]
    meta = tmp_path / "meta_info_REDS_GT.txt"
    meta.write_text("".join(f"{c} 5 ({H},{W},3)\n" for c in REDS_CLIPS))
    assert train_keys(meta_info=meta) == train_keys()
    with pytest.raises(ValueError, match="outside partition"):
        train_keys(partition=list(REDS_CLIPS))
    with pytest.raises(ValueError, match="unknown REDS partition 'REDS5'"):
        partition_clips("REDS5")
    assert partition_clips("official")[0] == "240" and len(partition_clips("official")) == 30


def test_reds_test_set_is_the_partition(reds) -> None:
    clips = REDSTest(reds["gt_lmdb"], reds["lr_lmdb"], partition=["000", "011"]).clips()
    assert [(c.name, c.num_frames, c.gt_size, c.lr_size) for c in clips] == [
        ("000", 5, (H, W), (H // 4, W // 4)),
        ("011", 5, (H, W), (H // 4, W // 4)),
    ]
    disk = REDSTest(reds["gt"], reds["lr"], partition=["000", "011"]).clips()
    for a, b in zip(clips, disk):
        for x, y in zip([*a.lr_frames(), *a.gt_frames()], [*b.lr_frames(), *b.gt_frames()]):
            assert torch.equal(x, y)
    # REDS4 needs 015 and 020, which this layout lacks: named, not silently dropped.
    with pytest.raises(FrameReadError, match=r"clip '015' not found in .*train_sharp_with_val"):
        REDSTest(reds["gt_lmdb"], degradation="_test_block_mean")


def test_reds_disk_and_lmdb_give_identical_items(reds) -> None:
    spec = {"num_frames": 3, "partition": ["011"], "gt_patch_size": 8, **FLIPS}
    disk = REDS(reds["gt"], lr_root=reds["lr"], **spec)
    lmdb = REDS(reds["gt_lmdb"], lr_root=reds["lr_lmdb"], **spec)
    assert len(disk) == len(lmdb) == 6
    _assert_same_items(disk, lmdb, [(i, 50 + i) for i in range(6)])
    loader = DataLoader(
        lmdb, batch_size=4, sampler=InfiniteSampler(len(lmdb), seed=1), num_workers=2
    )
    batch = next(iter(loader))
    assert batch["gt"].shape == (4, 3, 3, 8, 8) and batch["lr"].shape == (4, 3, 3, 2, 2)
    first = next(iter(InfiniteSampler(len(lmdb), seed=1)))
    assert torch.equal(batch["gt"][0], disk[first]["gt"])
