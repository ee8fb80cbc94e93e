"""Keep freed frame buffers in the process instead of handing them back to the kernel.

glibc serves every block over its mmap threshold (at most 32 MB) with a fresh mapping and unmaps
it on free, so each batch of HR frames is page-faulted in and zeroed anew: 3-14 ms per 1280x720
RGB float frame on the 2-core development machine, more than MATLAB bicubic computes it in. Served
from malloc's heap and not trimmed, a freed batch is reused by the next one. Peak memory is what
it was; the process just keeps it until it exits, which suits a test or infer run. The price is
fragmentation: the heap cannot shrink below its highest live block, so peak RSS is higher (1.80
vs 1.41 GiB for ELSR 1280x720 -> 5120x2880 on whole frames). ``VSR_MALLOC=system`` keeps glibc's
defaults.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

_M_TRIM_THRESHOLD = -1
_M_MMAP_MAX = -4
_KEEP_BYTES = 1 << 30


def keep_freed_blocks() -> bool:
    """Tell glibc's malloc to reuse large freed blocks; False where the C library is not glibc
    (nothing changes there)."""
    if os.environ.get("VSR_MALLOC") == "system":
        return False
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name)
        mallopt = libc.mallopt
    except (OSError, AttributeError, TypeError):
        return False
    return bool(mallopt(_M_MMAP_MAX, 0)) and bool(mallopt(_M_TRIM_THRESHOLD, _KEEP_BYTES))
