"""ekf_localization over DDS: synthetic odom / IMU / GNSS in, map pose and map -> odom out,
datum latched, from_ll / to_ll, bad fixes rejected and counted in the diagnostics."""
import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import rclpy
import yaml
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from geometry_msgs.msg import Point
from nav_msgs.msg import Odometry
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from rclpy.time import Time
from sensor_msgs.msg import Imu, NavSatFix

from rover_interfaces.msg import MarkerDetection, MarkerDetectionArray
from rover_interfaces.srv import FromLL, ToLL
from rover_stack.autonomy.mission import find_mission, load_mission
from rover_stack.common.param_spec import declared
from rover_stack.common.qos import command_qos, latched_qos, sensor_qos
from rover_stack.localization.datum import DatumKeeper, make_datum
from rover_stack.localization.ekf import EkfConfig
from rover_stack.localization.ekf_localization_node import EkfLocalizationNode, LocalizationParams
from rover_stack.localization.models import rotation_2d
from rover_stack.testing.waiting import spin_until
from rover_stack.tf.listener import tf_qos
from rover_stack.tf.transform import rpy_from_quaternion
from tf2_msgs.msg import TFMessage

DATUM = (38.406, -110.792, 1400.0)
LEVER = np.array([-0.30, 0.15])          # skid4 sensors.gnss xy
START = np.array([10.0, 20.0])           # map position of base_link when the drive starts
START_YAW = 0.5                          # rad
SPEED = 2.0                              # m/s


class Rover:
    """Publishes a straight drive as wheel odometry (50 Hz), IMU (100 Hz) and GNSS (10 Hz), stamped
    with the probe's clock; the truth is kept for checking."""

    def __init__(self, node, keeper: DatumKeeper, seed=3):
        self.node, self.keeper = node, keeper
        self.rng = np.random.default_rng(seed)
        self.odom = node.create_publisher(Odometry, 'odom', command_qos())
        self.imu = node.create_publisher(Imu, 'imu/data', sensor_qos())
        self.fix = node.create_publisher(NavSatFix, 'gnss/fix', sensor_qos())
        self.t0 = None
        self.ticks = 0
        self.truth = (START.copy(), START_YAW)
        self.no_fix = False                # True: the receiver has lost its fix (NO_FIX messages)
        self.timer = node.create_timer(0.01, self._tick)

    def _tick(self):
        now = self.node.get_clock().now()
        t = now.nanoseconds * 1e-9
        self.t0 = t if self.t0 is None else self.t0
        travelled = SPEED * (t - self.t0)
        heading = np.array([math.cos(START_YAW), math.sin(START_YAW)])
        self.truth = (START + travelled * heading, START_YAW)
        stamp = now.to_msg()
        self.ticks += 1
        imu = Imu()
        imu.header.stamp, imu.header.frame_id = stamp, 'imu_link'
        imu.angular_velocity.z = 0.003 + self.rng.normal(0.0, 0.002)     # bias 0.003 rad/s
        imu.angular_velocity_covariance = [0.0] * 8 + [4e-6]
        imu.orientation.w = 1.0                    # level; yaw from an unreferenced gyro: not used
        imu.orientation_covariance = [1e-4, 0, 0, 0, 1e-4, 0, 0, 0, 1.0]
        self.imu.publish(imu)
        if self.ticks % 2 == 0:
            odom = Odometry()
            odom.header.stamp, odom.header.frame_id, odom.child_frame_id = stamp, 'odom', 'base_link'
            odom.pose.pose.position.x = travelled          # odom starts at the start pose, yaw 0
            odom.pose.pose.orientation.w = 1.0
            odom.twist.twist.linear.x = SPEED
            odom.twist.covariance = [0.0] * 36
            odom.twist.covariance[0], odom.twist.covariance[35] = 0.002, 0.02
            self.odom.publish(odom)
        if self.ticks % 10 == 0 and self.no_fix:
            self.publish_fix(math.nan, math.nan, stamp=stamp, status=-1)
        elif self.ticks % 10 == 0:
            position, yaw = self.truth
            antenna = position + rotation_2d(yaw) @ LEVER + self.rng.normal(0.0, 0.3, 2)
            self.publish_fix(*self.keeper.to_ll(antenna[0], antenna[1], 0.6)[:2], stamp=stamp)

    def publish_fix(self, lat, lon, stamp=None, status=0):
        fix = NavSatFix(latitude=lat, longitude=lon, altitude=DATUM[2] + 0.6)
        fix.header.stamp = stamp or self.node.get_clock().now().to_msg()
        fix.header.frame_id = 'gnss_link'
        fix.status.status = status
        fix.position_covariance = [0.09, 0, 0, 0, 0.09, 0, 0, 0, 0.5]
        fix.position_covariance_type = NavSatFix.COVARIANCE_TYPE_DIAGONAL_KNOWN
        self.fix.publish(fix)


