"""Global path planner on a ``Costmap``: 8-connected minimum-cost search in compiled code
(skimage.graph.MCP_Geometric, Dijkstra), then line-of-sight shortcutting.

A step between neighbouring cells costs its length (m) times ``1 + cost_weight * cost`` (mean of the two
cells), so paths keep away from obstacles when the detour is cheap. Lethal cells are impassable. Grids
above ``max_search_cells`` are searched on a max-pooled coarser copy first (conservative: a coarse path
is valid on the fine grid) and on the full grid only when that fails. A goal off the grid is replaced by
the free cell nearest to where the straight line start -> goal leaves the grid (``Plan.clipped``); the
caller replans as the rolling grid moves. A goal in a lethal cell (a standoff point next to a post, with the
post smeared by localization noise) is replaced by the reachable free cell nearest to it within
``goal_relocation_radius`` (``Plan.relocated``), as Nav2's planners do with their ``tolerance``.
A start in a lethal cell (the rover inside an obstacle's inflation, e.g. at its standoff from a post
seen a little closer than before) is left through the nearest free cell within ``start_escape_radius``:
the path begins start -> that cell (``Plan.escaped``), instead of no path and a spot turn next to it.
All coordinates are metres in the costmap frame.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from skimage.graph import MCP_Geometric

from rover_stack.navigation.costmap import LETHAL, Costmap

START_OFF_GRID = 'start_off_grid'
START_IN_LETHAL = 'start_in_lethal'
GOAL_IN_LETHAL = 'goal_in_lethal'
DISCONNECTED = 'disconnected'


class NoPathError(RuntimeError):
    """No path exists; ``reason`` is one of the module's reason constants."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class PlannerConfig:
    cost_weight: float = 10.0           # step cost = length * (1 + cost_weight * cost)
    max_search_cells: int = 160_000     # larger grids are searched coarse first
    boundary_margin: float = 0.3        # m, a clipped goal lies at least this far inside the grid edge
    boundary_search_radius: float = 3.0  # m, free cells this close to the exit point may replace it
    shortcut: bool = True
    shortcut_cost_slack: float = 0.05   # a shortcut may raise the highest cost of what it replaces this much
    goal_relocation_radius: float = 0.0  # m, a lethal goal may move this far to a free cell (0: never)
    start_escape_radius: float = 0.0    # m, a lethal start is left through a free cell this close (0: never)

    def __post_init__(self):
        if not (math.isfinite(self.cost_weight) and self.cost_weight >= 0.0):
            raise ValueError(f'cost_weight must be >= 0, got {self.cost_weight}')
        if self.max_search_cells < 100:
            raise ValueError(f'max_search_cells must be >= 100, got {self.max_search_cells}')
        for name in ('goal_relocation_radius', 'start_escape_radius'):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f'{name} must be >= 0, got {value}')


@dataclass
class Plan:
    points: np.ndarray          # N x 2 waypoints (m), first = start, last = target
    target: tuple[float, float]  # the point planned to: the goal, or its stand-in on the grid edge
    clipped: bool               # True when the goal is off the grid and ``target`` stands in for it
    coarse_factor: int          # cells pooled per side in the search that found the path (1 = full grid)
    relocated: bool = False     # True when the goal was lethal and ``target`` is a free cell near it
    escaped: bool = False       # True when the start was lethal and points[1] is the free cell left through

    @property
    def length(self) -> float:
        return float(np.sum(np.hypot(*np.diff(self.points, axis=0).T))) if len(self.points) > 1 else 0.0


