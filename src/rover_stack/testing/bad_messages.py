"""Invalid ROS messages by message type, for the bad-input tests (tests/node/test_bad_inputs.py).

``bad_cases(msg_type, now_ns)`` returns ``[(label, message), ...]``: NaN, inf and huge numbers,
wrong and empty frame ids, stamps from the far future and the far past, array sizes that disagree
(JointState name/velocity, Image data vs height * step, OccupancyGrid data vs width * height), and
calibrations that cannot be inverted (CameraInfo K of zeros). No rclpy import: messages only.
"""
from __future__ import annotations

import math
from collections.abc import Callable

from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped, TransformStamped, Twist, TwistStamped
from nav_msgs.msg import OccupancyGrid, Odometry, Path
from sensor_msgs.msg import BatteryState, CameraInfo, Image, Imu, JointState, LaserScan, NavSatFix
from std_msgs.msg import Bool, String

from rover_interfaces.msg import (
    GateDetection,
    MarkerDetection,
    MarkerDetectionArray,
    MissionStatus,
    StatusLight,
)
from tf2_msgs.msg import TFMessage

NAN, INF, HUGE = math.nan, math.inf, 1.0e300
BAD_FLOATS = (('nan', NAN), ('inf', INF), ('-inf', -INF), ('huge', HUGE))
FUTURE_S = 365 * 24 * 3600        # a year ahead of now
WRONG_FRAME = 'no_such_frame'
WHEEL = 'wheel_front_left_joint'

Case = tuple[str, object]


