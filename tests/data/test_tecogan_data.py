"""TecoGANTrain (MODELS.md §3.4): BD made on the fly equals an independent valid conv with the
9x9 sigma 1.5 Gaussian at stride 4; moving-first-frame offsets; reflected clip ends; TecoGAN's
LMDB layout; ToS3 configs."""

from __future__ import annotations

from pathlib import Path

import lmdb
import numpy as np
import pytest
import torch
import torch.nn.functional as F
import yaml
from scipy.signal import windows

from tests.conftest import shared_path
from tests.scripts import load_script
from vsr.config.experiment import load_experiment
from vsr.config.loader import ConfigError
from vsr.config.schema import MissingDataPath
from vsr.data.degradations import bi
from vsr.data.storage import DiskFrameStore, close_lmdb, open_store
from vsr.data.tecogan import (
    ClipTooShortError,
    TecoGANTrain,
    moving_offsets,
    moving_windows,
    reflected_indices,
)
from vsr.data.video_folder import FrameSizeError
from vsr.io.image import FrameReadError, write_image
from vsr.registry import DATASETS

ROOT = Path(__file__).resolve().parents[2]
STILL = {"moving_prob": 0.0, "use_flip": False, "use_rot90": False, "use_reverse": False}


def _u8(clip: torch.Tensor) -> np.ndarray:
    """(T, C, H, W) float [0,1] -> (T, H, W, C) uint8 (exact for uint8-derived values)."""
    return (clip * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()


def _locate(patch: np.ndarray, frame: np.ndarray) -> tuple[int, int] | None:
    """Top-left of an exact copy of ``patch`` (h, w, 3) in ``frame``, or None."""
    h, w = patch.shape[:2]
    rows = np.lib.stride_tricks.sliding_window_view(frame, (w, 3), axis=(1, 2))[:, :, 0]
    for top, left in zip(*np.nonzero((rows == patch[0]).all(axis=(-1, -2)))):
        if top + h <= frame.shape[0] and np.array_equal(frame[top:top + h, left:left + w], patch):
            return int(top), int(left)
    return None


def _independent_bd(hr: np.ndarray) -> torch.Tensor:
    """TecoGAN's prepare_data: conv2d with the 3x3x9x9 diagonal Gaussian kernel, no padding."""
    k = windows.gaussian(9, std=1.5)
    k2 = np.outer(k, k) / np.outer(k, k).sum()
    kernel = torch.zeros(3, 3, 9, 9, dtype=torch.float64)
    for c in range(3):
        kernel[c, c] = torch.from_numpy(k2)
    x = torch.from_numpy(hr).permute(0, 3, 1, 2).double() / 255
    return F.conv2d(x, kernel, stride=4)


@pytest.fixture(scope="module")
def vimeo():
    return shared_path("data", "Vimeo90K")


def _vimeo_set(vimeo, **kwargs) -> TecoGANTrain:
    return TecoGANTrain(vimeo / "sequences", clips=["00001/0001", "00001/0002"], **kwargs)


def test_bd_lr_is_the_valid_gaussian_conv_of_the_enlarged_crop(vimeo):
    ds = _vimeo_set(vimeo, num_frames=5, **STILL)
    assert len(ds) == 2 * 7  # every frame starts a sequence; (5, 2) runs 5, 6, 5, 4, 3
    source = DiskFrameStore(vimeo / "sequences")
    for key in [(0, 1), (5, 2)]:
        item = ds[key]
        assert item["gt"].shape == (5, 3, 128, 128) and item["lr"].shape == (5, 3, 32, 32)
        assert item["gt"].dtype == item["lr"].dtype == torch.float32
        clip, stem = item["key"].rsplit("/", 1)
        frames = [ref.read() for ref in source.frames(clip)]
        start = int(stem[2:]) - 1
        gt = _u8(item["gt"])
        top, left = _locate(gt[0], frames[start])
        enlarged = np.stack([frames[i][top - 4:top + 132, left - 4:left + 132]
                             for i in reflected_indices(start, 5, 7)])
        assert np.array_equal(gt, enlarged[:, 4:132, 4:132])
        expected = _independent_bd(enlarged)
        assert expected.shape == (5, 3, 32, 32)
        assert torch.allclose(item["lr"].double(), expected, atol=1e-6)


def test_augmentations_act_on_the_enlarged_crop_before_bd(vimeo):
    """Every dihedral draw: GT is a flipped/rotated crop, LR the BD of that same enlarged crop."""
    ds = _vimeo_set(vimeo, num_frames=3, moving_prob=0.0, gt_patch_size=64)
    frames = {c: [r.read() for r in DiskFrameStore(vimeo / "sequences").frames(c)]
              for c in ds.clip_names}
    seen = set()
    for seed in range(8):
        item = ds[(seed % len(ds), seed)]
        clip, stem = item["key"].rsplit("/", 1)
        start = int(stem[2:]) - 1
        gt = torch.from_numpy(_u8(item["gt"])).permute(0, 3, 1, 2)
        for k in range(4):
            for flip in (None, -2, -1):
                undone = torch.rot90(gt, -k, dims=(-2, -1))
                undone = undone.flip(flip) if flip is not None else undone
                for reverse in (False, True):
                    seq = undone.flip(0) if reverse else undone
                    hit = _locate(seq[0].permute(1, 2, 0).numpy(), frames[clip][start])
                    if hit is None:
                        continue
                    top, left = hit
                    raw = torch.from_numpy(np.stack(
                        [frames[clip][i][top - 4:top + 68, left - 4:left + 68]
                         for i in reflected_indices(start, 3, 7)])).permute(0, 3, 1, 2)
                    redo = raw.flip(flip) if flip is not None else raw
                    redo = torch.rot90(redo.flip(0) if reverse else redo, k, dims=(-2, -1))
                    if not torch.equal(redo[:, :, 4:68, 4:68], gt):
                        continue
                    expected = _independent_bd(redo.permute(0, 2, 3, 1).numpy())
                    assert torch.allclose(item["lr"].double(), expected, atol=1e-6)
                    seen.add((k, flip, reverse))
                    break
                else:
                    continue
                break
            else:
                continue
            break
        else:
            pytest.fail(f"GT of seed {seed} is no flip/rotation of a crop of {clip}")
    assert len({k for k, _, _ in seen}) > 1 and any(r for _, _, r in seen)


def test_moving_offsets_follow_the_published_ranges():
    rng = np.random.default_rng(0)
    bd = moving_offsets(rng, 100_000, "BD").ravel()
    values, counts = np.unique(bd, return_counts=True)
    assert values.tolist() == list(range(-4, 5))  # floor(U(-3.5, 4.5))
    assert np.allclose(counts / bd.size, [1 / 16] + [1 / 8] * 7 + [1 / 16], atol=0.004)
    bi_off = moving_offsets(rng, 100_000, "BI").ravel()
    values, counts = np.unique(bi_off, return_counts=True)
    assert values.tolist() == [-2, -1, 0, 1]  # floor(U(-1.5, 1.5))
    assert np.allclose(counts / bi_off.size, [1 / 6, 1 / 3, 1 / 3, 1 / 6], atol=0.004)
    topleft, h, w = moving_windows(np.array([[1, -2], [3, 0], [-4, 4]]), 50, 60)
    assert topleft.tolist() == [[1, 0], [4, 0], [0, 4]] and (h, w) == (46, 56)


def _noise_clips(tmp_path: Path, clips: dict[str, tuple[int, int, int]], seed=0) -> Path:
    """TecoGAN-layout LMDB of random frames (every shift of one is unambiguous), via the script."""
    rng = np.random.default_rng(seed)
    src = tmp_path / "frames"
    for clip, (n, h, w) in clips.items():
        for i in range(n):
            write_image(src / clip / f"{i:04d}.png", rng.integers(0, 256, (h, w, 3), np.uint8))
    out = tmp_path / "GT.lmdb"
    assert load_script("create_tecogan_lmdb").create_tecogan_lmdb(src, out) == sum(
        n for n, _, _ in clips.values())
    return out


def _shift(a: np.ndarray, b: np.ndarray, reach: int) -> tuple[int, int] | None:
    """(dy, dx) with b[y, x] == a[y + dy, x + dx] on the overlap, |d| <= reach."""
    h, w = a.shape[:2]
    for dy in range(-reach, reach + 1):
        for dx in range(-reach, reach + 1):
            ys, xs = slice(max(0, -dy), min(h, h - dy)), slice(max(0, -dx), min(w, w - dx))
            ya, xa = slice(ys.start + dy, ys.stop + dy), slice(xs.start + dx, xs.stop + dx)
            if np.array_equal(b[ys, xs], a[ya, xa]):
                return dy, dx
    return None


def test_moving_first_frame_translates_the_start_frame(tmp_path):
    lmdb_path = _noise_clips(tmp_path, {"a": (12, 80, 80)})
    ds = TecoGANTrain(lmdb_path, num_frames=6, gt_patch_size=32, moving_prob=1.0,
                      use_flip=False, use_rot90=False, use_reverse=False)
    start_frames = [ref.read() for ref in open_store(lmdb_path).frames("a")]
    steps = []
    for seed in range(6):
        item = ds[(seed, seed)]
        gt = _u8(item["gt"])
        assert _locate(gt[-1], start_frames[seed]) is not None  # all cut from the start frame
        for t in range(5):
            step = _shift(gt[t], gt[t + 1], 4)
            assert step is not None, (seed, t)
            steps.append(step)
    assert {d for s in steps for d in s} <= set(range(-4, 5)) and len(set(steps)) > 5
    # how often: probability 0.3 (TecoGAN: U(0,1) > moving_factor 0.7)
    ds.moving_prob = 0.3
    moved = [_shift(_u8(ds[(0, s)]["gt"])[0], _u8(ds[(0, s)]["gt"])[1], 4) is not None
             for s in range(300)]
    assert abs(np.mean(moved) - 0.3) < 0.08


def test_bi_reads_stored_lr_and_moves_it_on_the_lr_grid(tmp_path):
    rng = np.random.default_rng(1)
    gt_frames = [rng.integers(0, 256, (96, 96, 3), np.uint8) for _ in range(4)]
    for i, frame in enumerate(gt_frames):
        write_image(tmp_path / "GT" / "c" / f"{i:04d}.png", frame)
        lr = bi(torch.from_numpy(frame).permute(2, 0, 1)[None].double() / 255)
        write_image(tmp_path / "LR" / "c" / f"{i:04d}.png", _u8(lr)[0])
    ds = TecoGANTrain(tmp_path / "GT", degradation="BI", lr_root=tmp_path / "LR", num_frames=4,
                      gt_patch_size=64, moving_prob=1.0, use_flip=False, use_rot90=False)
    item = ds[(0, 3)]
    assert item["gt"].shape == (4, 3, 64, 64) and item["lr"].shape == (4, 3, 16, 16)
    lr_first = open_store(tmp_path / "LR").frames("c")[0].read()
    gt, lr = _u8(item["gt"]), _u8(item["lr"])
    top, left = _locate(lr[0], lr_first)
    assert np.array_equal(gt[0], gt_frames[0][4 * top:4 * top + 64, 4 * left:4 * left + 64])
    for t in range(3):
        dy, dx = _shift(lr[t], lr[t + 1], 2)
        assert -2 <= dy <= 1 and -2 <= dx <= 1
        assert _shift(gt[t], gt[t + 1], 8) == (4 * dy, 4 * dx)  # GT moves scale x the LR step
    still = TecoGANTrain(tmp_path / "GT", degradation="BI", lr_root=tmp_path / "LR",
                         num_frames=4, gt_patch_size=64, **STILL)
    item = still[(0, 0)]
    top, left = _locate(_u8(item["lr"])[0], lr_first)
    assert np.array_equal(_u8(item["gt"]), np.stack(gt_frames)[:, 4 * top:4 * top + 64,
                                                                 4 * left:4 * left + 64])


def test_sequences_past_the_clip_end_are_reflected(tmp_path):
    assert reflected_indices(0, 5, 3) == [0, 1, 2, 1, 0]  # TecoGAN's (0,1,2) -> (0,1,2,1,0)
    lmdb_path = _noise_clips(tmp_path, {"s": (7, 40, 40), "t": (10, 40, 40)})
    ds = TecoGANTrain(lmdb_path, num_frames=10, gt_patch_size=32, **STILL)
    assert len(ds) == 4 + 10  # 7 frames: starts 0..3; 10 frames: every frame
    frames = [r.read()[4:36, 4:36] for r in open_store(lmdb_path).frames("s")]
    item = ds[(3, 0)]  # the crop is the whole 40x40 frame: no randomness in where
    assert item["key"] == "s/0003"
    assert np.array_equal(_u8(item["gt"]), np.stack(
        [frames[i] for i in (3, 4, 5, 6, 5, 4, 3, 2, 1, 0)]))
    assert ds[(13, 0)]["key"] == "t/0009"
    script = load_script("create_tecogan_lmdb")
    assert script.main([str(tmp_path / "frames"), str(lmdb_path)]) == 2  # exists: refused
    with pytest.raises(IndexError):
        ds[(14, 0)]


def test_same_key_same_item_and_lmdb_equals_folders(vimeo, tmp_path):
    ds = _vimeo_set(vimeo, num_frames=10)
    a, b, c = ds[(2, 7)], ds[(2, 7)], ds[(2, 8)]
    assert torch.equal(a["lr"], b["lr"]) and torch.equal(a["gt"], b["gt"])
    assert not torch.equal(a["gt"], c["gt"])
    lmdb_path = tmp_path / "vimeo.lmdb"
    load_script("create_tecogan_lmdb").create_tecogan_lmdb(
        vimeo / "sequences", lmdb_path, clips=["00001/0001", "00001/0002"])
    folders, store = DiskFrameStore(vimeo / "sequences"), open_store(lmdb_path)
    for clip in ("00001/0001", "00001/0002"):
        for ref, back in zip(folders.frames(clip), store.frames(clip), strict=True):
            assert np.array_equal(ref.read(), back.read())
    from_lmdb = TecoGANTrain(lmdb_path, num_frames=10)
    assert len(from_lmdb) == len(ds)
    for key in [(0, 1), (7, 2), (2, 7)]:
        x, y = ds[key], from_lmdb[key]
        assert torch.equal(x["lr"], y["lr"]) and torch.equal(x["gt"], y["gt"])


def test_bad_input_is_named(tmp_path, vimeo):
    with pytest.raises(FrameReadError, match=r"dataset folder not found: .*nowhere"):
        TecoGANTrain(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="give lr_root"):
        TecoGANTrain(vimeo / "sequences", degradation="BI")
    lmdb_path = _noise_clips(tmp_path, {"short": (4, 40, 40), "ok": (6, 40, 40)})
    with pytest.raises(ClipTooShortError, match=r"clip .*GT.lmdb\[short\] has 4 frames; a "
                                                r"10-frame sequence .* at least 6"):
        TecoGANTrain(lmdb_path, num_frames=10)
    with pytest.raises(FrameSizeError, match=r"frame .*GT.lmdb\[ok_6x40x40_0004\] is 40x40, "
                                             r"smaller than the 72x72 crop"):
        TecoGANTrain(lmdb_path, num_frames=4, gt_patch_size=64, **STILL)[(4, 0)]
    close_lmdb(lmdb_path.resolve())  # this process has it open read-only
    env = lmdb.open(str(lmdb_path), map_size=1 << 24)
    with env.begin(write=True) as txn:
        txn.delete(b"ok_6x40x40_0002")
    env.close()
    with pytest.raises(FrameReadError, match=r"LMDB .*GT.lmdb: clip 'ok' has 5 frames, its "
                                             r"keys say 6"):
        TecoGANTrain(lmdb_path, num_frames=4, gt_patch_size=32)
    lr = tmp_path / "LR" / "00001" / "0001"
    for i in (1, 2, 3, 4, 5, 6):
        write_image(lr / f"im{i}.png", np.zeros((64, 112, 3), np.uint8))
    with pytest.raises(FrameReadError, match=r"frame not found: .*LR/00001/0001/im7.png \(LR "
                                             r"frame for GT frame .*im7.png\)"):
        TecoGANTrain(vimeo / "sequences", degradation="BI", lr_root=tmp_path / "LR",
                     clips=["00001/0001"], num_frames=7)


def _tos3_config(tmp_path: Path, base: str) -> Path:
    path = tmp_path / "tos3.yaml"
    path.write_text(yaml.safe_dump({
        "_base_": [str(ROOT / "configs/_base_/runtime.yaml"), str(ROOT / "configs/_base_" / base)],
        "name": "bicubic_tos3", "model": {"type": "SupervisedVSR", "arch": {"type": "Bicubic"}}}))
    return path


@pytest.mark.parametrize("base, degradation", [("tos3_bd_tecogan.yaml", "BD_TecoGAN"),
                                               ("tos3_bi_tecogan.yaml", "BI")])
def test_tos3_configs_load_build_and_name_a_missing_root(tmp_path, base, degradation):
    path = _tos3_config(tmp_path, base)
    with pytest.raises(MissingDataPath, match=r"'test.datasets.ToS3.root': no such file or "
                                              r"folder: .*ToS3"):
        load_experiment(path, [f"data_root={tmp_path / 'empty'}"])
    rng = np.random.default_rng(2)
    for clip in ("bridge", "face", "room"):
        for i in range(2):
            write_image(tmp_path / "data" / "ToS3" / "GT" / clip / f"{i:04d}.png",
                        rng.integers(0, 256, (48, 64, 3), np.uint8))
    cfg = load_experiment(path, [f"data_root={tmp_path / 'data'}"])
    spec = cfg.test.datasets["ToS3"]
    assert spec["degradation"]["type"] == degradation and set(cfg.test.metrics) == {
        "PSNR", "SSIM", "tOF"}
    clips = DATASETS.build(spec).clips()
    assert [c.name for c in clips] == ["bridge", "face", "room"]
    assert next(clips[0].lr_frames()).shape == (3, 12, 16)
    # TecoGAN's stored layout, written by the script: the same LR as made on the fly
    assert load_script("make_tecogan_lr").main([str(tmp_path / "data" / "ToS3")]) == 0
    subdir = {"BI": "Bicubic4xLR", "BD_TecoGAN": "Gaussian4xLR"}[degradation]
    stored = DATASETS.build(load_experiment(path, [
        f"data_root={tmp_path / 'data'}", f"test.datasets.ToS3.lr_subdir={subdir}",
        "test.datasets.ToS3.degradation=null"]).test.datasets["ToS3"]).clips()
    for made, read in zip(clips, stored, strict=True):
        for a, b in zip(made.lr_frames(), read.lr_frames(), strict=True):
            assert torch.equal(a, b)
    (tmp_path / "data" / "ToS3" / "GT" / "face" / "0000.png").unlink()
    (tmp_path / "data" / "ToS3" / "GT" / "face" / "0001.png").unlink()
    with pytest.raises(FrameReadError, match=r"clip 'face' not found"):
        DATASETS.build(load_experiment(path, [f"data_root={tmp_path / 'data'}"]
                                       ).test.datasets["ToS3"]).clips()


@pytest.mark.parametrize("base", ["vimeotecogan_bd_train.yaml", "vimeotecogan_bi_train.yaml"])
def test_training_fragments_validate_and_batch(tmp_path, vimeo, base):
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump({
        "_base_": [str(ROOT / "configs/_base_/runtime.yaml"), str(ROOT / "configs/_base_" / base)],
        "name": "t", "model": {"type": "SupervisedVSR", "arch": {"type": "Bicubic"}},
        "train": {"total_iters": 1, "optimizers": {"generator": {"type": "Adam", "lr": 1e-4}}}}))
    with pytest.raises(MissingDataPath, match=r"'train.dataset.gt_root': no such file or folder"):
        load_experiment(path)
    with pytest.raises(ConfigError, match=r"'train.dataset.moving_prob': expected a probability"):
        load_experiment(path, ["train.dataset.moving_prob=1.5"], check_paths=False)
    overrides = ["train.dataset.gt_root=Vimeo90K/sequences", "train.dataset.num_frames=4",
                 "train.dataset.clips=[00001/0001, 00001/0002]", "train.dataset.gt_patch_size=64"]
    if "bi" in base:  # stored LR: written here from the GT with MATLAB bicubic
        for clip in ("00001/0001", "00001/0002"):
            for ref in DiskFrameStore(vimeo / "sequences").frames(clip):
                hr = torch.from_numpy(ref.read()).permute(2, 0, 1)[None].double() / 255
                write_image(tmp_path / "lr" / clip / ref.name, _u8(bi(hr))[0])
        overrides.append(f"train.dataset.lr_root={tmp_path / 'lr'}")
    cfg = load_experiment(path, overrides)
    ds = DATASETS.build(cfg.train.dataset)
    assert (ds.degradation, len(ds)) == (("BI" if "bi" in base else "BD"), 14)
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=2, sampler=[(0, 1), (9, 2)])))
    assert batch["gt"].shape == (2, 4, 3, 64, 64) and batch["lr"].shape == (2, 4, 3, 16, 16)
    assert batch["key"] == ["00001/0001/im1", "00001/0002/im3"]
