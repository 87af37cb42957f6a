"""A seeded synthetic run written as run.mcap (the recorder's layout) with known ground truth, for
tests of ``rover replay`` and ``rover report``: a rover stands still, then drives an arc.

Topics (sim time = the header stamps = /clock; log time = sim time): /clock, odom (wheel odometry,
odom frame), imu/data (gyro + orientation), gnss/fix, sim/ground_truth (map frame), datum,
odometry/filtered (a stand-in estimate: truth + a constant 0.2 m east offset), mission/status (leg
changes), active_source (a teleop takeover), estop_state (one press). Needs rclpy's serializer only.
"""
from __future__ import annotations

import math
from pathlib import Path

from builtin_interfaces.msg import Time
from geometry_msgs.msg import Quaternion
from nav_msgs.msg import Odometry
from rclpy.serialization import serialize_message
from rosgraph_msgs.msg import Clock
from sensor_msgs.msg import Imu, NavSatFix, NavSatStatus
from std_msgs.msg import Bool, String

from rover_interfaces.msg import MissionStatus
from rover_stack.geo.enu import LocalTangentPlane
from rover_stack.localization.synthetic import Scenario, SensorSpec, simulate
from rover_stack.reporting.mcap_io import McapWriter

DATUM = (38.4063, -110.7918, 1380.0)     # deg, deg, m (near the URC site)
STANDSTILL = 1.0          # s
ESTIMATE_OFFSET = 0.2     # m east: the recorded stand-in estimate's error
TYPES = {'/clock': 'rosgraph_msgs/msg/Clock', '/odom': 'nav_msgs/msg/Odometry',
         '/imu/data': 'sensor_msgs/msg/Imu', '/gnss/fix': 'sensor_msgs/msg/NavSatFix',
         '/sim/ground_truth': 'nav_msgs/msg/Odometry', '/odometry/filtered': 'nav_msgs/msg/Odometry',
         '/datum': 'sensor_msgs/msg/NavSatFix', '/mission/status': 'rover_interfaces/msg/MissionStatus',
         '/active_source': 'std_msgs/msg/String', '/estop_state': 'std_msgs/msg/Bool'}
#: (sim s, leg index, leg state); the takeover and the e-stop press/release (sim s)
LEGS = ((0.5, 0, 'navigate'), (4.0, 0, 'arrived'), (4.5, 1, 'navigate'))
TAKEOVER = (6.0, 'teleop')
ESTOP = (7.0, 7.5)


def arc(t: float) -> tuple[float, float]:
    """(v m/s, w rad/s): still for STANDSTILL s, then 1 m/s on a 10 m radius."""
    return (0.0, 0.0) if t < STANDSTILL else (1.0, 0.1)


def _stamp(msg, t: float) -> None:
    msg.header.stamp = _time(t)


def _yaw_quaternion(yaw: float) -> Quaternion:
    return Quaternion(x=0.0, y=0.0, z=math.sin(yaw / 2.0), w=math.cos(yaw / 2.0))


def _odometry(t: float, frame: str, pose: tuple[float, float, float], v: float = 0.0, w: float = 0.0):
    msg = Odometry()
    _stamp(msg, t)
    msg.header.frame_id, msg.child_frame_id = frame, 'base_link'
    msg.pose.pose.position.x, msg.pose.pose.position.y = pose[0], pose[1]
    msg.pose.pose.orientation = _yaw_quaternion(pose[2])
    msg.twist.twist.linear.x, msg.twist.twist.angular.z = v, w
    return msg


