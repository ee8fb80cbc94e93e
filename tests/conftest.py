"""Test helpers: where ../shared lives, and skipping (or failing, under VSR_REQUIRE_SHARED=1)
when it is absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

SHARED = Path(os.environ.get("VSR_SHARED", Path(__file__).resolve().parents[1].parent / "shared"))
# configs read their datasets under the data root (vsr.config.data_root): here, the real samples
os.environ["VSR_DATA"] = str(SHARED / "data")


def shared_path(*parts: str) -> Path:
    """Path under ../shared; skips the test when missing, fails when VSR_REQUIRE_SHARED=1."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        message = f"shared data not found: {path} (place ../shared beside the project root)"
        if os.environ.get("VSR_REQUIRE_SHARED") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


def load_fixture(name: str) -> dict:
    """A parity fixture dict from ../shared/fixtures/parity."""
    return torch.load(shared_path("fixtures", "parity", name), weights_only=True)


@pytest.fixture(autouse=True)
def _seed_everything() -> None:
    torch.manual_seed(0)


def bunny_crop_mp4(path: Path, rows: slice, cols: slice, frames: int) -> Path:
    """The first ``frames`` frames of ../shared's Big Buck Bunny clip cropped to rows x cols,
    re-encoded losslessly as an mp4 (the 720p original takes minutes per frame on CPU)."""
    import numpy as np

    from vsr.io.video import VideoReader, VideoWriter

    writer = VideoWriter(path, 24, crf=0)
    for k, frame in enumerate(VideoReader(shared_path("data", "clips",
                                                      "big_buck_bunny_720p_1mb.mp4"))):
        if k == frames:
            break
        writer.write(np.ascontiguousarray(frame[rows, cols]))
    writer.close()
    return path