class Harness:
    def __init__(self, ctx):
        params = {'datum_source': 'parameter', 'datum_latitude': DATUM[0], 'datum_longitude': DATUM[1],
                  'datum_altitude': DATUM[2], 'queue_delay': 0.05, 'heading_init_distance': 4.0,
                  'diagnostics_period': 0.2, 'markers': [5.0, 30.0, 40.0]}
        self.node = EkfLocalizationNode(context=ctx,
                                    parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])
        self.probe = rclpy.create_node('ekf_probe', context=ctx)
        self.executor = SingleThreadedExecutor(context=ctx)
        self.executor.add_node(self.node)
        self.executor.add_node(self.probe)
        self.keeper = DatumKeeper(make_datum(*DATUM))
        self.filtered, self.tf, self.datum, self.diagnostics = [], [], [], []
        self.probe.create_subscription(Odometry, 'odometry/filtered', self.filtered.append, command_qos())
        self.probe.create_subscription(TFMessage, 'tf', self.tf.append, tf_qos())
        self.probe.create_subscription(NavSatFix, 'datum', self.datum.append, latched_qos())
        self.probe.create_subscription(DiagnosticArray, 'diagnostics', self.diagnostics.append, command_qos())
        self.from_ll = self.probe.create_client(FromLL, 'from_ll')
        self.to_ll = self.probe.create_client(ToLL, 'to_ll')
        spin_until(self.executor, lambda: self.datum and self.from_ll.service_is_ready()
                   and self.to_ll.service_is_ready(), 10.0, 'ekf node discovery and latched datum')

    def call(self, client, request):
        future = client.call_async(request)
        spin_until(self.executor, future.done, 5.0, 'service response')
        return future.result()

    def diagnostic_value(self, key):
        for array in reversed(self.diagnostics):
            for value in array.status[0].values:
                if value.key == key:
                    return value.value
        return None

    def destroy(self):
        self.executor.shutdown()
        self.node.destroy_node()
        self.probe.destroy_node()


@pytest.fixture
def harness(ros_context):
    h = Harness(ros_context)
    yield h
    h.destroy()


def yaw_of(q):
    return rpy_from_quaternion((q.x, q.y, q.z, q.w))[2]


def test_converges_and_publishes_map_pose_and_map_to_odom(harness):
    rover = Rover(harness.probe, harness.keeper)

    def converged():
        if not harness.filtered:
            return False
        msg = harness.filtered[-1]
        t = Time.from_msg(msg.header.stamp).nanoseconds * 1e-9
        truth = START + SPEED * (t - rover.t0) * np.array([math.cos(START_YAW), math.sin(START_YAW)])
        p = msg.pose.pose.position
        return (math.hypot(p.x - truth[0], p.y - truth[1]) < 0.5
                and abs(yaw_of(msg.pose.pose.orientation) - START_YAW) < math.radians(3.0))

    spin_until(harness.executor, converged, 25.0, 'odometry/filtered within 0.5 m and 3 deg of the truth')
    msg = harness.filtered[-1]
    assert (msg.header.frame_id, msg.child_frame_id) == ('map', 'base_link')
    cov = np.array(msg.pose.covariance).reshape(6, 6)
    assert 0.0 < cov[0, 0] < 1.0 and 0.0 < cov[5, 5] < 0.05
    assert cov[2, 2] == 1.0e6 and cov[3, 3] == pytest.approx(1e-4)   # z not estimated; roll from the IMU
    assert msg.twist.twist.linear.x == pytest.approx(SPEED, abs=0.1)
    # map -> odom: odom started at the start pose with yaw 0, so map -> odom is that pose
    def map_odom_near_start():
        return any(
            t.header.frame_id == 'map' and t.child_frame_id == 'odom'
            and math.hypot(t.transform.translation.x - START[0], t.transform.translation.y - START[1]) < 0.5
            and abs(yaw_of(t.transform.rotation) - START_YAW) < math.radians(3.0)
            for m in harness.tf[-5:] for t in m.transforms)

    spin_until(harness.executor, map_odom_near_start, 15.0, 'map -> odom within 0.5 m, 3 deg of the start pose')
    rover.node.destroy_timer(rover.timer)


