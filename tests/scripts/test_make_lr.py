"""scripts/make_lr.py against the MATLAB recipes written out here in numpy: BD = fspecial 12x12
sigma 1.6, imfilter replicate (correlation, centre tap 6 of 12 in MATLAB's 1-based count),
rows/cols 1, 5, 9, ...; BI = imresize (checked through vsr's bit-exact BI)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import torch

from vsr.data.degradations import bi
from vsr.io.image import read_image, write_image

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("make_lr", ROOT / "scripts" / "make_lr.py")
make_lr = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_lr)


def matlab_bd(gt: np.ndarray, sigma: float = 1.6, scale: int = 4) -> np.ndarray:
    size = 12
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-(x[:, None] ** 2 + x[None] ** 2) / (2 * sigma**2))
    g /= g.sum()
    centre = size // 2 - 1  # MATLAB: floor((12 + 1) / 2) = 6, 1-based
    img = gt.astype(np.float64) / 255
    padded = np.pad(img, ((centre, size - 1 - centre),) * 2 + ((0, 0),), mode="edge")
    h, w = img.shape[:2]
    out = np.zeros_like(img)
    for i in range(size):
        for j in range(size):
            out += g[i, j] * padded[i:i + h, j:j + w]
    # MATLAB uint8() rounds half away from zero
    return np.floor(out[1::scale, 1::scale] * 255 + 0.5).clip(0, 255).astype(np.uint8)


@pytest.fixture
def gt_folder(tmp_path: Path) -> Path:
    rng = np.random.default_rng(0)
    for clip in ("a", "b"):
        for k in (1, 2):
            pixels = rng.integers(0, 256, (34, 27, 3))
            write_image(tmp_path / "gt" / clip / f"im{k}.png", pixels.astype(np.uint8))
    return tmp_path / "gt"


def test_bd_is_the_matlab_recipe(gt_folder: Path, tmp_path: Path) -> None:
    assert make_lr.main(["--root", str(gt_folder), "--degradation", "BD",
                         "--out", str(tmp_path / "bd")]) == 0
    for clip in ("a", "b"):
        for k in (1, 2):
            gt = read_image(gt_folder / clip / f"im{k}.png")[:32, :24]  # modcrop 4
            lr = read_image(tmp_path / "bd" / clip / f"im{k}.png")
            assert lr.shape == (8, 6, 3)
            diff = np.abs(lr.astype(int) - matlab_bd(gt).astype(int))
            assert diff.max() == 0


def test_bi_list_and_bad_clip(gt_folder: Path, tmp_path: Path, capsys) -> None:
    (tmp_path / "list.txt").write_text("b\n")
    assert make_lr.main(["--root", str(gt_folder), "--list", str(tmp_path / "list.txt"),
                         "--degradation", "BI", "--out", str(tmp_path / "bi")]) == 0
    assert sorted(p.name for p in (tmp_path / "bi").iterdir()) == ["b"]
    gt = read_image(gt_folder / "b" / "im1.png")[:32, :24]  # modcrop 4
    lr = read_image(tmp_path / "bi" / "b" / "im1.png")
    hr = torch.from_numpy(np.ascontiguousarray(gt)).permute(2, 0, 1)[None].double() / 255
    expected = bi(hr, 4)[0].permute(1, 2, 0).mul(255).round().numpy().astype(np.uint8)
    assert lr.shape == (8, 6, 3) and np.array_equal(lr, expected)  # vsr BI: MATLAB-exact
    (gt_folder / "empty").mkdir()
    assert make_lr.main(["--root", str(gt_folder), "--degradation", "BI",
                         "--out", str(tmp_path / "x")]) == 2
    assert "empty: no PNG frames" in capsys.readouterr().err
