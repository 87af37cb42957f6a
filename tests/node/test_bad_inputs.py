"""Bad messages on every input topic of every stack node, in-process over DDS (issue #10).

Each node is started with its real subscriptions; the topics are read from the node itself, so a new
subscription without an entry in ``INPUTS`` fails the test. Every case of
``rover_stack.testing.bad_messages`` for the topic's type (NaN, inf, huge values, wrong/empty frames,
future/past stamps, inconsistent array sizes) is published; afterwards the node must still answer
its get_parameters service, its outputs must stay finite (the drive path: zero), and where the node
counts rejections the count must have grown.
"""
from __future__ import annotations

import importlib
import inspect
import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
import rclpy
from geometry_msgs.msg import TwistStamped
from nav_msgs.msg import OccupancyGrid, Odometry
from rcl_interfaces.srv import GetParameters
from rclpy.action import ActionClient
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from sensor_msgs.msg import CameraInfo, Image, JointState
from std_msgs.msg import Float64

from rover_interfaces.action import NavigateToGoal
from rover_interfaces.msg import MissionStatus
from rover_stack.autonomy.gps_waypoint_follower_node import GpsWaypointFollowerNode
from rover_stack.autonomy.mission_executive_node import MissionExecutiveNode
from rover_stack.base_station import token
from rover_stack.base_station.web_bridge_node import WebBridgeNode
from rover_stack.common.qos import command_qos
from rover_stack.drive.cmd_arbitration_node import CmdArbitrationNode
from rover_stack.drive.controller_core import REJECT_ESTOP
from rover_stack.drive.drive_controller_node import DriveControllerNode
from rover_stack.executables import EXECUTABLES
from rover_stack.gazebo.bridge_config import command_topic
from rover_stack.gazebo.gz_wheel_adapter_node import GzWheelAdapterNode
from rover_stack.hardware.motor_driver_node import MotorDriverNode
from rover_stack.localization.ekf_localization_node import EkfLocalizationNode
from rover_stack.navigation.navigator_node import ACTION_NAME, COMMAND_TOPIC, NavigatorNode
from rover_stack.perception.aruco_detector_node import ArucoDetectorNode
from rover_stack.perception.image_pipeline import ImageProcessingNode
from rover_stack.perception.object_detector_node import ObjectDetectorNode
from rover_stack.perception.obstacle_grid_node import ObstacleGridNode
from rover_stack.sim.rover_simulator_node import RoverSimulatorNode
from rover_stack.testing.bad_messages import bad_cases
from rover_stack.testing.waiting import spin_for, spin_until
from rover_stack.tf.listener import StaticTransformBroadcaster
from rover_stack.tf.transform import Transform
from tf2_msgs.msg import TFMessage

TIMEOUT = 10.0
CASE_SPIN = 0.006          # s spun after each published case (delivery is in-process)
CASES_RUN: dict[str, int] = {}


# ---------------------------------------------------------------- expectations per topic

@dataclass(frozen=True)
class Counted:
    """The node counts rejections: ``count(node)`` must grow while the bad cases arrive."""
    count: Callable[[object], int]


@dataclass(frozen=True)
class Kept:
    """The bad cases must leave ``state(node)`` unchanged (e.g. the last valid calibration)."""
    state: Callable[[object], object]


@dataclass(frozen=True)
class Harmless:
    """Accepted by design (stored for display, or a flag with no invalid value); ``why`` says why and
    ``holds(rig)`` checks it after the cases (e.g. the e-stop is latched, no goal or mission was started,
    the last toggle was taken). The node-wide output checks still apply."""
    why: str
    holds: Callable[[object], bool]


def _tf_dropped(node) -> int:
    return node.tf_listener.dropped


def _ekf_rejected(node) -> int:
    return sum(sum(s.rejected.values()) for s in node.localizer.stats.values())


TF_INPUTS = {'tf': Counted(_tf_dropped), 'tf_static': Counted(_tf_dropped)}
IMAGE_INPUTS = {'camera/camera_info': Kept(lambda n: n.camera),
                'camera/image_raw': Counted(lambda n: sum(n.skipped.values())), **TF_INPUTS}


