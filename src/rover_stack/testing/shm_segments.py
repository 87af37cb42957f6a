"""Remove the shared-memory files Fast DDS left behind for processes that no longer exist.

Each participant maps a 16 MiB segment (``config/dds/fastdds_localhost.xml``) plus small port files in
``/dev/shm``. A process that is killed (SIGKILL, a crash, a test's timeout) never unlinks them, and
tmpfs keeps them in RAM: this machine had gathered 11 GB of them. Every segment ``X`` has a companion
``X_el`` that its live owner holds an ``flock`` on; when that lock can be taken, the owner is gone.
Pure Python, no ROS imports; Linux only.
"""
from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

SHM_DIR = Path('/dev/shm')
PREFIX = 'fastrtps_'
LOCK_SUFFIX = '_el'


def _owner_alive(lock_file: Path) -> bool:
    try:
        fd = os.open(lock_file, os.O_RDWR)
    except OSError:
        return True   # cannot tell: leave it
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def remove_stale_segments(directory: Path = SHM_DIR, min_age: float = 60.0,
                          now: float | None = None) -> int:
    """Unlink every ``fastrtps_*`` segment (with its ``_el`` file) that is at least ``min_age`` s old and
    whose lock nobody holds; the number of bytes freed. Young files are left: their owner may be
    about to lock them."""
    now = time.time() if now is None else now
    freed = 0
    for lock_file in directory.glob(f'{PREFIX}*{LOCK_SUFFIX}'):
        segment = lock_file.with_name(lock_file.name[:-len(LOCK_SUFFIX)])
        try:
            if now - lock_file.stat().st_mtime < min_age or _owner_alive(lock_file):
                continue
            size = segment.stat().st_size if segment.exists() else 0
            segment.unlink(missing_ok=True)
            lock_file.unlink(missing_ok=True)
            freed += size
        except OSError:
            continue   # removed by someone else meanwhile, or not ours to remove
    return freed
