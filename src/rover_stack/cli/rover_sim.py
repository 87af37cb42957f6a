"""``rover_sim``: bring the simulation profile of config/node_sets.yaml up (``make sim`` is ``rover sim``).

    rover_sim [--course NAME] [--mission FILE] [--kinematics {skid,corner}] [--duration S]
    rover_sim --list-courses

Runs profile ``sim`` through the process runner in this process (rover_stack.bringup.runner), so
Ctrl-C stops every node cleanly. Without ``--mission`` the autonomy nodes (localization, perception,
navigation, mission executive) are left out (profile argument ``autonomy:=false``); ``rover sim``
(cli/sim.py) is the main job that runs a course's mission end to end. Before starting it prints
which parts of the simulation exist: the nodes the profile runs, and the options that no node uses yet.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rover_stack.bringup.node_set import NodeSetError, Profile, arg_refs, load_node_sets
from rover_stack.bringup.runner import default_config, run_profile
from rover_stack.common.share_files import package_share_dir

PROFILE = 'sim'
#: Robot variant (config/robot/<name>.yaml) used for each kinematics choice.
ROBOT_FOR_KINEMATICS = {'skid': 'skid4', 'corner': 'corner6'}


def courses_dir() -> Path:
    return package_share_dir() / 'sim' / 'courses'


def list_courses() -> list[str]:
    """Names of the courses under sim/courses (*.yaml), sorted."""
    directory = courses_dir()
    return sorted(p.stem for p in directory.glob('*.yaml')) if directory.is_dir() else []


def used_args(profile: Profile) -> set[str]:
    """Launch arguments that some node of ``profile`` actually uses."""
    used = {'namespace'} if profile.namespaced else set()
    for entry in profile.nodes:
        templates = [entry.namespace, *entry.param_files, *(a for pair in entry.remappings for a in pair)]
        templates += [v for v in entry.parameters.values() if isinstance(v, tuple)]
        for template in templates:
            used.update(arg_refs(template))
        if entry.when is not None:
            used.update(entry.when.args)
    return used


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog='rover_sim', description=__doc__.split('\n\n')[0])
    parser.add_argument('--course', default='', help='course to drive (see --list-courses)')
    parser.add_argument('--mission', default='', help='mission file to run on the course')
    parser.add_argument('--kinematics', choices=sorted(ROBOT_FOR_KINEMATICS), default='skid',
                        help='drive type; picks the robot variant '
                             + ', '.join(f'{k}={v}' for k, v in ROBOT_FOR_KINEMATICS.items()))
    parser.add_argument('--duration', type=float, default=0.0, metavar='S',
                        help='stop after S seconds (0: run until Ctrl-C)')
    parser.add_argument('--list-courses', action='store_true', help='list the courses and exit')
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.duration < 0:
        print('rover_sim: error: --duration must be >= 0', file=sys.stderr)
        return 2
    courses = list_courses()
    if args.list_courses:
        print('\n'.join(courses) if courses else f'no courses yet ({courses_dir()} has no *.yaml)')
        return 0
    if args.course and courses and args.course not in courses:
        print(f'rover_sim: error: unknown course {args.course!r}; courses: {", ".join(courses)}',
              file=sys.stderr)
        return 2
    try:
        profile = load_node_sets(default_config())[PROFILE]
    except (NodeSetError, KeyError) as exc:
        print(f'rover_sim: error: cannot load profile {PROFILE!r}: {exc}', file=sys.stderr)
        return 2
    wanted = {'course': args.course, 'mission': args.mission,
              'robot_config': ROBOT_FOR_KINEMATICS[args.kinematics],
              'autonomy': 'true' if args.mission else 'false'}   # the mission chain needs a mission
    overrides = {k: v for k, v in wanted.items() if k in profile.args}
    nodes = ', '.join(entry.name for entry in profile.nodes) or 'none'
    unused = [name for name in profile.args if name not in used_args(profile)]
    print(f'rover_sim: profile {PROFILE!r} runs nodes: {nodes}'
          + (f'; arguments no node uses yet: {", ".join(unused)}' if unused else ''), flush=True)
    try:
        return run_profile(PROFILE, overrides, duration=args.duration)
    except KeyboardInterrupt:       # Ctrl-C before the runner took over the signal
        return 0


if __name__ == '__main__':
    sys.exit(main())
