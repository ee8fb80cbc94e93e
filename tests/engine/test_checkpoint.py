"""Atomic checkpoint writes, pruning, RNG round trip, weight loading errors."""

import random

import numpy as np
import pytest
import torch
from torch import nn

from vsr.engine import checkpoint as ckpt


def test_atomic_save_keeps_the_old_file_when_serialisation_fails(tmp_path):
    path = tmp_path / "iter_00000001.pth"
    ckpt.atomic_torch_save({"a": torch.ones(2)}, path)

    class Unpicklable:
        def __reduce__(self):
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        ckpt.atomic_torch_save({"a": Unpicklable()}, path)
    assert torch.equal(ckpt.read_checkpoint(path)["a"], torch.ones(2))
    assert [p.name for p in tmp_path.iterdir()] == [path.name]


def test_prune_and_latest(tmp_path):
    for it in (5, 10, 15, 20):
        ckpt.atomic_torch_save({"it": it}, tmp_path / f"iter_{it:08d}.pth")
    ckpt.prune_checkpoints(tmp_path, keep_last=2)
    assert [i for i, _ in ckpt.checkpoint_paths(tmp_path)] == [15, 20]
    assert ckpt.latest_checkpoint(tmp_path).name == "iter_00000020.pth"


def test_rng_round_trip():
    torch.manual_seed(1)
    np.random.seed(2)
    random.seed(3)
    state = ckpt.rng_state()
    expected = (torch.rand(3), np.random.rand(3), random.random())
    torch.rand(5)
    np.random.rand(5)
    random.random()
    ckpt.set_rng_state(state)
    got = (torch.rand(3), np.random.rand(3), random.random())
    assert torch.equal(got[0], expected[0]) and np.array_equal(got[1], expected[1])
    assert got[2] == expected[2]


def test_corrupt_checkpoint_names_the_file(tmp_path):
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="bad.pth"):
        ckpt.read_checkpoint(bad)


def test_load_weights_prefers_ema_of_our_checkpoints(tmp_path):
    net = nn.Linear(2, 2)
    ema = {k: torch.full_like(v, 7.0) for k, v in net.state_dict().items()}
    model = {f"net.{k}": v for k, v in net.state_dict().items()}
    ckpt.atomic_torch_save({ckpt.MARKER: True, "model": model, "ema": ema},
                           tmp_path / "c.pth")
    other = nn.Linear(2, 2)
    ckpt.load_weights(other, tmp_path / "c.pth")
    assert torch.equal(other.weight, torch.full((2, 2), 7.0))
