"""``vsr allocate``: size a FOCAS model to a latency budget on this machine and write its config."""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from vsr.cli.sizes import SIZES
from vsr.config.loader import ConfigError
from vsr.errors import VSRWarning

MIN_R2 = 0.9  # a latency fit below this does not predict well enough to size a model by
MAX_OVERRUN = 0.2  # a chosen model measured this much over its budget is worth a word


def register(sub) -> None:
    parser = sub.add_parser(
        "allocate", help="size a FOCAS model to a latency budget on this machine and write its "
        "config (the quality allocation of FOCAS, Wang et al., ACM MM 2021, and its "
        "quality_allocation.py; README: Foveated super-resolution)")
    parser.add_argument("--latency", type=float, required=True, help="budget in ms per frame")
    parser.add_argument("--resolution", default="1080x1920", metavar="HxW",
                        help=f"HR frame size (default 1080x1920; {SIZES})")
    parser.add_argument("--depth", type=int, default=10, help="trunk blocks of the RRN weights")
    parser.add_argument("--channels", type=int, default=128, help="trunk channels")
    parser.add_argument("--regions", type=int, default=3, help="regions incl. the full frame")
    parser.add_argument("--sigma", type=float, default=64.0, help="foveal Gaussian sigma (px)")
    parser.add_argument("--dtype", choices=["float32", "float16", "bfloat16"], default="float32")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    parser.add_argument("--design", choices=["fast", "original"], default="fast",
                       help="latency design: 9 models (+3 held out) or the original 108")
    parser.add_argument("--repeats", type=int, help="timed steps per model (CPU 2, CUDA 20)")
    parser.add_argument("--cache-dir", help="latency profile cache (~/.cache/vsr/latency)")
    parser.add_argument("--reprofile", action="store_true", help="ignore a cached profile")
    parser.add_argument("--measure-quality", metavar="DATASET",
                       help="re-derive the quality table on a frame folder or video")
    parser.add_argument("--quality-frames", type=int, default=8)
    parser.add_argument("--weights", help="RRN/FOCAS weights (quality measurement, config)")
    parser.add_argument("-o", "--output", help="write the chosen model as an experiment config")
    parser.add_argument("--base", help="config the written one inherits (e.g. its test section)")
    parser.add_argument("--name", help="experiment name in the written config")
    parser.add_argument("--plot-dir", help="write latency-fit and quality-frontier plots here")
    parser.add_argument("--no-verify", action="store_true",
                       help="skip timing the chosen model")
    parser.add_argument("--no-progress", action="store_true")
    parser.set_defaults(func=run)


def check_args(args: argparse.Namespace) -> None:
    """Every flag, before any profiling: a bad one must not cost minutes of timing first."""
    from vsr.foveation.latency import ORIGINAL_LEVELS
    from vsr.foveation.quality import ORIGINAL_QUALITY

    for flag, value in (("--latency", args.latency), ("--sigma", args.sigma)):
        if not (math.isfinite(value) and value > 0):
            raise ConfigError(f"{flag} must be a finite number > 0, got {value:g}")
    for flag, value in (("--channels", args.channels), ("--repeats", args.repeats),
                        ("--quality-frames", args.quality_frames)):
        if value is not None and value < 1:
            raise ConfigError(f"{flag} must be at least 1, got {value}")
    timed_depth = max(max(levels) for name, levels in ORIGINAL_LEVELS.items()
                      if name.startswith("b"))
    if args.depth < timed_depth:
        raise ConfigError(f"--depth must be at least {timed_depth}: the latency design times "
                          f"models with up to {timed_depth} blocks; got {args.depth}")
    if not args.measure_quality and args.depth > len(ORIGINAL_QUALITY):
        raise ConfigError(f"--depth {args.depth}: the original quality table covers depth <= "
                          f"{len(ORIGINAL_QUALITY)}; use --measure-quality for deeper trunks")
    if not 2 <= args.regions <= args.depth:
        raise ConfigError(f"--regions must be between 2 (the full frame and one inner region) "
                          f"and --depth ({args.depth}), got {args.regions}")
    for flag, path in (("--weights", args.weights), ("--measure-quality", args.measure_quality),
                       ("--base", args.base)):
        if path is not None and not Path(path).exists():
            raise ConfigError(f"{flag}: {path} not found")


