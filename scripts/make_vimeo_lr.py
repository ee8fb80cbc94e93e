"""Write BI LR frames (MATLAB bicubic, rounded to 8 bit) of listed Vimeo-90K septuplets, in the
layout ``Vimeo90K(lr_root=...)`` reads, so short CPU trainings do not resize every frame again at
every step (a 448x256 BI takes longer than an ELSR step). Only the frames asked for are written:
``--frames 4`` (the centre, all a one-frame model reads) by default.

    python scripts/make_vimeo_lr.py --scales 2 4 --out results/elsr_chain/data
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vsr.data.degradations import bi  # noqa: E402
from vsr.data.video_folder import read_clip_list  # noqa: E402
from vsr.io.image import read_image, write_image  # noqa: E402

VIMEO = Path("../shared/data/Vimeo90K")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=VIMEO, help="Vimeo90K folder (sequences/)")
    parser.add_argument("--list", default="sep_trainlist.txt", help="clip list, in --root")
    parser.add_argument("--scales", type=int, nargs="+", default=[4])
    parser.add_argument("--frames", type=int, nargs="+", default=list(range(1, 8)), help="1..7")
    parser.add_argument("--out", type=Path, required=True,
                        help="writes <out>/vimeo_BIx<scale>/sequences/<clip>/im<k>.png")
    args = parser.parse_args(argv)
    written = 0
    for clip in read_clip_list(args.root / args.list):
        for k in args.frames:
            targets = {s: args.out / f"vimeo_BIx{s}" / "sequences" / clip / f"im{k}.png"
                       for s in args.scales}
            todo = {s: p for s, p in targets.items() if not p.is_file()}
            if not todo:
                continue
            gt = read_image(args.root / "sequences" / clip / f"im{k}.png")
            hr = torch.from_numpy(gt).permute(2, 0, 1)[None].double() / 255
            for scale, path in todo.items():
                lr = bi(hr, scale)[0].permute(1, 2, 0).mul(255).round().clamp(0, 255)
                path.parent.mkdir(parents=True, exist_ok=True)
                write_image(path, lr.numpy().astype(np.uint8))
                written += 1
    print(f"wrote {written} LR frames under {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
