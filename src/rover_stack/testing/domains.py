"""Free DDS domain ids for test and bench runs that share one machine.

A domain id is claimed by an flock'ed file per id under the temp dir, held for as long as the returned
handle is open (normally the life of the process), so two runs never hear each other.
"""
from __future__ import annotations

import fcntl
import os
import random
import tempfile
from pathlib import Path
from typing import IO

DOMAIN_RANGE = range(1, 102)   # valid ROS domain ids on Linux are 0..101 (0 left to people)


def claim_domain_id() -> tuple[int, IO]:
    """(domain id, lock handle): a domain id nobody else holds; it is ours until the handle is closed."""
    lock_dir = Path(tempfile.gettempdir()) / 'rover_stack_dds_domains'
    lock_dir.mkdir(exist_ok=True)
    candidates = list(DOMAIN_RANGE)
    random.Random(os.getpid()).shuffle(candidates)
    for domain_id in candidates:
        handle = open(lock_dir / f'{domain_id}.lock', 'w')
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        return domain_id, handle
    raise RuntimeError(f'no free ROS domain id: {DOMAIN_RANGE.start}..{DOMAIN_RANGE.stop - 1} are all held')