# ---------------------------------------------------------------- output checks

def _finite(*values) -> bool:
    return all(math.isfinite(v) for v in values)


def _wheel_commands_zero(msg: JointState) -> str | None:
    if len(msg.name) != len(msg.velocity) or any(v != 0.0 for v in msg.velocity):
        return f'wheel command not zero: {list(msg.name)} {list(msg.velocity)}'
    return None


def _twist_finite(msg: TwistStamped) -> str | None:
    t = msg.twist
    return None if _finite(t.linear.x, t.angular.z) else f'non-finite twist {t}'


def _odometry_finite(msg: Odometry) -> str | None:
    p, q, t = msg.pose.pose.position, msg.pose.pose.orientation, msg.twist.twist
    ok = _finite(p.x, p.y, p.z, q.x, q.y, q.z, q.w, t.linear.x, t.angular.z)
    return None if ok else f'non-finite odometry {p} {q} {t}'


def _tf_finite(msg: TFMessage) -> str | None:
    for t in msg.transforms:
        v, r = t.transform.translation, t.transform.rotation
        if not _finite(v.x, v.y, v.z, r.x, r.y, r.z, r.w):
            return f'non-finite transform {t.header.frame_id} -> {t.child_frame_id}'
    return None


def _grid_consistent(msg: OccupancyGrid) -> str | None:
    info = msg.info
    if len(msg.data) != info.width * info.height or not _finite(info.resolution, info.origin.position.x,
                                                                 info.origin.position.y):
        return f'inconsistent grid {info.width}x{info.height} with {len(msg.data)} cells'
    if any(not (v == -1 or 0 <= v <= 100) for v in msg.data):
        return 'grid value outside -1..100'
    return None


def _joint_states_finite(msg: JointState) -> str | None:
    values = list(msg.position) + list(msg.velocity)
    return None if _finite(*values) else f'non-finite joint state {values}'


def _mission_status_sane(msg: MissionStatus) -> str | None:
    return None if msg.state <= MissionStatus.CANCELED else f'unknown mission state {msg.state}'


# ---------------------------------------------------------------- the table

@dataclass
class NodeSpec:
    make: Callable                      # (context, tmp_path) -> node
    inputs: dict                        # topic (relative) -> Counted | Kept | Harmless, in publishing order
    outputs: list = field(default_factory=list)   # (topic, type, check(msg) -> error or None)
    prime: Callable | None = None       # (rig) -> None: valid inputs first (calibration, static tf)
    check: Callable | None = None       # (rig) -> None: node-specific assertion after every case
    after: Callable | None = None       # (rig) -> None: node-specific checks after all cases


def _params(**values) -> list[Parameter]:
    return [Parameter(k, value=v) for k, v in values.items()]


def _drive_controller(context, _tmp):
    return DriveControllerNode(context=context)      # the shipped defaults (stamp checks on)


def _content_rejections(node) -> int:
    """The drive controller's rejections for what a command says, not for the (start-up) latch."""
    return sum(v for k, v in node.core.status(0.0).rejected.items() if k != REJECT_ESTOP)


def _last_lock_value(name: str) -> Callable[[object], bool]:
    """The arbitration took every toggle, in order: the lock's last value is the last case's (false)."""
    return lambda rig: rig.node.arbiter._lock_values.get(name, (True, 0.0))[0] is False


def _arbitration(context, _tmp):
    return CmdArbitrationNode(context=context)


def _ekf(context, _tmp):
    return EkfLocalizationNode(context=context, parameter_overrides=_params(publish_tf=True))


def _aruco(context, _tmp):
    return ArucoDetectorNode(context=context)


def _objects(context, _tmp):
    return ObjectDetectorNode(context=context)


def _obstacle_grid(context, _tmp):
    return ObstacleGridNode(context=context, parameter_overrides=_params(size=10.0, rate=20.0))


def _navigator(context, _tmp):
    return NavigatorNode(context=context)


def _mission(context, tmp):
    return MissionExecutiveNode(context=context, parameter_overrides=_params(
        progress_file=str(tmp / 'progress.json'), auto_resume=False, status_period=0.2))