def write_synthetic_run(path: str | Path, duration: float = 10.0, seed: int = 1) -> Scenario:
    """Write the run to ``path``; returns the scenario (truth: x, y, yaw in the map frame)."""
    spec = SensorSpec(gnss_rate=5.0, gnss_sigma=0.5)
    scenario = simulate(arc, duration, seed, spec=spec, start_yaw=0.3)
    plane = LocalTangentPlane(*DATUM)
    out: list[tuple[float, str, object]] = []
    for i in range(round(duration * 100) + 1):
        t = i * 0.01
        out.append((t, '/clock', Clock(clock=_time(t))))
    for i in range(0, len(scenario.times), 4):          # 50 Hz truth and stand-in estimate
        t, (x, y, yaw) = scenario.times[i], scenario.truth[i]
        out.append((t, '/sim/ground_truth', _odometry(t, 'map', (x, y, yaw))))
        out.append((t, '/odometry/filtered', _odometry(t, 'map', (x + ESTIMATE_OFFSET, y, yaw))))
    odom_pose = [0.0, 0.0, 0.0]
    last_odom = 0.0
    for event in scenario.events:
        t = float(event.t)
        if event.kind == 'odom':
            v, w = event.values
            dt, last_odom = t - last_odom, t
            odom_pose[2] += w * dt
            odom_pose[0] += v * math.cos(odom_pose[2]) * dt
            odom_pose[1] += v * math.sin(odom_pose[2]) * dt
            msg = _odometry(t, 'odom', tuple(odom_pose), v, w)
            msg.twist.covariance[0], msg.twist.covariance[35] = spec.odom_speed_sigma ** 2, 0.02
            out.append((t, '/odom', msg))
        elif event.kind == 'imu':
            msg = Imu()
            _stamp(msg, t)
            msg.header.frame_id = 'imu_link'
            msg.angular_velocity.z = float(event.values[0])
            msg.angular_velocity_covariance[0] = msg.angular_velocity_covariance[4] = spec.gyro_sigma ** 2
            msg.angular_velocity_covariance[8] = spec.gyro_sigma ** 2
            msg.orientation = _yaw_quaternion(float(scenario.truth_at(t)[2]))
            msg.orientation_covariance[0] = msg.orientation_covariance[4] = 1e-4
            msg.orientation_covariance[8] = 1e-3
            out.append((t, '/imu/data', msg))
        else:
            lat, lon, alt = plane.to_geodetic(*event.values, 0.6)
            msg = NavSatFix(latitude=float(lat), longitude=float(lon), altitude=float(alt))
            _stamp(msg, t)
            msg.header.frame_id = 'gnss_link'
            msg.status.status, msg.status.service = NavSatStatus.STATUS_FIX, NavSatStatus.SERVICE_GPS
            msg.position_covariance[0] = msg.position_covariance[4] = spec.gnss_sigma ** 2
            msg.position_covariance[8] = 4 * spec.gnss_sigma ** 2
            msg.position_covariance_type = NavSatFix.COVARIANCE_TYPE_DIAGONAL_KNOWN
            out.append((t, '/gnss/fix', msg))
    datum = NavSatFix(latitude=DATUM[0], longitude=DATUM[1], altitude=DATUM[2])
    datum.header.frame_id = 'map'
    out.append((0.0, '/datum', datum))
    for t, index, state in LEGS:
        status = MissionStatus(mission_name='synthetic', state=MissionStatus.RUNNING, leg_index=index,
                               leg_count=2, leg_kind='gnss', leg_state=state, distance_to_target=math.nan)
        _stamp(status, t)
        out.append((t, '/mission/status', status))
    out.append((0.0, '/active_source', String(data='autonomy')))
    out.append((TAKEOVER[0], '/active_source', String(data=TAKEOVER[1])))
    out.append((0.0, '/estop_state', Bool(data=False)))
    out.append((ESTOP[0], '/estop_state', Bool(data=True)))
    out.append((ESTOP[1], '/estop_state', Bool(data=False)))
    out.sort(key=lambda item: item[0])
    writer = McapWriter(path, library='rover_stack.testing.synthetic_recording')
    try:
        for topic, type_name in TYPES.items():
            writer.channel(topic, type_name)
        for t, topic, msg in out:
            writer.add(topic, serialize_message(msg), round(t * 1e9))
    finally:
        writer.close()
    return scenario


def _time(t: float) -> Time:
    ns = round(t * 1e9)
    return Time(sec=ns // 1_000_000_000, nanosec=ns % 1_000_000_000)
