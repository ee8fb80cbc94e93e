"""Latency designs, workload, fit and the profile cache (structure only: no timing values)."""

from __future__ import annotations

import json
import time

import pytest
import torch

from vsr.foveation import latency
from vsr.foveation.latency import (
    LatencyFit,
    Timer,
    fast_design,
    fit_latency,
    heldout_models,
    model_workload,
    original_design,
    profile_latency,
)

TINY = (64, 96)


def test_original_design_and_workload_match_the_spec() -> None:
    models = original_design((1080, 1920))
    assert len(models) == len(set(models)) == 108
    for m in models:
        (b1, b2, b3), (s1, s2) = m.blocks, m.sides
        expected = b1 * 270 * 480 + (b2 - b1) * s1 * s1 / 16 + (b3 - b2) * s2 * s2 / 16
        assert model_workload(m, (1080, 1920)) == expected


def test_fast_design_is_a_balanced_fraction_of_the_original() -> None:
    design = fast_design((1080, 1920))
    assert len(design) == 9 and design[0].blocks == (1,)
    factorial = design[1:]
    original = set(original_design((1080, 1920)))
    assert set(factorial) <= original
    columns = list(zip(*[m.blocks + m.sides for m in factorial]))
    for column in columns:  # every factor at both extreme levels, 4 runs each
        assert len(set(column)) == 2 and column.count(column[0]) == 4
    held = heldout_models((1080, 1920), design)
    assert len(held) == 3 and not set(held) & set(design)
    work = [model_workload(m, (1080, 1920)) for m in held]
    assert work == sorted(work)


def test_scaled_sides_are_even_in_lr() -> None:
    for resolution in (TINY, (540, 960), (720, 1280)):
        for m in original_design(resolution):
            assert all(s % 8 == 0 and s >= 8 for s in m.sides)
    assert original_design((1080, 1920))[0].sides == (320, 160)


def test_fit_recovers_a_line() -> None:
    work = [1e5, 2e5, 3.5e5, 5e5]
    fit = fit_latency(work, [3.0 + 2e-5 * w for w in work])
    assert fit.A == pytest.approx(2e-5) and fit.B == pytest.approx(3.0)
    assert fit.r2 == pytest.approx(1.0) and fit.samples == 4


def test_timer_steps_and_warmup() -> None:
    timer = Timer(TINY, torch.device("cpu"), num_channels=4, num_blocks=10, warmup=2)
    model = timer.build([1, 4, 7], [list(TINY), [24, 24], [16, 16]])
    assert len(timer.time_model(model, 3)) == 3
    assert timer.state is not None and timer.state.rrn[1].shape == (1, 3, *TINY)
    # each time is one step's wall time, warm-up excluded: a step made 30 ms slower shows it
    calls = []
    step = model.step

    def slow_step(*args, **kwargs):
        calls.append(1)
        time.sleep(0.03)
        return step(*args, **kwargs)

    model.step = slow_step
    fast = timer.time_model(timer.build([2], [list(TINY)]), 4)
    times = timer.time_model(model, 2)
    assert len(calls) == 2  # already warmed up: no extra steps
    assert all(30 <= t < 30 + 20 * max(fast) + 50 for t in times)


@pytest.mark.parametrize("design", ["fast", "original"])
def test_profile_is_cached_and_reused(tmp_path, monkeypatch, design) -> None:
    if design == "original":  # 108 real timings are slow: stand in a deterministic line
        def fake(self, models, repeats, progress, desc):
            out = []
            for m in models:
                work = model_workload(m, self.resolution)
                out.append({"blocks": list(m.blocks), "sides": list(m.sides), "workload": work,
                            "ms": 1.0 + 1e-3 * work, "times_ms": [1.0 + 1e-3 * work] * repeats})
            return out
        monkeypatch.setattr(Timer, "measure", fake)
    kwargs = dict(resolution=TINY, design=design, device="cpu", num_channels=4, repeats=2,
                  cache_dir=tmp_path, progress=False)
    first = profile_latency(**kwargs)
    assert not first.cached
    expected = 9 if design == "fast" else 108
    assert len(first.samples) == expected and first.fit.samples == expected
    assert first.key["threads"] == torch.get_num_threads() and first.key["dtype"] == "float32"
    assert first.heldout["count"] == (3 if design == "fast" else 108)
    assert all(s["ms"] > 0 and len(s["times_ms"]) == 2 for s in first.samples)
    files = list(tmp_path.glob("*.json"))
    assert len(files) == 1 and json.loads(files[0].read_text())["key"] == first.key

    def no_timing(*args, **kwargs):
        raise AssertionError("a cached profile must not be re-measured")

    monkeypatch.setattr(Timer, "measure", no_timing)
    second = profile_latency(**kwargs)
    assert second.cached and second.fit == first.fit and second.samples == first.samples
    other = dict(kwargs, dtype="bfloat16")
    assert latency.cache_path(tmp_path, latency.profile_key(
        torch.device("cpu"), TINY, "bfloat16", design, 4, 10, 2)) != files[0]
    with pytest.raises(AssertionError, match="re-measured"):
        profile_latency(**other)


def test_bad_options() -> None:
    with pytest.raises(ValueError, match="design"):
        profile_latency(TINY, design="nope", device="cpu")
    with pytest.raises(ValueError, match="dtype"):
        profile_latency(TINY, dtype="int8", device="cpu")
    assert LatencyFit(2.0, 1.0).predict(3.0) == 7.0
