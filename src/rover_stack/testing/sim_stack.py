"""The whole `sim` profile as processes for system tests: the runner command of `rover sim --no-web`,
run in its own process group with its output kept in memory, and the runner's process events.

Used by tests/system/test_mission_operator_sim.py and tests/system/test_chaos_sim.py.
"""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from rover_stack.cli.sim import build_parser
from rover_stack.cli.stack_process import runner_argv
from rover_stack.sim.course import load_course
from rover_stack.testing.waiting import spin_until

STARTED = re.compile(r'\[rover_runner\] started (\S+) \(pid (\d+)\)')


class Runner:
    """The process runner with the sim profile, in its own process group; output kept in memory.

    ``on_start(name, pid)`` (optional) is called from the reader thread for every
    ``started NAME (pid N)`` line, as the line is read."""

    def __init__(self, argv: list[str], cwd, on_start=None):
        self.lines: list[str] = []
        self._on_start = on_start
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, text=True, process_group=0, cwd=cwd)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for raw in self.process.stdout:
            line = raw.rstrip('\n')
            self.lines.append(line)
            if self._on_start is not None and (match := STARTED.search(line)):
                self._on_start(match.group(1), int(match.group(2)))

    def pids(self, name: str) -> list[int]:
        """Every pid the runner started ``name`` with, oldest first."""
        return [int(m.group(2)) for line in list(self.lines)
                if (m := STARTED.search(line)) and m.group(1) == name]

    def executive_pids(self) -> list[int]:
        return self.pids('mission_executive')

    def tail(self, count: int = 40) -> str:
        """The runner's own lines and every WARN/ERROR line, the last ``count`` of them."""
        keep = [line for line in list(self.lines)
                if '[WARN]' in line or '[ERROR]' in line or '[rover_runner]' in line]
        return '\nrunner output (WARN/ERROR/runner lines):\n' + '\n'.join(keep[-count:])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                pass
        try:   # whatever is left of the group (the runner on timeout; nodes it could not stop)
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=5)
        self._reader.join(timeout=2)


def start_sim(course_name: str, seed: int, workdir: Path, on_start=None,
              web: bool = False) -> tuple[Runner, Path]:
    """Start the runner command of `rover sim --course COURSE --seed SEED --no-web` (the page is not
    needed) in ``workdir``, or with ``web`` the web_bridge too (on a free port); returns the runner and
    the mission progress file it uses."""
    course = load_course(course_name)
    progress = Path(workdir) / 'mission_progress.json'
    options = build_parser().parse_args(['--course', course_name, '--seed', str(seed),
                                         *([] if web else ['--no-web'])])
    argv = runner_argv(course.source, str(course.mission_path()), options, progress)
    if web:
        argv += ['--arg', 'web_port:=0']
    runner = Runner(argv, workdir, on_start=on_start)
    return runner, progress


def send_goal(client, executor, goal, timeout: float = 60.0):
    """Send ``goal`` on the action ``client``, again after 5 s without a response (a request sent while
    discovery completes can be lost, as `rover sim` also handles). Returns the accepted goal handle."""
    deadline = time.monotonic() + timeout
    while True:
        future = client.send_goal_async(goal)
        try:
            wait = min(5.0, max(0.1, deadline - time.monotonic()))
            spin_until(executor, future.done, wait, 'goal response')
            return future.result()
        except AssertionError:
            if time.monotonic() > deadline:
                raise


def run_rover_sim(course_name: str, seed: int, out: Path, timeout: float,
                  extra: tuple[str, ...] = ()) -> tuple[int, dict, str]:
    """`rover sim --course C --seed S --no-web [EXTRA...]` to completion: (exit code, report.json, a log for
    failure messages: the tail of its output and the last WARN/ERROR lines of the stack)."""
    process = subprocess.run(
        [sys.executable, '-m', 'rover_stack.cli.rover', 'sim', '--course', course_name, '--seed', str(seed),
         '--out', str(out), '--timeout', f'{timeout:g}', '--no-web', *extra],
        capture_output=True, text=True, timeout=timeout + 60.0, check=False)
    stack_log = out / 'stack.log'
    warnings = [line for line in (stack_log.read_text().splitlines() if stack_log.exists() else [])
                if '[WARN]' in line or '[ERROR]' in line or 'rover_runner' in line]
    # The summary (outcome and legs) goes last: CI output keeps the tail of a long failure message.
    cut = max(process.stdout.rfind('\nrover sim: SUCCESS'), process.stdout.rfind('\nrover sim: FAILED'))
    cut = cut if cut >= 0 else len(process.stdout)
    progress, summary = process.stdout[:cut], process.stdout[cut:]
    log = (progress[-1500:] + '\n' + process.stderr[-1000:] + '\nstack.log:\n' + '\n'.join(warnings[-25:])
           + '\n' + summary[-2000:])
    return process.returncode, json.loads((out / 'report.json').read_text()), log
