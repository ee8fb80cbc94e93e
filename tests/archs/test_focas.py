"""FOCAS against the original cascade (focas_step) and the infer_rec.py alternation
(focas_recurrent)."""

from __future__ import annotations

import pytest
import torch

from tests.archs.weight_recipe import recipe_state_dict
from tests.conftest import load_fixture, shared_path
from vsr.archs.focas import (
    FOCAS,
    FOCAS_PRESETS,
    blending_mask,
    compute_crops,
    focas_preset,
    lr_region,
    scale_region_side,
)
from vsr.archs.rrn import RRN
from vsr.io.image import list_frames, read_image
from vsr.io.weights import foreign_state_dict
from vsr.registry import ARCHS


def weights(fixture: dict) -> dict[str, torch.Tensor]:
    """The fixture's recipe weights as an RRN checkpoint with the DataParallel prefix."""
    return foreign_state_dict(recipe_state_dict(fixture["state_dict_keys"], prefix="module."))


def focas(fixture_weights: dict, blocks: list, regions: list) -> FOCAS:
    model = FOCAS(4, 128, 10, blocks=blocks, regions=regions).eval()
    model.load_state_dict(fixture_weights)
    return model


@pytest.fixture(scope="module")
def step_fixture() -> dict:
    return load_fixture("focas_step.pt")


def test_focas_step_outputs(step_fixture: dict) -> None:
    ctor = step_fixture["constructor"]
    model = focas(weights(step_fixture), ctor["blocks"], ctor["regions"])
    assert list(model.state_dict()) == [entry[0] for entry in step_fixture["state_dict_keys"]]
    lr_prev, lr_curr = step_fixture["lr_pair"].unbind(2)
    with torch.no_grad():
        for gaze, expected in zip(step_fixture["gazes"], step_fixture["outputs"]):
            sr, ((hidden, out), _) = model.step(lr_prev, lr_curr, None, gaze=tuple(gaze))
            torch.testing.assert_close(sr, expected, rtol=0, atol=1e-5)
            assert hidden.shape == (1, 128, 32, 48) and out is sr


def test_focas_step_crops_and_masks(step_fixture: dict) -> None:
    ctor = step_fixture["constructor"]
    model = FOCAS(blocks=ctor["blocks"], regions=ctor["regions"])
    regions = model.lr_regions((32, 48))
    assert [list(r) for r in regions] == step_fixture["lr_regions"][1:]
    for expected in step_fixture["crops"]:
        crops = model.crops((32, 48), (expected["h_eye"], expected["w_eye"]))
        assert [list(c.mask) for c in crops] == expected["mask_crops"]
        assert [list(c.feat) for c in crops] == expected["feat_crops"]
    for (h, w), key in zip(regions, ("blending_mask_region1", "blending_mask_region2")):
        assert torch.equal(model.blend_mask(h, w, torch.zeros(1))[0, 0], step_fixture[key])
    assert not any("mask" in key for key in model.state_dict())


def test_focas_recurrent_alternation() -> None:
    fixture = load_fixture("focas_recurrent.pt")
    shared = weights(fixture)
    model1 = focas(shared, fixture["model1"]["blocks"], fixture["model1"]["regions"])
    model2 = focas(shared, fixture["model2"]["blocks"], fixture["model2"]["regions"])
    model2.neuro = model1.neuro  # one set of weights, two cascades
    duration1, duration2 = fixture["duration1"], fixture["duration2"]
    lr = fixture["lr"]  # (1, C, T + 1, H, W): LR frame 0 duplicated at the front
    schedule, outputs, state = [], [], None
    with torch.no_grad():
        for i, gaze in enumerate(fixture["gaze"]):
            use_first = i % (duration1 + duration2) < duration1
            schedule.append("model1" if use_first else "model2")
            model = model1 if use_first else model2
            sr, state = model.step(lr[:, :, i], lr[:, :, i + 1], state, gaze=tuple(gaze))
            outputs.append(sr)
    assert schedule == fixture["schedule"]
    torch.testing.assert_close(torch.stack(outputs, 2), fixture["raw_outputs"], rtol=0, atol=1e-5)


