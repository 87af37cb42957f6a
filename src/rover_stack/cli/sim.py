"""``rover sim`` (``make sim ARGS='...'``): the main job. (``rover_sim``, cli/rover_sim.py, only brings the
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
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from rover_stack.autonomy.mission import MissionError, load_mission_file
from rover_stack.cli.stack_process import ROBOT_FOR_KINEMATICS
from rover_stack.common.domains import claim_domain_if_unset, domain_note
from rover_stack.sim.course import CourseError, UnknownCourseError, list_courses, load_course

DEFAULT_COURSE = 'urc_demo'


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
        from rover_stack.sim.device_emulation import FaultError, FaultSchedule  # noqa: PLC0415 - mujoco only after argument parsing
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
    from rover_stack.cli.sim_session import run_session  # noqa: PLC0415 - rclpy only after argument checks

    return run_session(args, course, mission, Path(mission_path), out)


if __name__ == '__main__':
    sys.exit(main())
