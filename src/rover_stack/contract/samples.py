"""A conforming example message for each contract topic, for tests and as a reference for backends.

Pure Python (message classes only, no rclpy). ``sample_message(contract.topic('imu/data'), geometry,
stamp_s=12.5)`` returns a message that passes every check of that topic.
"""
from __future__ import annotations

import math

from rover_stack.contract.model import TopicContract, message_class

IMAGE_SIZE = (64, 48)            # px, small so tests stay light
SCAN_POINTS = 181                # over -90..+90 deg
GRAVITY = 9.80665                # m/s^2


def _stamp(header, stamp_s: float, frame_id: str | None) -> None:
    header.stamp.sec = int(stamp_s)
    header.stamp.nanosec = round((stamp_s - int(stamp_s)) * 1e9) % 1_000_000_000
    header.frame_id = frame_id or ''


def _joint_state(msg, geometry, groups) -> None:
    names = []
    if 'wheel' in groups:
        names += geometry.wheel_joints
    if 'steering' in groups:
        names += geometry.steering_joints
    msg.name = names
    msg.position = [0.1 * i for i in range(len(names))]
    msg.velocity = [0.5] * len(names)


def _fill(type_name: str, topic: str, msg, geometry) -> None:
    if topic == 'wheel_commands':
        _joint_state(msg, geometry, ('wheel',))
        msg.position = []
    elif topic == 'steering_commands':
        _joint_state(msg, geometry, ('steering',))
        msg.velocity = []
    elif type_name == 'sensor_msgs/msg/JointState':
        _joint_state(msg, geometry, ('wheel', 'steering'))
    elif type_name == 'sensor_msgs/msg/Imu':
        msg.orientation.w = 1.0
        msg.linear_acceleration.z = GRAVITY
        msg.angular_velocity.z = 0.1
        for covariance in (msg.orientation_covariance, msg.angular_velocity_covariance,
                           msg.linear_acceleration_covariance):
            covariance[0] = covariance[4] = covariance[8] = 1e-3
    elif type_name == 'sensor_msgs/msg/NavSatFix':
        msg.status.status = 0       # STATUS_FIX
        msg.status.service = 1      # SERVICE_GPS
        msg.latitude, msg.longitude, msg.altitude = 38.4063, -110.7918, 1370.0   # MDRS, Utah
        msg.position_covariance[0] = msg.position_covariance[4] = 4.0
        msg.position_covariance[8] = 9.0
        msg.position_covariance_type = 2    # COVARIANCE_TYPE_DIAGONAL_KNOWN
    elif type_name == 'sensor_msgs/msg/Image':
        width, height = IMAGE_SIZE
        msg.width, msg.height, msg.encoding, msg.step = width, height, 'rgb8', 3 * width
        msg.data = bytes(msg.step * height)
    elif type_name == 'sensor_msgs/msg/CameraInfo':
        width, height = IMAGE_SIZE
        msg.width, msg.height = width, height
        focal = 50.0
        msg.distortion_model = 'plumb_bob'
        msg.d = [0.0] * 5
        msg.k = [focal, 0.0, width / 2, 0.0, focal, height / 2, 0.0, 0.0, 1.0]
        msg.r = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 1.0]
        msg.p = [focal, 0.0, width / 2, 0.0, 0.0, focal, height / 2, 0.0, 0.0, 0.0, 1.0, 0.0]
    elif type_name == 'sensor_msgs/msg/LaserScan':
        msg.angle_min, msg.angle_max = -math.pi / 2, math.pi / 2
        msg.angle_increment = math.pi / (SCAN_POINTS - 1)
        msg.range_min, msg.range_max = 0.1, 20.0
        msg.scan_time = 0.1
        msg.ranges = [5.0] * (SCAN_POINTS - 1) + [math.inf]
    elif type_name == 'sensor_msgs/msg/BatteryState':
        msg.voltage, msg.current, msg.percentage = 24.5, -3.0, 0.8
        msg.power_supply_status = 2     # DISCHARGING
        msg.present = True
    elif type_name == 'rover_interfaces/msg/StatusLight':
        msg.color, msg.flashing, msg.flash_period, msg.reason = 1, False, 0.0, 'autonomous'
    elif type_name == 'std_msgs/msg/Bool':
        msg.data = False


def sample_message(topic: TopicContract, geometry, stamp_s: float = 1.0):
    """A message on ``topic`` that passes its checks, for a rover of ``geometry``; stamped ``stamp_s``."""
    msg = message_class(topic.type)()
    if topic.frame_id is not None:
        _stamp(msg.header, stamp_s, topic.frame_id)
    _fill(topic.type, topic.name, msg, geometry)
    return msg