def _bridge(context, tmp):
    return WebBridgeNode(context=context, parameter_overrides=_params(
        port=0, token_file=str(token.write(tmp / 'token', 't' * 20)), camera_rate=30.0))


def _simulator(context, _tmp):
    return RoverSimulatorNode(context=context, parameter_overrides=_params(**{'camera.rate': 0.0}))


def _motor_driver(context, _tmp):
    return MotorDriverNode(context=context, parameter_overrides=_params(port='/nonexistent/motors'))


def _gps_waypoint_follower(context, _tmp):
    pytest.importorskip('nav2_msgs', reason='the nav2 interfaces overlay is not built (make test builds it)')
    return GpsWaypointFollowerNode(context=context)


def _datum_finite_or_unset(rig) -> bool:
    datum = rig.node._datum
    return datum is None or _finite(datum[0], datum[1])


def _gz_wheel_adapter(context, _tmp):
    return GzWheelAdapterNode(context=context)


def _motor_command_finite(rig) -> None:
    command = rig.node.link._wheel_cmd
    values = command[0] if command else ()
    assert _finite(*values) and all(abs(v) <= rig.node.geometry.max_wheel_speed for v in values), values


def _watch_gazebo_joints(rig) -> None:
    for joint in rig.node._wheel_pubs:
        rig.watch(command_topic(joint, False), Float64,
                  lambda m: None if m.data == 0.0 else f'joint command {m.data} (no valid command was sent)')
    spin_until(rig.executor, lambda: len(rig.received) >= len(rig.node._wheel_pubs), TIMEOUT, 'joint commands')


def _prime_camera(rig) -> None:
    """A static camera transform and a valid calibration (640x480) before the bad cases."""
    optical = Transform.from_xyz_rpy((0.45, 0.0, 0.45), (-math.pi / 2, 0.0, -math.pi / 2))
    rig.static_tf.send_transform('base_link', 'camera_optical_frame', 0, optical)
    spin_until(rig.executor, lambda: rig.node.tf_buffer.can_transform('base_link', 'camera_optical_frame'),
               TIMEOUT, 'static camera transform')
    info = CameraInfo(width=640, height=480, distortion_model='plumb_bob', d=[0.0] * 5,
                      k=[500.0, 0.0, 320.0, 0.0, 500.0, 240.0, 0.0, 0.0, 1.0])
    info.header.frame_id = 'camera_optical_frame'
    rig.publish('camera/camera_info', info)
    spin_until(rig.executor, lambda: rig.node.camera is not None, TIMEOUT, 'camera_info')


def _frames_still_processed(rig) -> None:
    """The worker thread survived: a valid image after the bad ones is processed."""
    node = rig.node
    assert node._worker.is_alive(), 'the image worker thread died'
    before = node.frames.counts()['processed']
    image = Image(width=640, height=480, encoding='mono8', step=640, data=bytes(640 * 480))
    image.header.frame_id = 'camera_optical_frame'
    image.header.stamp = rig.probe.get_clock().now().to_msg()
    rig.publish('camera/image_raw', image)
    spin_until(rig.executor, lambda: node.frames.counts()['processed'] > before, TIMEOUT, 'a processed frame')


def _prime_laser(rig) -> None:
    rig.static_tf.send_transform('base_link', 'laser_link', 0, Transform((0.4, 0.0, 0.25)))
    spin_until(rig.executor, lambda: rig.node.tf_buffer.can_transform('base_link', 'laser_link'),
               TIMEOUT, 'static laser transform')


def _page_connected(rig) -> None:
    """A page session, so the bridge also subscribes to the camera (it does only while pages are open)."""
    rig.node.connect()
    spin_until(rig.executor, lambda: 'camera/image_raw' in input_topics(rig.node), TIMEOUT, 'camera subscription')


def _telemetry_is_strict_json(rig) -> None:
    bridge = rig.node
    session = bridge.connect()
    try:
        json.dumps(bridge.telemetry(session), allow_nan=False)   # a browser's JSON.parse rejects NaN
    finally:
        bridge.disconnect(session)


def _no_goal(rig) -> bool:
    return rig.node._goal is None


def _no_mission(rig) -> bool:
    return rig.node._run is None