def test_single_region_focas_is_rrn() -> None:
    rrn = RRN(num_channels=16, num_blocks=3).eval()
    model = FOCAS(num_channels=16, num_blocks=3, blocks=[3], regions=["full"]).eval()
    model.load_state_dict(rrn.state_dict())
    lr = torch.rand(3, 1, 3, 9, 11)
    state_rrn = state_focas = None
    with torch.no_grad():
        for i in range(2):
            sr_rrn, state_rrn = rrn.step(lr[i], lr[i + 1], state_rrn)
            sr_focas, state_focas = model.step(lr[i], lr[i + 1], state_focas, gaze=(5, 5))
            torch.testing.assert_close(sr_focas, sr_rrn, rtol=0, atol=0)


def small_focas(first_region: object = "full") -> FOCAS:
    """A tiny seeded three-region FOCAS for behaviour checks."""
    torch.manual_seed(0)
    regions = [first_region, (40, 40), (16, 16)]
    return FOCAS(num_channels=16, num_blocks=4, blocks=[1, 2, 4], regions=regions).eval()


def test_whole_frame_region_ignores_its_size() -> None:
    lr = torch.rand(2, 1, 3, 20, 24)
    with torch.no_grad():
        outputs = [
            small_focas(first).step(lr[0], lr[1], None, gaze=(70, 10))[0]
            for first in ("full", (1080, 1920), (80, 96))
        ]
    torch.testing.assert_close(outputs[1], outputs[0], rtol=0, atol=0)
    torch.testing.assert_close(outputs[2], outputs[0], rtol=0, atol=0)


def test_default_gaze_is_frame_centre_and_off_frame_gaze_clamps() -> None:
    model = small_focas()
    lr = torch.rand(2, 1, 3, 20, 24)
    with torch.no_grad():
        centre = model.step(lr[0], lr[1], None)[0]
        explicit = model.step(lr[0], lr[1], None, gaze=(40, 48))[0]
        corner = model.step(lr[0], lr[1], None, gaze=(80, 96))[0]
        beyond = model.step(lr[0], lr[1], None, gaze=(500, 900))[0]
    torch.testing.assert_close(centre, explicit, rtol=0, atol=0)
    torch.testing.assert_close(beyond, corner, rtol=0, atol=0)
    assert (centre - corner).abs().max() > 1e-4


def test_blending_under_autograd_matches_inference() -> None:
    model = small_focas()
    lr = torch.rand(2, 1, 3, 20, 24)
    with torch.no_grad():
        expected = model.step(lr[0], lr[1], None, gaze=(30, 50))[0]
    sr = model.step(lr[0], lr[1], None, gaze=(30, 50))[0]
    torch.testing.assert_close(sr, expected, rtol=0, atol=0)
    sr.square().mean().backward()
    fovea_grad = model.neuro.recon_trunk[3].conv2.weight.grad
    assert fovea_grad is not None and 0 < fovea_grad.abs().sum() < float("inf")


def test_masks_follow_dtype() -> None:
    model = small_focas().double()
    lr = torch.rand(2, 1, 3, 20, 24, dtype=torch.float64)
    with torch.no_grad():
        sr = model.step(lr[0], lr[1], None)[0]
    assert all(mask.dtype == sr.dtype == torch.float64 for mask in model._masks.values())


def test_compute_crops_clamps_a_region_larger_than_its_parent() -> None:
    crops = compute_crops((6, 8), (1, 7), [(10, 10), (4, 4)])
    assert [c.feat for c in crops] == [(0, 6, 2, 8), (0, 3, 3, 6)]
    assert [c.mask for c in crops] == [(4, 10, 0, 6), (1, 4, 0, 3)]


def test_blending_mask_small_sizes() -> None:
    assert torch.equal(blending_mask(1, 3), torch.full((1, 3), 0.2))
    assert torch.equal(blending_mask(2, 10)[0, :6], torch.full((6,), 0.2))
    assert blending_mask(9, 9)[4, 4].item() == 1.0
    assert blending_mask(7, 7)[3, 3].item() == pytest.approx(0.8)


