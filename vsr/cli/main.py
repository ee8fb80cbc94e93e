"""``vsr train|test|infer`` (also ``python train.py`` / ``test.py`` / ``infer.py``)."""

from __future__ import annotations

import argparse
import os
import sys
import time

import yaml

from vsr.config.loader import ConfigError, dump_config


def _train(args: argparse.Namespace) -> int:
    from vsr.config.experiment import load_experiment
    from vsr.engine.trainer import Trainer

    cfg = load_experiment(args.config, args.overrides)
    trainer = Trainer(cfg, resume=args.resume)
    scores = trainer.train()
    if scores and trainer.dist.is_main:
        print(yaml.safe_dump({"validation": scores}, sort_keys=False))
    return 0


def _build_net(cfg, weights: str | None, device):
    from vsr.engine.checkpoint import load_weights
    from vsr.registry import MODELS

    net = MODELS.build(cfg.model).net
    path = weights or cfg.weights
    if path:
        load_weights(net, path)
    elif any(True for _ in net.parameters()):
        print(f"warning: {type(net).__name__} has parameters but no weights were given "
              f"(--weights or weights=...): running its initialisation", file=sys.stderr)
    return net.to(device).eval()


def _test(args: argparse.Namespace) -> int:
    from vsr.config.experiment import load_experiment, resolved_dict
    from vsr.engine.builders import build_evaluator, resolve_device
    from vsr.io.image import atomic_write_bytes

    cfg = load_experiment(args.config, args.overrides)
    if cfg.test is None:
        raise ConfigError(f"{args.config}: no 'test' section")
    device = resolve_device(cfg.device)
    net = _build_net(cfg, args.weights, device)
    out_dir = cfg.experiment_dir
    atomic_write_bytes(out_dir / "config.yaml", dump_config(resolved_dict(cfg)).encode())
    evaluator = build_evaluator(cfg.test, out_dir, device)
    scores = evaluator.evaluate(net)
    print(yaml.safe_dump({"results": scores, "written_to": str(out_dir / "results")},
                         sort_keys=False))
    return 0


def _gaze_track(spec: str, source, net):
    """``--gaze``: 'centre', 'H,W' (HR pixels) or a CSV with header frame,x,y (HR pixels)."""
    from vsr.foveation.gaze import GazeTrack

    if source.frame_count is None:
        raise ConfigError(f"--gaze needs a known frame count; {source.name} does not give one")
    size = (source.size[0] * net.scale, source.size[1] * net.scale)
    gaze: str | list[int] | None = None if spec == "centre" else spec
    if "," in spec and not spec.endswith(".csv"):
        try:
            gaze = [int(v) for v in spec.split(",")]
        except ValueError:
            raise ConfigError(f"--gaze {spec!r}: expected 'centre', 'H,W' or a CSV file") from None
    return GazeTrack.from_spec(gaze, source.frame_count, size)


def _infer(args: argparse.Namespace) -> int:
    from vsr.config.experiment import validate_experiment
    from vsr.config.loader import apply_overrides, load_config, load_config_text
    from vsr.engine.builders import resolve_device
    from vsr.engine.sequence import gaze_extras, stream
    from vsr.foveation.overlay import annotate
    from vsr.io.frames import frame_to_tensor, open_frame_sink, open_frame_source, tensor_to_frame

    if bool(args.config) == bool(args.arch):
        raise ConfigError("infer needs exactly one of -c CONFIG or --arch SPEC")
    if args.config:
        raw, prov = load_config(args.config, args.overrides)
    else:
        raw, prov = load_config_text(f"name: infer\nmodel: {{type: SupervisedVSR, arch: "
                                     f"{args.arch}}}\n", "--arch")
        raw = apply_overrides(raw, args.overrides, prov)
    cfg = validate_experiment(raw, prov)
    device = resolve_device(args.device or cfg.device)
    net = _build_net(cfg, args.weights, device)
    source = open_frame_source(args.input)
    total = source.frame_count
    gazes = _gaze_track(args.gaze, source, net) if args.gaze else None
    if args.draw_gaze and gazes is None:
        raise ConfigError("--draw-gaze needs --gaze")
    start = time.perf_counter()
    count = 0
    audio = args.input if source.has_audio and not args.no_audio else None
    with open_frame_sink(args.output, fps=args.fps or source.fps, audio_from=audio) as sink:
        lr_frames = (frame_to_tensor(f) for f in source)
        srs = stream(net, lr_frames, device, args.batch_frames, args.chunk_frames,
                     extras=gaze_extras(net, gazes))
        for index, sr in enumerate(srs):
            frame = tensor_to_frame(sr)
            if args.draw_gaze:
                frame = annotate(frame, net, tuple(gazes[index]))
            sink.write(frame)
            count += 1
            if count % 10 == 0 or count == total:
                rate = count / (time.perf_counter() - start)
                of = f"/{total}" if total else ""
                print(f"\r{count}{of} frames, {rate:.2f} frames/s", end="", file=sys.stderr)
    print(f"\nwrote {count} frames to {args.output}", file=sys.stderr)
    return 0


