"""Rolling local occupancy grid from planar range scans (pure numpy/OpenCV, no ROS).

The grid is square, ``size`` m on a side, cells of ``resolution`` m, axis-aligned in a world frame
(normally odom) and kept centred on the rover by ``recentre``: it moves by whole cells, so cells keep
their place in the world and what scrolls out is forgotten. Arrays are indexed [row, column] =
[y, x], row 0 at the grid origin (the world position of the corner of cell (0, 0)), exactly the
row-major order of nav_msgs/OccupancyGrid.data.

Each cell holds log-odds evidence: a ray's end adds ``hit``, every cell the ray passes through
(Bresenham line, end excluded) adds ``miss``, clamped. A return farther than ``max_mark_range``
only clears the ray up to it (Nav2's ``obstacle_max_range``): a low planar scanner on rolling ground
sees the ground rise a few metres ahead as a wall that recedes as the rover climbs. Output values
(OccupancyGrid convention):
-1 unknown (never observed), 0 free, ``INFLATED`` within ``inflation_radius`` of an obstacle,
``OCCUPIED`` for an obstacle cell.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

UNKNOWN, FREE, INFLATED, OCCUPIED = -1, 0, 99, 100


@dataclass(frozen=True)
class GridConfig:
    size: float = 20.0               # m, side of the square grid
    resolution: float = 0.1          # m per cell
    inflation_radius: float = 0.4    # m, rover radius (obstacles grown by this much)
    max_clear_range: float = 10.0    # m, rays with no return clear free space this far
    max_mark_range: float = math.inf  # m, farther returns only clear their ray (Nav2: obstacle_max_range)
    hit: float = 0.85                # log-odds added at a return
    miss: float = -0.4               # log-odds added along a ray
    clamp_low: float = -2.0
    clamp_high: float = 3.5
    occupied_threshold: float = 0.5  # log-odds above which a cell is an obstacle

    def __post_init__(self):
        if not (self.resolution > 0 and self.size >= 2 * self.resolution):
            raise ValueError(f'need resolution > 0 and size >= 2 cells, got {self.size} m / '
                             f'{self.resolution} m')
        if self.inflation_radius < 0 or self.max_clear_range < 0:
            raise ValueError('inflation_radius and max_clear_range must be >= 0')
        if not self.max_mark_range > 0:
            raise ValueError(f'max_mark_range must be > 0, got {self.max_mark_range}')
        if not (self.hit > 0 > self.miss and self.clamp_low < self.occupied_threshold < self.clamp_high):
            raise ValueError('need hit > 0 > miss and clamp_low < occupied_threshold < clamp_high')

    @property
    def cells(self) -> int:
        return round(self.size / self.resolution)


def bresenham(x0: int, y0: int, x1: int, y1: int) -> tuple[np.ndarray, np.ndarray]:
    """Integer cells of the line from (x0, y0) to (x1, y1), both ends included, 8-connected: one
    cell per step along the major axis, the minor coordinate rounded (halves away from the start)."""
    dx, dy = x1 - x0, y1 - y0
    n = max(abs(dx), abs(dy))
    if n == 0:
        return np.array([x0]), np.array([y0])
    i = np.arange(n + 1)
    # floor((2*i*|d| + n) / (2n)) == round-half-up of i*|d|/n, exact in integers
    xs = x0 + np.sign(dx) * ((2 * i * abs(dx) + n) // (2 * n))
    ys = y0 + np.sign(dy) * ((2 * i * abs(dy) + n) // (2 * n))
    return xs, ys


def bresenham_many(x0: int, y0: int, x1: np.ndarray, y1: np.ndarray,
                   include_end: np.ndarray | bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Cells of the lines from one start to many ends, concatenated: the same cells as ``bresenham``
    for each, vectorised. ``include_end`` (per line or for all) drops the last cell where False."""
    x1, y1 = np.asarray(x1, dtype=np.int64), np.asarray(y1, dtype=np.int64)
    if x1.size == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    dx, dy = x1 - x0, y1 - y0
    n = np.maximum(np.abs(dx), np.abs(dy))
    i = np.arange(int(n.max()) + 1)[None, :]
    last = n[:, None] if np.all(include_end) else (n - ~np.broadcast_to(include_end, n.shape))[:, None]
    keep = i <= last
    safe = np.maximum(n, 1)[:, None]
    xs = x0 + np.sign(dx)[:, None] * ((2 * i * np.abs(dx)[:, None] + safe) // (2 * safe))
    ys = y0 + np.sign(dy)[:, None] * ((2 * i * np.abs(dy)[:, None] + safe) // (2 * safe))
    return xs[keep], ys[keep]


def disk_kernel(radius_cells: float) -> np.ndarray | None:
    """uint8 kernel of the cells whose centre is within ``radius_cells`` of the middle one; None if empty."""
    r = math.floor(radius_cells + 1e-9)
    if r < 1:
        return None
    offsets = np.arange(-r, r + 1)
    return (offsets[:, None] ** 2 + offsets[None, :] ** 2 <= radius_cells ** 2 + 1e-9).astype(np.uint8)


class RollingGrid:
    """See the module docstring. Not thread-safe: one owner steps it."""

    def __init__(self, config: GridConfig = GridConfig(), centre: tuple[float, float] = (0.0, 0.0)):
        self.config = config
        n = config.cells
        self.log_odds = np.zeros((n, n), dtype=np.float32)
        self.observed = np.zeros((n, n), dtype=bool)
        self._origin_cell = self._origin_for(*centre)   # world cell index of grid cell (0, 0), (ix, iy)
        self._kernel = disk_kernel(config.inflation_radius / config.resolution)

    # ------------------------------------------------------------ geometry

    def _origin_for(self, x: float, y: float) -> tuple[int, int]:
        half = self.config.cells // 2
        res = self.config.resolution
        return math.floor(x / res) - half, math.floor(y / res) - half

    @property
    def origin(self) -> tuple[float, float]:
        """World (x, y) in m of the outer corner of cell (0, 0)."""
        res = self.config.resolution
        return self._origin_cell[0] * res, self._origin_cell[1] * res

    def cell_of(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """(column, row) grid indices of world points (may fall outside the grid)."""
        res = self.config.resolution
        ix = np.floor(np.asarray(x, dtype=float) / res).astype(np.int64) - self._origin_cell[0]
        iy = np.floor(np.asarray(y, dtype=float) / res).astype(np.int64) - self._origin_cell[1]
        return ix, iy

    def inside(self, ix, iy) -> np.ndarray:
        n = self.config.cells
        return (ix >= 0) & (ix < n) & (iy >= 0) & (iy < n)

    def recentre(self, x: float, y: float) -> tuple[int, int]:
        """Scroll so (x, y) is at the centre; returns the shift in cells (columns, rows)."""
        new = self._origin_for(x, y)
        sx, sy = new[0] - self._origin_cell[0], new[1] - self._origin_cell[1]
        if sx or sy:
            self.log_odds = _shifted(self.log_odds, sx, sy, 0.0)
            self.observed = _shifted(self.observed, sx, sy, False)
            self._origin_cell = new
        return sx, sy

    # ------------------------------------------------------------ updates

    def integrate_scan(self, sensor_x: float, sensor_y: float, sensor_yaw: float, angles: np.ndarray,  # noqa: PLR0917
                       ranges: np.ndarray, range_min: float, range_max: float) -> int:
        """Add one scan taken at world pose (x, y, yaw) of the sensor. ``angles`` rad CCW in the sensor
        frame, ``ranges`` m: finite values in [range_min, range_max] are returns; +inf means nothing
        within range_max (free space only); NaN, -inf and out-of-range values are ignored (REP-117).
        Returns the number of returns marked."""
        angles = np.asarray(angles, dtype=float)
        ranges = np.asarray(ranges, dtype=float)
        if angles.shape != ranges.shape:
            raise ValueError(f'{angles.shape[0]} angles for {ranges.shape[0]} ranges')
        clear_to = min(range_max, self.config.max_clear_range)
        is_return = np.isfinite(ranges) & (ranges >= range_min) & (ranges <= range_max)
        is_hit = is_return & (ranges <= self.config.max_mark_range)
        is_far = is_return & ~is_hit          # clears up to the return (not its cell), marks nothing
        is_free = np.isposinf(ranges) & (clear_to > 0)
        use = is_hit | is_free | is_far
        length = np.where(is_free, clear_to, np.where(is_far, np.minimum(ranges, clear_to), ranges))[use]
        clear_end = (is_free | (is_far & (ranges > clear_to)))[use]   # the ray's last cell is free too
        world_angle = sensor_yaw + angles[use]
        ex, ey = sensor_x + length * np.cos(world_angle), sensor_y + length * np.sin(world_angle)
        (sx,), (sy,) = self.cell_of([sensor_x], [sensor_y])
        end_x, end_y = self.cell_of(ex, ey)
        hit_flags = is_hit[use]
        n = self.config.cells
        fx, fy = bresenham_many(int(sx), int(sy), end_x, end_y, include_end=clear_end)
        if fx.size == 0:
            return 0
        free = np.zeros(n * n, dtype=bool)
        keep = self.inside(fx, fy)
        free[fy[keep] * n + fx[keep]] = True
        hits = np.zeros(n * n, dtype=bool)
        hx, hy = end_x[hit_flags], end_y[hit_flags]
        keep = self.inside(hx, hy)
        hits[hy[keep] * n + hx[keep]] = True
        free &= ~hits
        free, hits = free.reshape(n, n), hits.reshape(n, n)
        self.log_odds[free] = np.maximum(self.log_odds[free] + self.config.miss, self.config.clamp_low)
        self.log_odds[hits] = np.minimum(self.log_odds[hits] + self.config.hit, self.config.clamp_high)
        self.observed |= free | hits
        return int(hits.sum())

    def clear(self) -> None:
        self.log_odds[:] = 0.0
        self.observed[:] = False

    # ------------------------------------------------------------ output

    def occupied(self) -> np.ndarray:
        return self.observed & (self.log_odds > self.config.occupied_threshold)

    def values(self) -> np.ndarray:
        """int8 cells: UNKNOWN, FREE, INFLATED or OCCUPIED (see module docstring)."""
        occupied = self.occupied()
        out = np.where(self.observed, FREE, UNKNOWN).astype(np.int8)
        if self._kernel is not None and occupied.any():
            grown = cv2.dilate(occupied.astype(np.uint8), self._kernel).astype(bool)
            out[grown] = INFLATED
        out[occupied] = OCCUPIED
        return out


def _shifted(array: np.ndarray, sx: int, sy: int, fill) -> np.ndarray:
    """new[r, c] = old[r + sy, c + sx], ``fill`` where that falls outside."""
    out = np.full_like(array, fill)
    rows, cols = array.shape
    if abs(sx) >= cols or abs(sy) >= rows:
        return out
    src_r = slice(max(sy, 0), rows + min(sy, 0))
    dst_r = slice(max(-sy, 0), rows + min(-sy, 0))
    src_c = slice(max(sx, 0), cols + min(sx, 0))
    dst_c = slice(max(-sx, 0), cols + min(-sx, 0))
    out[dst_r, dst_c] = array[src_r, src_c]
    return out
