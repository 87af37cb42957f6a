"""A tileable regolith texture for the simulated ground (pure numpy/OpenCV, seeded).

Sand with brightness varying at three scales (dunes of shade, patches, grain) and scattered pebbles,
lighter and darker than the sand. Real Mars-yard ground is this busy: an untextured ground makes
camera frames unrealistically easy for the detectors (measured: OpenCV's ArUco detector took 2.2 ms
on a 640x480 frame of the former near-uniform checker ground, 9 ms on real frames per the perception
issue). The texture wraps at its edges, so it tiles without seams.
"""
from __future__ import annotations

import cv2
import numpy as np

SAND_RGB = (158.0, 117.0, 84.0)                             # 0..255
SHADE_OCTAVES = ((24.0, 0.10), (6.0, 0.06), (1.2, 0.05))    # (blur sigma px, relative amplitude)
PEBBLE_TONES = (0.55, 0.7, 1.25)                            # pebble brightness relative to the sand


def _periodic_noise(rng: np.random.Generator, size: int, sigma: float) -> np.ndarray:
    """Unit-variance Gaussian noise low-passed with a Gaussian of ``sigma`` px, periodic over ``size``."""
    freq = np.fft.fftfreq(size)
    gain = np.exp(-2.0 * (np.pi * sigma) ** 2 * (freq[:, None] ** 2 + freq[None, :] ** 2))
    noise = np.real(np.fft.ifft2(np.fft.fft2(rng.normal(0.0, 1.0, (size, size))) * gain))
    return noise / noise.std()


def regolith_texture(size: int = 512, pebbles: int = 900, seed: int = 0) -> np.ndarray:
    """``size`` x ``size`` x 3 uint8 RGB texture, C-contiguous; the same for the same arguments."""
    if size < 16:
        raise ValueError(f'texture size must be at least 16 px, got {size}')
    rng = np.random.default_rng(seed)
    sand = np.asarray(SAND_RGB)
    shade = sum(amp * _periodic_noise(rng, size, sigma) for sigma, amp in SHADE_OCTAVES)
    image = sand[None, None, :] * (1.0 + shade[:, :, None])
    for _ in range(pebbles):
        x, y = (int(v) for v in rng.integers(0, size, 2))
        radius = int(rng.integers(1, 5))
        colour = tuple(float(v) for v in sand * rng.choice(PEBBLE_TONES) * rng.uniform(0.9, 1.1))
        for dx in (-size, 0, size):          # drawn at the wrapped positions too: no seam
            for dy in (-size, 0, size):
                cv2.circle(image, (x + dx, y + dy), radius, colour, -1, cv2.LINE_AA)
    return np.ascontiguousarray(np.clip(image, 0.0, 255.0).astype(np.uint8))
