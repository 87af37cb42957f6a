"""Wheel encoders and steering sensors: joint positions and velocities as a motor controller reports them.

Wheel positions are the true joint angles quantised to the encoder resolution (accumulated, unwrapped);
velocities carry white noise. Both come from the wheel joints, so wheel slip shows as a difference
between the encoder odometry and the ground truth. Angles in rad, velocities in rad/s, efforts in N m.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from rover_stack.common.param_spec import param


@dataclass
class EncoderConfig:
    rate: float = param(50.0, 'joint_states rate', unit='Hz', low=1.0, high=1000.0, read_only=True)
    ticks_per_rev: int = param(4096, 'Wheel encoder counts per wheel revolution', low=16, high=1000000,
                               read_only=True)
    velocity_noise: float = param(0.02, 'White noise on wheel velocities (1 sigma)', unit='rad/s', low=0.0,
                                  high=10.0, read_only=True)
    steering_noise: float = param(0.002, 'White noise on steering angles (1 sigma)', unit='rad', low=0.0,
                                  high=1.0, read_only=True)


@dataclass(frozen=True)
class JointReading:
    """One joint_states sample: names, positions (rad), velocities (rad/s), efforts (N m), stamp (s)."""
    stamp: float
    names: tuple[str, ...]
    positions: tuple[float, ...]
    velocities: tuple[float, ...]
    efforts: tuple[float, ...]


class WheelEncoders:
    """Quantised wheel angles, noisy wheel velocities, noisy steering angles."""

    def __init__(self, config: EncoderConfig, rng: np.random.Generator):
        self.config = config
        self.rng = rng
        self._tick = 2.0 * math.pi / config.ticks_per_rev

    def measure(self, stamp: float, wheel_names, wheel_positions, wheel_velocities, wheel_efforts, *,
                steering_names=(), steering_positions=(), steering_velocities=(),
                steering_efforts=()) -> JointReading:
        c = self.config
        wheel_positions = np.floor(np.asarray(wheel_positions, float) / self._tick) * self._tick
        wheel_velocities = np.asarray(wheel_velocities, float) + self.rng.normal(0.0, c.velocity_noise,
                                                                                 len(wheel_names))
        steering_positions = np.asarray(steering_positions, float) + self.rng.normal(
            0.0, c.steering_noise, len(steering_names))
        return JointReading(
            stamp=stamp, names=tuple(wheel_names) + tuple(steering_names),
            positions=tuple(float(x) for x in (*wheel_positions, *steering_positions)),
            velocities=tuple(float(x) for x in (*wheel_velocities, *steering_velocities)),
            efforts=tuple(float(x) for x in (*wheel_efforts, *steering_efforts)))