@pytest.mark.parametrize(
    ("name", "blocks", "lr_regions"),
    [
        ("RRN10", [10], []),
        ("FOCAS15", [1, 4, 10], [(56, 56), (32, 32)]),
        ("FOCAS16", [1, 8, 10], [(64, 64), (56, 56)]),
        ("FOCAS17", [1, 4, 10], [(92, 92), (72, 72)]),
        ("FOCAS20", [1, 8, 10], [(112, 112), (104, 104)]),
        ("FOCAS25", [1, 3, 10], [(206, 206), (136, 136)]),
    ],
)
def test_presets(name: str, blocks: list, lr_regions: list) -> None:
    preset = focas_preset(name)
    assert preset["blocks"] == blocks
    assert lr_region(preset["regions"][0], 4) == (270, 480)
    model = ARCHS.build({"type": "FOCAS", **preset})
    assert model.lr_regions((270, 480)) == lr_regions
    scaled = ARCHS.build({"type": "FOCAS", "preset": name})
    assert scaled.blocks == blocks and scaled.lr_regions((270, 480)) == lr_regions
    assert (model.temporal, model.first_prev) == ("recurrent", "same")
    preset["blocks"].append(99)
    assert focas_preset(name)["blocks"] == blocks


@pytest.mark.parametrize(
    ("blocks", "regions"),
    [
        ([1, 4], ["full"]),
        ([4, 1], ["full", (64, 64)]),
        ([1, 11], ["full", (64, 64)]),
        ([1, 4], ["full", (4, 4)]),
    ],
)
def test_invalid_configurations(blocks: list, regions: list) -> None:
    with pytest.raises(ValueError):
        FOCAS(blocks=blocks, regions=regions)


def test_schedule_in_one_arch_reproduces_infer_rec_through_the_streaming_runner() -> None:
    """FOCAS's own schedule (full_frames=1, foveated_frames=2), streamed by the engine with a
    gaze per frame, gives infer_rec.py's alternation of RRN10 and FOCAS (focas_recurrent)."""
    from vsr.archs.sequence import stream

    fixture = load_fixture("focas_recurrent.pt")
    m2 = fixture["model2"]
    model = focas(weights(fixture), m2["blocks"], m2["regions"])
    model.full_frames, model.foveated_frames = fixture["duration1"], fixture["duration2"]
    frames = fixture["lr"][0, :, 1:].transpose(0, 1)  # drop the duplicated frame: (T, C, H, W)
    gazes = [{"gaze": tuple(int(v) for v in g)} for g in fixture["gaze"]]
    out = torch.stack(list(stream(model, iter(frames), conditions=iter(gazes))), 1)[None]
    torch.testing.assert_close(out, fixture["raw_outputs"], rtol=0, atol=1e-5)


SEGMENT_GAZES = [(48, 64), (10, 120), (90, 5), (30, 30), (60, 100), (95, 127), (0, 0)]


@pytest.fixture(scope="module")
def seven_lr_frames() -> torch.Tensor:
    """Seven real DUF-downsampled calendar frames (T, C, 24, 32), the focas_recurrent crop."""
    folder = shared_path("data", "Vid4", "real_LR", "BDx4_sigma1.6_DUF", "calendar")
    frames = [torch.from_numpy(read_image(p)) for p in list_frames(folder)[:7]]
    return torch.stack(frames).permute(0, 3, 1, 2)[..., 50:74, 75:107].float() / 255


def original_segments(
    full: FOCAS, cascade: FOCAS, frames: torch.Tensor, gazes: list, segment: int,
    duration1: int, duration2: int, recurrent: bool,
) -> torch.Tensor:
    """infer_rec.py / infer_non_rec.py's loop over segments (MODELS.md §2.3, §2.5), step by step.

    LR frame 0 is duplicated at the front; segment [start, stop) runs on the padded slice
    [start, stop + 1), whose first pair is (LR frame start - 1, LR frame start), from zero state
    and with the model counter restarted. Non-recurrent: zero state on every step.
    """
    padded = torch.cat([frames[:1], frames])
    outputs = []
    for start in range(0, len(frames), segment):
        stop = min(start + segment, len(frames))
        lr_seg, state = padded[start:stop + 1], None
        for i in range(stop - start):
            model = full if i % (duration1 + duration2) < duration1 else cascade
            sr, state = model.step(lr_seg[i][None], lr_seg[i + 1][None],
                                   state if recurrent else None, gaze=gazes[start + i])
            outputs.append(sr)
    return torch.cat(outputs)