def _allocate(args: argparse.Namespace) -> int:
    from vsr.foveation.allocation import run_allocate

    return run_allocate(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="vsr", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    train = sub.add_parser("train", help="train a model from a YAML config")
    train.add_argument("-c", "--config", required=True)
    train.add_argument("--resume", help="'auto' (latest checkpoint of the experiment) or a path")
    train.add_argument("overrides", nargs="*", help="a.b.c=value (YAML values)")
    train.set_defaults(func=_train)

    test = sub.add_parser("test", help="evaluate a model on the config's test datasets")
    test.add_argument("-c", "--config", required=True)
    test.add_argument("--weights", help="weights file (ours, or an original release layout)")
    test.add_argument("overrides", nargs="*")
    test.set_defaults(func=_test)

    infer = sub.add_parser("infer", help="super-resolve a video file or a frames folder")
    infer.add_argument("-i", "--input", required=True, help="video file or frames folder")
    infer.add_argument("-o", "--output", required=True, help="video file (.mp4 …) or folder")
    infer.add_argument("-c", "--config", help="experiment config whose model to run")
    infer.add_argument("--arch", help="arch spec as YAML, e.g. '{type: ELSR, scale: 4}'")
    infer.add_argument("--weights")
    infer.add_argument("--device", choices=["auto", "cpu", "cuda"])
    infer.add_argument("--fps", type=float, help="output frame rate for frame-folder input")
    infer.add_argument("--no-audio", action="store_true", help="do not copy the input's audio")
    infer.add_argument("--gaze", help="FOCAS gaze per frame, in output pixels: 'centre', 'H,W' "
                       "or a CSV with header frame,x,y")
    infer.add_argument("--draw-gaze", action="store_true",
                       help="draw the gaze point and the foveated regions on the output")
    infer.add_argument("--batch-frames", type=int, default=4)
    infer.add_argument("--chunk-frames", type=int, default=16)
    infer.add_argument("overrides", nargs="*")
    infer.set_defaults(func=_infer)

    alloc = sub.add_parser("allocate", help="size a FOCAS model to a latency budget on this "
                           "machine (MODELS.md §2.4) and write its config")
    alloc.add_argument("--latency", type=float, required=True, help="budget in ms per frame")
    alloc.add_argument("--resolution", default="1080x1920", help="HR frame size HxW")
    alloc.add_argument("--depth", type=int, default=10, help="trunk blocks of the RRN weights")
    alloc.add_argument("--channels", type=int, default=128, help="trunk channels")
    alloc.add_argument("--regions", type=int, default=3, help="regions incl. the full frame")
    alloc.add_argument("--sigma", type=float, default=64.0, help="foveal Gaussian sigma (px)")
    alloc.add_argument("--dtype", choices=["float32", "float16", "bfloat16"], default="float32")
    alloc.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    alloc.add_argument("--design", choices=["fast", "original"], default="fast",
                       help="latency design: 9 models (+3 held out) or the original 108")
    alloc.add_argument("--repeats", type=int, help="timed steps per model (CPU 2, CUDA 20)")
    alloc.add_argument("--cache-dir", help="latency profile cache (~/.cache/vsr/latency)")
    alloc.add_argument("--reprofile", action="store_true", help="ignore a cached profile")
    alloc.add_argument("--measure-quality", metavar="DATASET",
                       help="re-derive the quality table on a frame folder or video")
    alloc.add_argument("--quality-frames", type=int, default=8)
    alloc.add_argument("--weights", help="RRN/FOCAS weights (quality measurement, config)")
    alloc.add_argument("-o", "--output", help="write the chosen model as an experiment config")
    alloc.add_argument("--base", help="config the written one inherits (e.g. its test section)")
    alloc.add_argument("--name", help="experiment name in the written config")
    alloc.add_argument("--plot-dir", help="write latency-fit and quality-frontier plots here")
    alloc.add_argument("--no-verify", action="store_true",
                       help="skip timing the chosen model")
    alloc.add_argument("--no-progress", action="store_true")
    alloc.set_defaults(func=_allocate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (ConfigError, FileNotFoundError, ValueError, OSError, KeyError) as exc:
        if os.environ.get("VSR_DEBUG") == "1":
            raise
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
