"""The stack of a `rover sim` job as a child process: the process runner with the ``sim`` profile (or, with
emulated devices, the ``rover`` profile: cli/emulated_devices.py), its output in stack.log, and the
mission executive's (re)starts counted from it."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

from rover_stack.common.child_process import die_with_parent

PROFILE = 'sim'
#: Robot variant (config/robot/<name>.yaml) used for each kinematics choice of `rover sim`.
ROBOT_FOR_KINEMATICS = {'skid': 'skid4', 'corner': 'corner6'}
_STARTED = re.compile(r'\[rover_runner\] started mission_executive \(pid (\d+)\)')


class StackProcess:
    """The process runner as a child: output to stack.log, mission executive (re)starts counted."""

    def __init__(self, argv: list[str], log_path: Path, verbose: bool):
        self.starts: list[int] = []           # pids of mission_executive, in order
        self._log = open(log_path, 'w', encoding='utf-8')   # closed in stop()
        self._verbose = verbose
        # Own session (Ctrl-C reaches only this process, which stops the runner cleanly); the runner gets
        # SIGTERM from the kernel if this process dies without stopping it (PR_SET_PDEATHSIG).
        self.process = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                        start_new_session=True, bufsize=1, stdin=subprocess.DEVNULL,
                                        preexec_fn=die_with_parent(os.getpid()))  # noqa: PLW1509 - before rclpy: one thread
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self._log.write(line)
            self._log.flush()
            match = _STARTED.search(line)
            if match:
                self.starts.append(int(match.group(1)))
            if self._verbose:
                sys.stdout.write(line)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self, timeout: float = 15.0) -> int:
        if self.alive():
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5.0)
        self._thread.join(2.0)
        self._log.close()
        return self.process.returncode


def rover_values(mission_path: str, args, progress: Path) -> dict[str, str]:
    """Launch arguments of the on-board stack for this job (every profile)."""
    return {'mission': mission_path, 'robot_config': ROBOT_FOR_KINEMATICS[args.kinematics],
            'mission_progress': str(progress), 'datum_source': 'file',
            'web': 'false' if args.no_web else 'true'}


def runner_argv(course_path: str, mission_path: str, args, progress: Path) -> list[str]:
    values = {'course': course_path, 'use_sim_time': 'true', 'seed': str(args.seed),
              'real_time_factor': '1.0' if args.realtime else '0.0',
              **rover_values(mission_path, args, progress)}
    argv = [sys.executable, '-m', 'rover_stack.bringup.runner', PROFILE]
    if args.node_sets:
        argv += ['--config', str(Path(args.node_sets).resolve())]
    for name, value in values.items():
        argv += ['--arg', f'{name}:={value}']
    return argv
