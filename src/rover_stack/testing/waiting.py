"""Wait for a fact with a deadline while spinning an executor; never wait forever."""
from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable


class DeadlineExceededError(AssertionError):
    """The awaited condition did not hold before the deadline."""


def spin_until(executor, condition: Callable[[], bool], timeout: float, what: str = 'condition',
               step: float = 0.02) -> None:
    """Spin ``executor`` until ``condition()`` is true; DeadlineExceededError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise DeadlineExceededError(f'timed out after {timeout:.1f} s waiting for {what}')
        executor.spin_once(timeout_sec=min(step, remaining))


def spin_for(executor, duration: float, step: float = 0.02) -> None:
    """Spin ``executor`` for ``duration`` s (for observing that something does NOT happen)."""
    deadline = time.monotonic() + duration
    while (remaining := deadline - time.monotonic()) > 0:
        executor.spin_once(timeout_sec=min(step, remaining))


def stop_process(process, timeout: float = 10.0) -> None:
    """SIGINT ``process`` (a subprocess.Popen) and wait up to ``timeout`` s; then SIGKILL it."""
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5.0)
