"""Write BI or BD x4 LR frames of Vimeo-90K septuplets or of a Vid4-style folder the way the
KAIR/BasicVSR MATLAB scripts do (generate_LR_Vimeo90K.m, generate_LR_Vimeo90K_BD.m): the GT
modcropped to a multiple of the scale, then BI = MATLAB imresize bicubic, or BD = fspecial
12x12 Gaussian sigma 1.6, imfilter 'replicate', rows/cols 1, 5, 9, ... (0-based) — vsr's
``BI`` and ``BD_MATLAB`` degradations, in float64, rounded to uint8.

    python scripts/make_lr.py --root ../shared/data/Vimeo90K/sequences \
        --list ../shared/data/Vimeo90K/sep_testlist.txt --degradation BD --out data/vimeo_BDx4
    python scripts/make_lr.py --root ../shared/data/Vid4/GT --degradation BI --out data/Vid4_BIx4

Writes <out>/<clip>/<frame>.png for every PNG of every clip (listed, or every sub-folder).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vsr.data.degradations import bd_matlab, bi  # noqa: E402
from vsr.data.video_folder import read_clip_list  # noqa: E402
from vsr.errors import ClipError  # noqa: E402
from vsr.io.image import read_image, write_image  # noqa: E402


def degrade(gt: np.ndarray, degradation: str, scale: int) -> np.ndarray:
    """uint8 (H, W, 3) GT -> uint8 LR, modcropped first as the MATLAB scripts do."""
    h, w = gt.shape[0] - gt.shape[0] % scale, gt.shape[1] - gt.shape[1] % scale
    hr = torch.from_numpy(np.ascontiguousarray(gt[:h, :w])).permute(2, 0, 1)[None].double()
    hr = hr / 255
    lr = bi(hr, scale) if degradation == "BI" else bd_matlab(hr, scale)
    return lr[0].permute(1, 2, 0).mul(255).round().clamp(0, 255).numpy().astype(np.uint8)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, required=True, help="folder of clip folders")
    parser.add_argument("--list", type=Path, help="clip names, one a line (default: all)")
    parser.add_argument("--degradation", choices=["BI", "BD"], required=True)
    parser.add_argument("--scale", type=int, default=4)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    try:
        clips = read_clip_list(args.list) if args.list else sorted(
            p.name for p in args.root.iterdir() if p.is_dir())
        written = 0
        for clip in clips:
            frames = sorted((args.root / clip).glob("*.png"))
            if not frames:
                raise ClipError(f"{args.root / clip}: no PNG frames")
            for frame in frames:
                target = args.out / clip / frame.name
                target.parent.mkdir(parents=True, exist_ok=True)
                write_image(target, degrade(read_image(frame), args.degradation, args.scale))
                written += 1
    except (ClipError, FileNotFoundError) as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"wrote {written} {args.degradation} x{args.scale} LR frames under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
