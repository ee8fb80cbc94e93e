"""``vsr infer``: super-resolve a video file or a frames folder, mp4 in and mp4 out."""

from __future__ import annotations

import argparse
import sys
import time

from vsr.config.loader import ConfigError


def register(sub) -> None:
    parser = sub.add_parser("infer", help="super-resolve a video file or a frames folder")
    parser.add_argument("-i", "--input", required=True, help="video file or frames folder")
    parser.add_argument("-o", "--output", required=True, help="video file (.mp4 …) or folder")
    parser.add_argument("-c", "--config", help="experiment config whose model to run")
    parser.add_argument("--arch", help="arch spec as YAML, e.g. '{type: ELSR, scale: 4}'")
    parser.add_argument("--weights")
    parser.add_argument("--device", choices=["auto", "cpu", "cuda"])
    parser.add_argument("--fps", type=float, help="output frame rate for frame-folder input")
    parser.add_argument("--no-audio", action="store_true", help="do not copy the input's audio")
    parser.add_argument("--gaze", help="FOCAS gaze per frame, in output pixels: 'centre', 'H,W' "
                       "or a CSV with header frame,x,y")
    parser.add_argument("--draw-gaze", action="store_true",
                       help="draw the gaze point and the foveated regions on the output")
    parser.add_argument("--batch-frames", type=int, default=4)
    parser.add_argument("--chunk-frames", type=int, default=16)
    parser.add_argument("--chunk-overlap", type=int,
                        help="clip models: frames shared by consecutive chunks (default a quarter)")
    parser.add_argument("--chunk-policy", choices=["drop", "blend"], default="drop",
                        help="clip models: how the shared frames' two outputs are merged")
    parser.add_argument("--tile", type=_tile_size, metavar="H,W",
                        help="run on overlapping LR tiles of H,W px, stitched at HR")
    parser.add_argument("--tile-overlap", type=int, default=16, metavar="PX",
                        help="LR px shared by neighbouring tiles (default 16)")
    parser.add_argument("--precision", choices=["fp32", "bf16", "fp16"], default="fp32",
                        help="autocast dtype of the model calls")
    parser.add_argument("--channels-last", action="store_true",
                        help="NHWC memory layout for the model and its frame inputs")
    parser.add_argument("overrides", nargs="*")
    parser.set_defaults(func=run)


def _tile_size(text: str) -> tuple[int, int]:
    try:
        h, w = (int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected H,W in LR pixels, got {text!r}") from None
    return h, w


def _gaze_track(spec: str, source, net):
    """``--gaze``: 'centre', 'H,W' (HR pixels) or a CSV with header frame,x,y (HR pixels)."""
    from vsr.data.gaze import GazeTrack

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


def run(args: argparse.Namespace) -> int:
    from vsr.archs.precision import Precision
    from vsr.archs.sequence import ChunkSpec, frame_conditions
    from vsr.archs.tiles import TileSpec, stream_tiled
    from vsr.cli.common import build_net
    from vsr.config.experiment import validate_experiment
    from vsr.config.loader import apply_overrides, load_config, load_config_text
    from vsr.engine.device import resolve_device
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
    net = build_net(cfg, args.weights, device)
    source = open_frame_source(args.input)
    total = source.frame_count
    conditions = {}
    if args.gaze:
        if "gaze" not in getattr(net, "conditions", ()):
            raise ConfigError(f"--gaze: {type(net).__name__} takes no gaze (a foveated arch such "
                              f"as FOCAS does)")
        conditions["gaze"] = _gaze_track(args.gaze, source, net)
    if args.draw_gaze and not conditions:
        raise ConfigError("--draw-gaze needs --gaze")
    try:
        tile = TileSpec(args.tile, args.tile_overlap) if args.tile else None
        chunk = ChunkSpec(args.chunk_frames, args.chunk_overlap, args.chunk_policy)
    except ValueError as exc:
        raise ConfigError(f"--tile/--chunk-*: {exc}") from None
    start = time.perf_counter()
    count = 0
    audio = args.input if source.has_audio and not args.no_audio else None
    with open_frame_sink(args.output, fps=args.fps or source.fps, audio_from=audio) as sink:
        lr_frames = (frame_to_tensor(f) for f in source)
        srs = stream_tiled(net, lr_frames, tile, device, args.batch_frames, chunk,
                           conditions=frame_conditions(net, conditions),
                           precision=Precision(args.precision, args.channels_last))
        for index, sr in enumerate(srs):
            frame = tensor_to_frame(sr)
            if args.draw_gaze:
                frame = net.overlay(frame, gaze=conditions["gaze"][index])
            sink.write(frame)
            count += 1
            if count % 10 == 0 or count == total:
                rate = count / (time.perf_counter() - start)
                of = f"/{total}" if total else ""
                print(f"\r{count}{of} frames, {rate:.2f} frames/s", end="", file=sys.stderr)
    print(f"\nwrote {count} frames to {args.output}", file=sys.stderr)
    return 0


