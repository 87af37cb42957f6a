"""``rover sim`` (``make sim ARGS='...'``): the main job. (``rover_sim``, cli/sim.py, only brings the
profile up, without a mission.)

    rover sim [--course NAME|FILE] [--seed N] [--out DIR] [--realtime] [--kinematics {skid,corner}]
              [--timeout S] [--verbose] [--record-sensors] [--list-courses]
              [--devices {direct,emulated}] [--device-faults SPEC]

Brings the whole ``sim`` profile of config/node_sets.yaml up as separate processes (the process
runner, rover_stack.bringup.runner), sends the course's mission to ``execute_mission``, prints the
progress (leg, state, distance to the target) and writes to DIR (default runs/<UTC time>_<course>):
report.json, run.mcap (the main topics), trajectory.png, stack.log (every node's output) and
mission_progress.json (one left in DIR by an earlier run is removed first: every run starts the mission
at its first leg). If the runner respawns the mission executive, it restores the mission paused; the
goal is sent again and this job calls ``mission/resume`` as the operator would (docs/safety.md), and the
mission continues from the last completed leg. Exit 0 only when the mission succeeded and every leg
was reached according to the ground truth; 1 otherwise; 2 for bad arguments.

With ``--devices emulated`` the simulator presents the rover through emulated devices (motor controller,
GNSS and IMU on ptys, the camera as MJPEG over HTTP) and the ``rover`` profile runs with its real drivers
on them, at real time (cli/emulated_devices.py, docs/device_emulation.md); the report names the drivers.
"""
from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from rover_stack.autonomy.mission import MissionError, load_mission_file
from rover_stack.bringup.runner import _child_setup
from rover_stack.common.domains import claim_domain_if_unset, domain_note
from rover_stack.sim.course import CourseError, UnknownCourseError, list_courses, load_course

PROFILE = 'sim'
DEFAULT_COURSE = 'urc_demo'
#: Robot variant (config/robot/<name>.yaml) used for each kinematics choice.
ROBOT_FOR_KINEMATICS = {'skid': 'skid4', 'corner': 'corner6'}
_STARTED = re.compile(r'\[rover_runner\] started mission_executive \(pid (\d+)\)')
OUTCOME_NAMES = ('PENDING', 'SUCCEEDED', 'SKIPPED', 'TIMED_OUT', 'FAILED', 'ABORTED')


def build_parser(prog: str = 'rover sim') -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split('\n\n')[0].strip('` '))
    parser.add_argument('--course', default=DEFAULT_COURSE,
                        help=f'course name or file (default {DEFAULT_COURSE})')
    parser.add_argument('--seed', type=int, default=0, help='seed of the simulated sensor noise (default 0)')
    parser.add_argument('--out', default='', metavar='DIR',
                        help='output directory (default runs/<time>_<course>)')
    parser.add_argument('--realtime', action='store_true', help='run at wall-clock speed (default: as fast '
                        'as the simulator can)')
    parser.add_argument('--kinematics', choices=sorted(ROBOT_FOR_KINEMATICS), default='skid',
                        help='drive type: ' + ', '.join(f'{k}={v}' for k, v in ROBOT_FOR_KINEMATICS.items()))
    parser.add_argument('--timeout', type=float, default=0.0, metavar='S',
                        help='wall-clock limit in s (default: the sum of the leg timeouts + 120)')
    parser.add_argument('--no-web', action='store_true',
                        help='do not serve the base-station page (saves CPU: tests, benchmarks)')
    parser.add_argument('--verbose', action='store_true', help="also print every node's output")
    parser.add_argument('--record-sensors', action='store_true', help='also record the raw sensor streams '
                        '(clock, joint states, IMU, scan, camera, tf_static) for rover replay; the camera '
                        'makes run.mcap several MB per second')
    parser.add_argument('--node-sets', default='', metavar='FILE',
                        help='node-set file with the sim profile (default: config/node_sets.yaml)')
    parser.add_argument('--devices', choices=('direct', 'emulated'), default='direct',
                        help='direct: the sim profile (the simulator publishes the sensor topics); emulated: '
                             "the rover profile's real drivers on emulated devices, at real time")
    parser.add_argument('--device-faults', default='', metavar='SPEC',
                        help="with --devices emulated: faults such as 'gnss_unplug@20+5,motor_corrupt=0.01' "
                             '(docs/device_emulation.md)')
    parser.add_argument('--list-courses', action='store_true', help='list the shipped courses and exit')
    return parser


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
                                        preexec_fn=_child_setup(os.getpid()))  # noqa: PLW1509 - before rclpy: one thread
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


def main(argv: Sequence[str] | None = None, prog: str = 'rover sim') -> int:
    args = build_parser(prog).parse_args(argv)
    if args.list_courses:
        print('\n'.join(list_courses()))
        return 0
    if args.timeout < 0:
        print(f'{prog}: error: --timeout must be >= 0', file=sys.stderr)
        return 2
    if args.device_faults and args.devices != 'emulated':
        print(f'{prog}: error: --device-faults needs --devices emulated', file=sys.stderr)
        return 2
    try:
        from rover_stack.sim.device_emulation import FaultError, FaultSchedule
        FaultSchedule.parse(args.device_faults)
    except FaultError as error:
        print(f'{prog}: error: --device-faults: {error}', file=sys.stderr)
        return 2
    try:
        course = load_course(args.course)
        mission_path = course.mission_path()
        if mission_path is None:
            raise MissionError(course.source, 0, 'mission_file', 'the course names no mission')
        mission = load_mission_file(mission_path)
    except (CourseError, UnknownCourseError, MissionError) as error:
        print(f'{prog}: error: {error}', file=sys.stderr)
        return 2
    stamp = datetime.now(UTC).strftime('%Y%m%d_%H%M%S')
    out = Path(args.out) if args.out else Path('runs') / f'{stamp}_{course.name}'
    out.mkdir(parents=True, exist_ok=True)
    try:   # the session and its runner share one domain; another run on this machine gets another
        domain_id, claim = claim_domain_if_unset()
    except ValueError as error:
        print(f'{prog}: error: {error}', file=sys.stderr)
        return 2
    print(f'{prog}: {domain_note(domain_id, claim is not None)}', flush=True)
    from rover_stack.cli.sim_session import run_session  # rclpy only after the arguments are fine

    return run_session(args, course, mission, Path(mission_path), out)


if __name__ == '__main__':
    sys.exit(main())
