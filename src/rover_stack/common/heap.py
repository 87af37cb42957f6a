"""Keep image-sized buffers in the malloc heap instead of fresh mmap()s.

glibc serves allocations above its mmap threshold (128 KiB at start, raised dynamically up to 32 MiB
only once such a block is freed) with a new mmap: every 640x480 frame a node receives or sends then
costs three fresh ~1 MB mappings and their page faults. Measured here with a subscriber of 640x480 rgb8
images at 200 Hz: 2.6 ms of CPU per frame, 650 page faults per frame, two thirds of it in the kernel;
with the thresholds below 1.1 ms and next to no page faults (tests/system/test_dds_images.py).
Called once per process by ``run_nodes``.
"""
from __future__ import annotations

import ctypes
import platform

M_TRIM_THRESHOLD = -1   # mallopt parameters (glibc malloc.h)
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 8 * 1024 * 1024    # bytes: smaller blocks come from the heap (1280x720 rgb8 is 2.7 MB)
TRIM_THRESHOLD = 64 * 1024 * 1024   # bytes of free heap top kept for reuse before returning it to the OS


def keep_large_buffers_in_heap(mmap_threshold: int = MMAP_THRESHOLD,
                               trim_threshold: int = TRIM_THRESHOLD) -> bool:
    """Set glibc's mmap and trim thresholds for this process; False (nothing changed) on another libc."""
    if platform.libc_ver()[0] != 'glibc':
        return False
    libc = ctypes.CDLL(None)
    return bool(libc.mallopt(M_MMAP_THRESHOLD, int(mmap_threshold))) and bool(
        libc.mallopt(M_TRIM_THRESHOLD, int(trim_threshold)))
