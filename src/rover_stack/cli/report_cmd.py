"""``rover report RUN``: render a recorded run from its MCAP file (no ROS needed).

    rover report RUN_DIR|RUN.mcap [--out DIR] [--estimate TOPIC]

RUN_DIR is a ``rover sim`` output directory (its run.mcap is read; a report.json there is summarised
too). Writes to DIR (default: the run directory): run_trajectory.png (ground truth and estimate, map
frame, events marked), run_error.png (horizontal error of the estimate over time, events as lines) and
run_report.md (numbers, events: leg changes, takeovers, e-stops; detections per id; topics). Exit 0,
2 for a missing or unreadable recording.
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path

from rover_stack.reporting.mcap_io import RecordingError, decoded, topics
from rover_stack.reporting.report import path_length, rmse
from rover_stack.reporting.run_analysis import ESTIMATE_TOPIC, RunData, analyse, error_series


def build_parser(prog: str = 'rover report') -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.split('\n\n')[0].replace('``', ''))
    parser.add_argument('run', metavar='RUN_DIR|RUN.mcap',
                        help='a rover sim output directory or an MCAP file')
    parser.add_argument('--out', default='', metavar='DIR',
                        help='output directory (default: the run directory)')
    parser.add_argument('--estimate', default=ESTIMATE_TOPIC, metavar='TOPIC',
                        help=f'Odometry topic of the estimate (default {ESTIMATE_TOPIC})')
    return parser


def _fmt(value: float, unit: str = 'm') -> str:
    return f'{value:.3f} {unit}' if value is not None and math.isfinite(value) else '-'


def markdown(run: RunData, recording: Path, recorded: dict, *, sim_report: dict | None, images: list[str],
             estimate_topic: str) -> str:
    errors = error_series(run.estimate, run.truth)
    duration = (run.truth.t[-1] - run.truth.t[0]) if len(run.truth) > 1 else math.nan
    lines = [f'# Run report: {recording.parent.name}/{recording.name}', '',
             '| quantity | value |', '|---|---|',
             f'| ground-truth samples | {len(run.truth)} |',
             f'| estimate samples ({estimate_topic}) | {len(run.estimate)} |',
             f'| duration (truth) | {_fmt(duration, "s")} |',
             f'| path length (truth) | {_fmt(path_length(run.truth))} |',
             f'| localization RMSE | {_fmt(rmse(run.estimate, run.truth))} |',
             f'| largest error | {_fmt(float(errors[:, 1].max()) if len(errors) else math.nan)} |',
             f'| final error | {_fmt(float(errors[-1, 1]) if len(errors) else math.nan)} |']
    if sim_report:
        lines.append(f'| rover sim verdict | {"success" if sim_report.get("success") else "FAILED"} '
                     f'{sim_report.get("message", "")} |')
    lines += ['', *[f'![{name}]({name})' for name in images], '', f'## Events ({len(run.events)})', '']
    lines += [f'- {e.t:9.2f} s  **{e.kind}**  {e.text}' for e in run.events] or ['- none recorded']
    lines += ['', '## Confirmed detections', '']
    lines += [f'- {label}: {count}' for label, count in sorted(run.detections.items())] or ['- none']
    lines += ['', '## Topics', '', '| topic | type | messages |', '|---|---|---|']
    lines += [f'| {topic} | {type_name} | {count} |'
              for topic, (type_name, count) in sorted(recorded.items())]
    return '\n'.join(lines) + '\n'


def main(argv: Sequence[str] | None = None, prog: str = 'rover report') -> int:
    args = build_parser(prog).parse_args(argv)
    run_path = Path(args.run)
    recording = run_path / 'run.mcap' if run_path.is_dir() else run_path
    try:
        recorded = topics(recording)
        run = analyse(decoded(recording), estimate_topic=args.estimate)
    except RecordingError as error:
        print(f'{prog}: error: {error}', file=sys.stderr)
        return 2
    out = Path(args.out) if args.out else recording.parent
    out.mkdir(parents=True, exist_ok=True)
    sim_report = None
    try:
        sim_report = json.loads((recording.parent / 'report.json').read_text(encoding='utf-8'))
    except (OSError, ValueError):
        pass
    from rover_stack.reporting.plot import plot_error, plot_tracks  # noqa: PLC0415 - matplotlib: slow, after argument checks

    title = f'{recording.parent.name}/{recording.name}'
    plot_tracks(out / 'run_trajectory.png', truth=run.truth, estimate=run.estimate, events=run.events,
                title=title)
    plot_error(out / 'run_error.png', error_series(run.estimate, run.truth), run.events,
               title=f'{title}: position error of {args.estimate}')
    images = ['run_trajectory.png', 'run_error.png']
    (out / 'run_report.md').write_text(markdown(run, recording, recorded, sim_report=sim_report,
                                                                images=images, estimate_topic=args.estimate),
                                       encoding='utf-8')
    print(f'{prog}: {len(run.truth)} truth / {len(run.estimate)} estimate samples, localization RMSE '
          f'{_fmt(rmse(run.estimate, run.truth))}, {len(run.events)} events; wrote {out}/run_report.md, '
          + ', '.join(images))
    return 0


if __name__ == '__main__':
    sys.exit(main())