def warn_fit(r2: float) -> None:
    if not r2 >= MIN_R2:
        warnings.warn(f"the latency fit explains little of the timings (R² = {r2:.3f} < {MIN_R2}):"
                      f" its predictions, and so the chosen model, are unreliable; re-profile "
                      f"with --reprofile and more --repeats, on a quieter machine", VSRWarning,
                      stacklevel=2)


def warn_overrun(measured_ms: float, budget_ms: float) -> None:
    if measured_ms > budget_ms * (1 + MAX_OVERRUN):
        warnings.warn(f"the chosen model measured {measured_ms:.3f} ms, "
                      f"{100 * (measured_ms / budget_ms - 1):.0f} % over the {budget_ms:g} ms "
                      f"budget: the latency profile no longer matches this machine; re-profile "
                      f"with --reprofile and more --repeats, on a quieter machine",
                      VSRWarning, stacklevel=2)


def run(args: argparse.Namespace) -> int:
    """``vsr allocate``: profile (or reuse the cache), solve, verify, write the config."""
    import yaml

    from vsr.engine.device import resolve_device
    from vsr.foveation.allocation import (
        allocate,
        describe_fit,
        describe_solution,
        experiment_config,
        frontier,
        parse_resolution,
        plot,
    )
    from vsr.foveation.latency import DTYPES, Timer, profile_latency
    from vsr.foveation.quality import ORIGINAL_QUALITY, measure_quality_table

    check_args(args)
    start = time.perf_counter()
    resolution = parse_resolution(args.resolution)
    device = resolve_device(args.device)
    progress = not args.no_progress
    table: Sequence[float] = ORIGINAL_QUALITY
    if args.measure_quality:
        table, psnrs = measure_quality_table(args.measure_quality, args.weights, args.depth,
                                             args.channels, args.quality_frames, args.device,
                                             progress)
        print("measured PSNR per depth: " + ", ".join(f"{p:.2f}" for p in psnrs))
        print("quality table: " + ", ".join(f"{q:.4f}" for q in table))
    profile = profile_latency(resolution, args.design, device, args.dtype, args.channels,
                              args.depth, args.repeats, args.cache_dir, args.reprofile, progress)
    print(describe_fit(profile))
    warn_fit(profile.fit.r2)
    allocation = allocate(args.latency, profile.fit, resolution, args.depth, args.regions,
                          table, args.sigma)
    best = allocation.best
    print(f"best of {len(allocation.candidates)} feasible block tuples for {args.latency:g} ms "
          f"at {resolution[0]}x{resolution[1]}:")
    print(describe_solution(best, resolution))
    measured = None
    if not args.no_verify:
        repeats = args.repeats or (20 if device.type == "cuda" else 3)
        timer = Timer(resolution, device, DTYPES[args.dtype], args.channels, args.depth)
        model = timer.build(best.model_blocks, best.model_regions(resolution))
        measured = float(np.median(timer.time_model(model, repeats)))
        error = 100 * (best.model_latency_ms - measured) / measured
        print(f"  measured latency {measured:.3f} ms (median of {repeats} steps) vs predicted "
              f"{best.model_latency_ms:.3f} ms ({error:+.1f} %)")
        warn_overrun(measured, args.latency)
    if args.output:
        notes = (f"vsr allocate --latency {args.latency:g} at {resolution[0]}x{resolution[1]} on "
                 f"{profile.key['device']} ({profile.key['dtype']}, {profile.key['threads']} "
                 f"threads): estimated latency {best.model_latency_ms:.3f} ms, estimated foveated "
                 f"quality {best.quality:.5f} (sigma {args.sigma:g} px)")
        if measured is not None:
            notes += f", measured {measured:.3f} ms"
        output = Path(args.output)
        base = None
        if args.base:
            base = os.path.relpath(Path(args.base).resolve(), output.parent.resolve())
        name = args.name or f"focas_alloc_{args.latency:g}ms"
        cfg = experiment_config(best, resolution, args.depth, args.channels, name, notes,
                                args.weights, base)
        output.parent.mkdir(parents=True, exist_ok=True)
        output.write_text(yaml.safe_dump(cfg, sort_keys=False, default_flow_style=None))
        print(f"wrote {output}")
    if args.plot_dir:
        curve = frontier(profile.fit, resolution, args.depth, args.regions, table, args.sigma)
        for path in plot(profile, curve, best, args.latency, Path(args.plot_dir)):
            print(f"wrote {path}")
    print(f"total time {time.perf_counter() - start:.1f} s", file=sys.stderr)
    return 0
