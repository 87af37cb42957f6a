"""``rover_runner`` as a child process for system tests: its own process group, output collected by a
thread, a clean stop (SIGINT, then SIGKILL after a bounded wait)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading


class RunnerProcess:
    """``python -m rover_stack.bringup.runner ARGS...`` (``env``: variables to set for it, e.g. its own
    ROS_DOMAIN_ID); ``lines`` holds its output lines as they come."""

    def __init__(self, *args: str, cwd=None, env: dict[str, str] | None = None):
        self.process = subprocess.Popen([sys.executable, '-m', 'rover_stack.bringup.runner', *args],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, text=True, process_group=0, cwd=cwd,
                                        env=None if env is None else {**os.environ, **env})
        self.lines: list[str] = []
        self._reader = threading.Thread(target=lambda: self.lines.extend(
            line.rstrip('\n') for line in self.process.stdout), daemon=True)
        self._reader.start()

    def tail(self, count: int = 40) -> str:
        return '\n'.join(self.lines[-count:])

    def interrupt(self, timeout: float) -> int:
        """SIGINT to the runner's group, as Ctrl-C would; its exit code (TimeoutExpired after ``timeout``)."""
        os.killpg(self.process.pid, signal.SIGINT)
        return self.process.wait(timeout=timeout)

    def stop(self, timeout: float = 20.0) -> None:
        """Ctrl-C, then SIGKILL to the group if it has not ended after ``timeout`` s; idempotent."""
        if self.process.poll() is None:
            try:
                self.interrupt(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        self._reader.join(timeout=5)

    def kill(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)
        self._reader.join(timeout=5)