def plan_path(costmap: Costmap, start: tuple[float, float], goal: tuple[float, float],
              config: PlannerConfig = PlannerConfig()) -> Plan:
    """Plan from ``start`` to ``goal`` (m); NoPathError with a reason when impossible."""
    start = (float(start[0]), float(start[1]))
    goal = (float(goal[0]), float(goal[1]))
    if not costmap.contains(*start):
        raise NoPathError(START_OFF_GRID, f'start {_fmt(start)} is off the costmap {_fmt_bounds(costmap)}')
    origin = start
    if float(costmap.cost_at(*start)) >= LETHAL:
        exits = (_free_cells_near(costmap, start, config.start_escape_radius)
                 if config.start_escape_radius > 0.0 else np.empty((0, 2)))
        if len(exits) == 0:
            raise NoPathError(START_IN_LETHAL, f'start {_fmt(start)} is in or too close to an obstacle')
        origin = (float(exits[0][0]), float(exits[0][1]))
    clipped = not costmap.contains(*goal)
    if clipped:
        exit_point = boundary_exit(costmap, origin, goal, config.boundary_margin)
        candidates = _free_cells_near(costmap, exit_point, config.boundary_search_radius)
        if len(candidates) == 0:
            raise NoPathError(DISCONNECTED, f'no free cell near {_fmt(exit_point)} where the line to the '
                                            f'off-grid goal {_fmt(goal)} leaves the costmap')
    elif float(costmap.cost_at(*goal)) >= LETHAL:
        candidates = (_free_cells_near(costmap, goal, config.goal_relocation_radius)
                      if config.goal_relocation_radius > 0.0 else np.empty((0, 2)))
        if len(candidates) == 0:
            raise NoPathError(GOAL_IN_LETHAL, f'goal {_fmt(goal)} is in or too close to an obstacle')
        exit_point = goal
    else:
        candidates = np.array([goal])
        exit_point = goal

    factor = max(1, math.ceil(math.sqrt(costmap.cost.size / config.max_search_cells)))
    factors = (factor, 1) if factor > 1 else (1,)
    for f in factors:
        found = _search(costmap, f, origin, candidates=candidates, aim=exit_point,
                        cost_weight=config.cost_weight)
        if found is not None:
            points, target = found
            break
    else:
        raise NoPathError(DISCONNECTED, f'no obstacle-free path from {_fmt(origin)} to {_fmt(exit_point)}')
    points[0] = origin
    points[-1] = target
    if config.shortcut:
        points = shortcut(costmap, points, config.shortcut_cost_slack)
    escaped = origin != start
    if escaped:                  # the way out of the lethal cells is not shortcut
        points = np.vstack([start, points])
    relocated = not clipped and (float(target[0]), float(target[1])) != goal
    return Plan(points, (float(target[0]), float(target[1])), clipped, f, relocated, escaped)


def boundary_exit(costmap: Costmap, start, goal, margin: float) -> tuple[float, float]:
    """Where the segment start -> goal leaves the grid shrunk by ``margin`` (m); start must be inside."""
    xmin, ymin, xmax, ymax = costmap.bounds
    margin = min(margin, 0.25 * (xmax - xmin), 0.25 * (ymax - ymin))
    lo = np.array([xmin + margin, ymin + margin])
    hi = np.array([xmax - margin, ymax - margin])
    s = np.clip(np.asarray(start, dtype=float), lo, hi)
    d = np.asarray(goal, dtype=float) - s
    t_exit = 1.0
    for axis in range(2):
        if d[axis] > 0:
            t_exit = min(t_exit, (hi[axis] - s[axis]) / d[axis])
        elif d[axis] < 0:
            t_exit = min(t_exit, (lo[axis] - s[axis]) / d[axis])
    point = np.clip(s + max(t_exit, 0.0) * d, lo, hi)
    return float(point[0]), float(point[1])


def _free_cells_near(costmap: Costmap, point, radius: float) -> np.ndarray:
    """World centres (K x 2) of non-lethal cells within ``radius`` of ``point``, nearest first."""
    r = math.ceil(radius / costmap.resolution)
    row0, col0 = costmap.world_to_cell(*point)
    rows, cols = np.mgrid[row0 - r:row0 + r + 1, col0 - r:col0 + r + 1]
    rows, cols = rows.ravel(), cols.ravel()
    ok = costmap.inside(rows, cols)
    rows, cols = rows[ok], cols[ok]
    ok = costmap.cost[rows, cols] < LETHAL
    x, y = costmap.cell_to_world(rows[ok], cols[ok])
    distance = np.hypot(x - point[0], y - point[1])
    keep = distance <= radius
    order = np.argsort(distance[keep], kind='stable')
    return np.column_stack([x[keep], y[keep]])[order]


