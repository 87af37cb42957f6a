"""Planner and follower timing on a large grid: a 75 m path across a 0.1 m grid of 800 x 800 cells
(80 m square) with seeded random obstacles (discs of 0.2..1.0 m, about 4 % of the area), costmap
inflation included separately. Target: planning <= 250 ms.

Reported (median and max over ``--repeats`` runs, wall time of this process):
* costmap: occupancy values -> inflated costs (distance transform);
* plan (auto): ``plan_path`` as the navigator runs it (grids above max_search_cells are searched 2x
  coarser first, then shortcut on the full grid);
* plan (full): the same with the full-resolution search forced;
* follower step: one regulated pure pursuit step on the resulting path.

Usage (in the dev env):  python bench/planner_rate.py [--repeats 5] [--seed 1] [--json]
(``--json``: print one JSON line with the figures of ``measure`` instead of the lines below.)
"""
from __future__ import annotations

import argparse
import json
import statistics
import time

import numpy as np

from rover_stack.navigation.costmap import Costmap, CostmapConfig
from rover_stack.navigation.follower import PurePursuit
from rover_stack.navigation.planner import PlannerConfig, plan_path

CELLS = 800
RESOLUTION = 0.1
START = (2.5, 40.0)
GOAL = (77.5, 40.0)      # 75 m away


def random_field(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    occupancy = np.zeros((CELLS, CELLS), dtype=np.int8)
    rows, cols = np.mgrid[0:CELLS, 0:CELLS]
    for _ in range(250):
        r = rng.uniform(0.2, 1.0) / RESOLUTION
        cy, cx = rng.uniform(0, CELLS, 2)
        box = (slice(max(0, int(cy - r)), int(cy + r) + 1), slice(max(0, int(cx - r)), int(cx + r) + 1))
        disc = (rows[box] - cy) ** 2 + (cols[box] - cx) ** 2 <= r * r
        occupancy[box][disc] = 100
    for x, y in (START, GOAL):   # keep the ends clear
        r0, c0 = int(y / RESOLUTION), int(x / RESOLUTION)
        occupancy[max(0, r0 - 15):r0 + 15, max(0, c0 - 15):c0 + 15] = 0
    return occupancy


def timed(function, repeats: int):
    times, value = [], None
    for _ in range(repeats):
        t0 = time.perf_counter()
        value = function()
        times.append(time.perf_counter() - t0)
    return value, times


def stats(times: list[float], unit: float = 1e3) -> dict[str, float]:
    return {'median': statistics.median(times) * unit, 'max': max(times) * unit}


def report(name: str, figures: dict[str, float], suffix: str = 'ms') -> None:
    print(f'{name:<18} median {figures["median"]:8.2f} {suffix}   max {figures["max"]:8.2f} {suffix}')


def measure(repeats: int = 5, seed: int = 1) -> dict:
    """costmap, plan_auto, plan_full: median/max in ms; follower_step: median/max in us; plus the
    obstacle share of the grid and the plans' coarse factor, waypoints and length (m)."""
    occupancy = random_field(seed)
    out: dict = {'obstacle_share': float(np.mean(occupancy == 100))}
    costmap, times = timed(lambda: Costmap.from_occupancy(occupancy.ravel(), (CELLS, CELLS), RESOLUTION,
                                                          (0.0, 0.0), config=CostmapConfig()), repeats)
    out['costmap'] = stats(times)
    plan, times = timed(lambda: plan_path(costmap, START, GOAL), repeats)
    out['plan_auto'] = {**stats(times), 'coarse_factor': plan.coarse_factor, 'waypoints': len(plan.points),
                        'length_m': float(plan.length)}
    full = PlannerConfig(max_search_cells=CELLS * CELLS)
    plan_full, times = timed(lambda: plan_path(costmap, START, GOAL, full), repeats)
    out['plan_full'] = {**stats(times), 'waypoints': len(plan_full.points),
                        'length_m': float(plan_full.length)}
    follower = PurePursuit()
    follower.set_path(plan.points)
    rng = np.random.default_rng(seed)
    samples = plan.points[rng.integers(0, len(plan.points), 2000)] + rng.normal(0, 0.2, (2000, 2))
    times = []
    for x, y in samples:
        follower.progress_index = 0
        t0 = time.perf_counter()
        follower.step(float(x), float(y), 0.3, 0.8, cost_at=lambda px, py: float(costmap.cost_at(px, py)))
        times.append(time.perf_counter() - t0)
    out['follower_step'] = stats(times, 1e6)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=5)
    parser.add_argument('--seed', type=int, default=1)
    parser.add_argument('--json', action='store_true', help='print the figures as one JSON line')
    args = parser.parse_args()
    figures = measure(args.repeats, args.seed)
    if args.json:
        print(json.dumps(figures))
        return
    print(f'grid {CELLS} x {CELLS} cells at {RESOLUTION} m, obstacles {figures["obstacle_share"]:.1%} of '
          f'cells, start {START} -> goal {GOAL}')
    report('costmap', figures['costmap'])
    auto, full = figures['plan_auto'], figures['plan_full']
    report('plan (auto)', auto)
    print(f'{"":<18} coarse factor {auto["coarse_factor"]}, {auto["waypoints"]} waypoints, '
          f'length {auto["length_m"]:.1f} m')
    report('plan (full)', full)
    print(f'{"":<18} {full["waypoints"]} waypoints, length {full["length_m"]:.1f} m')
    report('follower step', figures['follower_step'], 'us')


if __name__ == '__main__':
    main()