def _simulator_still(rig) -> bool:
    _simulator_stays_still(rig)
    return True


def _simulator_stays_still(rig) -> None:
    truth = rig.node.sim.ground_truth()
    values = (*truth.position, *truth.orientation, *truth.linear_velocity, *truth.angular_velocity)
    assert _finite(*values), f'simulator state not finite: {truth}'
    assert math.hypot(*truth.linear_velocity[:2]) < 0.1, f'the simulated rover moves: {truth.linear_velocity}'


NODES: dict[str, NodeSpec] = {
    'drive_controller': NodeSpec(
        _drive_controller,
        {'cmd_vel': Counted(_content_rejections),
         'joint_states': Harmless('wrong joint sets are ignored and logged; the odometry stays finite',
                                  lambda rig: _finite(rig.node.odometry.x, rig.node.odometry.y,
                                                      rig.node.odometry.yaw)),
         'estop': Harmless('a Bool has no invalid value; toggles latch the e-stop (rover stays stopped)',
                           lambda rig: rig.node.core.estop_latched),
         'hardware_estop': Harmless('as estop', lambda rig: rig.node.core.estop_latched)},
        [('wheel_commands', JointState, _wheel_commands_zero), ('odom', Odometry, _odometry_finite)]),
    'cmd_arbitration': NodeSpec(
        _arbitration,
        {**{topic: Counted(lambda n: sum(n.arbiter.dropped.values()))
            for topic in ('autonomy/cmd_vel', 'base_station/cmd_vel', 'joystick/cmd_vel')},
         **{topic: Harmless('a Bool lock; engaging it only stops the rover', _last_lock_value(name))
            for topic, name in (('estop', 'estop'), ('hardware_estop', 'hardware_estop'),
                                ('base_station/lock', 'base_station_link'), ('autonomy/pause', 'autonomy_pause'))}},
        [('cmd_vel', TwistStamped, _twist_finite)]),   # huge finite values: refused by the controller
    'ekf_localization': NodeSpec(
        _ekf,
        {'odom': Counted(_ekf_rejected), 'imu/data': Counted(_ekf_rejected), 'gnss/fix': Counted(_ekf_rejected),
         'landmarks': Counted(_ekf_rejected)},
        [('odometry/filtered', Odometry, _odometry_finite), ('tf', TFMessage, _tf_finite)]),
    'aruco_detector': NodeSpec(_aruco, dict(IMAGE_INPUTS), prime=_prime_camera, after=_frames_still_processed),
    'object_detector': NodeSpec(_objects, dict(IMAGE_INPUTS), prime=_prime_camera, after=_frames_still_processed),
    'obstacle_grid': NodeSpec(
        _obstacle_grid,
        {'scan': Counted(lambda n: n.counts['dropped_invalid'] + n.counts['dropped_no_transform']),
         **TF_INPUTS},
        [('obstacles/grid', OccupancyGrid, _grid_consistent)], prime=_prime_laser),
    'navigator': NodeSpec(
        _navigator,
        {'odometry/filtered': Harmless('stored; checked while a goal runs (test_navigator_stops_on_bad_pose_and_grid_during_a_goal)',
                                       _no_goal),
         'obstacles/grid': Harmless('stored; validated when a goal runs', _no_goal), **TF_INPUTS},
        [('autonomy/cmd_vel', TwistStamped, _twist_finite)]),
    'mission_executive': NodeSpec(
        _mission,
        {'odometry/filtered': Harmless('pose stored; goals are validated by the navigator', _no_mission),
         'markers': Harmless('detections matter only during a leg', _no_mission),
         'objects': Harmless('as markers', _no_mission), 'gates': Harmless('as markers', _no_mission),
         'active_source': Harmless('any string: a source name', _no_mission),
         'datum': Harmless('checked against the mission datum when a mission starts', _no_mission),
         'estop_state': Harmless('a Bool: latching pauses a running mission; the last toggle (false) is taken',
                                 lambda rig: _no_mission(rig) and rig.node._estop is False)},
        [('mission/status', MissionStatus, _mission_status_sane)]),
    'web_bridge': NodeSpec(
        _bridge,
        {topic: Harmless('telemetry for display; must stay strict JSON', lambda rig: not rig.node.core.driving)
         for topic in (
            'odom', 'odometry/filtered', 'gnss/fix', 'datum', 'battery', 'active_source', 'status_light',
            'mission/status', 'estop_state', 'plan', 'camera/image_raw')},
        prime=_page_connected, check=_telemetry_is_strict_json),
    'motor_driver': NodeSpec(
        _motor_driver,
        {'wheel_commands': Counted(lambda n: sum(n.rejected.values())),
         'steering_commands': Counted(lambda n: sum(n.rejected.values())),
         'estop_state': Harmless('a Bool has no invalid value; true closes the e-stop gate (wheels at zero); '
                                 'the last toggle, false (a reset), opens it', lambda rig: rig.node.link.gate.open),
         'estop': Harmless('a Bool; a toggle to true closes the gate until the next reset (the last toggle is '
                           'false: it stays closed)', lambda rig: not rig.node.link.gate.open)},
        check=_motor_command_finite),
    'gps_waypoint_follower': NodeSpec(
        _gps_waypoint_follower,
        {'datum': Harmless('a datum without a finite latitude/longitude is not taken', _datum_finite_or_unset)}),
    'gz_wheel_adapter': NodeSpec(
        _gz_wheel_adapter,
        {'wheel_commands': Harmless('refused whole with a log line; the per-joint outputs are checked',
                                    lambda rig: len(rig.received) >= len(rig.node._wheel_pubs))},
        prime=_watch_gazebo_joints),
    'rover_simulator': NodeSpec(
        _simulator,
        {'wheel_commands': Counted(lambda n: n.rejected['wheel_commands']),
         'steering_commands': Counted(lambda n: n.rejected['steering_commands']),
         'status_light': Harmless('the light is only drawn', _simulator_still),
         'odometry/filtered': Harmless('only paces an as-fast-as-possible clock (off at real_time_factor 1): '
                                       'zero or future stamps are ignored', _simulator_still)},
        [('joint_states', JointState, _joint_states_finite)], check=_simulator_stays_still),
}