def _stamp(ns: int) -> Time:
    ns = max(0, min(ns, (2**31 - 1) * 10**9))
    return Time(sec=ns // 10**9, nanosec=ns % 10**9)


def _header_cases(make: Callable[[], object], now_ns: int, unset: bool = True) -> list[Case]:
    """Stamp and frame variants of a valid ``make()`` message that has a ``header``; ``unset``: also
    a zero stamp and an empty frame id."""
    cases = []
    variants = [('future_stamp', now_ns + FUTURE_S * 10**9, None), ('far_past_stamp', 10**9, None),
                ('wrong_frame', now_ns, WRONG_FRAME)]
    if unset:
        variants += [('zero_stamp', 0, None), ('empty_frame', now_ns, '')]
    for label, stamp, frame in variants:
        msg = make()
        msg.header.stamp = _stamp(stamp)
        if frame is not None:
            msg.header.frame_id = frame
        cases.append((label, msg))
    return cases


def _float_cases(make: Callable[[], object], set_value: Callable[[object, float], None],
                 prefix: str) -> list[Case]:
    cases = []
    for label, value in BAD_FLOATS:
        msg = make()
        set_value(msg, value)
        cases.append((f'{prefix}_{label}', msg))
    return cases


def _twist(msg: Twist, value: float, field: str) -> None:
    setattr(msg.linear if field == 'linear' else msg.angular, 'x' if field == 'linear' else 'z', value)


def twist_cases(now_ns: int) -> list[Case]:
    cases = _float_cases(Twist, lambda m, v: _twist(m, v, 'linear'), 'linear')
    cases += _float_cases(Twist, lambda m, v: _twist(m, v, 'angular'), 'angular')
    cases += _float_cases(Twist, lambda m, v: setattr(m.linear, 'y', v), 'linear_y')
    return cases


def twist_stamped_cases(now_ns: int) -> list[Case]:
    def make():
        msg = TwistStamped()
        msg.header.stamp, msg.header.frame_id = _stamp(now_ns), 'base_link'
        return msg
    cases = [(label, _stamped_twist(make, twist)) for label, twist in twist_cases(now_ns)]
    moving = Twist()
    moving.linear.x = 0.3
    # A moving twist with a broken header must not move the rover. A zero stamp and an empty frame mean
    # "unstamped" and "base frame" for commands (docs/drive.md), so those variants are left out.
    return cases + _header_cases(lambda: _stamped_twist(make, moving), now_ns, unset=False)


def _stamped_twist(make, twist: Twist) -> TwistStamped:
    msg = make()
    msg.twist = twist
    return msg


def joint_state_cases(now_ns: int) -> list[Case]:
    def make(**fields):
        msg = JointState(**fields)
        msg.header.stamp = _stamp(now_ns)
        return msg
    cases = [
        ('velocity_longer_than_name', make(name=[WHEEL], velocity=[0.1, 0.2, 0.3])),
        ('name_longer_than_velocity', make(name=[WHEEL, 'wheel_rear_left_joint'], velocity=[0.1])),
        ('position_length_mismatch', make(name=[WHEEL], position=[0.0, 1.0])),
        ('effort_length_mismatch', make(name=[WHEEL], velocity=[0.0], effort=[1.0, 2.0])),
        ('unknown_joint', make(name=['no_such_joint'], velocity=[1.0])),
        ('duplicate_names', make(name=[WHEEL, WHEEL], velocity=[1.0, -1.0])),
        ('empty', make()),
    ]
    cases += _float_cases(lambda: make(name=[WHEEL], velocity=[0.0]),
                          lambda m, v: setattr(m, 'velocity', [v]), 'velocity')
    cases += _float_cases(lambda: make(name=[WHEEL], position=[0.0]),
                          lambda m, v: setattr(m, 'position', [v]), 'position')
    return cases + _header_cases(lambda: make(name=[WHEEL], velocity=[0.0]), now_ns)


def odometry_cases(now_ns: int) -> list[Case]:
    def make():
        msg = Odometry()
        msg.header.stamp, msg.header.frame_id, msg.child_frame_id = _stamp(now_ns), 'odom', 'base_link'
        msg.pose.pose.orientation.w = 1.0
        return msg
    cases = _float_cases(make, lambda m, v: setattr(m.pose.pose.position, 'x', v), 'position')
    cases += _float_cases(make, lambda m, v: setattr(m.pose.pose.orientation, 'z', v), 'orientation')
    cases += _float_cases(make, lambda m, v: setattr(m.twist.twist.linear, 'x', v), 'speed')
    cases += _float_cases(make, lambda m, v: setattr(m.twist.twist.angular, 'z', v), 'yaw_rate')
    zero_q = make()
    zero_q.pose.pose.orientation.w = 0.0
    negative_cov = make()
    negative_cov.twist.covariance[0] = -1.0
    nan_cov = make()
    nan_cov.pose.covariance = [NAN] * 36
    nan_cov.twist.covariance = [NAN] * 36
    wrong_child = make()
    wrong_child.child_frame_id = WRONG_FRAME
    cases += [('zero_quaternion', zero_q), ('negative_covariance', negative_cov), ('nan_covariance', nan_cov),
              ('wrong_child_frame', wrong_child)]
    return cases + _header_cases(make, now_ns)


def imu_cases(now_ns: int) -> list[Case]:
    def make():
        msg = Imu()
        msg.header.stamp, msg.header.frame_id = _stamp(now_ns), 'imu_link'
        msg.orientation.w = 1.0
        msg.linear_acceleration.z = 9.81
        return msg
    cases = _float_cases(make, lambda m, v: setattr(m.orientation, 'x', v), 'orientation')
    cases += _float_cases(make, lambda m, v: setattr(m.angular_velocity, 'z', v), 'gyro')
    cases += _float_cases(make, lambda m, v: setattr(m.linear_acceleration, 'x', v), 'accel')
    zero_q = make()
    zero_q.orientation.w = 0.0
    nan_cov = make()
    nan_cov.orientation_covariance = [NAN] * 9
    nan_cov.angular_velocity_covariance = [NAN] * 9
    cases += [('zero_quaternion', zero_q), ('nan_covariance', nan_cov)]
    return cases + _header_cases(make, now_ns)


def nav_sat_fix_cases(now_ns: int) -> list[Case]:
    def make():
        msg = NavSatFix(latitude=38.4, longitude=-110.8, altitude=1300.0)
        msg.header.stamp, msg.header.frame_id = _stamp(now_ns), 'gnss_link'
        msg.position_covariance = [1.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0, 4.0]
        msg.position_covariance_type = NavSatFix.COVARIANCE_TYPE_DIAGONAL_KNOWN
        return msg
    cases = _float_cases(make, lambda m, v: setattr(m, 'latitude', v), 'latitude')
    cases += _float_cases(make, lambda m, v: setattr(m, 'longitude', v), 'longitude')
    cases += _float_cases(make, lambda m, v: setattr(m, 'altitude', v), 'altitude')
    out_of_range = make()
    out_of_range.latitude = 123.0
    odd_status = make()
    odd_status.status.status = 99
    negative_cov = make()
    negative_cov.position_covariance[0] = -4.0
    nan_cov = make()
    nan_cov.position_covariance = [NAN] * 9
    odd_cov_type = make()
    odd_cov_type.position_covariance_type = 77
    cases += [('latitude_out_of_range', out_of_range), ('unknown_status', odd_status),
              ('negative_covariance', negative_cov), ('nan_covariance', nan_cov),
              ('unknown_covariance_type', odd_cov_type)]
    return cases + _header_cases(make, now_ns)


def _detection(now_ns: int, **fields) -> MarkerDetection:
    values = dict(kind=MarkerDetection.KIND_ARUCO, id=1, label='DICT_4X4_50', size=0.2,
                  base_frame='base_link', range=2.0, bearing=0.0, confidence=1.0, confirmed=True,
                  reprojection_error=0.5)
    detection = MarkerDetection(**{**values, **fields})
    detection.header.stamp, detection.header.frame_id = _stamp(now_ns), 'camera_optical_frame'
    detection.pose_base.position.x = 2.0
    detection.pose_base.orientation.w = detection.pose_camera.orientation.w = 1.0
    detection.pose_camera.position.z = 2.0
    return detection


def marker_array_cases(now_ns: int) -> list[Case]:
    def make(**fields):
        msg = MarkerDetectionArray(detections=[_detection(now_ns, **fields)])
        msg.header.stamp, msg.header.frame_id = _stamp(now_ns), 'camera_optical_frame'
        return msg

    def set_all(msg, value):
        d = msg.detections[0]
        d.pose_base.position.x = d.pose_base.position.y = d.pose_camera.position.z = value
        d.range = d.bearing = d.size = value

    cases = _float_cases(make, set_all, 'pose')
    zero_q = make()
    zero_q.detections[0].pose_base.orientation.w = zero_q.detections[0].pose_camera.orientation.w = 0.0
    wrong_base = make()
    wrong_base.detections[0].base_frame = WRONG_FRAME
    cases += [('negative_id', make(id=-5)), ('huge_id', make(id=2**31 - 1)), ('unknown_kind', make(kind=9)),
              ('zero_quaternion', zero_q), ('wrong_base_frame', wrong_base),
              ('many_detections', MarkerDetectionArray(detections=[_detection(now_ns)] * 200))]
    return cases + _header_cases(make, now_ns)


def gate_cases(now_ns: int) -> list[Case]:
    def make():
        msg = GateDetection(left_id=1, right_id=2, width=2.0)
        msg.header.stamp, msg.header.frame_id = _stamp(now_ns), 'base_link'
        msg.pose.position.x = 3.0
        msg.pose.orientation.w = 1.0
        return msg

    def set_all(msg, value):
        msg.pose.position.x = msg.pose.position.y = msg.width = value

    cases = _float_cases(make, set_all, 'pose')
    same = make()
    same.right_id = same.left_id
    zero_q = make()
    zero_q.pose.orientation.w = 0.0
    cases += [('same_ids', same), ('zero_quaternion', zero_q)]
    return cases + _header_cases(make, now_ns)


def string_cases(now_ns: int) -> list[Case]:
    return [('empty', String(data='')), ('huge', String(data='x' * 100_000)),
            ('control_chars', String(data='\x1b[2J\n\t\r')), ('non_ascii', String(data='\u202e\U0001f680'))]


def bool_cases(now_ns: int) -> list[Case]:
    """A Bool has no invalid value: a burst of toggles (ending false) checks that nothing breaks."""
    return [(f'toggle_{i}', Bool(data=bool(i % 2))) for i in range(1, 7)]


def image_cases(now_ns: int) -> list[Case]:
    def make(width=8, height=6, encoding='rgb8', step=None, size=None):
        channels = 1 if encoding == 'mono8' else 3
        step = width * channels if step is None else step
        msg = Image(width=width, height=height, encoding=encoding, step=step)
        msg.data = bytes(step * height if size is None else size)
        msg.header.stamp, msg.header.frame_id = _stamp(now_ns), 'camera_optical_frame'
        return msg
    cases = [('data_shorter_than_height_step', make(size=10)),
             ('data_longer_than_height_step', make(size=8 * 6 * 3 + 7)),
             ('step_below_width', make(step=5)), ('zero_width', make(width=0, step=0, size=0)),
             ('zero_height', make(height=0, size=0)), ('unknown_encoding', make(encoding='yuv422_weird')),
             ('huge_dimensions_no_data', make(width=100_000, height=100_000, size=16))]
    return cases + _header_cases(make, now_ns)


def camera_info_cases(now_ns: int) -> list[Case]:
    def make(k=(100.0, 0.0, 4.0, 0.0, 100.0, 3.0, 0.0, 0.0, 1.0), width=8, height=6, d=()):
        msg = CameraInfo(width=width, height=height, k=list(k), d=list(d), distortion_model='plumb_bob')
        msg.header.stamp, msg.header.frame_id = _stamp(now_ns), 'camera_optical_frame'
        return msg
    return [('k_zeros', make(k=[0.0] * 9)), ('k_nan', make(k=[NAN] * 9)), ('k_inf', make(k=[INF] * 9)),
            ('zero_size', make(width=0, height=0)), ('d_nan', make(d=[NAN] * 5)),
            ('d_too_long', make(d=[0.0] * 100)),
            ('negative_focal', make(k=(-100.0, 0, 4, 0, -100.0, 3, 0, 0, 1)))]


def laser_scan_cases(now_ns: int) -> list[Case]:
    def make(**fields):
        values = dict(angle_min=-1.0, angle_max=1.0, angle_increment=0.5, range_min=0.1, range_max=10.0,
                      ranges=[1.0] * 5)
        values.update(fields)
        msg = LaserScan(**values)
        msg.header.stamp, msg.header.frame_id = _stamp(now_ns), 'laser_link'
        return msg
    cases = [('nan_ranges', make(ranges=[NAN] * 5)),
             ('inf_ranges', make(ranges=[INF, -INF, HUGE, -1.0, 0.0])),
             ('zero_increment', make(angle_increment=0.0)), ('nan_increment', make(angle_increment=NAN)),
             ('nan_angle_min', make(angle_min=NAN)), ('inverted_limits', make(range_min=5.0, range_max=1.0)),
             ('nan_range_max', make(range_max=NAN)), ('no_ranges', make(ranges=[])),
             ('intensity_length_mismatch', make(intensities=[1.0] * 99)),
             ('huge_range_max', make(range_max=HUGE, ranges=[1.0e30] * 5))]
    return cases + _header_cases(make, now_ns)


def occupancy_grid_cases(now_ns: int) -> list[Case]:
    def make(width=10, height=10, resolution=0.1, size=None, value=0):
        msg = OccupancyGrid()
        msg.header.stamp, msg.header.frame_id = _stamp(now_ns), 'odom'
        msg.info.width, msg.info.height, msg.info.resolution = width, height, resolution
        msg.info.origin.orientation.w = 1.0
        msg.data = [value] * (width * height if size is None else size)
        return msg
    nan_origin = make()
    nan_origin.info.origin.position.x = NAN
    rotated = make()
    rotated.info.origin.orientation.w, rotated.info.origin.orientation.z = 0.0, 1.0
    return [('data_shorter', make(size=7)), ('data_longer', make(size=1000)),
            ('zero_resolution', make(resolution=0.0)), ('nan_resolution', make(resolution=NAN)),
            ('negative_resolution', make(resolution=-0.1)), ('nan_origin', nan_origin),
            ('huge_dimensions', make(width=2**31, height=2**31, size=4)),
            ('values_out_of_range', make(value=120)), ('rotated_origin', rotated),
            *_header_cases(make, now_ns)]


def path_cases(now_ns: int) -> list[Case]:
    def make(values=(0.0,)):
        msg = Path()
        msg.header.stamp, msg.header.frame_id = _stamp(now_ns), 'map'
        for value in values:
            pose = PoseStamped()
            pose.pose.position.x = pose.pose.position.y = value
            pose.pose.orientation.w = 1.0
            msg.poses.append(pose)
        return msg
    cases = [(f'pose_{label}', make((0.0, value))) for label, value in BAD_FLOATS]
    return [*cases, ('empty', make(())), ('many_poses', make([float(i) for i in range(5_000)])),
            *_header_cases(make, now_ns)]


def battery_cases(now_ns: int) -> list[Case]:
    def make():
        msg = BatteryState(voltage=24.0, percentage=0.8)
        msg.header.stamp = _stamp(now_ns)
        return msg
    cases = _float_cases(make, lambda m, v: setattr(m, 'voltage', v), 'voltage')
    cases += _float_cases(make, lambda m, v: setattr(m, 'percentage', v), 'percentage')
    return cases + _header_cases(make, now_ns)


def status_light_cases(now_ns: int) -> list[Case]:
    def make(**fields):
        msg = StatusLight(**fields)
        msg.header.stamp = _stamp(now_ns)
        return msg
    return [('unknown_color', make(color=200)),
            ('nan_period', make(color=1, flashing=True, flash_period=NAN)),
            ('zero_period', make(color=2, flashing=True, flash_period=0.0)),
            ('negative_period', make(color=3, flashing=True, flash_period=-1.0)),
            ('inf_period', make(color=3, flashing=True, flash_period=INF)),
            ('huge_reason', make(color=1, reason='r' * 100_000)),
            *_header_cases(lambda: make(color=1), now_ns)]


def mission_status_cases(now_ns: int) -> list[Case]:
    def make(**fields):
        msg = MissionStatus(**fields)
        msg.header.stamp = _stamp(now_ns)
        return msg
    return [('unknown_state', make(state=250)), ('nan_distance', make(distance_to_target=NAN)),
            ('inf_elapsed', make(elapsed=INF)), ('leg_index_beyond_count', make(leg_index=9, leg_count=2)),
            ('huge_message', make(message='m' * 100_000)), *_header_cases(make, now_ns)]


def tf_cases(now_ns: int) -> list[Case]:
    def make(parent='odom', child='base_link', value=0.0, w=1.0, stamp=now_ns):
        t = TransformStamped(child_frame_id=child)
        t.header.frame_id, t.header.stamp = parent, _stamp(stamp)
        t.transform.translation.x = value
        t.transform.rotation.w = w
        return TFMessage(transforms=[t])
    return [('translation_nan', make(value=NAN)), ('translation_inf', make(value=INF)),
            ('translation_huge', make(value=HUGE)), ('zero_quaternion', make(w=0.0)),
            ('nan_quaternion', make(w=NAN)), ('empty_parent', make(parent='')),
            ('empty_child', make(child='')), ('self_parent', make(parent='base_link')),
            ('future_stamp', make(stamp=now_ns + FUTURE_S * 10**9)), ('far_past_stamp', make(stamp=10**9))]


#: message type -> case generator; a type without an entry has no bad cases defined yet.
GENERATORS: dict[type, Callable[[int], list[Case]]] = {
    Twist: twist_cases, TwistStamped: twist_stamped_cases, JointState: joint_state_cases,
    Odometry: odometry_cases, Imu: imu_cases, NavSatFix: nav_sat_fix_cases,
    MarkerDetectionArray: marker_array_cases, GateDetection: gate_cases, String: string_cases,
    Bool: bool_cases,
    Image: image_cases, CameraInfo: camera_info_cases, LaserScan: laser_scan_cases,
    OccupancyGrid: occupancy_grid_cases, Path: path_cases, BatteryState: battery_cases,
    StatusLight: status_light_cases, MissionStatus: mission_status_cases, TFMessage: tf_cases,
}


def bad_cases(msg_type: type, now_ns: int) -> list[Case]:
    """The invalid messages of ``msg_type`` (KeyError when none are defined for that type)."""
    return GENERATORS[msg_type](now_ns)