def _pooled(cost: np.ndarray, factor: int) -> np.ndarray:
    """Max of each ``factor`` x ``factor`` block (edges padded with their own values)."""
    if factor == 1:
        return cost
    rows, cols = cost.shape
    padded = np.pad(cost, ((0, (-rows) % factor), (0, (-cols) % factor)), mode='edge')
    r, c = padded.shape
    return padded.reshape(r // factor, factor, c // factor, factor).max(axis=(1, 3))


def _search(costmap: Costmap, factor: int, start, *, candidates: np.ndarray, aim, cost_weight: float):
    """Minimum-cost path on the grid pooled by ``factor`` to the reachable candidate nearest ``aim``;
    (points N x 2 in m, target) or None."""
    cost = _pooled(costmap.cost, factor)
    weights = 1.0 + cost_weight * cost
    weights[cost >= LETHAL] = np.inf
    size = costmap.resolution * factor
    x0, y0 = costmap.origin

    def cell(p):
        return int((p[1] - y0) // size), int((p[0] - x0) // size)

    start_cell = cell(start)
    if not np.isfinite(weights[start_cell]):
        return None
    ends, targets = [], []
    for p in candidates:
        c = cell(p)
        if np.isfinite(weights[c]):
            ends.append(c)
            targets.append(p)
    if not ends:
        return None
    mcp = MCP_Geometric(weights, fully_connected=True)
    cumulative, _ = mcp.find_costs([start_cell], ends, find_all_ends=True)
    reached = [i for i, c in enumerate(ends) if np.isfinite(cumulative[c])]
    if not reached:
        return None
    best = min(reached, key=lambda i: math.hypot(targets[i][0] - aim[0], targets[i][1] - aim[1]))
    cells = np.asarray(mcp.traceback(ends[best]), dtype=float)
    points = np.column_stack([x0 + (cells[:, 1] + 0.5) * size, y0 + (cells[:, 0] + 0.5) * size])
    if len(points) == 1:
        points = np.vstack([points, points])
    return points, tuple(targets[best])


def shortcut(costmap: Costmap, points: np.ndarray, slack: float) -> np.ndarray:
    """Drop waypoints where a straight segment is no costlier than the part it replaces (+ ``slack``)."""
    if len(points) <= 2:
        return points
    vertex_cost = costmap.cost_at(points[:, 0], points[:, 1])
    last = len(points) - 1

    def straight_ok(i: int, j: int) -> bool:
        allowed = min(float(np.max(vertex_cost[i:j + 1])) + slack, LETHAL - 1e-9)
        return costmap.max_cost_along(points[[i, j]]) <= allowed

    kept = [0]
    i = 0
    while i < last:
        if straight_ok(i, last):
            j = last
        else:
            lo, hi = i + 1, last   # straight_ok(i, i + 1) holds for neighbouring cells
            while hi - lo > 1:
                mid = (lo + hi) // 2
                if straight_ok(i, mid):
                    lo = mid
                else:
                    hi = mid
            j = lo
        kept.append(j)
        i = j
    return points[kept]


def path_blocked(costmap: Costmap, points: np.ndarray) -> bool:
    """True if the polyline (m) crosses a lethal cell (a trigger to replan); off-grid parts are ignored."""
    if len(points) == 0:
        return False
    return costmap.max_cost_along(points, outside=0.0) >= LETHAL


def _fmt(p) -> str:
    return f'({p[0]:.2f}, {p[1]:.2f})'


def _fmt_bounds(costmap: Costmap) -> str:
    xmin, ymin, xmax, ymax = costmap.bounds
    return f'x {xmin:.1f}..{xmax:.1f}, y {ymin:.1f}..{ymax:.1f} m'