def test_datum_is_latched_and_conversions_round_trip(harness):
    datum = harness.datum[-1]
    assert (datum.latitude, datum.longitude, datum.altitude) == DATUM
    assert datum.header.frame_id == 'map'
    request = FromLL.Request(latitude=DATUM[0] + 0.001, longitude=DATUM[1], altitude=math.nan)
    response = harness.call(harness.from_ll, request)
    assert response.success
    assert response.map_point.y == pytest.approx(111.0, rel=0.01) and abs(response.map_point.x) < 1e-6
    back = harness.call(harness.to_ll, ToLL.Request(map_point=response.map_point))
    assert back.success
    assert (back.latitude, back.longitude) == pytest.approx((DATUM[0] + 0.001, DATUM[1]), abs=1e-9)
    bad = harness.call(harness.from_ll, FromLL.Request(latitude=math.nan, longitude=0.0))
    assert not bad.success and 'latitude' in bad.message
    bad = harness.call(harness.to_ll, ToLL.Request(map_point=Point(x=math.inf)))
    assert not bad.success


def test_bad_fixes_are_rejected_and_counted(harness):
    rover = Rover(harness.probe, harness.keeper)
    rover.node.destroy_timer(rover.timer)      # only the hand-made fixes below
    rover.publish_fix(math.nan, DATUM[1])
    rover.publish_fix(DATUM[0], DATUM[1], status=-1)
    future = harness.probe.get_clock().now() + rclpy.duration.Duration(seconds=30.0)
    rover.publish_fix(DATUM[0], DATUM[1], stamp=future.to_msg())
    spin_until(harness.executor, lambda: harness.diagnostic_value('gnss_rejected_nan') == '1'
               and harness.diagnostic_value('gnss_rejected_no_fix') == '1'
               and harness.diagnostic_value('gnss_rejected_future') == '1', 10.0,
               'diagnostics counting the nan, no-fix and future fixes')
    assert harness.diagnostic_value('gnss_accepted') == '0'
    status = harness.diagnostics[-1].status[0]
    assert status.level == DiagnosticStatus.ERROR and 'no wheel odometry' in status.message


def test_a_receiver_sending_no_fix_is_a_gnss_dropout(harness):
    rover = Rover(harness.probe, harness.keeper)

    def gnss_age():
        age = harness.diagnostic_value('gnss_age_s')
        return math.inf if age in (None, 'never') else float(age)

    spin_until(harness.executor, lambda: gnss_age() < 0.5, 15.0, 'fixes reaching the filter')
    rover.no_fix = True        # the receiver goes on talking, without a fix (as an unplugged antenna)
    spin_until(harness.executor,
               lambda: 'GNSS dropout' in harness.diagnostics[-1].status[0].message and gnss_age() > 2.0, 20.0,
               'the diagnostics reporting a GNSS dropout while NO_FIX messages arrive')
    assert int(harness.diagnostic_value('gnss_rejected_no_fix')) > 0
    rover.no_fix = False
    spin_until(harness.executor, lambda: 'GNSS dropout' not in harness.diagnostics[-1].status[0].message,
               15.0, 'the dropout ending with the next fix')
    rover.node.destroy_timer(rover.timer)


