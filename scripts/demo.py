"""`make demo`: the main job end to end on an embedded default, no downloads.

1. Builds short motion clips from the photographs inside scikit-image (train and held-out test).
2. Trains ELSR x4 from configs/demo/elsr_x4_demo.yaml for a few minutes on CPU.
3. Evaluates it and Bicubic on the held-out clips (Y-PSNR/SSIM, MATLAB Y, no crop).
4. Super-resolves an mp4 made from a held-out clip.
Leaves results/demo/{results.md, comparison.png, input_lr.mp4, sr.mp4}.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vsr.cli.main import main as vsr_main  # noqa: E402
from vsr.config.experiment import load_experiment  # noqa: E402
from vsr.data.synthetic import make_motion_clips  # noqa: E402
from vsr.io.frames import frame_to_tensor, tensor_to_frame  # noqa: E402
from vsr.io.image import atomic_write_bytes, list_frames, read_image, write_image  # noqa: E402
from vsr.io.video import VideoWriter  # noqa: E402
from vsr.registry import ARCHS, DEGRADATIONS  # noqa: E402

OUT = Path("results/demo")
CONFIGS = ROOT / "configs" / "demo"


def _run(args: list[str]) -> None:
    code = vsr_main(args)
    if code:
        raise SystemExit(f"vsr {' '.join(args)} failed with exit code {code}")


def _make_data(train_clips: int, test_clips: int) -> None:
    if not (OUT / "data" / "train").is_dir():
        make_motion_clips(OUT / "data" / "train", train_clips, 12, (144, 176), seed=0,
                          split="train")
    if not (OUT / "data" / "test").is_dir():
        make_motion_clips(OUT / "data" / "test", test_clips, 20, (144, 176), seed=1,
                          split="test")


def _results_table(names: dict[str, Path]) -> str:
    rows = ["| model | Y-PSNR (dB) | Y-SSIM |", "|---|---|---|"]
    for label, path in names.items():
        avg = json.loads(path.read_text())["average"]
        rows.append(f"| {label} | {avg['PSNR']:.2f} | {avg['SSIM']:.4f} |")
    return "\n".join(rows) + "\n"


def _comparison(test_clip: Path, weights: Path) -> None:
    """One held-out frame: LR (nearest) | Bicubic | ELSR | GT, side by side."""
    gt = frame_to_tensor(read_image(list_frames(test_clip)[10]))
    lr = DEGRADATIONS.get("BI")(gt[None], scale=4)[0]
    elsr = ARCHS.build({"type": "ELSR", "scale": 4}).eval()
    from vsr.engine.checkpoint import load_weights

    load_weights(elsr, weights)
    with torch.no_grad():
        sr = elsr(lr[None])[0].clamp(0, 1)
        bic = ARCHS.build({"type": "Bicubic", "scale": 4})(lr[None])[0].clamp(0, 1)
    nearest = lr.repeat_interleave(4, 1).repeat_interleave(4, 2)
    gap = torch.ones(3, gt.shape[1], 4)
    row = torch.cat([nearest, gap, bic, gap, sr, gap, gt], dim=2)
    write_image(OUT / "comparison.png", tensor_to_frame(row))


def _lr_video(test_clip: Path) -> Path:
    """An LR mp4 (BI x4 of a held-out clip) for the inference step."""
    path = OUT / "input_lr.mp4"
    degrade = DEGRADATIONS.get("BI")
    frames = list_frames(test_clip)
    with VideoWriter(path, fps=10) as writer:
        for frame in frames:
            lr = degrade(frame_to_tensor(read_image(frame))[None], scale=4)[0]
            writer.write(tensor_to_frame(lr))
    return path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--iters", type=int, default=None, help="override training iterations")
    parser.add_argument("--train-clips", type=int, default=20)
    parser.add_argument("--test-clips", type=int, default=2)
    args = parser.parse_args()
    start = time.perf_counter()
    OUT.mkdir(parents=True, exist_ok=True)
    _make_data(args.train_clips, args.test_clips)
    elsr_cfg = CONFIGS / "elsr_x4_demo.yaml"
    overrides = [f"train.total_iters={args.iters}"] if args.iters else []
    _run(["train", "-c", str(elsr_cfg), *overrides])
    cfg = load_experiment(elsr_cfg, overrides)
    weights = cfg.experiment_dir / "checkpoints" / "best.pth"
    _run(["test", "-c", str(elsr_cfg), "--weights", str(weights), "name=elsr_x4_test"])
    _run(["test", "-c", str(CONFIGS / "bicubic_x4_demo.yaml")])
    exp_root = Path(cfg.output_root)
    table = _results_table({
        "Bicubic": exp_root / "bicubic_x4" / "results" / "demo_test.json",
        f"ELSR x4 ({cfg.train.total_iters} iterations, CPU)":
            exp_root / "elsr_x4_test" / "results" / "demo_test.json",
    })
    test_clip = sorted(p for p in (OUT / "data" / "test").iterdir() if p.is_dir())[0]
    _comparison(test_clip, weights)
    lr_video = _lr_video(test_clip)
    _run(["infer", "-c", str(elsr_cfg), "--weights", str(weights), "-i", str(lr_video),
          "-o", str(OUT / "sr.mp4")])
    minutes = (time.perf_counter() - start) / 60
    text = (f"# vsr demo\n\nHeld-out clips ({args.test_clips} clips of 20 frames, BI x4, "
            f"Y channel MATLAB formula, no crop, all frames; mean per clip then over clips):\n\n"
            f"{table}\nTotal time {minutes:.1f} min. Files: comparison.png (LR | Bicubic | ELSR |"
            f" GT), input_lr.mp4 -> sr.mp4, experiments/ (configs, logs, checkpoints).\n")
    atomic_write_bytes(OUT / "results.md", text.encode())
    print(text)
    return 0


if __name__ == "__main__":
    np.seterr(all="ignore")
    sys.exit(main())
