"""Spatial tiles against whole frames: output difference, PSNR change and infer.py's peak RSS.

Quality: Bicubic, ELSR (real ×4 weights) and RRN-3L (the parity fixture's recipe weights) on Vid4
calendar BI×4 LR (180×144), untiled and at 64×64 LR tiles with 8/16/32 px overlap: max abs
difference of the SR frames and the change of mean PSNR (Y, MATLAB formula, 8-px crop against GT).
Memory: peak RSS of ``infer.py`` (a child process, ``getrusage(RUSAGE_CHILDREN)``) on a 1280×720
LR clip to 5120×2880 with ELSR, with and without tiles.

    python scripts/bench_tiles.py --frames 41 --rss-frames 3 --out /tmp/bench_tiles.json
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.archs.weight_recipe import recipe_state_dict  # noqa: E402
from vsr.archs.bicubic import Bicubic  # noqa: E402
from vsr.archs.elsr import ELSR  # noqa: E402
from vsr.archs.rrn import RRN  # noqa: E402
from vsr.archs.sequence import stream  # noqa: E402
from vsr.archs.tiles import TileSpec, stream_tiled  # noqa: E402
from vsr.engine.checkpoint import foreign_state_dict, load_weights  # noqa: E402
from vsr.io.frames import frame_to_tensor  # noqa: E402
from vsr.io.image import read_image, write_image  # noqa: E402
from vsr.metrics.psnr_ssim import PSNR  # noqa: E402

SHARED = ROOT.parent / "shared"
CALENDAR_LR = SHARED / "data" / "Vid4" / "real_LR" / "BIx4_TDAN" / "calendar"
CALENDAR_GT = SHARED / "data" / "Vid4" / "GT" / "calendar"
ELSR_X4 = SHARED / "data" / "weights" / "elsr_torch" / "best_X4_model.pth"
RRN_3L = SHARED / "fixtures" / "parity" / "rrn_3l.pt"


def calendar(frames: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
    """The first ``frames`` LR and GT frames of Vid4 calendar."""
    lr = [frame_to_tensor(read_image(p)) for p in sorted(CALENDAR_LR.glob("*.png"))[:frames]]
    gt = [frame_to_tensor(read_image(p)) for p in sorted(CALENDAR_GT.glob("*.png"))[:frames]]
    return lr, gt


def models() -> dict[str, torch.nn.Module]:
    elsr = ELSR(scale=4).eval()
    load_weights(elsr, ELSR_X4)
    fixture = torch.load(RRN_3L, weights_only=True)
    ctor = fixture["constructor"]
    rrn = RRN(ctor["scale"], ctor["n_c"], ctor["n_b"]).eval()
    rrn.load_state_dict(foreign_state_dict(recipe_state_dict(
        fixture["state_dict_keys"], prefix=fixture["checkpoint_key_prefix"])))
    return {"Bicubic": Bicubic(4), "ELSR": elsr, "RRN-3L": rrn}


def compare(net: torch.nn.Module, lr: list[torch.Tensor], gt: list[torch.Tensor],
            overlaps: list[int], size: tuple[int, int] = (64, 64)) -> dict:
    """Max abs SR difference and PSNR change (tiled − whole) at each overlap."""
    psnr = PSNR(channel="y", y_formula="matlab", crop_border=8)
    whole = list(stream(net, iter(lr)))
    base = sum(psnr(s.double(), g.double()) for s, g in zip(whole, gt)) / len(gt)
    out = {"psnr_whole": base, "tiled": {}}
    for overlap in overlaps:
        tiled = list(stream_tiled(net, iter(lr), TileSpec(size, overlap)))
        diff = max(float((a - b).abs().max()) for a, b in zip(whole, tiled))
        score = sum(psnr(s.double(), g.double()) for s, g in zip(tiled, gt)) / len(gt)
        out["tiled"][overlap] = {"max_abs_diff": diff, "psnr_change": score - base}
    return out


def peak_rss_mib(args: list[str]) -> float:
    """Peak RSS of one child run of infer.py (a fresh interpreter per call, so the maximum is
    that run's alone)."""
    probe = ("import resource, subprocess, sys; subprocess.run(sys.argv[1:], check=True); "
             "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    result = subprocess.run([sys.executable, "-c", probe, sys.executable,
                             str(ROOT / "infer.py"), *args], check=True, capture_output=True,
                            text=True, cwd=ROOT)
    return int(result.stdout.split()[-1]) / 1024  # Linux: KiB


def rss(frames: int, tile: str, overlap: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        lr = Path(tmp) / "lr"
        for t in range(frames):  # real texture at 720p: calendar GT upsampled is not needed
            frame = torch.rand(3, 720, 1280, generator=torch.Generator().manual_seed(t))
            write_image(lr / f"{t:04d}.png", (frame * 255).round().byte().permute(1, 2, 0).numpy())
        common = ["--arch", "{type: ELSR, scale: 4}", "--weights", str(ELSR_X4), "-i", str(lr),
                  "--device", "cpu", "--fps", "25"]
        whole = peak_rss_mib([*common, "-o", str(Path(tmp) / "whole")])
        tiled = peak_rss_mib([*common, "-o", str(Path(tmp) / "tiled"), "--tile", tile,
                              "--tile-overlap", str(overlap)])
    return {"frames": frames, "lr": "1280x720", "sr": "5120x2880", "tile": tile,
            "overlap": overlap, "peak_rss_mib_whole": whole, "peak_rss_mib_tiled": tiled}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=41,
                        help="calendar frames (41: all; 0: skip the quality runs)")
    parser.add_argument("--overlaps", default="8,16,32")
    parser.add_argument("--rss-frames", type=int, default=3, help="0: skip the RSS runs")
    parser.add_argument("--rss-tile", default="180x320", help="LR tile, HxW")
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    overlaps = [int(v) for v in args.overlaps.split(",")]
    report: dict = {"frames": args.frames, "tile": [64, 64], "quality": {}}
    lr, gt = calendar(args.frames) if args.frames else ([], [])
    with torch.no_grad():
        for name, net in (models() if args.frames else {}).items():
            report["quality"][name] = compare(net, lr, gt, overlaps)
            print(name, json.dumps(report["quality"][name]), flush=True)
    if args.rss_frames:
        report["rss"] = rss(args.rss_frames, args.rss_tile, 16)
        print(json.dumps(report["rss"]), flush=True)
    if args.out:
        args.out.write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
