"""motor_driver node against the emulated motor controller on a pty, over DDS in-process."""
import math
import time
from dataclasses import dataclass, field

import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from rclpy.parameter import Parameter
from sensor_msgs.msg import BatteryState, JointState
from std_msgs.msg import Bool

from rover_stack.common.qos import command_qos, latched_qos, sensor_qos
from rover_stack.hardware.emulator import EmulatedMotorController, EmulatorConfig
from rover_stack.hardware.motor_driver_node import MotorDriverNode
from rover_stack.testing.waiting import spin_for, spin_until

WHEELS = ['wheel_front_left_joint', 'wheel_front_right_joint', 'wheel_middle_left_joint',
          'wheel_middle_right_joint', 'wheel_rear_left_joint', 'wheel_rear_right_joint']
STEERING = ['steer_front_left_joint', 'steer_front_right_joint', 'steer_rear_left_joint',
            'steer_rear_right_joint']
LINK_TIMEOUT = 0.2       # s
COMMAND_TIMEOUT = 0.3    # s
MARGIN = 0.15            # s: driver loop period, feedback period, scheduling
ZERO = (0.0,) * len(WHEELS)


@dataclass
class Probe:
    """The rest of the stack: publishes commands at 20 Hz (and, as the drive controller, its latch
    state), keeps what the driver publishes."""
    node: Node
    wheels: list | None = None
    steering: list | None = None
    joint_states: list = field(default_factory=list)
    battery: list = field(default_factory=list)
    estop: list = field(default_factory=list)
    diagnostics: DiagnosticArray | None = None

    def __post_init__(self):
        self.wheel_pub = self.node.create_publisher(JointState, 'wheel_commands', command_qos())
        self.steer_pub = self.node.create_publisher(JointState, 'steering_commands', command_qos())
        self.latch_pub = self.node.create_publisher(Bool, 'estop_state', latched_qos())
        self.estop_pub = self.node.create_publisher(Bool, 'estop', latched_qos())
        self.node.create_subscription(JointState, 'joint_states', self.joint_states.append, sensor_qos(50))
        self.node.create_subscription(BatteryState, 'battery', self.battery.append, sensor_qos())
        self.node.create_subscription(Bool, 'hardware_estop', self.estop.append, latched_qos())
        self.node.create_subscription(DiagnosticArray, 'diagnostics', self._on_diagnostics, command_qos())
        self.node.create_timer(0.05, self._publish)

    def _on_diagnostics(self, msg):
        self.diagnostics = msg

    def _publish(self):
        if self.wheels is not None:
            self.wheel_pub.publish(JointState(name=WHEELS, velocity=list(self.wheels)))
        if self.steering is not None:
            self.steer_pub.publish(JointState(name=STEERING, position=list(self.steering)))

    def status(self, suffix: str) -> DiagnosticStatus | None:
        if self.diagnostics is None:
            return None
        return next((s for s in self.diagnostics.status if s.name == f'motor_driver: {suffix}'), None)

    def link(self) -> dict:
        """The link status as a dict of its values, plus 'level'; {} before the first message."""
        status = self.status('link')
        if status is None:
            return {}
        return {'level': status.level, 'message': status.message, **{kv.key: kv.value for kv in status.values}}

    def link_count(self, key: str) -> int:
        return int(self.link().get(key, 0))

    def following(self, tol=0.05) -> bool:
        if not self.joint_states:
            return False
        msg = self.joint_states[-1]
        state = dict(zip(msg.name, msg.velocity, strict=True))
        position = dict(zip(msg.name, msg.position, strict=True))
        wheels_ok = all(abs(state[n] - v) < tol for n, v in zip(WHEELS, self.wheels or ZERO, strict=True))
        steer_ok = self.steering is None or all(
            abs(position[n] - a) < tol for n, a in zip(STEERING, self.steering, strict=True))
        return wheels_ok and steer_ok


