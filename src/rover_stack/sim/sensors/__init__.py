"""Sensor models of the simulator: pure functions of the true state plus seeded noise (no rclpy, no MuJoCo
state of their own). Each model takes its config dataclass (declared as ROS parameters by the sim node,
defaults in config/simulator.yaml) and a numpy Generator, so a seed reproduces every sample."""
from rover_stack.sim.sensors.battery import BatteryConfig, BatteryModel, BatteryReading
from rover_stack.sim.sensors.camera import CameraConfig, CameraModel, ImageReading
from rover_stack.sim.sensors.encoders import EncoderConfig, JointReading, WheelEncoders
from rover_stack.sim.sensors.gnss import GnssConfig, GnssModel, GnssReading
from rover_stack.sim.sensors.imu import ImuConfig, ImuModel, ImuReading
from rover_stack.sim.sensors.lidar import RangeConfig, RangeSensor, ScanReading

__all__ = [
    'BatteryConfig', 'BatteryModel', 'BatteryReading', 'CameraConfig', 'CameraModel', 'EncoderConfig',
    'GnssConfig', 'GnssModel', 'GnssReading', 'ImageReading', 'ImuConfig', 'ImuModel', 'ImuReading',
    'JointReading', 'RangeConfig', 'RangeSensor', 'ScanReading', 'WheelEncoders',
]
