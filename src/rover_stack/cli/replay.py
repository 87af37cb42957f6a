"""``rover replay RUN.mcap``: feed a recording's sensor streams to freshly started localization and/or
perception nodes, record what they publish and compare it with the recording.

    rover replay RUN.mcap [--nodes ekf,perception] [--rate R] [--out DIR] [--robot-config NAME]
                          [--course NAME|FILE]

The nodes are the ``sim`` profile's entries (config/node_sets.yaml, same parameter files) started as
processes with use_sim_time; the recording's /clock drives their time (without /clock, one is made
from the log times). Groups: ``ekf`` = ekf_localization (odom, imu/data, gnss/fix; the recorded
datum, else the --course datum, is a parameter), ``perception`` = aruco_detector (camera/image_raw,
camera/camera_info, tf_static) + obstacle_grid (scan, tf, tf_static); node names work too. Recorded
tf keeps only transforms the replayed nodes do not publish. ``--rate`` is sim s per wall s (0: as
fast as possible, which may drop messages). Writes DIR/replay.mcap (the nodes' outputs),
DIR/replay_report.json (RMSE of the replayed and the recorded estimate against the recorded ground
truth, detections per id, message counts) and DIR/logs/NODE.log. Exit 0 when every started node
produced output, 1 if not, 2 for bad arguments or an unusable recording. Run it on a ROS_DOMAIN_ID
no live stack uses.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from rover_stack.cli.replay_targets import GROUPS, TARGETS
from rover_stack.reporting.mcap_io import RecordingError, topics


def selected_nodes(text: str) -> list[str]:
    """Node names from a comma list of groups and node names; ValueError for unknown ones."""
    names: list[str] = []
    for item in filter(None, (part.strip() for part in text.split(','))):
        if item not in GROUPS and item not in TARGETS:
            raise ValueError(f'unknown node or group {item!r}; choose from '
                             f'{", ".join([*GROUPS, *TARGETS])}')
        names += [n for n in GROUPS.get(item, (item,)) if n not in names]
    if not names:
        raise ValueError('--nodes names nothing')
    return names


def check_inputs(nodes: Sequence[str], recorded: dict[str, tuple[str, int]]) -> list[str]:
    """Problems: required inputs the recording lacks (recorded topics are absolute, e.g. '/odom')."""
    have = {topic.lstrip('/') for topic, (_type, count) in recorded.items() if count}
    problems = []
    for name in nodes:
        missing = [t for t in TARGETS[name].required if t not in have]
        if missing:
            problems.append(f'{name} needs {", ".join(missing)}, which the recording lacks (record them with '
                            "'rover sim --record-sensors')")
    return problems


def build_parser(prog: str = 'rover replay') -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split('\n\n')[0].replace('``', ''))
    parser.add_argument('recording', metavar='RUN.mcap', help='recording of rover sim --record-sensors '
                        '(or any ROS 2 MCAP with the inputs)')
    parser.add_argument('--nodes', default='ekf', help='comma list of groups (ekf, perception) or node names '
                        '(default ekf)')
    parser.add_argument('--rate', type=float, default=1.0, help='sim s per wall s; 0 = as fast as possible '
                        '(default 1.0)')
    parser.add_argument('--out', default='', metavar='DIR', help='output directory (default: replay/ next '
                        'to the recording)')
    parser.add_argument('--robot-config', default='skid4', help='robot variant of the recorded rover '
                        '(default skid4)')
    parser.add_argument('--course', default='', metavar='NAME|FILE',
                        help='take the EKF datum from this course when the recording has no datum topic')
    parser.add_argument('--start-timeout', type=float, default=60.0, metavar='S',
                        help='wall s for the nodes to come up (default 60)')
    return parser


def main(argv: Sequence[str] | None = None, prog: str = 'rover replay') -> int:
    args = build_parser(prog).parse_args(argv)
    if not args.rate >= 0.0 or args.rate > 1000.0:
        print(f'{prog}: error: --rate must be in [0, 1000]', file=sys.stderr)
        return 2
    try:
        nodes = selected_nodes(args.nodes)
        recorded = topics(args.recording)
    except (ValueError, RecordingError) as error:
        print(f'{prog}: error: {error}', file=sys.stderr)
        return 2
    problems = check_inputs(nodes, recorded)
    if problems:
        print(f'{prog}: error: ' + '\n  '.join(problems), file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else Path(args.recording).resolve().parent / 'replay'
    out.mkdir(parents=True, exist_ok=True)
    from rover_stack.cli.replay_session import run_replay  # noqa: PLC0415 - rclpy only after argument checks

    return run_replay(args, nodes, recorded, out, prog)


if __name__ == '__main__':
    sys.exit(main())