@dataclass
class Rig:
    emulator: EmulatedMotorController
    driver: MotorDriverNode
    probe: Probe
    executor: SingleThreadedExecutor

    def until(self, condition, timeout, what):
        spin_until(self.executor, condition, timeout, what)

    def link_ok(self) -> bool:
        return self.probe.link().get('state') == 'OK'


def make_driver(ctx, port, **overrides):
    params = {'port': port, 'robot_config': 'corner6', 'link_timeout_ms': int(LINK_TIMEOUT * 1000),
              'command_timeout_ms': int(COMMAND_TIMEOUT * 1000), 'diagnostics_period': 0.1,
              'status_period': 0.2, 'reconnect_period': 0.2, **overrides}
    return MotorDriverNode(context=ctx, parameter_overrides=[Parameter(k, value=v) for k, v in params.items()])


@pytest.fixture
def rig(request):
    """The driver on the emulator; the probe reports a reset drive controller (estop_state false)
    unless the test is parametrized indirectly with False."""
    emulator = EmulatedMotorController(EmulatorConfig(wheel_count=6, steering_count=4)).start()
    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    driver = make_driver(ctx, emulator.port)
    probe = Probe(Node('motor_probe', context=ctx))
    executor = SingleThreadedExecutor(context=ctx)
    executor.add_node(driver)
    executor.add_node(probe.node)
    rig = Rig(emulator, driver, probe, executor)
    if getattr(request, 'param', True):
        probe.latch_pub.publish(Bool(data=False))
    try:
        rig.until(rig.link_ok, 5.0, 'the link to come up')
        yield rig
    finally:
        executor.shutdown()
        rig.driver.destroy_node()
        probe.node.destroy_node()
        emulator.stop()
        rclpy.shutdown(context=ctx)


def test_wheel_and_steering_commands_make_joint_states_follow(rig):
    rig.probe.wheels = [1.0, -1.0, 0.5, -0.5, 2.0, -2.0]
    rig.probe.steering = [0.25, -0.25, 0.5, -0.5]
    rig.until(rig.probe.following, 3.0, 'joint_states to follow the commands')
    msg = rig.probe.joint_states[-1]
    assert list(msg.name) == WHEELS + STEERING
    assert len(msg.position) == len(msg.velocity) == len(msg.name)
    assert all(math.isfinite(v) for v in [*msg.position, *msg.velocity])
    assert msg.header.stamp.sec > 0
    assert rig.emulator.snapshot().last_command.wheel_velocities == pytest.approx(rig.probe.wheels)
    assert rig.probe.link()['level'] == DiagnosticStatus.OK
    assert rig.probe.link_count('rejected_commands') == 0


def test_damaged_frames_are_rejected_and_counted_while_good_ones_pass(rig):
    rig.probe.wheels = [1.0] * 6
    rig.until(rig.probe.following, 3.0, 'driving')
    rig.emulator.corrupt_next(3)
    rig.emulator.truncate_next(3)
    rig.emulator.replay_next(3)
    probe = rig.probe
    rig.until(lambda: probe.link_count('errors_bad_crc') >= 3 and probe.link_count('errors_replayed') >= 3
              and probe.link_count('errors_bad_cobs') + probe.link_count('errors_bad_length') >= 3, 3.0,
              'the damaged frames in diagnostics')
    seen = len(probe.joint_states)
    rig.until(lambda: len(probe.joint_states) >= seen + 10, 2.0, 'more joint_states')
    assert rig.link_ok()
    assert probe.following()
    assert probe.link_count('errors_bad_crc') == 3
    assert probe.link_count('errors_replayed') == 3


