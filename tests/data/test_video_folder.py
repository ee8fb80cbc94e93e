"""Frame-folder datasets on tiny generated folders, and on the real Vid4 / Vimeo-90K layouts."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from tests.conftest import shared_path
from vsr.data.degradation_spec import make_degradation
from vsr.data.sampler import InfiniteSampler
from vsr.data.storage import DiskFrameStore
from vsr.data.video_folder import (
    FrameSizeError,
    GTVideoFolder,
    PairedVideoFolder,
    Vid4,
    VideoFolderTest,
    read_meta_info,
)
from vsr.io.image import FrameReadError, read_image, write_image
from vsr.registry import DATASETS, DEGRADATIONS

SCALE = 2
H, W = 16, 24
LENGTHS = {"a": 5, "b": 3}


@DEGRADATIONS.register("test_avgpool")
def _avgpool(hr: torch.Tensor, scale: int) -> torch.Tensor:
    """Test-only degradation: block average, which commutes with flips and transposes."""
    return F.avg_pool2d(hr, scale)


@DEGRADATIONS.register("_test_halve")
def _halve(hr: torch.Tensor) -> torch.Tensor:
    """Test-only degradation that ignores the dataset scale."""
    return F.avg_pool2d(hr, 2)


def _block_mean_u8(gt: np.ndarray) -> np.ndarray:
    h, w, c = gt.shape
    blocks = gt.reshape(h // SCALE, SCALE, w // SCALE, SCALE, c).astype(np.float64)
    return np.round(blocks.mean(axis=(1, 3))).astype(np.uint8)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    """gt/<clip>/NNNN.png random frames, lr/ the rounded SCALE x SCALE block means."""
    rng = np.random.default_rng(0)
    for clip, n in LENGTHS.items():
        for t in range(n):
            gt = rng.integers(0, 256, size=(H, W, 3), dtype=np.uint8)
            write_image(tmp_path / "gt" / clip / f"{t:04d}.png", gt)
            write_image(tmp_path / "lr" / clip / f"{t:04d}.png", _block_mean_u8(gt))
    (tmp_path / "gt" / "notes.txt").write_text("not a clip")
    return tmp_path / "lr", tmp_path / "gt"


def _paired(folders: tuple[Path, Path], **kwargs) -> PairedVideoFolder:
    lr_root, gt_root = folders
    return PairedVideoFolder(lr_root, gt_root, scale=SCALE, num_frames=3, **kwargs)


def _gt_file(gt_root: Path, key: str, offset: int = 0) -> np.ndarray:
    clip, stem = key.split("/")
    return read_image(gt_root / clip / f"{int(stem) + offset:04d}.png")


def _assert_lr_is_block_mean(item: dict) -> None:
    expected = F.avg_pool2d(item["gt"].double() * 255, SCALE)
    # LR files hold the rounded block mean; 0.5 + float error covers the rounding.
    assert (item["lr"].double() * 255 - expected).abs().max().item() <= 0.5 + 1e-4


def test_paired_windows_keys_and_full_frames(folders: tuple[Path, Path]) -> None:
    ds = _paired(folders, use_hflip=False)
    assert len(ds) == 3 + 1
    keys = [ds[(i, 0)]["key"] for i in range(len(ds))]
    assert keys == ["a/0000", "a/0001", "a/0002", "b/0000"]
    item = ds[(1, 5)]
    assert item["lr"].shape == (3, 3, H // SCALE, W // SCALE) and item["gt"].shape == (3, 3, H, W)
    assert item["lr"].dtype == torch.float32 and item["gt"].dtype == torch.float32
    for t in range(3):
        expected = torch.from_numpy(_gt_file(folders[1], "a/0001", t)).permute(2, 0, 1) / 255
        torch.testing.assert_close(item["gt"][t], expected.float())
    _assert_lr_is_block_mean(item)
    with pytest.raises(IndexError):
        ds[(4, 0)]
    with pytest.raises(TypeError, match="tuples"):
        ds[0]


def test_paired_crop_and_augment_stay_aligned_and_reproducible(folders) -> None:
    ds = _paired(
        folders,
        gt_patch_size=8,
        use_hflip=True,
        use_vflip=True,
        use_transpose=True,
        use_reverse=True,
    )
    first_gt_values = set()
    for seed in range(40):
        item = ds[(seed % len(ds), seed)]
        assert item["lr"].shape == (3, 3, 4, 4) and item["gt"].shape == (3, 3, 8, 8)
        _assert_lr_is_block_mean(item)
        again = ds[(seed % len(ds), seed)]
        assert torch.equal(again["lr"], item["lr"]) and torch.equal(again["gt"], item["gt"])
        first_gt_values.add(round(item["gt"][0, 0, 0, 0].item() * 255))
    assert len(first_gt_values) > 20  # crops and flips really vary with the seed


def test_paired_crop_without_augment_is_a_grid_aligned_subregion(folders) -> None:
    ds = _paired(folders, gt_patch_size=(4, 6), use_hflip=False)
    gt_root = folders[1]
    corners = set()
    for seed in range(30):
        item = ds[(0, seed)]
        full = torch.from_numpy(_gt_file(gt_root, item["key"])).permute(2, 0, 1).float() / 255
        hits = [
            (top, left)
            for top in range(0, H - 3, SCALE)
            for left in range(0, W - 5, SCALE)
            if torch.equal(full[:, top : top + 4, left : left + 6], item["gt"][0])
        ]
        assert len(hits) == 1
        corners.add(hits[0])
    assert len(corners) > 10


def test_hflip_happens_about_half_the_time(folders) -> None:
    ds = _paired(folders, use_hflip=True)
    full = torch.from_numpy(_gt_file(folders[1], "a/0000")).permute(2, 0, 1).float() / 255
    flipped = sum(torch.equal(ds[(0, s)]["gt"][0], full.flip(-1)) for s in range(100))
    unflipped = sum(torch.equal(ds[(0, s)]["gt"][0], full) for s in range(100))
    assert flipped + unflipped == 100 and 30 < flipped < 70


def test_meta_info_and_clip_list_match_discovery(folders, tmp_path: Path) -> None:
    meta = tmp_path / "meta.txt"
    meta.write_text(f"a 5 ({H},{W},3)\nb 3 ({H},{W},3)\n")
    assert read_meta_info(meta) == [("a", 5, (H, W)), ("b", 3, (H, W))]
    plain, with_meta = _paired(folders), _paired(folders, meta_info=meta)
    assert len(with_meta) == len(plain) == 4
    for i in range(4):
        a, b = plain[(i, 9)], with_meta[(i, 9)]
        assert a["key"] == b["key"] and torch.equal(a["lr"], b["lr"])
    clip_list = tmp_path / "list.txt"
    clip_list.write_text("b\n")
    only_b = _paired(folders, clips=clip_list)
    assert len(only_b) == 1 and only_b[(0, 0)]["key"] == "b/0000"
    with pytest.raises(FrameReadError, match="clip 'c' not found"):
        _paired(folders, clips=["c"])


def test_meta_info_count_mismatch_names_folder(folders, tmp_path: Path) -> None:
    meta = tmp_path / "meta.txt"
    meta.write_text("a 6 (16,24,3)\n")
    ds = _paired(folders, meta_info=meta)
    assert len(ds) == 4  # counts come from meta_info; folders are listed on first use
    with pytest.raises(FrameReadError, match=r"gt/a holds 5 frames but meta_info lists 6"):
        ds[(0, 0)]
    meta.write_text("a five (16,24,3)\n")
    with pytest.raises(ValueError, match=r"meta.txt:1: expected"):
        read_meta_info(meta)


def test_missing_lr_frame_is_named(folders) -> None:
    (folders[0] / "a" / "0002.png").unlink()
    with pytest.raises(FrameReadError, match=r"lr/a/0002\.png"):
        _paired(folders)


def test_gap_in_gt_numbering_is_named(folders) -> None:
    (folders[1] / "a" / "0003.png").unlink()
    with pytest.raises(FrameReadError, match=r"gt/a/0003\.png \(gap in numbering\)"):
        GTVideoFolder(folders[1], {"type": "test_avgpool"}, scale=SCALE, num_frames=3)


def test_natural_frame_order(tmp_path: Path) -> None:
    for t in (1, 2, 10, 3, 4, 5, 6, 7, 8, 9):
        write_image(tmp_path / f"im{t}.png", np.zeros((2, 2, 3), np.uint8))
    frames = DiskFrameStore(tmp_path).frames("")
    assert [p.stem for p in frames] == [f"im{t}" for t in range(1, 11)]


def test_corrupt_frame_is_named(folders) -> None:
    (folders[1] / "a" / "0001.png").write_bytes(b"not a png")
    ds = _paired(folders)
    with pytest.raises(FrameReadError, match=r"gt/a/0001\.png"):
        ds[(0, 0)]


def test_lr_gt_size_mismatch_names_both_files(folders) -> None:
    lr_root, gt_root = folders
    ds = PairedVideoFolder(lr_root, gt_root, scale=4, num_frames=2)
    with pytest.raises(FrameSizeError) as info:
        ds[(0, 0)]
    message = str(info.value)
    assert "lr/a/0000.png is 8x12" in message and "gt/a/0000.png is 16x24" in message
    assert "LR x 4" in message


def test_gt_only_degrades_the_augmented_patch(folders) -> None:
    ds = GTVideoFolder(
        folders[1],
        {"type": "test_avgpool"},
        scale=SCALE,
        num_frames=2,
        gt_patch_size=8,
        use_vflip=True,
        use_transpose=True,
        use_reverse=True,
    )
    assert len(ds) == 4 + 2
    for seed in range(20):
        item = ds[(seed % len(ds), seed)]
        assert item["gt"].shape == (2, 3, 8, 8) and item["lr"].shape == (2, 3, 4, 4)
        torch.testing.assert_close(item["lr"], F.avg_pool2d(item["gt"], SCALE))
        assert item["lr"].dtype == torch.float32


def test_gt_only_checks_degradation_output_size(folders) -> None:
    ds = GTVideoFolder(folders[1], {"type": "_test_halve"}, scale=4, num_frames=1)
    with pytest.raises(FrameSizeError, match=r"into LR \(8, 12\), not GT / 4"):
        ds[(0, 0)]


def test_make_degradation_binds_and_checks_scale() -> None:
    degrade = make_degradation({"type": "test_avgpool"}, scale=2)
    assert degrade(torch.ones(1, 3, 4, 4)).shape == (1, 3, 2, 2)
    with pytest.raises(ValueError, match="scale=3 but the dataset uses scale=2"):
        make_degradation({"type": "test_avgpool", "scale": 3}, scale=2)


def test_training_set_through_dataloader(folders) -> None:
    ds = DATASETS.build(
        {"type": "PairedVideoFolder", "scale": SCALE, "num_frames": 2, "gt_patch_size": 8},
        lr_root=folders[0],
        gt_root=folders[1],
    )
    loader = DataLoader(ds, batch_size=3, sampler=InfiniteSampler(len(ds), seed=0))
    batch = next(iter(loader))
    assert batch["lr"].shape == (3, 2, 3, 4, 4) and batch["gt"].shape == (3, 2, 3, 8, 8)
    keys = list(itertools.islice(InfiniteSampler(len(ds), seed=0), 3))
    assert batch["key"] == [ds[key]["key"] for key in keys]
    torch.testing.assert_close(batch["gt"][1], ds[keys[1]]["gt"])


# --------------------------------------------------------------------------- test sets


def test_test_set_paired_streams_file_frames(folders) -> None:
    lr_root, gt_root = folders
    clips = VideoFolderTest(lr_root, gt_root, scale=SCALE).clips()
    assert [(c.name, c.num_frames) for c in clips] == [("a", 5), ("b", 3)]
    clip = clips[1]
    assert clip.gt_size == (H, W) and clip.lr_size == (H // SCALE, W // SCALE) and clip.fps is None
    lrs, gts = list(clip.lr_frames()), list(clip.gt_frames())
    assert len(lrs) == len(gts) == 3 and lrs[0].shape == (3, H // SCALE, W // SCALE)
    expected = torch.from_numpy(read_image(lr_root / "b" / "0002.png")).permute(2, 0, 1) / 255
    torch.testing.assert_close(lrs[2], expected.float())
    expected = torch.from_numpy(read_image(gt_root / "b" / "0002.png")).permute(2, 0, 1) / 255
    torch.testing.assert_close(gts[2], expected.float())


def test_test_set_gt_only_and_lr_only(folders, tmp_path: Path) -> None:
    lr_root, gt_root = folders
    gt_only = VideoFolderTest(gt_root=gt_root, scale=SCALE, degradation="test_avgpool")
    clip = gt_only.clips()[0]
    assert clip.lr_size == (H // SCALE, W // SCALE)
    for lr, gt in zip(clip.lr_frames(), clip.gt_frames(), strict=True):
        torch.testing.assert_close(lr, F.avg_pool2d(gt[None], SCALE)[0])
    lr_only = VideoFolderTest(lr_root, scale=SCALE, clips=["b"]).clips()
    assert [c.name for c in lr_only] == ["b"] and lr_only[0].gt_frames() is None
    assert lr_only[0].gt_size is None and lr_only[0].lr_size == (H // SCALE, W // SCALE)
    meta = tmp_path / "lr_meta.txt"
    meta.write_text("a 5 (8,12,3)\n")
    lr_meta = VideoFolderTest(lr_root, scale=SCALE, meta_info=meta).clips()
    assert [(c.name, c.num_frames, c.lr_size) for c in lr_meta] == [("a", 5, (8, 12))]


def test_test_set_argument_and_size_errors(folders) -> None:
    lr_root, gt_root = folders
    with pytest.raises(ValueError, match="not both"):
        VideoFolderTest(lr_root, gt_root, scale=SCALE, degradation="test_avgpool")
    with pytest.raises(ValueError, match="gt_root together with a degradation"):
        VideoFolderTest(gt_root=gt_root, scale=SCALE)
    clip = VideoFolderTest(lr_root, gt_root, scale=3).clips()[0]
    with pytest.raises(FrameSizeError, match=r"lr/a/0000\.png is 8x12.*gt/a/0000\.png is 16x24"):
        next(clip.lr_frames())


# --------------------------------------------------------------------------- real layouts

VID4 = {
    "calendar": (41, (576, 720)),
    "city": (34, (576, 704)),
    "foliage": (49, (480, 720)),
    "walk": (47, (480, 720)),
}


def test_vid4_layout_from_data() -> None:
    root = shared_path("data", "Vid4")
    clips = Vid4(root, degradation={"type": "test_avgpool"}).clips()
    assert {c.name: (c.num_frames, c.gt_size) for c in clips} == VID4
    for clip in clips:  # the meta_info sizes agree with the frames themselves
        first = next(clip.gt_frames())
        assert tuple(first.shape) == (3, *clip.gt_size)
    calendar = clips[0]
    assert calendar.lr_size == (144, 180)
    # Without meta_info the same list comes from the folders.
    discovered = VideoFolderTest(gt_root=root / "GT", scale=4, degradation="test_avgpool")
    assert {c.name: (c.num_frames, c.gt_size) for c in discovered.clips()} == VID4


def test_vid4_real_lr_subset_is_paired() -> None:
    root = shared_path("data", "Vid4")
    clips = Vid4(root, lr_subdir="real_LR/BIx4_TDAN").clips()
    assert [(c.name, c.num_frames) for c in clips] == [("calendar", 41)]
    lr = next(clips[0].lr_frames())
    assert lr.shape == (3, 144, 180) and clips[0].gt_size == (576, 720)
    expected = read_image(root / "real_LR" / "BIx4_TDAN" / "calendar" / "0000.png")
    assert np.array_equal((lr * 255).round().to(torch.uint8).permute(1, 2, 0).numpy(), expected)


def test_vid4_bi_on_the_fly_matches_real_lr() -> None:
    """Integration: GT-only streaming with the registered BI reproduces the published LR."""
    root = shared_path("data", "Vid4")
    if "BI" not in DEGRADATIONS:
        pytest.skip("BI degradation not registered")
    clip = Vid4(root, degradation={"type": "BI"}, clips=["calendar"]).clips()[0]
    lr = next(clip.lr_frames())
    expected = read_image(root / "real_LR" / "BIx4_TDAN" / "calendar" / "0000.png")
    got = (lr * 255).round().to(torch.uint8).permute(1, 2, 0).numpy()
    assert np.array_equal(got, expected)


def test_vimeo_septuplets_with_clip_list() -> None:
    root = shared_path("data", "Vimeo90K")
    ds = GTVideoFolder(
        root / "sequences",
        {"type": "test_avgpool"},
        scale=4,
        num_frames=7,
        gt_patch_size=64,
        clips=root / "sep_trainlist.txt",
    )
    assert len(ds) == 8
    item = ds[(3, 0)]
    assert item["key"] == "00001/0004/im1"
    assert item["gt"].shape == (7, 3, 64, 64) and item["lr"].shape == (7, 3, 16, 16)
    torch.testing.assert_close(item["lr"], F.avg_pool2d(item["gt"], 4))
