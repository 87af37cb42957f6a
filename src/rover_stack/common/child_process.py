"""Child processes that die with their parent: the runner's nodes, `rover sim`'s simulator and stack.

Linux only (prctl PR_SET_PDEATHSIG); no rclpy, so it is safe in a ``preexec_fn`` (the parent must not
have started threads yet: rclpy's executor threads make ``preexec_fn`` unsafe).
"""
from __future__ import annotations

import ctypes
import os
import signal
from collections.abc import Callable

PR_SET_PDEATHSIG = 1      # linux/prctl.h


def die_with_parent(parent_pid: int) -> Callable[[], None]:
    """A ``preexec_fn``: the child gets SIGTERM when ``parent_pid`` dies (PR_SET_PDEATHSIG), and exits at
    once if that parent is already gone (the signal would never come)."""
    libc = ctypes.CDLL(None, use_errno=True)

    def setup() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent_pid:
            os._exit(1)
    return setup