def test_silent_mcu_loses_the_link_stops_the_wheels_then_recovers(rig):
    rig.probe.wheels = [1.0] * 6
    rig.until(rig.probe.following, 3.0, 'driving')
    rig.emulator.set_silent(True)
    silent_at = time.monotonic()
    rig.until(lambda: rig.probe.link().get('state') == 'LINK_LOST', 2.0, 'LINK_LOST in diagnostics')
    link = rig.probe.link()
    assert link['level'] == DiagnosticStatus.ERROR
    assert int(link['last_frame_age_ms']) > LINK_TIMEOUT * 1000

    def stops():
        return [t for t, c in rig.emulator.commands_since(silent_at) if c.wheel_velocities == ZERO]

    rig.until(stops, 1.0, 'a zero command at the MCU')
    assert stops()[0] - silent_at <= LINK_TIMEOUT + MARGIN
    assert all(c.wheel_velocities == ZERO for t, c in rig.emulator.commands_since(stops()[0]))
    rig.emulator.set_silent(False)
    rig.until(rig.link_ok, 2.0, 'the link to recover')
    rig.until(lambda: rig.emulator.snapshot().last_command.wheel_velocities == tuple(rig.probe.wheels), 2.0,
              'commands forwarded again')
    rig.until(rig.probe.following, 3.0, 'joint_states to follow again')


def test_mcu_ignoring_heartbeats_is_an_error(rig):
    rig.emulator.set_ignore_heartbeats(True)
    rig.until(lambda: rig.probe.link().get('state') == 'ERROR', 3.0, 'ERROR in diagnostics')
    assert 'heartbeat' in rig.probe.link()['message']
    rig.emulator.set_ignore_heartbeats(False)
    rig.until(rig.link_ok, 2.0, 'the link to recover')


def test_stale_commands_are_not_forwarded(rig):
    rig.probe.wheels = [1.0] * 6
    rig.probe.steering = [0.25] * 4
    rig.until(rig.probe.following, 3.0, 'driving')
    rig.probe.wheels = rig.probe.steering = None      # the probe stops publishing
    stopped_at = time.monotonic()
    def stopped(command):
        return command.wheel_velocities == ZERO and command.hold_steering

    rig.until(lambda: stopped(rig.emulator.snapshot().last_command), 2.0, 'zero wheels, steering held')
    first_stop = next(t for t, c in rig.emulator.commands_since(stopped_at) if stopped(c))
    assert first_stop - stopped_at <= COMMAND_TIMEOUT + MARGIN
    spin_for(rig.executor, 0.3)
    assert rig.emulator.snapshot().steering_angles == pytest.approx([0.25] * 4, abs=0.01)   # held
    assert rig.link_ok()


@pytest.mark.parametrize(('wheels', 'reason'), [
    (JointState(name=[*WHEELS[:5], 'wheel_spare_joint'], velocity=[1.0] * 6), 'unknown_joint'),
    (JointState(name=WHEELS, velocity=[1.0, 1.0, math.nan, 1.0, 1.0, 1.0]), 'not_finite'),
    (JointState(name=WHEELS[:5], velocity=[1.0] * 5), 'missing_joint'),
    (JointState(name=WHEELS, velocity=[1.0] * 5), 'bad_length'),
    (JointState(name=WHEELS, velocity=[100.0] * 6), 'out_of_range'),
])
def test_invalid_wheel_commands_are_rejected_and_counted(rig, wheels, reason):
    for _ in range(3):
        rig.probe.wheel_pub.publish(wheels)
    rig.until(lambda: rig.probe.link_count(f'rejected_{reason}') >= 3, 3.0, f'rejected_{reason} == 3')
    assert rig.probe.link_count('rejected_commands') == 3
    assert all(c.wheel_velocities == ZERO for _, c in rig.emulator.commands_since(0.0))


def test_invalid_steering_commands_are_rejected(rig):
    rig.probe.steer_pub.publish(JointState(name=STEERING, position=[0.1, 0.1, 0.1, 2.0]))   # > 1.5707 rad
    rig.until(lambda: rig.probe.link_count('rejected_out_of_range') >= 1, 3.0, 'rejected_out_of_range')
    assert not any(c.steering_angles[3] == pytest.approx(2.0) for _, c in rig.emulator.commands_since(0.0))


