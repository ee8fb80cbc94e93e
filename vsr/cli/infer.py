"""``vsr infer``: super-resolve a video file or a frames folder, mp4 in and mp4 out."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import itertools
import os
import sys
import time
import warnings
from collections.abc import Iterator
from pathlib import Path

from vsr.cli.sizes import SIZES, parse_size
from vsr.config.loader import ConfigError


def register(sub) -> None:
    parser = sub.add_parser("infer", help="super-resolve a video file or a frames folder")
    parser.add_argument("-i", "--input", required=True, help="video file or frames folder")
    parser.add_argument("-o", "--output", required=True,
                        help="video file (.mp4, .m4v, .mov, .mkv, .avi) or a frames folder "
                             "(a path without extension)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing output video, or the images of an existing "
                             "output folder")
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
    parser.add_argument("--codec", help="video encoder: libx264 (default), libx265, mpeg4 "
                        "(those this PyAV build has)")
    parser.add_argument("--crf", type=int, help="constant quality: x264/x265 CRF 0-51 (default "
                        "18/20, lower is better), mpeg4 qscale 1-31 (default 3)")
    parser.add_argument("--preset", help="x264/x265 speed: ultrafast … medium (default) … "
                        "veryslow; faster presets give bigger files at the same crf")
    parser.add_argument("--batch-frames", type=int, default=4)
    parser.add_argument("--chunk-frames", type=int, default=16)
    parser.add_argument("--queue-frames", type=int, default=8,
                        help="frames decoded ahead and queued for encoding, each on its own "
                             "thread; 0 runs decode, model and encode one after another")
    parser.add_argument("--chunk-overlap", type=int,
                        help="clip models: frames shared by consecutive chunks (default a quarter)")
    parser.add_argument("--chunk-policy", choices=["drop", "blend"], default="drop",
                        help="clip models: how the shared frames' two outputs are merged")
    parser.add_argument("--start", type=_count(0), default=0, metavar="K",
                        help="first input frame to super-resolve (0-based; default 0)")
    parser.add_argument("--max-frames", type=_count(1), metavar="N",
                        help="super-resolve at most N frames (from --start)")
    parser.add_argument("--tile", type=parse_size, metavar="HxW",
                        help=f"run on overlapping LR tiles of HxW px, stitched at HR ({SIZES})")
    parser.add_argument("--tile-overlap", type=int, default=16, metavar="PX",
                        help="LR px shared by neighbouring tiles (default 16)")
    parser.add_argument("--precision", choices=["fp32", "bf16", "fp16"], default="fp32",
                        help="autocast dtype of the model calls")
    parser.add_argument("--channels-last", action="store_true",
                        help="NHWC memory layout for the model and its frame inputs")
    parser.add_argument("overrides", nargs="*")
    parser.set_defaults(func=run)


def _check_output(args: argparse.Namespace) -> tuple[bool, dict | None]:
    """Refuse an output that is the input, that exists (without --overwrite) or whose kind the
    encoder flags do not fit, before anything is loaded or written; (is_video, encoder)."""
    from vsr.io.frames import is_video_output
    from vsr.io.image import IMAGE_SUFFIXES
    from vsr.io.video import encoder_options

    source, out = Path(args.input), Path(args.output)
    video = is_video_output(out)
    if source.exists() and (out.resolve() == source.resolve()
                            or (out.exists() and os.path.samefile(out, source))):
        raise ValueError(f"output {out} is the input {source}; choose another output path")
    if out.exists():
        if video == out.is_dir():
            expected = "a video file" if video else "a frames folder"
            raise FileExistsError(f"output {out} exists and is not {expected}")
        occupied = video or any(p.suffix.lower() in IMAGE_SUFFIXES for p in out.iterdir())
        if occupied and not args.overwrite:
            held = "" if video else " and holds images"
            raise FileExistsError(f"output {out} already exists{held}; pass --overwrite to "
                                  f"replace it")
    flags = {"codec": args.codec, "crf": args.crf, "preset": args.preset}
    given = [f"--{k}" for k, v in flags.items() if v is not None]
    if not video:
        if given:
            raise ConfigError(f"{', '.join(given)}: only for video output; {out} is a frames "
                              f"folder")
        return False, None
    encoder = {k: v for k, v in flags.items() if v is not None}
    encoder_options(**{"codec": "libx264", **encoder})  # fails now, not after loading
    return True, encoder


def _remove_stale_temps(out: Path, video: bool, run_start: float) -> None:
    """Temp files a killed run left beside the output video (or among the folder's frames)."""
    from vsr.io.tempfiles import remove_stale_temps

    removed = (remove_stale_temps(out.parent, out.name, run_start) if video
               else remove_stale_temps(out, None, run_start))
    for path in removed:
        print(f"removed {path}, left by an interrupted run", file=sys.stderr)


def _decoded(source, start: int = 0, max_frames: int | None = None) -> Iterator:
    """LR tensors of ``source`` from frame ``start``, at most ``max_frames`` of them; closing this
    generator closes the decoder too."""
    from vsr.io.frames import frame_to_tensor

    stop = None if max_frames is None else start + max_frames
    with contextlib.closing(iter(source)) as frames:
        for frame in itertools.islice(frames, start, stop):
            yield frame_to_tensor(frame)


def _count(least: int):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = least - 1
        if value < least:
            raise argparse.ArgumentTypeError(f"expected an integer >= {least}, got {text!r}")
        return value

    return parse


def _frame_range(args: argparse.Namespace, source) -> tuple[int, int | None]:
    """Input frames [start, stop) that ``--start``/``--max-frames`` choose (stop None: to the
    end); a start past a known end is an error, not an empty output."""
    count = source.frame_count
    if count is not None and args.start >= count:
        raise ConfigError(f"--start {args.start}: {args.input} has {count} frames (0 to "
                          f"{count - 1})")
    stop = None if args.max_frames is None else args.start + args.max_frames
    return args.start, stop


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
    """Super-resolve; Ctrl-C removes a partial video and exits 130 with one line."""
    try:
        return _infer(args)
    except KeyboardInterrupt:
        try:
            from vsr.io.frames import is_video_output

            video = is_video_output(args.output)
        except ValueError:
            video = True
        left = (f"no output written to {args.output}" if video
                else f"the frames written so far stay in {args.output}")
        print(f"\ninterrupted: {left}", file=sys.stderr)
        return 130


def _infer(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from vsr.archs.precision import Precision
    from vsr.archs.sequence import ChunkSpec, frame_conditions
    from vsr.archs.tiles import TileSpec, stream_tiled
    from vsr.cli.common import arch_config, build_net
    from vsr.config.experiment import validate_experiment
    from vsr.config.loader import apply_overrides, load_config
    from vsr.engine.device import resolve_device
    from vsr.io.frames import open_frame_sink, open_frame_source, tensor_to_frame
    from vsr.io.image import FrameReadError
    from vsr.io.pipeline import Prefetch, WriteBehind

    run_start = time.time()
    if bool(args.config) == bool(args.arch):
        raise ConfigError("infer needs exactly one of -c CONFIG or --arch SPEC")
    if args.queue_frames < 0:
        raise ConfigError(f"--queue-frames must be >= 0, got {args.queue_frames}")
    video, encoder = _check_output(args)
    try:
        tile = TileSpec(args.tile, args.tile_overlap) if args.tile else None
        chunk = ChunkSpec(args.chunk_frames, args.chunk_overlap, args.chunk_policy)
    except ValueError as exc:
        raise ConfigError(f"--tile/--chunk-*: {exc}") from None
    if args.config:
        raw, prov = load_config(args.config, args.overrides)
    else:
        raw, prov = arch_config(args.arch)
        raw = apply_overrides(raw, args.overrides, prov)
    cfg = validate_experiment(raw, prov)
    device = resolve_device(args.device or cfg.device)
    net = build_net(cfg, args.weights, device)
    source = open_frame_source(args.input)
    first, stop = _frame_range(args, source)
    conditions = {}
    if args.gaze:
        if "gaze" not in getattr(net, "conditions", ()):
            raise ConfigError(f"--gaze: {type(net).__name__} takes no gaze (a foveated arch such "
                              f"as FOCAS does)")
        track = _gaze_track(args.gaze, source, net)
        conditions["gaze"] = dataclasses.replace(track, points=track.points[first:stop])
    if args.draw_gaze and not conditions:
        raise ConfigError("--draw-gaze needs --gaze")
    _remove_stale_temps(Path(args.output), video, run_start)
    audio = args.input if source.has_audio and not args.no_audio else None
    if audio and (args.start or args.max_frames):
        print("note: the audio is not copied when --start or --max-frames cuts the video",
              file=sys.stderr)
        audio = None
    depth = args.queue_frames
    expected = source.expected_frames
    if expected is not None:
        expected = max(0, min(expected, stop or expected) - first)
    start = time.perf_counter()
    bar = tqdm(total=expected, unit="frame", file=sys.stderr, disable=None, dynamic_ncols=True,
               desc=Path(args.output).name)

    def write(frame) -> None:
        sink.write(frame)
        bar.update(1)

    with contextlib.ExitStack() as stack, warnings.catch_warnings():
        # the reader's warning about a cut-off input is reported below, once, with the output
        warnings.filterwarnings("ignore", message=r".* ended after \d+ of the",
                                category=RuntimeWarning)
        stack.callback(bar.close)
        sink = stack.enter_context(open_frame_sink(
            args.output, fps=args.fps or source.fps, audio_from=audio, encoder=encoder,
            replace=args.overwrite))
        writer = stack.enter_context(WriteBehind(write, depth, "encode"))
        lr_frames = stack.enter_context(Prefetch(_decoded(source, first, args.max_frames), depth,
                                                      "decode"))
        srs = stack.enter_context(contextlib.closing(stream_tiled(
            net, lr_frames, tile, device, args.batch_frames, chunk,
            conditions=frame_conditions(net, conditions),
            precision=Precision(args.precision, args.channels_last))))
        for index, sr in enumerate(srs):
            frame = tensor_to_frame(sr)
            if args.draw_gaze:
                frame = net.overlay(frame, gaze=conditions["gaze"][index])
            writer.put(frame)
        writer.close()
        if sink.frames_written == 0:
            raise FrameReadError(f"no frame of {args.input} could be decoded; nothing written")
    count = sink.frames_written
    rate = count / (time.perf_counter() - start)
    if expected is not None and count < expected:
        print(f"warning: {args.input} ended after {count} of its {expected} frames (truncated "
              f"or corrupt?); the output has those {count}", file=sys.stderr)
    print(f"wrote {count} frames to {args.output} ({rate:.2f} frames/s)", file=sys.stderr)
    return 0


