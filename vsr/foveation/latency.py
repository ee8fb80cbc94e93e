"""Per-frame latency of FOCAS models on this machine, and the linear model the allocator uses.

FOCAS's cost is dominated by 3×3 convolutions whose work is proportional to (blocks run) × (LR
pixels they run on), so latency ≈ B + A·workload with workload = Σ blocks × LR pixels
(MODELS.md §2.4). A profile times a set of FOCAS models (the original's 108 sampled models, or a
much smaller ``fast`` design), fits A and B, reports the fit on held-out models, and is cached as
JSON keyed by device, resolution, dtype, threads and model width so later calls skip the timings.
"""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from itertools import product
from pathlib import Path

import numpy as np
import torch

from vsr.archs.focas import FOCAS, FULL_HD, scale_region_side
from vsr.archs.sequence import FrameTimer
from vsr.engine.device import resolve_device

SCALE = 4
ORIGINAL_LEVELS = {
    "b1": (1, 2, 3),
    "b2": (4, 5, 6),
    "b3": (7, 8, 9),
    "s1": (320, 400),
    "s2": (160, 240),
}
"""Levels of the original's 108 sampled models (HR sides s1, s2 of mid/fovea at 1080p)."""

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}
CACHE_VERSION = 2


@dataclass(frozen=True)
class SampledModel:
    """A FOCAS configuration to time: cumulative ``blocks`` and HR ``sides`` of inner squares."""

    blocks: tuple[int, ...]
    sides: tuple[int, ...]

    def regions(self, resolution: tuple[int, int]) -> list:
        """FOCAS ``regions``: the full frame, then the inner squares."""
        return [list(resolution), *[[s, s] for s in self.sides]]


@dataclass
class LatencyFit:
    """latency_ms = B + A·workload; ``r2`` over the samples it was fitted on."""

    A: float
    B: float
    r2: float = float("nan")
    samples: int = 0

    def predict(self, workload: float | np.ndarray) -> float | np.ndarray:
        return self.B + self.A * workload


@dataclass
class LatencyProfile:
    """Timings of one design on one machine set-up, their fit and the held-out check."""

    key: dict
    fit: LatencyFit
    samples: list[dict]
    heldout: dict = field(default_factory=dict)
    profile_seconds: float = 0.0
    cached: bool = False

    def to_json(self) -> dict:
        data = asdict(self)
        data.pop("cached")
        return data

    @classmethod
    def from_json(cls, data: dict) -> LatencyProfile:
        return cls(
            key=data["key"],
            fit=LatencyFit(**data["fit"]),
            samples=data["samples"],
            heldout=data.get("heldout", {}),
            profile_seconds=data.get("profile_seconds", 0.0),
            cached=True,
        )


def lr_frame(resolution: tuple[int, int], scale: int = SCALE) -> tuple[int, int]:
    return resolution[0] // scale, resolution[1] // scale


def lr_side_area(side: int, frame_lr: tuple[int, int], scale: int = SCALE) -> int:
    """LR pixels FOCAS actually runs for an HR square of ``side`` (even LR side, clamped)."""
    d = side // scale // 2 * 2
    return min(d, frame_lr[0]) * min(d, frame_lr[1])


def workload(
    blocks: Sequence[int], areas: Sequence[float], frame_lr: tuple[int, int]
) -> float:
    """Σ blocks × LR pixels: b1·H·W + Σ_i (b_{i+1} − b_i)·area_i, areas outer to inner.

    For three regions this is §2.4's b1·H·W + (b2−b1)·s1²/16 + (b3−b2)·s2²/16.
    """
    total = float(blocks[0] * frame_lr[0] * frame_lr[1])
    for i, area in enumerate(areas):
        total += (blocks[i + 1] - blocks[i]) * area
    return total


def sides_workload(
    blocks: Sequence[int], sides: Sequence[int], resolution: tuple[int, int]
) -> float:
    """Workload of an HR-sided config as FOCAS runs it (even LR sides, clamped to the frame)."""
    frame_lr = lr_frame(resolution)
    return workload(blocks, [lr_side_area(s, frame_lr) for s in sides], frame_lr)


def model_workload(model: SampledModel, resolution: tuple[int, int]) -> float:
    return sides_workload(model.blocks, model.sides, resolution)


def original_design(resolution: tuple[int, int]) -> list[SampledModel]:
    """The original's 108 models (b1×b2×b3×s1×s2), region sides scaled to ``resolution``."""
    lv = ORIGINAL_LEVELS
    return [
        SampledModel((b1, b2, b3), tuple(scale_region_side(s, resolution[0]) for s in (s1, s2)))
        for b1, b2, b3, s1, s2 in product(lv["b1"], lv["b2"], lv["b3"], lv["s1"], lv["s2"])
    ]