# ---------------------------------------------------------------- harness

def input_topics(node) -> dict[str, type]:
    """The node's subscriptions (relative name -> message type), action topics excluded."""
    topics = {}
    for subscription in node.subscriptions:
        name = subscription.topic_name.lstrip('/')
        if '/_action/' not in f'/{name}':
            topics[name] = subscription.msg_type
    return topics


class Rig:
    def __init__(self, context, node):
        self.node = node
        self.probe = rclpy.create_node('bad_input_probe', context=context)
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(node)
        self.executor.add_node(self.probe)
        self.static_tf = StaticTransformBroadcaster(self.probe)
        self.topics = input_topics(node)
        self._publishers = {}
        self.violations: list[str] = []
        self.received: set[str] = set()      # watched output topics heard from

    def watch(self, topic, msg_type, check) -> None:
        def on_message(msg):
            self.received.add(topic)
            error = check(msg)
            if error:
                self.violations.append(f'{topic}: {error}')
        self.probe.create_subscription(msg_type, topic, on_message, command_qos(depth=100))

    def publisher(self, topic):
        if topic not in self._publishers:
            qos = QoSProfile(depth=100, reliability=ReliabilityPolicy.RELIABLE,
                             durability=DurabilityPolicy.TRANSIENT_LOCAL)   # matches every subscriber QoS
            pub = self.probe.create_publisher(self.topics[topic], topic, qos)
            spin_until(self.executor, lambda: pub.get_subscription_count() > 0, TIMEOUT, f'{topic} matched')
            self._publishers[topic] = pub
        return self._publishers[topic]

    def publish(self, topic, msg) -> None:
        self.publisher(topic).publish(msg)
        spin_for(self.executor, CASE_SPIN, step=0.005)

    def assert_responsive(self, what: str) -> None:
        client = self.probe.create_client(GetParameters, f'{self.node.get_name()}/get_parameters')
        try:
            spin_until(self.executor, client.service_is_ready, TIMEOUT, f'{self.node.get_name()} parameter service')
            future = client.call_async(GetParameters.Request(names=['use_sim_time']))
            spin_until(self.executor, future.done, TIMEOUT, f'{self.node.get_name()} to answer after {what}')
        finally:
            self.probe.destroy_client(client)

    def close(self) -> None:
        self.executor.shutdown(timeout_sec=1.0)
        self.node.destroy_node()
        self.probe.destroy_node()


