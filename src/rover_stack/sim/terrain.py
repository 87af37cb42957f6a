"""Procedural terrain: a heightfield of smooth hills plus multi-octave roughness.

The heightfield covers [-size_x/2, size_x/2] x [-size_y/2, size_y/2] of the map frame (x east,
y north, m), centred on the map origin. ``heights[row, col]`` is the height (m, >= 0) of the node at
x = -size_x/2 + col * size_x/(nx-1), y = -size_y/2 + row * size_y/(ny-1): row = y, column = x,
the layout of a MuJoCo hfield (first row at -y). Generation is deterministic for the spec's seed.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter

# Roughness octaves: Gaussian-filtered white noise with these correlation lengths (m), each octave
# half the amplitude of the previous one; the sum is scaled to the requested rms.
ROUGHNESS_WAVELENGTHS = (8.0, 4.0, 2.0, 1.0)


@dataclass(frozen=True)
class Hill:
    """A smooth Gaussian bump: centre (x, y) in m (map frame), radius in m (= 2 sigma), height in m."""
    x: float
    y: float
    radius: float
    height: float


@dataclass(frozen=True)
class TerrainSpec:
    """Size (m) and sampling of the terrain; ``resolution`` = samples per side (nx = ny)."""
    size_x: float
    size_y: float
    resolution: int = 128
    max_height: float = 1.0   # m, heights are clipped to [0, max_height] (MuJoCo hfield elevation)
    roughness: float = 0.0    # m, rms of the fine noise
    seed: int = 0
    hills: tuple[Hill, ...] = ()

    @property
    def half_x(self) -> float:
        return self.size_x / 2.0

    @property
    def half_y(self) -> float:
        return self.size_y / 2.0

    def contains(self, x: float, y: float, margin: float = 0.0) -> bool:
        """True when (x, y) lies inside the terrain with at least ``margin`` m to every edge."""
        return abs(x) <= self.half_x - margin and abs(y) <= self.half_y - margin


def _roughness(spec: TerrainSpec, shape: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    if spec.roughness <= 0.0:
        return np.zeros(shape)
    cell = min(spec.size_x / (shape[1] - 1), spec.size_y / (shape[0] - 1))
    total = np.zeros(shape)
    for octave, wavelength in enumerate(ROUGHNESS_WAVELENGTHS):
        noise = gaussian_filter(rng.standard_normal(shape), sigma=max(wavelength / cell, 0.5), mode='wrap')
        noise /= max(float(np.std(noise)), 1e-12)
        total += noise * 0.5 ** octave
    total -= total.mean()
    return total * (spec.roughness / max(float(np.std(total)), 1e-12))


class Heightfield:
    """Sampled terrain heights (m) with bilinear lookup in map coordinates."""

    def __init__(self, heights: np.ndarray, size_x: float, size_y: float, max_height: float):
        heights = np.asarray(heights, dtype=float)
        if heights.ndim != 2 or min(heights.shape) < 2:
            raise ValueError(f'heights must be a 2-D array of at least 2x2, got shape {heights.shape}')
        self.heights = heights
        self.size_x, self.size_y, self.max_height = float(size_x), float(size_y), float(max_height)
        self.ny, self.nx = heights.shape
        self.dx = self.size_x / (self.nx - 1)
        self.dy = self.size_y / (self.ny - 1)

    @classmethod
    def from_spec(cls, spec: TerrainSpec) -> Heightfield:
        n = int(spec.resolution)
        x = np.linspace(-spec.size_x / 2, spec.size_x / 2, n)
        y = np.linspace(-spec.size_y / 2, spec.size_y / 2, n)
        gx, gy = np.meshgrid(x, y)  # shape [ny, nx], row = y
        rng = np.random.default_rng(spec.seed)
        heights = _roughness(spec, gx.shape, rng)
        for hill in spec.hills:
            sigma = hill.radius / 2.0
            heights += hill.height * np.exp(-((gx - hill.x) ** 2 + (gy - hill.y) ** 2) / (2 * sigma ** 2))
        heights -= heights.min()
        return cls(np.clip(heights, 0.0, spec.max_height), spec.size_x, spec.size_y, spec.max_height)

    def x_of(self, col) -> np.ndarray:
        return -self.size_x / 2 + np.asarray(col) * self.dx

    def y_of(self, row) -> np.ndarray:
        return -self.size_y / 2 + np.asarray(row) * self.dy

    def _cell(self, x, y):
        """Cell indices and fractions; points outside are clamped to the edge."""
        u = np.clip((np.asarray(x, float) + self.size_x / 2) / self.dx, 0.0, self.nx - 1)
        v = np.clip((np.asarray(y, float) + self.size_y / 2) / self.dy, 0.0, self.ny - 1)
        col = np.minimum(np.floor(u).astype(int), self.nx - 2)
        row = np.minimum(np.floor(v).astype(int), self.ny - 2)
        return row, col, v - row, u - col

    def height_at(self, x, y):
        """Bilinear height (m) at map position(s) (x, y); outside the terrain, the nearest edge."""
        row, col, fy, fx = self._cell(x, y)
        h = self.heights
        value = ((1 - fx) * (1 - fy) * h[row, col] + fx * (1 - fy) * h[row, col + 1]
                 + (1 - fx) * fy * h[row + 1, col] + fx * fy * h[row + 1, col + 1])
        return float(value) if np.ndim(value) == 0 else value

    def gradient_at(self, x: float, y: float) -> tuple[float, float]:
        """(dh/dx, dh/dy) of the bilinear surface at (x, y), dimensionless."""
        row, col, fy, fx = self._cell(x, y)
        h = self.heights
        dhdx = ((1 - fy) * (h[row, col + 1] - h[row, col])
                + fy * (h[row + 1, col + 1] - h[row + 1, col])) / self.dx
        dhdy = ((1 - fx) * (h[row + 1, col] - h[row, col])
                + fx * (h[row + 1, col + 1] - h[row, col + 1])) / self.dy
        return float(dhdx), float(dhdy)

    def normal_at(self, x: float, y: float) -> np.ndarray:
        """Unit surface normal (map frame, z up) at (x, y)."""
        gx, gy = self.gradient_at(x, y)
        normal = np.array([-gx, -gy, 1.0])
        return normal / np.linalg.norm(normal)

    def slope_at(self, x: float, y: float) -> float:
        """Surface inclination (rad) at (x, y)."""
        return math.atan(math.hypot(*self.gradient_at(x, y)))

    def max_slope(self) -> float:
        """Steepest inclination (rad) between neighbouring nodes, along x or y."""
        sx = np.abs(np.diff(self.heights, axis=1)).max() / self.dx
        sy = np.abs(np.diff(self.heights, axis=0)).max() / self.dy
        return math.atan(max(float(sx), float(sy)))
