"""ConcatDataset routes (index, seed) keys to its parts."""

import pytest
import torch

from tests.conftest import shared_path
from vsr.data.concat import ConcatDataset
from vsr.data.synthetic import make_motion_clips


def test_concat_routes_keys_to_parts(tmp_path):
    make_motion_clips(tmp_path / "a", 1, 3, (32, 32), seed=0)
    vimeo = shared_path("data", "Vimeo90K")
    part_a = {"type": "GTVideoFolder", "gt_root": str(tmp_path / "a"),
              "degradation": {"type": "BI"}, "scale": 4, "num_frames": 2}
    part_b = {"type": "Vimeo90K", "gt_root": str(vimeo / "sequences"),
              "list_file": str(vimeo / "sep_testlist.txt"), "degradation": {"type": "BD_DUF"},
              "scale": 4, "num_frames": 3, "gt_patch_size": 32}
    ds = ConcatDataset([part_a, part_b])
    assert len(ds) == 2 + 3
    assert ds[(1, 7)]["gt"].shape == (2, 3, 32, 32)
    item = ds[(2, 7)]
    assert item["key"].startswith("00002/0004") and item["lr"].shape == (3, 3, 8, 8)
    assert torch.equal(item["gt"], ds.parts[1][(0, 7)]["gt"])
    with pytest.raises(IndexError):
        ds[(5, 0)]
