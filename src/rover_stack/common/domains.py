"""Free DDS domain ids for runs that share one machine (tests, bench sweeps, rover sim, rover_runner).

A domain id is claimed by an flock'ed file per id under the temp dir, held for as long as the returned
handle is open (normally the life of the process), so two runs never hear each other.
"""
from __future__ import annotations

import fcntl
import os
import random
import tempfile
from collections.abc import MutableMapping
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


def claim_domain_if_unset(environ: MutableMapping[str, str] = os.environ) -> tuple[int, IO | None]:
    """(domain id, lock handle or None) for a run: ROS_DOMAIN_ID when it is set; else a free id, claimed
    and written to ``environ['ROS_DOMAIN_ID']`` so this process and its children use it (two runs on
    one machine then never hear each other's goals). Keep the handle for the life of the run."""
    given = environ.get('ROS_DOMAIN_ID', '').strip()
    if given:
        if not given.isdigit():
            raise ValueError(f'ROS_DOMAIN_ID must be a non-negative integer, not {given!r}')
        return int(given), None
    domain_id, handle = claim_domain_id()
    environ['ROS_DOMAIN_ID'] = str(domain_id)
    return domain_id, handle


def domain_note(domain_id: int, claimed: bool) -> str:
    """One line telling the user the run's DDS domain and how to join it."""
    how = 'claimed, ROS_DOMAIN_ID was not set' if claimed else 'ROS_DOMAIN_ID'
    return f'DDS domain {domain_id} ({how}); join with: ROS_DOMAIN_ID={domain_id} ros2 topic list'
