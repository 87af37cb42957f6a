"""A planning costmap built from occupancy data (nav_msgs/OccupancyGrid values), in pure numpy.

Cells hold a cost in [0, 1]: ``LETHAL`` (1.0) where the rover's centre must not go (an obstacle, or
closer than ``robot_radius`` to one), an exponential gradient from ``INSCRIBED`` (0.99) down to 0 over
``inflation_radius``, and at least ``unknown_cost`` where the grid knows nothing. Arrays are indexed
``[row, col] = [iy, ix]`` like OccupancyGrid data; the grid is axis-aligned in its frame, cell (0, 0)
has its lower-left corner at ``origin`` (m).
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import distance_transform_edt

LETHAL = 1.0
INSCRIBED = 0.99
UNKNOWN_VALUE = -1


@dataclass(frozen=True)
class CostmapConfig:
    robot_radius: float = 0.45         # m, centre closer than this to an obstacle -> lethal
    inflation_radius: float = 1.2      # m, cost falls to zero at this distance from an obstacle
    cost_decay: float = 3.0            # 1/m, exponential decay of the inflation cost
    unknown_cost: float = 0.2          # cost of unknown cells, 0..1 (1 = lethal: never enter unknown)
    occupied_threshold: int = 100      # occupancy values >= this are obstacles (obstacle_grid: 100)

    def __post_init__(self):
        for name in ('robot_radius', 'inflation_radius', 'cost_decay', 'unknown_cost'):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0.0):
                raise ValueError(f'{name} must be finite and >= 0, got {value}')
        if self.unknown_cost > 1.0:
            raise ValueError(f'unknown_cost must be <= 1, got {self.unknown_cost}')
        if not 1 <= self.occupied_threshold <= 100:
            raise ValueError(f'occupied_threshold must be within 1..100, got {self.occupied_threshold}')


def inflation_cost(distance: np.ndarray, config: CostmapConfig) -> np.ndarray:
    """Cost of cells at ``distance`` (m) from the nearest obstacle."""
    distance = np.asarray(distance, dtype=float)
    cost = INSCRIBED * np.exp(-config.cost_decay * np.maximum(distance - config.robot_radius, 0.0))
    cost = np.where(distance >= config.inflation_radius, 0.0, cost)
    return np.where(distance <= config.robot_radius + 1e-9, LETHAL, cost)


class Costmap:
    """Costs of one grid snapshot plus the world <-> cell conversions."""

    def __init__(self, cost: np.ndarray, resolution: float, origin: tuple[float, float], frame_id: str = ''):
        if cost.ndim != 2 or cost.size == 0:
            raise ValueError(f'cost must be a non-empty 2-D array, got shape {cost.shape}')
        if not (math.isfinite(resolution) and resolution > 0.0):
            raise ValueError(f'resolution must be > 0, got {resolution}')
        if not all(math.isfinite(v) for v in origin):
            raise ValueError(f'origin must be finite, got {origin}')
        self.cost = cost
        self.resolution = float(resolution)
        self.origin = (float(origin[0]), float(origin[1]))
        self.frame_id = frame_id

    @classmethod
    def from_occupancy(cls, data, size: tuple[int, int], resolution: float, origin: tuple[float, float], *,
                       config: CostmapConfig = CostmapConfig(), frame_id: str = '') -> Costmap:
        """Build from row-major occupancy values (-1 unknown, 0..100 occupancy probability) of a grid
        ``size`` = (width, height) cells (OccupancyGrid info.width, info.height). ValueError when the data
        size disagrees with ``size`` or a value is outside -1..100."""
        width, height = size
        values = np.asarray(data, dtype=np.int16)
        if width <= 0 or height <= 0 or values.size != width * height:
            raise ValueError(f'grid data has {values.size} cells, expected {width} x {height}')
        if values.min() < -1 or values.max() > 100:
            raise ValueError(f'occupancy values {values.min()}..{values.max()} outside -1..100')
        values = values.reshape(height, width)
        obstacle = values >= config.occupied_threshold
        if obstacle.any():
            distance = distance_transform_edt(~obstacle) * resolution
            cost = inflation_cost(distance, config)
        else:
            cost = np.zeros(values.shape)
        unknown = values < 0
        cost[unknown] = np.maximum(cost[unknown], config.unknown_cost)
        return cls(cost, resolution, origin, frame_id)

    @property
    def shape(self) -> tuple[int, int]:
        """(rows, cols) = (height, width) in cells."""
        return self.cost.shape

    @property
    def bounds(self) -> tuple[float, float, float, float]:
        """(xmin, ymin, xmax, ymax) in m."""
        rows, cols = self.cost.shape
        x0, y0 = self.origin
        return x0, y0, x0 + cols * self.resolution, y0 + rows * self.resolution

    def world_to_cell(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """(row, col) integer indices of world points (m); may lie outside the grid."""
        col = np.floor((np.asarray(x, dtype=float) - self.origin[0]) / self.resolution).astype(int)
        row = np.floor((np.asarray(y, dtype=float) - self.origin[1]) / self.resolution).astype(int)
        return row, col

    def cell_to_world(self, row, col) -> tuple[np.ndarray, np.ndarray]:
        """World coordinates (m) of cell centres."""
        x = self.origin[0] + (np.asarray(col, dtype=float) + 0.5) * self.resolution
        y = self.origin[1] + (np.asarray(row, dtype=float) + 0.5) * self.resolution
        return x, y

    def inside(self, row, col) -> np.ndarray:
        rows, cols = self.cost.shape
        row, col = np.asarray(row), np.asarray(col)
        return (row >= 0) & (row < rows) & (col >= 0) & (col < cols)

    def contains(self, x: float, y: float) -> bool:
        """True if the world point (m) lies on the grid."""
        return bool(self.inside(*self.world_to_cell(x, y)))

    def cost_at(self, x, y, outside: float = 0.0) -> np.ndarray:
        """Cost at world points (m); ``outside`` for points off the grid."""
        row, col = self.world_to_cell(x, y)
        ok = self.inside(row, col)
        result = np.full(np.shape(row), outside, dtype=float)
        result[ok] = self.cost[row[ok], col[ok]]
        return result

    def max_cost_along(self, points: np.ndarray, outside: float = 0.0) -> float:
        """Highest cost on the polyline through ``points`` (N x 2, m), sampled every half cell."""
        samples = densify(np.asarray(points, dtype=float), self.resolution * 0.5)
        if len(samples) == 0:
            return 0.0
        return float(np.max(self.cost_at(samples[:, 0], samples[:, 1], outside)))


def densify(points: np.ndarray, step: float) -> np.ndarray:
    """Points along the polyline ``points`` (N x 2) no farther than ``step`` apart, ends included."""
    if len(points) < 2:
        return points.reshape(-1, 2)
    pieces = []
    for a, b in itertools.pairwise(points):
        count = max(1, math.ceil(float(np.hypot(*(b - a))) / step))
        t = np.arange(count)[:, None] / count
        pieces.append(a + t * (b - a))
    pieces.append(points[-1:])
    return np.vstack(pieces)
