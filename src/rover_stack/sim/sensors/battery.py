"""Main battery: charge drained by an idle load plus the wheel motors' electrical power.

Motor current = (mechanical power |tau * omega| + copper loss k * tau^2) / (efficiency * voltage), per
wheel. The open-circuit voltage falls linearly from full to empty with the state of charge; the terminal
voltage also drops by current * internal resistance. Units: V, A, Ah, W, N m, rad/s, s.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rover_stack.common.param_spec import param


@dataclass
class BatteryConfig:
    rate: float = param(1.0, 'battery rate', unit='Hz', low=0.1, high=100.0, read_only=True)
    capacity: float = param(20.0, 'Capacity', unit='Ah', low=0.1, high=1000.0, read_only=True)
    initial_charge: float = param(1.0, 'State of charge at start', low=0.0, high=1.0, read_only=True)
    full_voltage: float = param(25.2, 'Open-circuit voltage when full', unit='V', low=1.0, high=100.0,
                                read_only=True)
    empty_voltage: float = param(21.0, 'Open-circuit voltage when empty', unit='V', low=0.5, high=100.0,
                                 read_only=True)
    internal_resistance: float = param(0.05, 'Internal resistance', unit='ohm', low=0.0, high=10.0,
                                       read_only=True)
    idle_current: float = param(2.0, 'Current of the electronics', unit='A', low=0.0, high=100.0,
                                read_only=True)
    motor_efficiency: float = param(0.7, 'Motor and driver efficiency', low=0.05, high=1.0, read_only=True)
    copper_loss: float = param(0.5, 'Copper loss per wheel per (N m)^2', unit='W/(N m)^2', low=0.0,
                               high=100.0, read_only=True)
    voltage_noise: float = param(0.02, 'Voltage measurement noise (1 sigma)', unit='V', low=0.0, high=5.0,
                                 read_only=True)


@dataclass(frozen=True)
class BatteryReading:
    stamp: float
    voltage: float      # V, terminal
    current: float      # A, positive = charging (sensor_msgs/BatteryState), so negative while driving
    charge: float       # Ah
    capacity: float     # Ah
    percentage: float   # 0..1


class BatteryModel:
    def __init__(self, config: BatteryConfig, rng: np.random.Generator):
        self.config = config
        self.rng = rng
        self.charge = config.capacity * config.initial_charge
        self.current = config.idle_current      # A drawn (positive)

    @property
    def fraction(self) -> float:
        return float(np.clip(self.charge / self.config.capacity, 0.0, 1.0))

    def open_circuit_voltage(self) -> float:
        c = self.config
        return c.empty_voltage + (c.full_voltage - c.empty_voltage) * self.fraction

    def drain(self, dt: float, efforts, velocities) -> None:
        """Integrate ``dt`` s of load with wheel torques ``efforts`` (N m) at ``velocities`` (rad/s)."""
        c = self.config
        efforts = np.asarray(efforts, float)
        power = float(np.sum(np.abs(efforts * np.asarray(velocities, float))) / c.motor_efficiency
                      + c.copper_loss * np.sum(efforts ** 2))
        self.current = c.idle_current + power / max(self.open_circuit_voltage(), 1e-3)
        self.charge = max(self.charge - self.current * dt / 3600.0, 0.0)

    def measure(self, stamp: float) -> BatteryReading:
        c = self.config
        voltage = (self.open_circuit_voltage() - self.current * c.internal_resistance
                   + float(self.rng.normal(0.0, c.voltage_noise)))
        return BatteryReading(stamp=stamp, voltage=max(voltage, 0.0), current=-self.current,
                              charge=self.charge, capacity=c.capacity, percentage=self.fraction)
