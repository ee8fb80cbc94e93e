"""The command line on bad input: one line naming the flag, file or key, exit code 2, no
traceback — and a traceback still for what is not bad input but a bug (torch's RuntimeError)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from vsr.cli import allocate
from vsr.cli.main import is_input_error, main
from vsr.engine.device import resolve_device
from vsr.errors import VSRWarning
from vsr.foveation.allocation import parse_resolution
from vsr.io.image import write_image

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def frames(tmp_path):
    rng = np.random.default_rng(0)
    for i in range(2):
        write_image(tmp_path / "lr" / f"{i:04d}.png", rng.integers(0, 256, (8, 10, 3), np.uint8))
    return tmp_path / "lr"


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    return err[0]


def test_cuda_without_a_gpu_is_exit_2_without_traceback(tmp_path, frames):
    out = subprocess.run([sys.executable, "-c", "import sys, torch; torch.cuda.is_available = "
                          "lambda: False; from vsr.cli.main import main; sys.exit(main())",
                          "infer", "--arch", "Bicubic", "--device", "cuda", "-i", str(frames),
                          "-o", str(tmp_path / "sr")], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "device 'cuda' was requested" in out.stderr


@pytest.mark.parametrize(("flags", "expected"), [
    (["--sigma", "0"], "--sigma must be a finite number > 0, got 0"),
    (["--latency", "-5"], "--latency must be a finite number > 0, got -5"),
    (["--latency", "nan"], "--latency must be a finite number > 0, got nan"),
    (["--depth", "4"], "--depth must be at least 9"),
    (["--depth", "12"], "--depth 12: the original quality table covers depth <= 10"),
    (["--regions", "11"], "--regions must be between 2"),
    (["--repeats", "0"], "--repeats must be at least 1"),
    (["--weights", "/no/such.pth"], "--weights: /no/such.pth not found"),
])
def test_allocate_checks_every_flag_before_profiling(monkeypatch, capsys, flags, expected):
    def no_profiling(*_args, **_kwargs):
        raise AssertionError("profiled before checking the flags")

    monkeypatch.setattr("vsr.foveation.latency.profile_latency", no_profiling)
    argv = ["allocate", "--latency", "50", "--resolution", "64x64", *flags]
    if "--latency" in flags:
        argv = ["allocate", "--resolution", "64x64", *flags]
    assert main(argv) == 2
    assert _error(capsys).startswith(f"error: {expected}")


def test_allocate_warns_on_a_poor_fit_and_an_overrun():
    with pytest.warns(VSRWarning, match=r"R² = 0.800 < 0.9.*--reprofile and more --repeats"):
        allocate.warn_fit(0.8)
    with pytest.warns(VSRWarning, match=r"measured 13.000 ms, 30 % over the 10 ms budget"):
        allocate.warn_overrun(13.0, 10.0)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        allocate.warn_fit(0.95)
        allocate.warn_overrun(11.9, 10.0)


def test_bad_arch_yaml_names_the_flag(tmp_path, frames, capsys):
    assert main(["infer", "--arch", "{type: ELSR", "-i", str(frames),
                 "-o", str(tmp_path / "sr")]) == 2
    assert _error(capsys).startswith("error: --arch '{type: ELSR': invalid YAML")


def test_arch_text_cannot_set_other_keys(tmp_path, frames, capsys):
    """Spliced into ``model: {type: SupervisedVSR, arch: ...}`` this text set model.type."""
    assert main(["infer", "--arch", "Bicubic, type: Bogus", "-i", str(frames),
                 "-o", str(tmp_path / "sr")]) == 2
    message = _error(capsys)
    assert "'model.arch'" in message and "model.type" not in message


def test_overrides_after_a_flag_are_overrides(tmp_path, capsys):
    cfg = {"name": "x", "output_root": str(tmp_path),
           "model": {"type": "SupervisedVSR", "arch": {"type": "ELSR", "scale": 4}},
           "train": {"dataset": {"type": "GTVideoFolder", "gt_root": str(tmp_path), "scale": 4,
                                 "num_frames": 3, "degradation": "BI"}, "batch_size": 1,
                     "total_iters": 10, "optimizers": {"net": {"lr": 1e-3}}}}
    path = tmp_path / "cfg.yaml"
    path.write_text(yaml.safe_dump(cfg))
    assert main(["train", "-c", str(path), "seed=1", "--resume", "auto",
                 "train.total_iters=-5"]) == 2
    assert _error(capsys) == ("error: command line: 'train.total_iters': expected a value > 0, "
                              "got -5")
    with pytest.raises(SystemExit) as info:
        main(["train", "-c", str(path), "--resume", "auto", "--no-such-flag"])
    assert info.value.code == 2
    assert "unrecognized arguments: --no-such-flag" in capsys.readouterr().err


def test_gaze_adjustments_are_one_warning_line(tmp_path, frames, capsys):
    (tmp_path / "gaze.csv").write_text("frame,x,y\n0,500,5\n")  # off the frame; frame 1 missing
    arch = "{type: FOCAS, num_channels: 4, num_blocks: 2, blocks: [1, 2], regions: [full, [8, 8]]}"
    assert main(["infer", "--arch", arch, "-i", str(frames), "-o", str(tmp_path / "sr"),
                 "--gaze", str(tmp_path / "gaze.csv")]) == 0
    err = capsys.readouterr().err.splitlines()
    warnings = [line for line in err if line.startswith("warning: gaze")]
    assert len(warnings) == 1
    assert warnings[0].startswith(f"warning: gaze {tmp_path / 'gaze.csv'}: 1 samples")
    assert "1 clamped" in warnings[0] and "1 frames filled" in warnings[0]


def _raised(fn):
    try:
        fn()
    except Exception as exc:  # the exception as main would see it, traceback included
        return exc
    raise AssertionError("did not raise")


def test_only_our_errors_become_one_line():
    assert is_input_error(_raised(lambda: parse_resolution("big")))  # a ValueError of ours
    assert is_input_error(_raised(lambda: open("/no/such/file")))  # OSError: the environment
    assert not is_input_error(_raised(lambda: torch.zeros(2) @ torch.zeros(3)))  # RuntimeError
    assert not is_input_error(_raised(lambda: np.zeros(2).reshape(3)))  # numpy's ValueError
    assert not is_input_error(_raised(lambda: {}["key"]))  # a KeyError is a bug


def test_device_error_is_ours(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert is_input_error(_raised(lambda: resolve_device("cuda")))
