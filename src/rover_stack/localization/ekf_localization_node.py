"""Node ``ekf_localization``: fuses wheel odometry, IMU, GNSS and known markers (``ekf.Localizer``)
and publishes the map pose and the map -> odom transform (REP-105)."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from nav_msgs.msg import Odometry
from rclpy.node import Node
from rclpy.time import Time
from sensor_msgs.msg import Imu, NavSatFix, NavSatStatus

from rover_interfaces.msg import MarkerDetection, MarkerDetectionArray
from rover_interfaces.srv import FromLL, ToLL
from rover_stack.common.node_main import run_node
from rover_stack.common.params import declare_params, param, watch_params
from rover_stack.common.qos import command_qos, latched_qos, sensor_qos
from rover_stack.common.share_files import MISSIONS_DIR, UnknownNameError, find_named_file
from rover_stack.common.stamps import stamp_seconds
from rover_stack.description.geometry import load_robot_geometry
from rover_stack.localization.datum import (
    DATUM_SOURCES,
    DatumError,
    DatumKeeper,
    datum_from_file,
    fix_covariance,
    fix_problem,
    landmarks_from_file,
    landmarks_from_list,
    make_datum,
)
from rover_stack.localization.ekf import SENSORS, EkfConfig, Localizer
from rover_stack.localization.lagged import LaggedFilter
from rover_stack.localization.map_odom import MapOdomSlew, Pose2D, PoseHistory
from rover_stack.localization.models import BIAS, YAW, V, W, X, Y
from rover_stack.tf.listener import TransformBroadcaster
from rover_stack.tf.transform import Transform, quaternion_from_rpy, rpy_from_quaternion

NODE_NAME = 'ekf_localization'
NOT_MEASURED = 1.0e6      # variance reported for what the filter does not estimate (z, roll, pitch)
TIMEOUT_SENSORS = ('odom', 'imu', 'gnss')
#: Measurement kinds that rewind the filter when late (lagged.py); late gyro and odometry are dropped.
REWIND_KINDS = frozenset({'gnss', 'landmark'})


@dataclass
class LocalizationParams:
    robot_config: str = param('skid4', 'Robot geometry (variant name or yaml path): GNSS lever arm and IMU '
                              'mount from its sensors', read_only=True)
    rate: float = param(50.0, 'Filter step and output rate', unit='Hz', low=1.0, high=500.0, read_only=True)
    queue_delay: float = param(0.1, 'Measurements wait this long so late ones can be sorted in', unit='s',
                               low=0.0, high=2.0, read_only=True)
    history_length: float = param(1.0, 'A GNSS fix or marker sighting up to this late (past the queue delay) '
                                  'rewinds the filter and is replayed in order (0: rejected)',
                                  unit='s', low=0.0, high=5.0, read_only=True)
    future_tolerance: float = param(0.5, 'Stamps further ahead of the clock are rejected', unit='s',
                                    low=0.0, high=10.0, read_only=True)
    map_frame: str = param('map', 'Map frame (x east, y north)', read_only=True)
    odom_frame: str = param('odom', 'Odometry frame', read_only=True)
    base_frame: str = param('base_link', 'Robot body frame', read_only=True)
    publish_tf: bool = param(True, 'Broadcast map -> odom on tf', read_only=True)
    transform_time_offset: float = param(0.1, 'map -> odom is stamped this far after the filter time',
                                         unit='s', low=0.0, high=1.0, read_only=True)
    max_translation_step: float = param(0.1, 'Largest map-pose jump of map -> odom per update', unit='m',
                                        low=0.001, high=100.0, read_only=True)
    max_rotation_step: float = param(0.0087, 'Largest yaw jump of map -> odom per update', unit='rad',
                                     low=0.0001, high=3.2, read_only=True)
    datum_source: str = param('first_fix', 'Where the map origin comes from', choices=DATUM_SOURCES,
                              read_only=True)
    datum_latitude: float = param(0.0, 'Datum latitude (datum_source parameter)', unit='deg', low=-90.0,
                                  high=90.0, read_only=True)
    datum_longitude: float = param(0.0, 'Datum longitude (datum_source parameter)', unit='deg', low=-180.0,
                                   high=180.0, read_only=True)
    datum_altitude: float = param(0.0, 'Datum altitude above the WGS84 ellipsoid', unit='m', low=-1000.0,
                                  high=10000.0, read_only=True)
    course_file: str = param('', 'Mission/course YAML with datum: and markers:, or a shipped mission name '
                             '(config/missions/<name>.yaml); "" = none', read_only=True)
    markers: tuple = param((0.0,), 'Known markers as [id, x, y, ...] in the map frame; a single 0.0 (the '
                           'default, as ROS cannot declare an empty list) = none', unit='m', read_only=True)
    use_imu_yaw: bool = param(False, 'Fuse the IMU orientation yaw (magnetometers lie; off by default)',
                              read_only=True)
    gnss_min_variance: float = param(1.0e-4, 'Floor of a fix variance', unit='m^2', low=0.0, high=100.0,
                                     read_only=True)
    gnss_max_variance: float = param(1.0e4, 'Fixes claiming more are refused', unit='m^2', low=1.0,
                                     high=1.0e8, read_only=True)
    odom_max_variance: float = param(1.0e3, 'Odometry variances at or above this mean "not measured"',
                                     unit='(m/s)^2', low=1.0, high=1.0e9, read_only=True)
    use_odom_covariance: bool = param(True, 'Take the odometry twist variances from the message (when sane); '
                                      'false: always odom_speed_variance / odom_yaw_rate_variance',
                                      read_only=True)
    odom_timeout: float = param(0.5, 'Odometry older than this is stale', unit='s', low=0.01, high=60.0,
                                read_only=True)
    imu_timeout: float = param(0.5, 'IMU older than this is stale (wheel odometry alone)', unit='s',
                               low=0.01, high=60.0, read_only=True)
    gnss_timeout: float = param(2.0, 'GNSS older than this: dropout, dead reckoning', unit='s', low=0.1,
                                high=600.0, read_only=True)
    diagnostics_period: float = param(1.0, 'Period of the diagnostics message', unit='s', low=0.1, high=60.0,
                                      read_only=True)


def measured_variance(value: float, default: float, maximum: float) -> float:
    """A message variance if it is a sane measurement, else ``default``."""
    return float(value) if math.isfinite(value) and 0.0 < value < maximum else default


class EkfLocalizationNode(Node):
    """Planar EKF localization in the map frame (x east, y north, yaw CCW from east).

    Subscribes:
      * ``odom`` (nav_msgs/Odometry, reliable): wheel odometry from the drive controller; its twist
        (vx m/s, wz rad/s, variances from the covariance when sane) is fused, its pose (odom frame)
        is the odom -> base_link used to compute map -> odom.
      * ``imu/data`` (sensor_msgs/Imu, sensor QoS): gyro z (rad/s) always; orientation roll/pitch
        (projection onto the plane on slopes); orientation yaw only with ``use_imu_yaw``.
      * ``gnss/fix`` (sensor_msgs/NavSatFix, sensor QoS): antenna position; STATUS_NO_FIX ignored,
        the covariance honoured unless COVARIANCE_TYPE_UNKNOWN (then ``gnss_variance``).
      * ``landmarks`` (rover_interfaces/MarkerDetectionArray, sensor QoS): range/bearing to ArUco
        markers whose map position is known (``markers`` or ``course_file``).
    Publishes:
      * ``odometry/filtered`` (nav_msgs/Odometry): pose in ``map_frame``, twist in ``base_frame``,
        with covariances (1e6 for z, roll, pitch: not estimated); from the first moment both
        position and heading are known.
      * ``tf`` (tf2_msgs/TFMessage): ``map_frame`` -> ``odom_frame``, slewed (no jumps).
      * ``datum`` (sensor_msgs/NavSatFix, latched): the map origin.
      * ``diagnostics`` (diagnostic_msgs/DiagnosticArray): sensor ages, accepted / rejected counts
        per sensor and reason, covariance trace, initialisation state.
    Services:
      * ``from_ll`` (rover_interfaces/FromLL): lat/lon/alt -> map point.
      * ``to_ll`` (rover_interfaces/ToLL): map point -> lat/lon/alt.
    Parameters: ``LocalizationParams`` (the node's own) and the filter tuning of ``EkfConfig`` (units in each
    description); the process and measurement noise figures may be changed at run time (``ros2 param
    set``), the others are read-only.
    Callbacks only queue stamped measurements; a timer at ``rate`` Hz applies those older than
    ``queue_delay`` in stamp order and publishes; a GNSS fix or marker sighting later than that, by up to
    ``history_length``, rewinds the filter and is replayed in order (``LaggedFilter``).
    """

    def __init__(self, **node_kwargs):
        super().__init__(NODE_NAME, **node_kwargs)
        self.params = p = declare_params(self, LocalizationParams)
        try:
            geometry = load_robot_geometry(p.robot_config)
        except ValueError as error:
            raise ValueError(f'{NODE_NAME}: {error}') from None
        gnss = geometry.sensors.get('gnss')
        lever_arm = gnss.xyz if gnss is not None else (0.0, 0.0, 0.0)
        imu = geometry.sensors.get('imu')
        mount_rpy = imu.rpy if imu else (0.0, 0.0, 0.0)
        # None when the IMU is mounted aligned with base_link (the common case: no rotation per message)
        self._imu_mount = Transform.from_xyz_rpy((0.0, 0.0, 0.0), mount_rpy) if any(mount_rpy) else None
        self.ekf_config = replace(declare_params(self, EkfConfig), lever_arm=tuple(lever_arm))
        self.localizer = Localizer(self.ekf_config)
        # ros2 param set of the noise figures: the filter uses them from its next step on
        watch_params(self, EkfConfig, lambda new: setattr(self.localizer, 'config', new),
                     attribute='ekf_config')
        self.datum = DatumKeeper()
        self.markers: dict[int, tuple[float, float]] = {}
        self._configure_datum_and_markers(p)

        self._queue: list[tuple[float, int, str, tuple]] = []
        self._lagged = LaggedFilter(self.localizer, self._apply, p.history_length, REWIND_KINDS)
        self._sequence = 0
        self._received: dict[str, float] = {}          # sensor -> node time of the last message
        self._odom_history = PoseHistory()
        self._slew = MapOdomSlew(p.max_translation_step, p.max_rotation_step)
        self._published_time: float | None = None
        self._roll_pitch_variance = (NOT_MEASURED, NOT_MEASURED)

        self._odom_pub = self.create_publisher(Odometry, 'odometry/filtered', command_qos())
        self._datum_pub = self.create_publisher(NavSatFix, 'datum', latched_qos())
        self._diag_pub = self.create_publisher(DiagnosticArray, 'diagnostics', command_qos())
        self._tf = TransformBroadcaster(self) if p.publish_tf else None
        self.create_subscription(Odometry, 'odom', self._on_odom, command_qos(50))
        self.create_subscription(Imu, 'imu/data', self._on_imu, sensor_qos(50))
        self.create_subscription(NavSatFix, 'gnss/fix', self._on_fix, sensor_qos(10))
        self.create_subscription(MarkerDetectionArray, 'landmarks', self._on_landmarks, sensor_qos(10))
        self.create_service(FromLL, 'from_ll', self._on_from_ll)
        self.create_service(ToLL, 'to_ll', self._on_to_ll)
        self.create_timer(1.0 / p.rate, self._step)
        self.create_timer(p.diagnostics_period, self._publish_diagnostics)
        if self.datum.known:
            self._publish_datum()
        self.get_logger().info(
            f'robot {geometry.name}: GNSS lever arm {tuple(lever_arm)} m; datum from {p.datum_source}; '
            f'{len(self.markers)} known markers; heading from IMU yaw' if p.use_imu_yaw else
            f'robot {geometry.name}: GNSS lever arm {tuple(lever_arm)} m; datum from {p.datum_source}; '
            f'{len(self.markers)} known markers; heading from the GNSS track after '
            f'{self.ekf_config.heading_init_distance:g} m')

    def _configure_datum_and_markers(self, p: LocalizationParams) -> None:
        try:
            if p.datum_source == 'parameter':
                self.datum.set(make_datum(p.datum_latitude, p.datum_longitude, p.datum_altitude,
                                          'parameters'))
            course_file = find_named_file(p.course_file, MISSIONS_DIR, 'mission') if p.course_file else None
            if p.datum_source == 'file':
                if course_file is None:
                    raise DatumError('datum_source is "file" but course_file is empty')
                self.datum.set(datum_from_file(course_file))
            if course_file is not None:
                self.markers.update(landmarks_from_file(course_file, self.datum.plane))
            if list(p.markers) != [0.0]:
                self.markers.update(landmarks_from_list(p.markers))
        except (DatumError, UnknownNameError) as error:
            raise ValueError(f'{NODE_NAME}: {error}') from None

    # ---- callbacks: validate and queue ----------------------------------------------------------
    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _enqueue(self, sensor: str, stamp: float, kind: str, payload: tuple) -> None:
        now = self._now()
        self._received[sensor] = now
        reason = self.localizer.check_stamp(sensor, stamp, now, self.params.future_tolerance)
        if reason:
            self.get_logger().warning(f'{sensor}: measurement rejected ({reason})', throttle_duration_sec=5.0)
            return
        self._sequence += 1
        self._queue.append((stamp, self._sequence, kind, payload))

    def _rejected(self, sensor: str, reason: str) -> None:
        self.localizer.reject(sensor, reason)
        self.get_logger().warning(f'{sensor}: measurement rejected ({reason})', throttle_duration_sec=5.0)

    def _on_odom(self, msg: Odometry) -> None:
        p, c, cov = self.params, self.ekf_config, msg.twist.covariance
        stamp = stamp_seconds(msg.header.stamp)
        if p.use_odom_covariance:
            var_v = measured_variance(cov[0], c.odom_speed_variance, p.odom_max_variance)
            var_w = measured_variance(cov[35], c.odom_yaw_rate_variance, p.odom_max_variance)
        else:
            var_v, var_w = c.odom_speed_variance, c.odom_yaw_rate_variance
        q = msg.pose.pose.orientation
        pose = msg.pose.pose.position
        try:
            yaw = rpy_from_quaternion((q.x, q.y, q.z, q.w))[2] if math.isfinite(q.w) else math.nan
        except ValueError:
            yaw = math.nan
        twist = msg.twist.twist
        self._enqueue('odom', stamp, 'odom',
                      (twist.linear.x, twist.angular.z, var_v, var_w, Pose2D(pose.x, pose.y, yaw)))

    def _on_imu(self, msg: Imu) -> None:
        c = self.ekf_config
        stamp = stamp_seconds(msg.header.stamp)
        if msg.angular_velocity_covariance[0] == -1.0:
            rate, rate_var = None, None
        else:
            rate = msg.angular_velocity.z
            if self._imu_mount is not None:
                rate = float((self._imu_mount.rotation_matrix() @ np.array(
                    [msg.angular_velocity.x, msg.angular_velocity.y, msg.angular_velocity.z]))[2])
            rate_var = measured_variance(msg.angular_velocity_covariance[8], c.gyro_variance, 1.0e3)
        attitude = None
        if msg.orientation_covariance[0] != -1.0:
            q = msg.orientation
            try:
                if self._imu_mount is None:
                    norm = math.sqrt(q.x * q.x + q.y * q.y + q.z * q.z + q.w * q.w)
                    if not abs(norm - 1.0) < 1e-3:      # also catches NaN
                        raise ValueError(f'orientation quaternion norm {norm}')
                    attitude = rpy_from_quaternion((q.x, q.y, q.z, q.w))
                else:
                    body = Transform((0.0, 0.0, 0.0), (q.x, q.y, q.z, q.w)) @ self._imu_mount.inverse()
                    attitude = body.rpy()
            except ValueError:
                attitude = (math.nan, math.nan, math.nan)
            cov = msg.orientation_covariance
            self._roll_pitch_variance = (measured_variance(cov[0], NOT_MEASURED, NOT_MEASURED * 10),
                                         measured_variance(cov[4], NOT_MEASURED, NOT_MEASURED * 10))
            yaw_var = measured_variance(cov[8], c.imu_yaw_variance, 1.0e3)
        self._enqueue('imu', stamp, 'imu', (rate, rate_var, attitude, yaw_var if attitude else None))

    def _on_fix(self, msg: NavSatFix) -> None:
        p = self.params
        stamp = stamp_seconds(msg.header.stamp)
        problem = fix_problem(msg.status.status, msg.latitude, msg.longitude)
        if problem:
            self._rejected('gnss', problem)
            return
        cov, problem = fix_covariance(msg.position_covariance, msg.position_covariance_type,
                                      self.ekf_config.gnss_variance, p.gnss_min_variance, p.gnss_max_variance)
        if problem:
            self._rejected('gnss', problem)
            return
        # only a usable fix counts: a receiver (or driver) without a fix keeps sending NO_FIX, which is
        # a GNSS dropout for the filter (dead reckoning), not a live GNSS
        self._received['gnss'] = self._now()
        if not self.datum.known:
            if p.datum_source != 'first_fix':
                self._rejected('gnss', 'no_datum')
                return
            datum = self.datum.set_from_fix(msg.latitude, msg.longitude, msg.altitude)
            self.get_logger().info(f'datum from the first fix: {datum.latitude:.8f}, {datum.longitude:.8f}, '
                                   f'{datum.altitude:.2f} m')
            self._publish_datum()
        try:
            east, north, _ = self.datum.to_map(msg.latitude, msg.longitude, msg.altitude)
        except ValueError:
            self._rejected('gnss', 'out_of_range')
            return
        self._enqueue('gnss', stamp, 'gnss', (east, north, cov))

    def _on_landmarks(self, msg: MarkerDetectionArray) -> None:
        for detection in msg.detections:
            if detection.kind != MarkerDetection.KIND_ARUCO:
                continue
            if detection.id not in self.markers:
                self._rejected('landmark', 'unknown_marker')
                continue
            if detection.base_frame and detection.base_frame != self.params.base_frame:
                self._rejected('landmark', 'wrong_frame')     # range/bearing must be in base_link
                continue
            stamp = stamp_seconds(detection.header.stamp) or stamp_seconds(msg.header.stamp)
            self._enqueue('landmark', stamp, 'landmark',
                          (self.markers[detection.id], detection.range, detection.bearing))

    def _on_from_ll(self, request, response):
        try:
            x, y, z = self.datum.to_map(request.latitude, request.longitude, request.altitude)
            response.map_point.x, response.map_point.y, response.map_point.z = x, y, z
            response.success = True
        except ValueError as error:
            response.success, response.message = False, str(error)
        return response

    def _on_to_ll(self, request, response):
        point = request.map_point
        try:
            lat_lon_alt = self.datum.to_ll(point.x, point.y, point.z)
            response.latitude, response.longitude, response.altitude = lat_lon_alt
            response.success = True
        except ValueError as error:
            response.success, response.message = False, str(error)
        return response

    # ---- the timer: apply queued measurements in stamp order, publish ---------------------------
    def _step(self) -> None:
        horizon = self._now() - self.params.queue_delay
        self._queue.sort()
        ready = 0
        while ready < len(self._queue) and self._queue[ready][0] <= horizon:
            ready += 1
        batch, self._queue = self._queue[:ready], self._queue[ready:]
        for stamp, _, kind, payload in batch:
            if kind == 'odom':
                self._odom_history.add(stamp, payload[4])   # odom -> base_link, even if the twist is gated
        self._lagged.process(batch)
        loc = self.localizer
        if loc.time is None or not loc.initialized or loc.time == self._published_time:
            return
        self._published_time = loc.time
        self._publish_odometry(loc.time)
        if self._tf is not None:
            self._publish_map_odom(loc.time)

    def _apply(self, stamp: float, kind: str, payload: tuple) -> str | None:
        """One measurement into the filter (again, after a rewind); its rejection reason or None."""
        loc = self.localizer
        if kind == 'odom':
            v, w, var_v, var_w, _ = payload
            reason = loc.update_odom(stamp, v, w, var_v, var_w)
        elif kind == 'imu':
            rate, rate_var, attitude, yaw_var = payload
            roll, pitch, yaw = attitude if attitude else (None, None, None)
            reason = None
            if rate is not None:
                reason = loc.update_imu(stamp, rate, rate_var, roll, pitch)
            elif attitude is not None and math.isfinite(roll) and math.isfinite(pitch):
                loc.roll, loc.pitch = roll, pitch
            if self.params.use_imu_yaw and attitude is not None and reason is None:
                reason = loc.update_yaw(stamp, yaw, yaw_var)
        elif kind == 'gnss':
            east, north, cov = payload
            reason = loc.update_gnss(stamp, east, north, cov)
        else:
            landmark, range_m, bearing = payload
            reason = loc.update_landmark(stamp, landmark, range_m, bearing)
        if reason in ('nan', 'out_of_order'):
            self.get_logger().warning(f'{kind}: measurement rejected ({reason})', throttle_duration_sec=5.0)
        return reason

    def _publish_odometry(self, t: float) -> None:
        loc, p = self.localizer, self.params
        x, cov = loc.x, loc.P
        msg = Odometry()
        msg.header.stamp = Time(nanoseconds=round(t * 1e9)).to_msg()
        msg.header.frame_id, msg.child_frame_id = p.map_frame, p.base_frame
        msg.pose.pose.position.x, msg.pose.pose.position.y = float(x[X]), float(x[Y])
        qx, qy, qz, qw = quaternion_from_rpy(loc.roll, loc.pitch, float(x[YAW]))
        o = msg.pose.pose.orientation
        o.x, o.y, o.z, o.w = float(qx), float(qy), float(qz), float(qw)
        pose_cov = np.zeros((6, 6))
        index = [0, 1, 5]      # x, y, yaw in the ROS 6x6 (x, y, z, roll, pitch, yaw)
        pose_cov[np.ix_(index, index)] = cov[np.ix_([X, Y, YAW], [X, Y, YAW])]
        pose_cov[2, 2] = NOT_MEASURED
        pose_cov[3, 3], pose_cov[4, 4] = self._roll_pitch_variance
        msg.pose.covariance = pose_cov.ravel().tolist()
        msg.twist.twist.linear.x, msg.twist.twist.angular.z = float(x[V]), float(x[W])
        twist_cov = np.diag([0.0, 1.0e-3, NOT_MEASURED, NOT_MEASURED, NOT_MEASURED, 0.0])
        twist_cov[np.ix_([0, 5], [0, 5])] = cov[np.ix_([V, W], [V, W])]
        msg.twist.covariance = twist_cov.ravel().tolist()
        self._odom_pub.publish(msg)

    def _publish_map_odom(self, t: float) -> None:
        odom_pose = self._odom_history.at(t)
        if odom_pose is None:
            self.get_logger().warning('no odometry pose near the filter time: map -> odom not updated',
                                      throttle_duration_sec=5.0)
            return
        map_odom = self._slew.update(self.localizer.pose(), odom_pose)
        stamp_ns = round((t + self.params.transform_time_offset) * 1e9)
        transform = Transform((map_odom.x, map_odom.y, 0.0), quaternion_from_rpy(0.0, 0.0, map_odom.yaw))
        self._tf.send_transform(self.params.map_frame, self.params.odom_frame, stamp_ns, transform)

    def _publish_datum(self) -> None:
        d = self.datum.datum
        msg = NavSatFix(latitude=d.latitude, longitude=d.longitude, altitude=d.altitude)
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = self.params.map_frame
        msg.status.status = NavSatStatus.STATUS_FIX
        msg.status.service = NavSatStatus.SERVICE_GPS
        msg.position_covariance_type = NavSatFix.COVARIANCE_TYPE_UNKNOWN
        self._datum_pub.publish(msg)

    # ---- diagnostics ----------------------------------------------------------------------------
    def sensor_ages(self) -> dict[str, float | None]:
        now = self._now()
        return {s: (now - self._received[s]) if s in self._received else None for s in TIMEOUT_SENSORS}

    def _publish_diagnostics(self) -> None:
        array = DiagnosticArray()
        array.header.stamp = self.get_clock().now().to_msg()
        array.status = [self.diagnostic_status()]
        self._diag_pub.publish(array)

    def diagnostic_status(self) -> DiagnosticStatus:
        loc, p = self.localizer, self.params
        ages = self.sensor_ages()
        timeouts = {'odom': p.odom_timeout, 'imu': p.imu_timeout, 'gnss': p.gnss_timeout}
        stale = {s for s, age in ages.items() if age is None or age > timeouts[s]}
        level, messages = DiagnosticStatus.OK, []
        if 'odom' in stale:
            level = DiagnosticStatus.ERROR
            messages.append('no wheel odometry')
        if 'imu' in stale:
            level = max(level, DiagnosticStatus.WARN)
            messages.append('no IMU: wheel odometry alone')
        if 'gnss' in stale:
            level = max(level, DiagnosticStatus.WARN)
            messages.append('GNSS dropout: dead reckoning, covariance growing')
        if not loc.position_initialized:
            level = max(level, DiagnosticStatus.WARN)
            messages.append('waiting for a GNSS fix')
        elif not loc.heading_initialized:
            level = max(level, DiagnosticStatus.WARN)
            distance = self.ekf_config.heading_init_distance
            messages.append(f'heading unknown: drive {distance:g} m for the GNSS heading')
        if messages:
            self.get_logger().warning('; '.join(messages), throttle_duration_sec=10.0)
        values = {
            'position_initialized': str(loc.position_initialized),
            'heading_initialized': str(loc.heading_initialized),
            'covariance_trace': f'{loc.covariance_trace():.6g}',
            'gyro_bias_radps': f'{loc.x[BIAS]:.5f}',
            'datum': (f'{self.datum.datum.latitude:.8f},{self.datum.datum.longitude:.8f},'
                      f'{self.datum.datum.altitude:.2f}') if self.datum.known else 'none',
            'queued': str(len(self._queue)),
            'late_rewinds': str(self._lagged.stats.rewinds),
            'late_replayed': str(self._lagged.stats.replayed),
        }
        for sensor, age in ages.items():
            values[f'{sensor}_age_s'] = 'never' if age is None else f'{age:.3f}'
        for sensor in SENSORS:
            stats = loc.stats[sensor]
            values[f'{sensor}_accepted'] = str(stats.accepted)
            values[f'{sensor}_resets'] = str(stats.resets)
            for reason, count in sorted(stats.rejected.items()):
                values[f'{sensor}_rejected_{reason}'] = str(count)
        return DiagnosticStatus(level=level, name=f'{self.get_name()}: localization',
                                message='; '.join(messages) or 'ok', hardware_id='ekf',
                                values=[KeyValue(key=k, value=v) for k, v in values.items()])


def main(args=None) -> int:
    return run_node(EkfLocalizationNode, NODE_NAME, args)


if __name__ == '__main__':
    raise SystemExit(main())