def fast_design(resolution: tuple[int, int]) -> list[SampledModel]:
    """9 models that pin down a straight line over the same range as the 108.

    Latency is linear in workload, so what matters is spanning the workload range with models that
    mix full-frame and crop work the way the 108 do. A 2^(5−2) fractional factorial of the five
    original factors at their extreme levels (b3 aliased with b1·b2, s2 with b1·s1) gives 8
    models covering both ends of every factor; the 1-region RRN-1 model adds the cheapest
    possible point, which is also where the infeasibility threshold sits.
    """
    lv = ORIGINAL_LEVELS
    models = [SampledModel((1,), ())]
    for x1, x2, x3 in product((0, 1), repeat=3):
        x4, x5 = 1 - (x1 ^ x2), 1 - (x1 ^ x3)
        blocks = (lv["b1"][2 * x1], lv["b2"][2 * x2], lv["b3"][2 * x4])
        sides = (scale_region_side(lv["s1"][x3], resolution[0]),
                 scale_region_side(lv["s2"][x5], resolution[0]))
        models.append(SampledModel(blocks, sides))
    return models


def heldout_models(resolution: tuple[int, int], exclude: Sequence[SampledModel]) -> list:
    """Three of the 108 outside ``exclude``: lowest, median and highest workload (the hardest)."""
    pool = [m for m in original_design(resolution) if m not in set(exclude)]
    pool.sort(key=lambda m: model_workload(m, resolution))
    return [pool[0], pool[len(pool) // 2], pool[-1]]


def fit_latency(workloads: Sequence[float], latencies: Sequence[float]) -> LatencyFit:
    """Least-squares line (the original used scipy's linregress, the same estimator)."""
    x = np.asarray(workloads, dtype=np.float64)
    y = np.asarray(latencies, dtype=np.float64)
    slope, intercept = np.polyfit(x, y, 1)
    residual = y - (intercept + slope * x)
    total = np.sum((y - y.mean()) ** 2)
    r2 = 1.0 - float(np.sum(residual**2) / total) if total > 0 else float("nan")
    return LatencyFit(A=float(slope), B=float(intercept), r2=r2, samples=len(x))


def error_summary(predicted: Sequence[float], measured: Sequence[float]) -> dict:
    """Mean/max absolute error (ms) and mean absolute percentage error of predictions."""
    y = np.asarray(measured, dtype=np.float64)
    err = np.abs(np.asarray(predicted, dtype=np.float64) - y)
    return {
        "count": len(y),
        "mae_ms": float(err.mean()),
        "max_ms": float(err.max()),
        "mape_pct": float(100 * np.mean(err / y)),
    }


def fit_errors(fit: LatencyFit, workloads: Sequence[float], latencies: Sequence[float]) -> dict:
    """:func:`error_summary` of ``fit`` on samples."""
    return error_summary(fit.predict(np.asarray(workloads, dtype=np.float64)), latencies)


def cross_validated_errors(samples: list[dict], folds: int = 4) -> dict:
    """Held-out error of the full design: fit on all but every ``folds``-th model, predict it."""
    predicted, measured = [], []
    for k in range(folds):
        train = [s for i, s in enumerate(samples) if i % folds != k]
        test = [s for i, s in enumerate(samples) if i % folds == k]
        fit = fit_latency([s["workload"] for s in train], [s["ms"] for s in train])
        predicted += [float(fit.predict(s["workload"])) for s in test]
        measured += [s["ms"] for s in test]
    return {**error_summary(predicted, measured), "method": f"{folds}-fold cross-validation"}


def device_name(device: torch.device) -> str:
    """A human-readable device identity for the cache key (GPU model or CPU model name)."""
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


class Timer:
    """Times FOCAS steps at one resolution, carrying one recurrent state across models.

    The state (hidden map and previous HR output) has the same shape for every FOCAS model at a
    resolution, so after a single warm-up every timed step is a steady-state recurrent step.
    """

    def __init__(
        self,
        resolution: tuple[int, int],
        device: torch.device,
        dtype: torch.dtype = torch.float32,
        num_channels: int = 128,
        num_blocks: int = 10,
        warmup: int = 1,
    ) -> None:
        self.resolution = resolution
        self.device = device
        self.dtype = dtype
        self.num_channels = num_channels
        self.num_blocks = num_blocks
        self.warmup = warmup
        generator = torch.Generator().manual_seed(0)
        h, w = lr_frame(resolution)
        frames = torch.rand(2, 1, 3, h, w, generator=generator)
        self.lr_prev, self.lr_curr = frames.to(device, dtype).unbind(0)
        self.gaze = (resolution[0] // 2, resolution[1] // 2)
        self.state = None
        self._warmed: set[int] = set()

    def build(self, blocks: Sequence[int], regions: Sequence) -> FOCAS:
        model = FOCAS(SCALE, self.num_channels, self.num_blocks, blocks, regions)
        return model.to(self.device, self.dtype).eval()

    @torch.inference_mode()
    def time_model(self, model: FOCAS, repeats: int) -> list[float]:
        """Per-step wall times (ms) of ``repeats`` recurrent steps, after the warm-up steps.

        The first model timed gets ``warmup`` steps (allocator, threads); on CUDA every model
        gets them on its first call, since each may select different kernels.
        """
        first = not self._warmed if self.device.type == "cpu" else id(model) not in self._warmed
        warmup = self.warmup if first else 0
        clock = FrameTimer()
        for _ in range(warmup + repeats):
            _, self.state = clock.run(1, model.step, self.lr_prev, self.lr_curr, self.state,
                                      gaze=self.gaze)
        self._warmed.add(id(model))
        return [1000 * seconds for seconds in clock.seconds[warmup:]]

    def measure(self, models: Sequence[SampledModel], repeats: int, progress: bool = False,
                desc: str = "profiling") -> list[dict]:
        """Median step time of each model, timed round-robin: pass r times every model once.

        Interleaving spreads slow spells of a shared machine over all models instead of
        inflating whichever model happened to be timed during one.
        """
        from tqdm import tqdm

        built = [self.build(m.blocks, m.regions(self.resolution)) for m in models]
        times: list[list[float]] = [[] for _ in models]
        with tqdm(total=repeats * len(models), desc=desc, unit="step", disable=not progress,
                  leave=False) as bar:
            for _ in range(repeats):
                for i, focas in enumerate(built):
                    times[i] += self.time_model(focas, 1)
                    bar.update()
        return [
            {
                "blocks": list(m.blocks),
                "sides": list(m.sides),
                "workload": model_workload(m, self.resolution),
                "ms": statistics.median(t),
                "times_ms": t,
            }
            for m, t in zip(models, times)
        ]


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "vsr" / "latency"


def profile_key(
    device: torch.device,
    resolution: tuple[int, int],
    dtype: str,
    design: str,
    num_channels: int,
    num_blocks: int,
    repeats: int,
) -> dict:
    return {
        "version": CACHE_VERSION,
        "device": device_name(device),
        "device_type": device.type,
        "resolution": list(resolution),
        "dtype": dtype,
        "threads": torch.get_num_threads(),
        "design": design,
        "num_channels": num_channels,
        "num_blocks": num_blocks,
        "repeats": repeats,
    }


def cache_path(cache_dir: Path, key: dict) -> Path:
    slug = re.sub(r"[^A-Za-z0-9]+", "-", key["device"]).strip("-").lower()
    h, w = key["resolution"]
    name = (
        f"{slug}_{h}x{w}_{key['dtype']}_t{key['threads']}_{key['design']}"
        f"_c{key['num_channels']}_d{key['num_blocks']}_r{key['repeats']}.json"
    )
    return Path(cache_dir) / name


def default_repeats(device: torch.device) -> int:
    """Timed steps per model: 2 on CPU (seconds per 1080p step), 20 on CUDA like the original."""
    return 20 if device.type == "cuda" else 2


def profile_latency(
    resolution: tuple[int, int] = FULL_HD,
    design: str = "fast",
    device: torch.device | str = "auto",
    dtype: str = "float32",
    num_channels: int = 128,
    num_blocks: int = 10,
    repeats: int | None = None,
    cache_dir: str | Path | None = None,
    refresh: bool = False,
    progress: bool = True,
) -> LatencyProfile:
    """Time a design (``fast`` or ``original``), fit the line and cache it; reuse the cache.

    ``fast`` also times three held-out models from the 108 to report the fit's error there;
    ``original`` reports 4-fold cross-validated error instead.
    """
    device = resolve_device(device) if isinstance(device, str) else device
    if design not in ("fast", "original"):
        raise ValueError(f"unknown latency design {design!r}; expected fast or original")
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; expected one of {', '.join(DTYPES)}")
    repeats = repeats or default_repeats(device)
    key = profile_key(device, resolution, dtype, design, num_channels, num_blocks, repeats)
    path = cache_path(Path(cache_dir) if cache_dir else default_cache_dir(), key)
    if path.is_file() and not refresh:
        data = json.loads(path.read_text())
        if data.get("key") == key:
            return LatencyProfile.from_json(data)

    models = fast_design(resolution) if design == "fast" else original_design(resolution)
    extra = heldout_models(resolution, models) if design == "fast" else []
    timer = Timer(resolution, device, DTYPES[dtype], num_channels, num_blocks)
    start = time.perf_counter()
    measured = timer.measure(models + extra, repeats, progress, f"profiling {design} design")
    samples, held = measured[: len(models)], measured[len(models):]
    fit = fit_latency([s["workload"] for s in samples], [s["ms"] for s in samples])
    if held:
        heldout = fit_errors(fit, [s["workload"] for s in held], [s["ms"] for s in held])
        heldout["method"] = "3 held-out models of the original 108"
        heldout["samples"] = held
    else:
        heldout = cross_validated_errors(samples)
    profile = LatencyProfile(key, fit, samples, heldout, time.perf_counter() - start)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(profile.to_json(), indent=1))
    tmp.replace(path)
    return profile
