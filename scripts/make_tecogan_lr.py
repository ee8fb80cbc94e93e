"""Write TecoGAN's stored test LR beside a GT folder: ``ROOT/GT/<clip>/*.png`` ->
``ROOT/Gaussian4xLR/<clip>/*.png`` (BD: sigma 1.5, reflect pad, stride 4, uint8, as TecoGAN's
scripts/resize_bd.py) and ``ROOT/Bicubic4xLR/<clip>/*.png`` (BI: MATLAB imresize x1/4 after
modcrop 4, as scripts/generate_lr_bi.m), so Vid4/ToS3 can be read in TecoGAN's layout
(``lr_subdir``) with the LR those configs otherwise make on the fly.

    python scripts/make_tecogan_lr.py ROOT [--kinds BD BI] [--scale 4]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from vsr.data.degradations import bd_tecogan, bi  # noqa: E402
from vsr.data.storage import DiskFrameStore  # noqa: E402
from vsr.data.transforms import frames_to_tensor, to_float  # noqa: E402
from vsr.errors import VSRError  # noqa: E402
from vsr.io.image import write_image  # noqa: E402

SUBDIRS = {"BD": "Gaussian{s}xLR", "BI": "Bicubic{s}xLR"}


def _lr(kind: str, hr: torch.Tensor, scale: int) -> torch.Tensor:
    if kind == "BD":
        return bd_tecogan(hr, mode="png", scale=scale)
    h, w = hr.shape[-2:]
    return bi(hr[..., : h // scale * scale, : w // scale * scale], scale=scale)


def make_tecogan_lr(root: str | Path, kinds: tuple[str, ...] = ("BD", "BI"),
                    scale: int = 4) -> int:
    """Write the LR folders of every clip under ``root/GT``; returns the frames written."""
    root = Path(root)
    store = DiskFrameStore(root / "GT")
    count = 0
    for clip in store.clips():
        for ref in store.frames(clip):
            hr = to_float(frames_to_tensor([ref.read()]), torch.float64)
            for kind in kinds:
                lr = _lr(kind, hr, scale)[0].mul(255).round().to(torch.uint8)
                out = root / SUBDIRS[kind].format(s=scale) / clip / f"{ref.stem}.png"
                write_image(out, lr.permute(1, 2, 0).numpy())
                count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("root", type=Path, help="folder holding GT/<clip>/*.png")
    parser.add_argument("--kinds", nargs="+", choices=sorted(SUBDIRS), default=["BD", "BI"])
    parser.add_argument("--scale", type=int, default=4)
    args = parser.parse_args(argv)
    try:
        count = make_tecogan_lr(args.root, tuple(args.kinds), args.scale)
    except VSRError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{count} LR frames written under {args.root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
