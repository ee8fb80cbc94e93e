"""``vsr infer`` with the FRVSR config on real LR frames (frvsr_bd_infer.pt's 22x30 calendar crop,
recipe weights saved in the release layout) gives TecoGAN-PyTorch's official test output."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from tests.archs.test_frvsr import recipe_weights
from tests.conftest import load_fixture
from vsr.cli.main import main
from vsr.io.image import list_frames, read_image, write_image

CONFIG = Path(__file__).resolve().parents[2] / "configs" / "frvsr" / "frvsr_x4_vid4_bd_tecogan.yaml"


def test_infer_frvsr_config_reproduces_the_official_uint8_frames(tmp_path) -> None:
    fixture = load_fixture("frvsr_bd_infer.pt")
    lr = (fixture["lr_thwc"].numpy() * 255).round().astype(np.uint8)  # the PNG values
    for t, frame in enumerate(lr):
        write_image(tmp_path / "lr" / f"{t:04d}.png", frame)
    weights = tmp_path / "FRVSR_BD_iter400000.pth"
    torch.save(recipe_weights(fixture), weights)
    code = main(["infer", "-c", str(CONFIG), "--weights", str(weights), "--device", "cpu",
                 "-i", str(tmp_path / "lr"), "-o", str(tmp_path / "sr")])
    assert code == 0
    frames = list_frames(tmp_path / "sr")
    assert len(frames) == 6  # the 5 reflected start frames are not written
    sr = np.stack([read_image(p) for p in frames]).astype(int)
    off = np.abs(sr - fixture["hr_seq_uint8"].numpy().astype(int))
    assert off.max() <= 1 and (off > 0).sum() <= 0.001 * off.size


def test_infer_tecogan_on_an_mp4_with_tiles(tmp_path) -> None:
    """TecoGAN's generator (recipe weights saved as the TecoGAN release) on a 48x64 crop of the
    Big Buck Bunny mp4, whole and in 24x32 LR tiles overlapping 8 px: infer writes what the
    engine's stream and tiled stream compute on the decoded frames (flows estimated per tile,
    so the two differ: FNet sees ~50 LR px around each pixel)."""
    from tests.conftest import bunny_crop_mp4
    from vsr.archs.frvsr import FRNet
    from vsr.archs.tiles import TileSpec, stream_tiled
    from vsr.io.color import to_uint8_grid
    from vsr.io.video import VideoReader

    video = bunny_crop_mp4(tmp_path / "crop.mp4", slice(300, 348), slice(600, 664), 4)
    weights = tmp_path / "TecoGAN_4x_BD_Vimeo_iter500K.pth"
    torch.save(recipe_weights(load_fixture("frvsr_bd_infer.pt")), weights)
    run = ["infer", "-c", str(CONFIG), "--weights", str(weights), "--device", "cpu",
           "-i", str(video)]
    assert main([*run, "-o", str(tmp_path / "whole")]) == 0
    assert main([*run, "-o", str(tmp_path / "tiled"), "--tile", "24x32",
                 "--tile-overlap", "8"]) == 0

    model = FRNet(4, "BD").eval()
    model.load_state_dict(torch.load(weights, weights_only=True))
    lr = [torch.from_numpy(f).permute(2, 0, 1).float() / 255 for f in VideoReader(video)]
    for folder, tile in (("whole", None), ("tiled", TileSpec((24, 32), 8))):
        written = list_frames(tmp_path / folder)
        assert len(written) == 4
        with torch.no_grad():
            expected = [to_uint8_grid(sr.double()) for sr in stream_tiled(model, lr, tile)]
        for path, ref in zip(written, expected):
            got = torch.from_numpy(read_image(path)).permute(2, 0, 1).double()
            assert got.shape == (3, 192, 256)
            assert (got - ref).abs().max() <= 1, folder  # float rounding at .5 of the uint8 grid
    whole, tiled = (read_image(list_frames(tmp_path / f)[0]) for f in ("whole", "tiled"))
    assert not np.array_equal(whole, tiled)