def test_a_late_fix_rewinds_the_filter_and_one_older_than_the_history_is_rejected(harness):
    rover = Rover(harness.probe, harness.keeper)
    spin_until(harness.executor, lambda: len(harness.filtered) > 20, 10.0, 'the filter running')
    rewinds = int(harness.diagnostic_value('late_rewinds') or 0)
    position, yaw = rover.truth
    lat, lon = harness.keeper.to_ll(*(position + rotation_2d(yaw) @ LEVER), 0.6)[:2]
    now = harness.probe.get_clock().now()
    # 0.4 s late: past the queue delay (0.05 s), inside history_length (1 s) -> replayed in order
    rover.publish_fix(lat, lon, stamp=(now - rclpy.duration.Duration(seconds=0.4)).to_msg())
    spin_until(harness.executor, lambda: int(harness.diagnostic_value('late_rewinds') or 0) > rewinds, 5.0,
               'a rewind for the late fix')
    assert harness.diagnostic_value('gnss_rejected_out_of_order') is None
    # 3 s late: beyond the history -> rejected
    rover.publish_fix(lat, lon, stamp=(now - rclpy.duration.Duration(seconds=3.0)).to_msg())
    spin_until(harness.executor, lambda: harness.diagnostic_value('gnss_rejected_out_of_order') == '1', 5.0,
               'the too-late fix rejected as out of order')


def test_marker_sightings_are_checked(harness):
    publisher = harness.probe.create_publisher(MarkerDetectionArray, 'landmarks', sensor_qos())
    spin_until(harness.executor, lambda: publisher.get_subscription_count() > 0, 5.0, 'landmarks subscriber')
    array = MarkerDetectionArray()
    array.header.stamp = harness.probe.get_clock().now().to_msg()
    for marker_id, frame in ((9, 'base_link'), (5, 'camera_link'), (5, 'base_link')):
        detection = MarkerDetection(kind=MarkerDetection.KIND_ARUCO, id=marker_id, range=5.0, bearing=0.1,
                                    base_frame=frame)
        detection.header.stamp = array.header.stamp
        array.detections.append(detection)
    publisher.publish(array)
    spin_until(harness.executor, lambda: harness.diagnostic_value('landmark_rejected_unknown_marker') == '1'
               and harness.diagnostic_value('landmark_rejected_wrong_frame') == '1'
               and harness.diagnostic_value('landmark_rejected_heading_unknown') == '1', 10.0,
               'diagnostics counting the unknown, wrong-frame and too-early marker sightings')


def test_config_file_declares_exactly_the_node_parameters():
    config = Path(__file__).resolve().parents[2] / 'config' / 'localization.yaml'
    values = yaml.safe_load(config.read_text())['/**/ekf_localization']['ros__parameters']
    # the node's own parameters and the filter tuning declared from the core's config, each once
    node_names = {f.name for f in dataclasses.fields(LocalizationParams)}
    core_names = {f.name for f in declared(EkfConfig)}
    assert not node_names & core_names
    assert set(values) == node_names | core_names


def test_node_starts_from_the_config_file_values(ros_context):
    config = Path(__file__).resolve().parents[2] / 'config' / 'localization.yaml'
    values = yaml.safe_load(config.read_text())['/**/ekf_localization']['ros__parameters']
    node = EkfLocalizationNode(context=ros_context,
                           parameter_overrides=[Parameter(k, value=v) for k, v in values.items()])
    try:
        assert node.params.datum_source == 'first_fix' and not node.datum.known
        assert tuple(node.localizer.lever_arm) == (-0.30, 0.15, 0.60)
    finally:
        node.destroy_node()


@pytest.mark.parametrize('course_file', ['urc_sprint', 'MISSION_PATH'])
def test_course_file_takes_a_shipped_mission_name_or_a_path(ros_context, course_file):
    """The sim profile hands its `mission` argument (a name or a path) to course_file, as the mission
    executive and the marker detector take it."""
    mission = load_mission('urc_sprint')
    value = str(find_mission('urc_sprint')) if course_file == 'MISSION_PATH' else course_file
    node = EkfLocalizationNode(context=ros_context, parameter_overrides=[
        Parameter('datum_source', value='file'), Parameter('course_file', value=value)])
    try:
        assert node.datum.known
        assert node.datum.plane.to_enu(mission.datum.latitude, mission.datum.longitude)[:2] == \
            pytest.approx((0.0, 0.0), abs=1e-6)
    finally:
        node.destroy_node()


def test_course_file_of_an_unknown_name_is_refused_with_the_shipped_names(ros_context):
    with pytest.raises(ValueError, match=r'unknown mission .nope.; known: .*urc_sprint'):
        EkfLocalizationNode(context=ros_context, parameter_overrides=[Parameter('course_file', value='nope')])
