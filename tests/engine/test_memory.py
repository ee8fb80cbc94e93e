"""keep_freed_blocks: large tensors come from malloc's heap, not from fresh kernel mappings."""

import os
import subprocess
import sys

import pytest

PROBE = """
import ctypes, ctypes.util, sys
import torch
from vsr.engine.memory import keep_freed_blocks

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]

libc = ctypes.CDLL(ctypes.util.find_library("c"))
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "keep":
    assert keep_freed_blocks()
if sys.argv[1] == "opted-out":
    assert not keep_freed_blocks()
frame_batch = torch.ones(4, 3, 720, 1280)  # 44 MB, over glibc's largest mmap threshold
print(libc.mallinfo2().hblkhd)
"""


def mapped_bytes(mode: str) -> int:
    env = {**os.environ, "VSR_MALLOC": "system"} if mode == "opted-out" else None
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True,
                         env=env)
    if out.returncode != 0:
        pytest.skip(f"no glibc mallinfo2 here: {out.stderr.strip().splitlines()[-1]}")
    return int(out.stdout)


def test_a_frame_batch_comes_from_the_heap_after_keep_freed_blocks():
    batch = 4 * 3 * 720 * 1280 * 4
    assert mapped_bytes("default") >= batch  # glibc maps it afresh (and unmaps it on free)
    assert mapped_bytes("keep") < batch
    assert mapped_bytes("opted-out") >= batch  # VSR_MALLOC=system: glibc's defaults stay
