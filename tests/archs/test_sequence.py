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


class WholeChunkNet(nn.Module):
    """Every output frame adds the chunk's mean frame: depends on the whole chunk."""

    temporal = "clip"
    scale = 1

    def forward(self, x):
        return x + x.mean(dim=1, keepdim=True)


class PerFrameClipNet(nn.Module):
    temporal = "clip"
    scale = 1

    def forward(self, x):
        return 2 * x


def _chunked(net, lr, **spec):
    from vsr.archs.sequence import ChunkSpec

    return torch.stack(list(stream(net, iter(lr), chunk=ChunkSpec(**spec))))


def test_chunk_policies_by_hand():
    """Frames 0..9 as constant images of their index; chunks of 6 sharing 2 frames: [0, 6),
    [4, 10). Drop keeps frame 4 from the first chunk and frame 5 from the second; blend weighs
    the second chunk 0.25 at frame 4 and 0.75 at frame 5."""
    lr = torch.arange(10.0)[:, None, None, None].expand(10, 1, 2, 2)
    first, second = 2.5, 6.5  # the chunks' mean frames
    drop = _chunked(WholeChunkNet(), lr, frames=6, overlap=2, policy="drop")[:, 0, 0, 0]
    blend = _chunked(WholeChunkNet(), lr, frames=6, overlap=2, policy="blend")[:, 0, 0, 0]
    index = torch.arange(10.0)
    expected_drop = index + torch.tensor([first] * 5 + [second] * 5)
    assert torch.allclose(drop, expected_drop)
    expected_blend = expected_drop.clone()
    expected_blend[4] = 4 + 0.75 * first + 0.25 * second
    expected_blend[5] = 5 + 0.25 * first + 0.75 * second
    assert torch.allclose(blend, expected_blend)


@pytest.mark.parametrize("t", [1, 5, 6, 10, 11, 17])
@pytest.mark.parametrize(("frames", "overlap", "policy"),
                         [(6, 2, "drop"), (6, 2, "blend"), (4, 0, "drop"), (5, 2, "blend"),
                          (6, 3, "drop")])
def test_per_frame_clip_arch_is_exact_under_any_chunking(t, frames, overlap, policy):
    lr = torch.rand(t, 3, 4, 5)
    out = _chunked(PerFrameClipNet(), lr, frames=frames, overlap=overlap, policy=policy)
    assert torch.equal(out, 2 * lr)


def test_chunk_time_is_one_entry_per_frame():
    from vsr.archs.sequence import ChunkSpec, FrameTimer

    timer = FrameTimer()
    frames = list(stream(PerFrameClipNet(), iter(torch.rand(12, 3, 4, 4)), timer=timer,
                         chunk=ChunkSpec(6, 2)))  # the last chunk adds nothing new
    assert len(frames) == len(timer.seconds) == 12


@pytest.mark.parametrize(("spec", "message"),
                         [({"frames": 5, "overlap": 3}, r"overlap must be in \[0, 2\]"),
                          ({"frames": 0}, "frames"), ({"policy": "mean"}, "policy")])
def test_bad_chunk_spec(spec, message):
    from vsr.archs.sequence import ChunkSpec

    with pytest.raises(ValueError, match=message):
        ChunkSpec(**spec)


@pytest.mark.parametrize("dtype", ["bf16", "fp16"])
def test_precision_autocasts_model_calls_and_returns_float32(dtype):
    from vsr.archs.precision import Precision

    net = FrameNet()
    lr = torch.rand(3, 3, 6, 7)
    exact = torch.stack(list(stream(net, iter(lr))))
    low = torch.stack(list(stream(net, iter(lr), precision=Precision(dtype))))
    assert low.dtype == torch.float32
    error = float((low - exact).abs().max())
    assert 0 < error < 0.05  # rounded to 8 (bf16) or 11 (fp16) mantissa bits, not garbage


def test_channels_last_changes_layout_not_values():
    from vsr.archs.precision import Precision

    net = RecurrentNet("next")
    lr = torch.rand(4, 3, 6, 7)
    exact = torch.stack(list(stream(net, iter(lr))))
    nhwc = torch.stack(list(stream(net, iter(lr), precision=Precision(channels_last=True))))
    assert net.conv.weight.is_contiguous(memory_format=torch.channels_last)
    torch.testing.assert_close(nhwc, exact, rtol=0, atol=1e-6)


def test_unsupported_precision_is_one_clear_error(monkeypatch):
    from vsr.archs.precision import Precision

    with pytest.raises(ValueError, match="precision must be one of"):
        Precision("int8")

    def refuse(*args, **kwargs):
        raise RuntimeError("autocast dtype not supported")

    monkeypatch.setattr(torch, "autocast", refuse)
    with pytest.raises(ValueError, match="precision fp16: torch .* cannot run it on cpu"):
        list(stream(FrameNet(), iter([torch.rand(3, 4, 4)]), precision=Precision("fp16")))
