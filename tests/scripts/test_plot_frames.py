"""The per-frame plot reads the Evaluator's CSV and names a missing column."""

import importlib.util
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "plot_frames.py"


def _module():
    spec = importlib.util.spec_from_file_location("plot_frames", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_plot_and_missing_column(tmp_path):
    csv_path = tmp_path / "clip.csv"
    csv_path.write_text("frame,model_ms,PSNR,EWPSNR\n0,12.5,30.1,31.0\n1,11.0,,\n2,10.5,29.8,30.5\n")
    plot = _module().plot_frames
    plot(csv_path, "EWPSNR", tmp_path / "p.png")
    assert (tmp_path / "p.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(SystemExit, match="no column 'FWQI'"):
        plot(csv_path, "FWQI", tmp_path / "q.png")
