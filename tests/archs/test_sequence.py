"""Whole-clip and streaming runs give the same frames for every temporal mode."""

import pytest
import torch
from torch import nn
from torch.nn import functional as F

from vsr.archs.sequence import run_clip, stream


class FrameNet(nn.Module):
    temporal = "frame"
    scale = 2

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 12, 3, padding=1)

    def forward(self, x):
        return F.pixel_shuffle(self.conv(x), 2)


class WindowNet(nn.Module):
    temporal = "window"
    scale = 2
    num_frames = 5

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(15, 12, 3, padding=1)

    def forward(self, x):
        return F.pixel_shuffle(self.conv(x.flatten(1, 2)), 2)


class RecurrentNet(nn.Module):
    """Output depends on the whole past through the state, and on lr_prev."""

    temporal = "recurrent"
    scale = 2

    def __init__(self, first_prev):
        super().__init__()
        self.first_prev = first_prev
        self.conv = nn.Conv2d(3 + 3 + 4, 4, 3, padding=1)
        self.out = nn.Conv2d(4, 12, 3, padding=1)

    def step(self, lr_prev, lr_curr, state):
        if state is None:
            state = lr_curr.new_zeros(lr_curr.shape[0], 4, *lr_curr.shape[2:])
        h = torch.tanh(self.conv(torch.cat([lr_prev, lr_curr, state], 1)))
        return F.pixel_shuffle(self.out(h), 2), h


class ClipNet(nn.Module):
    """Each output frame mixes its temporal neighbours (a local temporal conv)."""

    temporal = "clip"
    scale = 2

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv3d(3, 12, 3, padding=1)

    def forward(self, x):
        y = self.conv(x.transpose(1, 2)).transpose(1, 2)
        return F.pixel_shuffle(y.flatten(0, 1), 2).unflatten(0, x.shape[:2])


def _clip(t=9):
    return torch.rand(1, t, 3, 6, 7)


@pytest.mark.parametrize("net", [FrameNet(), WindowNet(), RecurrentNet("next"),
                                 RecurrentNet("same"), RecurrentNet("zeros")])
@pytest.mark.parametrize("t", [1, 2, 9])
def test_stream_equals_whole_clip(net, t):
    lr = _clip(t)
    with torch.no_grad():
        whole = run_clip(net, lr)[0]
    frames = list(stream(net, iter(lr[0]), batch_frames=4))
    assert len(frames) == t
    assert torch.allclose(torch.stack(frames), whole, atol=1e-6)


def test_recurrent_first_prev_policy():
    lr = _clip(3)
    net = RecurrentNet("next")
    with torch.no_grad():
        sr0, _ = net.step(lr[:, 1], lr[:, 0], None)
        assert torch.allclose(run_clip(net, lr)[:, 0], sr0)


def test_window_reflects_at_the_ends():
    from vsr.archs.sequence import _window_indices

    assert _window_indices(0, 9, 5) == [2, 1, 0, 1, 2]
    assert _window_indices(8, 9, 5) == [6, 7, 8, 7, 6]


def test_clip_stream_interior_matches_whole_clip():
    """With a temporal receptive field of 1 frame each side, overlapping chunks lose nothing."""
    net = ClipNet()
    lr = _clip(20)
    with torch.no_grad():
        whole = run_clip(net, lr)[0]
    frames = torch.stack(list(stream(net, iter(lr[0]), chunk=8)))
    assert frames.shape == whole.shape
    assert torch.allclose(frames, whole, atol=1e-6)


def test_stream_is_lazy():
    """Streaming pulls frames only as needed: bounded memory for long videos."""
    pulled = []

    def source():
        for i in range(100):
            pulled.append(i)
            yield torch.rand(3, 6, 7)

    out = stream(RecurrentNet("next"), source())
    next(out)
    assert len(pulled) <= 3


def test_arch_without_temporal_mode_is_rejected():
    with pytest.raises(TypeError, match="temporal"):
        run_clip(nn.Identity(), _clip(2))