@pytest.fixture(scope='module')
def case_report(request):
    yield CASES_RUN
    plugins = request.config.pluginmanager
    reporter, capture = plugins.get_plugin('terminalreporter'), plugins.get_plugin('capturemanager')
    if reporter is not None and capture is not None and CASES_RUN:
        with capture.global_and_fixture_disabled():   # teardown output is captured otherwise
            reporter.write_line(f'\nbad-input cases run: {sum(CASES_RUN.values())} in {len(CASES_RUN)} runs '
                                f'({", ".join(f"{k}: {v}" for k, v in CASES_RUN.items())})')


@pytest.mark.timeout(60)
@pytest.mark.parametrize('name', list(NODES))
def test_node_survives_bad_messages_on_every_input(name, ros_context, tmp_path, case_report):
    spec = NODES[name]
    rig = Rig(ros_context, spec.make(ros_context, tmp_path))
    try:
        for topic, msg_type, check in spec.outputs:
            rig.watch(topic, msg_type, check)
        if spec.prime is not None:
            spec.prime(rig)
        rig.topics = input_topics(rig.node)     # after priming: some subscriptions come and go
        missing = sorted(set(rig.topics) - set(spec.inputs))
        assert not missing, f'{name} subscribes to {missing} without a bad-input table entry'
        stale = sorted(set(spec.inputs) - set(rig.topics))
        assert not stale, f'{name} has table entries {stale} for topics it does not subscribe to'
        count = 0
        for topic, expectation in spec.inputs.items():
            before = _observe(expectation, rig.node)
            cases = bad_cases(rig.topics[topic], rig.probe.get_clock().now().nanoseconds)
            for label, msg in cases:
                rig.publish(topic, msg)
                if spec.check is not None:
                    try:
                        spec.check(rig)
                    except AssertionError as error:
                        raise AssertionError(f'{name} after {topic} case {label!r}: {error}') from None
            count += len(cases)
            spin_for(rig.executor, 0.06)   # a few timer steps with the bad values stored
            rig.assert_responsive(f'bad {topic}')
            _check(expectation, before, rig, topic)
            assert not rig.violations, f'{name} after bad {topic}: {rig.violations[:3]}'
        if spec.after is not None:
            spec.after(rig)
        assert not rig.violations, f'{name}: {rig.violations[:3]}'
        CASES_RUN[name] = count
    finally:
        rig.close()


def _observe(expectation, node):
    if isinstance(expectation, Counted):
        return expectation.count(node)
    if isinstance(expectation, Kept):
        return expectation.state(node)
    return None


def _check(expectation, before, rig, topic) -> None:
    node = rig.node
    if isinstance(expectation, Counted):
        assert expectation.count(node) > before, f'no rejection counted for bad {topic}'
    elif isinstance(expectation, Kept):
        assert expectation.state(node) is before, f'bad {topic} replaced the valid state'
    else:
        assert isinstance(expectation, Harmless)
        assert expectation.holds(rig), f'bad {topic}: does not hold: {expectation.why}'



#: Executables with topic inputs that are not in NODES, and why.
NOT_IN_TABLE = {
    'heartbeat_listener': 'demo node for the bringup tests: counts heartbeats, drives nothing',
    'heartbeat_talker': 'demo module (same classes as heartbeat_listener)',
    'foxglove_bridge': 'read-only relay to Foxglove; its inputs are the web bridge topics (work in progress)',
}


