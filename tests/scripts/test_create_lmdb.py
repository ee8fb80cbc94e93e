"""scripts/create_lmdb.py: BasicSR layout, growth past a full map, read-back verification, and
never leaving a half-written or clobbered LMDB behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import lmdb
import numpy as np
import pytest

from tests.scripts import SCRIPTS, load_script
from vsr.data.storage import LmdbFrameStore
from vsr.io.image import read_image, write_image

create = load_script("create_lmdb")
H, W = 32, 48  # random frames: ~4.6 KB of PNG each, so 20 of them overflow a 64 KB map


@pytest.fixture
def vid4_like(tmp_path: Path) -> Path:
    """``GT/<clip>/NNNN.png`` with two clips of 10 random frames."""
    rng = np.random.default_rng(0)
    for clip in ("calendar", "city"):
        for t in range(10):
            img = rng.integers(0, 256, size=(H, W, 3), dtype=np.uint8)
            write_image(tmp_path / "GT" / clip / f"{t:04d}.png", img)
    return tmp_path / "GT"


def test_map_grows_from_64kb_and_layout_is_basicsr(vid4_like: Path, tmp_path: Path) -> None:
    out = tmp_path / "Vid4_GT.lmdb"
    report = create.create_lmdb(
        vid4_like, out, map_size=1 << 16, commit_every=4, compress_level=3, progress=False
    )
    assert (report.frames, report.clips) == (20, 2)
    assert report.map_grows >= 1 and report.map_size > 1 << 16
    assert sorted(p.name for p in out.iterdir()) == ["data.mdb", "lock.mdb", "meta_info.txt"]
    assert not out.with_name("Vid4_GT.lmdb.tmp").exists()
    lines = (out / "meta_info.txt").read_text().splitlines()
    assert lines[:2] == [f"calendar/0000.png ({H},{W},3) 3", f"calendar/0001.png ({H},{W},3) 3"]
    assert len(lines) == 20
    env = lmdb.open(str(out), readonly=True, lock=False)
    with env.begin() as txn:  # raw BasicSR value: PNG bytes of the BGR frame
        value = txn.get(b"city/0009")
        assert txn.stat()["entries"] == 20
    env.close()
    bgr = cv2.imdecode(np.frombuffer(value, np.uint8), cv2.IMREAD_UNCHANGED)
    expected = read_image(vid4_like / "city" / "0009.png")
    assert value[:8] == b"\x89PNG\r\n\x1a\n" and np.array_equal(bgr[..., ::-1], expected)
    store = LmdbFrameStore(out)
    for frame in store.frames("calendar", expected=10):
        assert np.array_equal(frame.read(), read_image(vid4_like / "calendar" / frame.name))


def test_refuses_to_overwrite_unless_asked(vid4_like: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "gt.lmdb"
    assert create.main([str(vid4_like), str(out), "--quiet"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert create.main([str(vid4_like), str(out), "--quiet"]) == 1
    assert "exists; pass --overwrite" in capsys.readouterr().err
    new = np.full((H, W, 3), 7, np.uint8)
    write_image(vid4_like / "city" / "0003.png", new)
    assert create.main([str(vid4_like), str(out), "--quiet", "--overwrite"]) == 0
    assert np.array_equal(LmdbFrameStore(out).read("city", "0003.png"), new)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["GT", "gt.lmdb"]
    # --overwrite replaces LMDBs only, never some other folder.
    assert create.main([str(vid4_like), str(vid4_like.parent), "--quiet", "--overwrite"]) == 1
    assert "is not an LMDB; refusing" in capsys.readouterr().err


def test_failure_leaves_nothing_behind(vid4_like: Path, tmp_path: Path, capsys) -> None:
    (vid4_like / "city" / "0004.png").write_bytes(b"not a png")
    out = tmp_path / "gt.lmdb"
    assert create.main([str(vid4_like), str(out), "--quiet"]) == 1
    assert "GT/city/0004.png" in capsys.readouterr().err
    assert not out.exists() and not out.with_name("gt.lmdb.tmp").exists()


def test_verification_catches_a_frame_that_differs(vid4_like, tmp_path, monkeypatch) -> None:
    encode, target = create.encode_png, read_image(vid4_like / "city" / "0005.png")

    def corrupting(img: np.ndarray, level: int) -> bytes:
        if np.array_equal(img, target):
            img = img.copy()
            img[-1, -1, -1] ^= 1
        return encode(img, level)

    monkeypatch.setattr(create, "encode_png", corrupting)
    out = tmp_path / "gt.lmdb"
    with pytest.raises(create.VerifyError, match=r"gt\.lmdb\.tmp\[city/0005\] differs from"):
        create.create_lmdb(vid4_like, out, progress=False)
    assert not out.exists() and not out.with_name("gt.lmdb.tmp").exists()


def test_command_line_shows_progress(vid4_like: Path, tmp_path: Path) -> None:
    out = tmp_path / "gt.lmdb"
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / "create_lmdb.py"), str(vid4_like), str(out)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "write: 100%" in result.stderr and "verify: 100%" in result.stderr
    assert "20 frames of 2 clips, verified" in result.stdout
