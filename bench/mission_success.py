"""Mission success rate and mean time over seeds on each course, through the main job (`rover sim`).

    python bench/mission_success.py [--seeds N] [--courses a,b] [--out DIR] [--timeout S] [--jobs J] [--json]
                                    [--devices {direct,emulated}]

Runs `rover sim --course C --seed S` as a separate process for every course and seed (as fast as
the simulator allows), reads each run's report.json and prints one table row per course: runs,
successes, success rate, mean sim and wall time of the successful runs, mean localization RMSE,
collisions. A full sweep (10 seeds x every course) takes hours on the 2-core machine. ``--jobs J`` runs
J seeds of a course at once, each on a DDS domain of its own, claimed as the tests claim theirs; the
simulator's pacing holds its clock while the stack lags, so runs sharing the cores stay valid, only
slower in wall time. ``--json``: the per-run lines, then one JSON line with the rows of ``measure``
instead of the table. ``--devices emulated``: each run goes through the rover profile's real drivers on
the simulator's emulated devices, at real time (docs/device_emulation.md): a urc_sprint run takes ~4 min
of wall time, so run it with ``--jobs 1`` on a quiet machine.
"""
from __future__ import annotations

import argparse
import json
import os
import queue
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from rover_stack.common.domains import claim_domain_id
from rover_stack.sim.course import list_courses


def run_one(course: str, seed: int, out: Path, timeout: float, domain: int | None = None, *,
            devices: str = 'direct') -> dict:
    argv = [sys.executable, '-m', 'rover_stack.cli.rover', 'sim', '--course', course, '--seed', str(seed),
            '--out', str(out), '--no-web', '--devices', devices]
    argv += ['--timeout', str(timeout)] if timeout else []
    env = os.environ | ({'ROS_DOMAIN_ID': str(domain)} if domain is not None else {})
    process = subprocess.run(argv, capture_output=True, text=True, check=False, env=env)
    try:
        report = json.loads((out / 'report.json').read_text())
    except (OSError, ValueError):
        report = {'success': False, 'message': process.stderr[-300:]}
    report['exit_code'] = process.returncode
    return report


def run_and_print(course: str, seed: int, out: Path, timeout: float, domains: queue.Queue, *,
                  devices: str = 'direct') -> dict:
    domain = domains.get()
    try:
        run_dir = out / f'{course}_{devices}_seed{seed}'
        report = run_one(course, seed, run_dir, timeout, domain, devices=devices)
    finally:
        domains.put(domain)
    print(f'{course} seed {seed}: {"ok" if report.get("success") else "FAILED"} '
          f'({report.get("sim_time_s")} s sim, {report.get("wall_time_s")} s wall)', flush=True)
    return report


def mean(values) -> float | None:
    values = [v for v in values if v is not None]
    return statistics.fmean(values) if values else None


def measure(courses: list[str], seeds: int, out: Path, timeout: float = 0.0, jobs: int = 1, *,
            devices: str = 'direct') -> list[dict]:
    """One row per course: runs, successes, rate (0..1), mean sim and wall time of the successful runs
    (s), mean localization RMSE (m), collisions; means are None when nothing to average. ``jobs`` > 1
    runs that many seeds at once, each on a DDS domain claimed for this sweep."""
    claims = [claim_domain_id() for _ in range(jobs)] if jobs > 1 else []   # locks held until we exit
    domains: queue.Queue = queue.Queue()     # a domain is free again when its run has ended
    for domain in [domain for domain, _lock in claims] or [None]:   # None: the environment's domain
        domains.put(domain)
    rows = []
    for course in courses:
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            runs = [pool.submit(run_and_print, course, seed, out, timeout, domains, devices=devices)
                    for seed in range(seeds)]
            reports = [run.result() for run in runs]
        good = [r for r in reports if r.get('success')]
        rows.append({'course': course, 'devices': devices, 'runs': len(reports), 'successes': len(good),
                     'rate': len(good) / len(reports) if reports else 0.0,
                     'mean_sim_time_s': mean(r.get('sim_time_s') for r in good),
                     'mean_wall_time_s': mean(r.get('wall_time_s') for r in good),
                     'mean_rmse_m': mean(r.get('localization_rmse_m') for r in reports),
                     'collisions': sum(r.get('collisions', 0) for r in reports)})
    return rows


def text(value: float | None) -> str:
    return '-' if value is None else f'{value:.1f}'


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--seeds', type=int, default=10, help='seeds 0..N-1 per course (default 10)')
    parser.add_argument('--courses', default=','.join(list_courses()), help='comma-separated course names')
    parser.add_argument('--out', default='runs/bench_mission', help='directory for the runs')
    parser.add_argument('--timeout', type=float, default=0.0,
                        help='wall-clock limit per run in s (0: the rover sim default)')
    parser.add_argument('--jobs', type=int, default=1, choices=range(1, 9), metavar='1..8',
                        help='seeds run at once, each on its own ROS domain (default 1)')
    parser.add_argument('--json', action='store_true', help='print the rows as one JSON line')
    parser.add_argument('--devices', choices=('direct', 'emulated'), default='direct',
                        help="direct: the sim profile; emulated: the rover profile's real drivers on "
                             'emulated devices, at real time')
    args = parser.parse_args(argv)
    rows = measure([c for c in args.courses.split(',') if c], args.seeds, Path(args.out), args.timeout,
                   args.jobs, devices=args.devices)
    if args.json:
        print(json.dumps({'courses': rows}))
        return 0
    print('\n| course | devices | runs | successes | rate | mean sim time (s) | mean wall time (s) '
          '| mean loc. RMSE (m) | collisions |')
    print('|---|---|---|---|---|---|---|---|---|')
    for r in rows:
        print(f'| {r["course"]} | {r["devices"]} | {r["runs"]} | {r["successes"]} | {r["rate"]:.0%} '
              f'| {text(r["mean_sim_time_s"])} | {text(r["mean_wall_time_s"])} | {text(r["mean_rmse_m"])} '
              f'| {r["collisions"]} |')
    return 0


if __name__ == '__main__':
    sys.exit(main())
