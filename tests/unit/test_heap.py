"""keep_large_buffers_in_heap sets glibc's thresholds and leaves other C libraries alone.

Its effect on a real image subscriber is measured in tests/system/test_dds_images.py.
"""
import platform
import subprocess
import sys

import pytest

from rover_stack.common import heap

PROBE = """
import ctypes, sys
from rover_stack.common.heap import keep_large_buffers_in_heap
print(keep_large_buffers_in_heap())
"""


@pytest.mark.skipif(platform.libc_ver()[0] != 'glibc', reason='mallopt thresholds are glibc settings')
def test_glibc_accepts_the_thresholds():
    out = subprocess.run([sys.executable, '-c', PROBE], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == 'True'


def test_other_libcs_are_left_alone(monkeypatch):
    monkeypatch.setattr(heap.platform, 'libc_ver', lambda: ('musl', '1.2'))
    assert heap.keep_large_buffers_in_heap() is False