def test_every_executable_is_in_the_table_or_exempt_with_a_reason():
    """A new executable must get a NODES entry (or a stated reason): derived from executables.py."""
    unclassified = []
    for executable, target in EXECUTABLES.items():
        module = importlib.import_module(target.split(':')[0])
        nodes = [c for _, c in inspect.getmembers(module, inspect.isclass)
                 if issubclass(c, Node) and c.__module__ == module.__name__]
        subscribes = any(issubclass(c, _listening_bases()) or any(
            word in inspect.getsource(c) for word in ('create_subscription', 'TransformListener')) for c in nodes)
        if subscribes and executable not in NODES and executable not in NOT_IN_TABLE:
            unclassified.append(executable)
    assert not unclassified, f'executables with inputs but no bad-input table entry: {unclassified}'


def _listening_bases() -> tuple[type, ...]:
    return (ImageProcessingNode,)


@pytest.mark.timeout(60)
@pytest.mark.parametrize('bad_topic', ['odometry/filtered', 'obstacles/grid'])
def test_navigator_stops_on_bad_pose_or_grid_during_a_goal(bad_topic, ros_context, case_report):
    """While a goal runs, poses that are not poses (NaN, inf, huge, not a unit quaternion, unknown frame)
    or broken grids make the navigator stop (zero commands) and fail the goal after ``wait_timeout``;
    the other input stays valid, so each check is seen on its own."""
    rig = Rig(ros_context, NavigatorNode(context=ros_context, parameter_overrides=_params(wait_timeout=1.0)))
    client = ActionClient(rig.probe, NavigateToGoal, ACTION_NAME)
    commands: list[tuple[float, float]] = []
    rig.probe.create_subscription(TwistStamped, COMMAND_TOPIC,
                                  lambda m: commands.append((m.twist.linear.x, m.twist.angular.z)), command_qos())
    try:
        now_ns = rig.probe.get_clock().now().nanoseconds
        if bad_topic == 'odometry/filtered':
            pose_cases = ('position', 'orientation', 'zero_quaternion', 'wrong_frame')
            bad = [m for label, m in bad_cases(Odometry, now_ns) if label.startswith(pose_cases)]
            good_topic, good = 'obstacles/grid', _free_grid()
        else:
            bad = [m for label, m in bad_cases(OccupancyGrid, now_ns) if label not in RESTAMPED]
            good_topic, good = 'odometry/filtered', _still_odometry()
        spin_until(rig.executor, client.server_is_ready, TIMEOUT, 'navigate_to_goal server')
        request = NavigateToGoal.Goal()
        request.goal.header.frame_id = 'map'
        request.goal.pose.position.x = 2.0
        request.goal.pose.orientation.w = 1.0
        sent = client.send_goal_async(request)
        spin_until(rig.executor, sent.done, TIMEOUT, 'goal response')
        result = sent.result().get_result_async()
        count = 0
        while not result.done():
            rig.publish(good_topic, _restamped(good, rig))
            rig.publish(bad_topic, _restamped(bad[count % len(bad)], rig))
            count += 1
            assert count < 1000, 'the goal neither failed nor finished on bad inputs'
        outcome = result.result().result
        assert outcome.error_code == NavigateToGoal.Result.FAILED, outcome.message
        assert commands and all(c == (0.0, 0.0) for c in commands), f'navigator moved: {commands[:5]}'
        CASES_RUN[f'navigator (goal running, bad {bad_topic})'] = count
    finally:
        client.destroy()
        rig.close()


def _free_grid() -> OccupancyGrid:
    grid = OccupancyGrid()
    grid.header.frame_id = 'map'
    grid.info.width = grid.info.height = 80
    grid.info.resolution = 0.1
    grid.info.origin.position.x = grid.info.origin.position.y = -4.0
    grid.info.origin.orientation.w = 1.0
    grid.data = [0] * (80 * 80)
    return grid


def _still_odometry() -> Odometry:
    odom = Odometry()
    odom.header.frame_id, odom.child_frame_id = 'map', 'base_link'
    odom.pose.pose.orientation.w = 1.0
    return odom


RESTAMPED = ('future_stamp', 'far_past_stamp', 'zero_stamp', 'empty_frame')   # valid once restamped


def _restamped(msg, rig):
    """``msg`` stamped now, in the map frame unless its frame is deliberately wrong."""
    msg.header.stamp = rig.probe.get_clock().now().to_msg()
    if msg.header.frame_id in ('odom', ''):
        msg.header.frame_id = 'map'
    return msg
