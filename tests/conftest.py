"""Test-suite wiring shared by every tier.

* Markers come from the directory: tests/unit -> unit, tests/node -> node, tests/system -> system,
  tests/launch -> launch.
* Each pytest run claims its own DDS domain id (an flock'ed file per id under the temp dir), so two
  runs on one machine, or a stray process, never hear each other. Child processes inherit it.
* ``ros_context`` gives node tests a private rclpy Context, shut down afterwards.
"""
from __future__ import annotations

import fcntl
import os
import random
import tempfile
from pathlib import Path

import pytest

TIERS = ('unit', 'node', 'system', 'launch')
_DOMAIN_RANGE = range(1, 102)   # valid ROS domain ids on Linux are 0..101 (0 left to people)
_domain_lock = None


def _claim_domain_id() -> int:
    """Lock and return a free domain id; the lock is held for the life of this process."""
    global _domain_lock
    lock_dir = Path(tempfile.gettempdir()) / 'rover_stack_dds_domains'
    lock_dir.mkdir(exist_ok=True)
    candidates = list(_DOMAIN_RANGE)
    random.Random(os.getpid()).shuffle(candidates)
    for domain_id in candidates:
        handle = open(lock_dir / f'{domain_id}.lock', 'w')  # held until exit
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            continue
        _domain_lock = handle
        return domain_id
    raise RuntimeError('no free ROS domain id: more than 100 test runs at once?')


def pytest_configure(config):
    if 'ROVER_TEST_DOMAIN_ID' not in os.environ:
        domain_id = _claim_domain_id()
        os.environ['ROVER_TEST_DOMAIN_ID'] = str(domain_id)
        os.environ['ROS_DOMAIN_ID'] = str(domain_id)
    # Nothing in the tests may reach beyond this machine: refuse to run with a wide DDS scope.
    if os.environ.get('ROVER_DDS_SCOPE', 'localhost') != 'localhost':
        raise pytest.UsageError('tests run only with ROVER_DDS_SCOPE=localhost (source scripts/env.sh)')


def pytest_collection_modifyitems(config, items):
    root = Path(__file__).parent
    for item in items:
        try:
            tier = Path(item.fspath).relative_to(root).parts[0]
        except ValueError:
            continue
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))


@pytest.fixture
def ros_context():
    """A private, initialised rclpy Context for one test."""
    import rclpy

    context = rclpy.Context()
    rclpy.init(context=context)
    try:
        yield context
    finally:
        context.try_shutdown()
