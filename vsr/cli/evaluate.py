"""``vsr evaluate``: score outputs saved earlier — vsr's own or another method's — against the
ground truth, under a named protocol or a test config's, with the results files of ``vsr test``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import yaml

from vsr.config.loader import ConfigError
from vsr.config.schema import PlainName


def register(sub) -> None:
    from vsr.metrics.named_protocols import PROTOCOLS

    names = "; ".join(f"{n}: {what}" for n, (_, what) in PROTOCOLS.items())
    parser = sub.add_parser(
        "evaluate", help="score saved outputs (frame folders or videos) against the GT",
        description=f"{__doc__} Protocols — {names}.")
    parser.add_argument("--sr", required=True, help="the outputs: a frame folder or a video, or "
                        "a folder of them, one per clip (e.g. a test run's visual/<dataset>)")
    parser.add_argument("--gt", required=True, help="the ground truth, as one clip or a folder "
                        "of clips (e.g. Vid4/GT)")
    how = parser.add_mutually_exclusive_group(required=True)
    how.add_argument("--protocol", help=f"a named protocol: {', '.join(PROTOCOLS)}")
    how.add_argument("-c", "--config", help="a test config whose metrics and averaging to use")
    parser.add_argument("--clips", nargs="+", help="score only these clips, in this order")
    parser.add_argument("--dataset", help="the config's test dataset whose scoring to use "
                        "(default: the only one); the results carry its name")
    parser.add_argument("--name", help="results folder name (default: evaluate-<protocol>-<SR "
                        "folder name>-<start of the SR files' sha256>)")
    parser.add_argument("--output-root", default="experiments",
                        help="where the results folder goes (default: experiments)")
    parser.add_argument("--resume", action="store_true",
                        help="reuse the scores of clips an interrupted or failed run finished")
    parser.add_argument("overrides", nargs="*", help="dotted config overrides, e.g. "
                        "test.averaging=frame")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import torch

    from vsr.data.output_pairs import OutputPairs
    from vsr.engine.evaluator import Evaluator
    from vsr.engine.provenance import run_record, sha256_of_files
    from vsr.io.image import atomic_write_bytes
    from vsr.metrics.named_protocols import load_protocol

    # ``--clips a b key=value``: the override ends the clip list (overrides may come anywhere)
    clips = [c for c in args.clips or [] if "=" not in c] or None
    overrides = [*args.overrides, *(c for c in args.clips or [] if "=" in c)]
    if args.name is not None and not PlainName.holds(args.name):
        raise ConfigError(f"--name {args.name!r}: expected {PlainName.expected}")
    protocol = load_protocol(args.protocol, args.config, overrides, args.dataset)
    pairs = OutputPairs(args.sr, args.gt, clips, protocol.gt_reflect_pad)
    for clip in pairs.clips():
        print(f"{clip.name}: {clip.num_frames} frame pairs, by {clip.pairing} "
              f"({clip.sr.path} / {clip.gt.path})")
    evaluated = {
        "sr": {"path": str(Path(args.sr).resolve()),
               "sha256": sha256_of_files([f for c in pairs.clips() for f in c.sr.files])},
        "gt": {"path": str(Path(args.gt).resolve()),
               "sha256": sha256_of_files([f for c in pairs.clips() for f in c.gt.files])},
        "clips": {c.name: {"frames": c.num_frames, "paired_by": c.pairing}
                  for c in pairs.clips()},
        "protocol": protocol.describe(),
    }
    label = protocol.name if args.protocol else Path(protocol.source).stem
    name = args.name or (f"evaluate-{label}-{Path(args.sr).resolve().name}-"
                         f"{evaluated['sr']['sha256'][:8]}")
    out_dir = Path(args.output_root) / name
    check_results_folder(out_dir, evaluated)
    device = torch.device("cpu")  # metrics run on the CPU; no model runs
    record = run_record(None, device, evaluated=evaluated)
    atomic_write_bytes(out_dir / "protocol.yaml",
                       yaml.safe_dump(protocol.describe(), sort_keys=False).encode())
    atomic_write_bytes(out_dir / "run.json", json.dumps(record, indent=1).encode())
    evaluator = Evaluator({protocol.dataset: pairs}, protocol.build_metrics(), out_dir, device,
                          averaging=protocol.averaging, resume=args.resume, run_info=record)
    scores = evaluator.score_outputs()
    print(yaml.safe_dump({"results": scores, "written_to": str(out_dir / "results")},
                         sort_keys=False))
    return 0


def check_results_folder(folder: Path, evaluated: dict) -> None:
    """A results folder is only reused by the same evaluation (same SR and GT files, protocol
    and clips), whose numbers it already holds; any other run there is refused, not
    overwritten (``vsr test`` likewise names its folders by the weights they score)."""
    record = folder / "run.json"
    if not record.is_file():
        if (folder / "results").exists():
            raise ConfigError(f"{folder} holds results but no run.json saying what they score; "
                              f"choose another --name")
        return
    try:
        earlier = json.loads(record.read_text()).get("evaluated")
    except (json.JSONDecodeError, AttributeError):
        earlier = None
    if earlier is None:
        raise ConfigError(f"{folder} holds another run (not a vsr evaluate of saved outputs: "
                          f"{record}); choose another --name")
    now = json.loads(json.dumps(evaluated))  # as it would read back
    differs = [key for key in ("sr", "gt", "clips", "protocol") if earlier.get(key) != now[key]]
    if differs:
        raise ConfigError(f"{folder} holds the results of another evaluation (its "
                          f"{', '.join(differs)} differ: {record}); choose another --name, or "
                          f"remove the folder to replace them")