def test_estop_and_battery_are_published(rig):
    rig.emulator.set_estop(True)
    rig.emulator.set_battery_voltage(22.5)
    rig.until(lambda: rig.probe.estop and rig.probe.estop[-1].data, 3.0, 'hardware_estop true')
    rig.until(lambda: rig.probe.battery and rig.probe.battery[-1].voltage == pytest.approx(22.5), 3.0,
              'battery voltage')
    battery = rig.probe.battery[-1]
    assert battery.header.frame_id == 'base_link'
    assert math.isnan(battery.percentage)
    rig.until(lambda: rig.probe.status('motors') is not None
              and rig.probe.status('motors').level == DiagnosticStatus.WARN, 2.0, 'motors WARN')
    rig.emulator.set_estop(False)
    rig.until(lambda: not rig.probe.estop[-1].data, 3.0, 'hardware_estop false')


def wheels_sent_since(rig, t0: float) -> list[tuple[float, ...]]:
    return [c.wheel_velocities for _, c in rig.emulator.commands_since(t0)]


@pytest.mark.parametrize('rig', [False], indirect=True)
def test_wheel_commands_reach_the_motors_only_after_the_drive_controller_reports_a_reset(rig):
    """Issue #18 item 2: anything publishing wheel_commands used to bypass the e-stop latch."""
    probe, drive = rig.probe, (1.0,) * 6
    probe.wheels = list(drive)
    t0 = time.monotonic()
    rig.until(lambda: len(probe.joint_states) > 30, 5.0, 'feedback while commands arrive')
    assert set(wheels_sent_since(rig, t0)) == {ZERO}, 'moved before any e-stop reset'
    assert 'closed' in probe.link().get('estop_gate', ''), probe.link()

    probe.latch_pub.publish(Bool(data=False))                  # the drive controller was reset
    rig.until(lambda: rig.emulator.snapshot().last_command.wheel_velocities == drive, 3.0, 'forwarded')

    for press, release in (
            (lambda: rig.emulator.set_estop(True), lambda: rig.emulator.set_estop(False)),   # the button
            (lambda: probe.estop_pub.publish(Bool(data=True)),
             lambda: probe.estop_pub.publish(Bool(data=False))),                            # software
            (lambda: probe.latch_pub.publish(Bool(data=True)), lambda: None)):              # controller
        press()
        rig.until(lambda: rig.emulator.snapshot().last_command.wheel_velocities == ZERO, 3.0, 'stopped')
        release()
        released = time.monotonic()
        spin_for(rig.executor, 0.6)
        assert set(wheels_sent_since(rig, released)) == {ZERO}, 'moved after a release without a reset'
        probe.latch_pub.publish(Bool(data=True))
        probe.latch_pub.publish(Bool(data=False))           # latched, then reset by the operator
        rig.until(lambda: rig.emulator.snapshot().last_command.wheel_velocities == drive, 3.0, 'after reset')


def test_shutdown_sends_a_zero_command(rig):
    rig.probe.wheels = [1.0] * 6
    rig.until(lambda: rig.emulator.snapshot().last_command.wheel_velocities == (1.0,) * 6, 3.0, 'driving')
    rig.executor.remove_node(rig.driver)
    rig.driver.destroy_node()
    deadline = time.monotonic() + 2.0
    while rig.emulator.snapshot().last_command.wheel_velocities != ZERO:
        assert time.monotonic() < deadline, 'no zero command after the driver was destroyed'
        time.sleep(0.01)
    assert rig.emulator.snapshot().last_command.hold_steering


def test_missing_device_reports_an_io_error_and_keeps_running(tmp_path):
    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    driver = make_driver(ctx, str(tmp_path / 'ttyNONE'))
    probe = Probe(Node('motor_probe', context=ctx))
    executor = SingleThreadedExecutor(context=ctx)
    executor.add_node(driver)
    executor.add_node(probe.node)
    try:
        spin_until(executor, lambda: probe.link().get('state') == 'ERROR', 3.0, 'ERROR in diagnostics')
        assert 'cannot open' in probe.link()['message']
        assert probe.link()['level'] == DiagnosticStatus.ERROR
        assert probe.joint_states == []
    finally:
        executor.shutdown()
        driver.destroy_node()
        probe.node.destroy_node()
        rclpy.shutdown(context=ctx)