@pytest.mark.parametrize("recurrent", [True, False])
def test_segments_follow_the_original_schedule(seven_lr_frames: torch.Tensor,
                                                recurrent: bool) -> None:
    """segment=3 over 7 frames, streamed with a gaze per frame and run as a clip (centre gaze),
    gives the original's outputs: frames 3 and 6 pair the real previous LR frame with zero state
    and restart the full/foveated counter (recurrent: 1 full + 3 foveated; non-recurrent:
    foveated only, zero state everywhere)."""
    from vsr.archs.sequence import run_clip, stream

    fixture = load_fixture("focas_recurrent.pt")
    shared = weights(fixture)
    cascade_cfg = fixture["model2"]
    full = focas(shared, [10], ["full"])
    cascade = focas(shared, cascade_cfg["blocks"], cascade_cfg["regions"])
    duration1 = 1 if recurrent else 0
    model = FOCAS(4, 128, 10, blocks=cascade_cfg["blocks"], regions=cascade_cfg["regions"],
                  full_frames=duration1, foveated_frames=3, segment=3, recurrent=recurrent)
    model.load_state_dict(shared)
    model.eval()
    frames = seven_lr_frames
    with torch.no_grad():
        expected = original_segments(full, cascade, frames, SEGMENT_GAZES, 3, duration1, 3,
                                     recurrent)
        centred = original_segments(full, cascade, frames, [None] * 7, 3, duration1, 3,
                                    recurrent)
        clip = run_clip(model, frames[None])[0]
    streamed = torch.stack(list(stream(model, iter(frames),
                                       conditions=iter({"gaze": g} for g in SEGMENT_GAZES))))
    torch.testing.assert_close(streamed, expected, rtol=0, atol=1e-5)
    torch.testing.assert_close(clip, centred, rtol=0, atol=1e-5)


def test_region_sides_scale_with_height() -> None:
    for preset in FOCAS_PRESETS.values():  # exact at the height the presets were made for
        assert all(scale_region_side(r[0], 1080) == r[0] for r in preset["regions"][1:])
    assert scale_region_side(544, 720) == 360 and scale_region_side(824, 720) == 552
    assert scale_region_side(128, 64) == 8  # never below one LR pixel pair at scale 4
    assert scale_region_side(544, 2160, multiple=4) == 1088


def test_preset_scales_to_the_input() -> None:
    model = FOCAS(preset="FOCAS25")
    assert model.lr_regions((180, 320)) == [(138, 138), (90, 90)]  # 720p: 552 and 360 HR px
    assert model.lr_regions((540, 960)) == [(412, 412), (272, 272)]  # 4K: twice 1080p
    torch.manual_seed(0)
    preset = FOCAS(num_channels=8, preset="FOCAS25").eval()
    explicit = FOCAS(num_channels=8, blocks=[1, 3, 10], regions=["full", (48, 48), (32, 32)])
    explicit.load_state_dict(preset.state_dict())
    lr = torch.rand(2, 1, 3, 16, 24)  # 64x96 HR: 824 -> 48 px, 544 -> 32 px
    with torch.no_grad():
        ours = preset.step(lr[0], lr[1], None, gaze=(20, 60))[0]
        expected = explicit.eval().step(lr[0], lr[1], None, gaze=(20, 60))[0]
        whole = FOCAS(num_channels=8, blocks=[10], regions=["full"])
        whole.load_state_dict(preset.state_dict())
        full = whole.eval().step(lr[0], lr[1], None)[0]
    torch.testing.assert_close(ours, expected, rtol=0, atol=0)
    assert (ours - full).abs().max() > 1e-4  # the cascade really ran on scaled regions


def test_preset_errors() -> None:
    with pytest.raises(ValueError, match="either a preset or blocks"):
        FOCAS(preset="FOCAS25", blocks=[1, 3, 10])
    with pytest.raises(ValueError, match="unknown FOCAS preset 'FOCAS99'; known: RRN10, FOCAS15"):
        FOCAS(preset="FOCAS99")
    with pytest.raises(ValueError, match="reference_height must be >= 1"):
        FOCAS(blocks=[1, 10], regions=["full", (64, 64)], reference_height=0)
