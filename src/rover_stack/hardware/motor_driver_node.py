"""ROS 2 driver for the motor microcontroller: topics <-> the serial protocol of docs/motor_protocol.md."""
from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node
from sensor_msgs.msg import BatteryState, JointState
from std_msgs.msg import Bool

from rover_stack.common.node_main import run_node
from rover_stack.common.params import declare_params, param
from rover_stack.common.qos import command_qos, latched_qos, sensor_qos
from rover_stack.description.geometry import load_robot_geometry
from rover_stack.hardware.link import (
    LinkConfig,
    LinkState,
    MotorLink,
    SerialPort,
    order_by_name,
    steering_rates,
)
from rover_stack.hardware.protocol import Feedback, fault_names

NODE_NAME = 'motor_driver'
MAX_READS_PER_STEP = 16     # x 4096 bytes: far more than the MCU sends per step


@dataclass
class MotorDriverParams:
    port: str = param('/dev/ttyACM0', 'Serial device of the motor controller', read_only=True)
    baud: int = param(115200, 'Serial baud rate (ignored by USB CDC devices)', unit='baud', low=1200,
                      high=4_000_000, read_only=True)
    robot_config: str = param(
        'skid4', 'Robot geometry: a variant name (skid4, skid6, corner6) from the package config/robot, '
        'or a path to a robot yaml; wheel and steering joint names and their order on the wire come from it',
        read_only=True)
    rate: float = param(50.0, 'Loop rate: read the port, step the link, send a DRIVE_COMMAND', unit='Hz',
                        low=5.0, high=500.0, read_only=True)
    heartbeat_rate: float = param(10.0, 'HEARTBEAT rate', unit='Hz', low=1.0, high=100.0, read_only=True)
    link_timeout_ms: int = param(200, 'No valid frame for this long: LINK_LOST, wheels commanded to zero',
                                 unit='ms', low=20, high=5000, read_only=True)
    ack_timeout_ms: int = param(500, 'No HEARTBEAT_ACK for this long while frames arrive: ERROR', unit='ms',
                                low=50, high=10000, read_only=True)
    command_timeout_ms: int = param(500, 'Commands older than this are not forwarded (zero is sent instead)',
                                    unit='ms', low=20, high=5000, read_only=True)
    reconnect_period: float = param(1.0, 'Retry period for opening the serial port', unit='s', low=0.1,
                                    high=60.0, read_only=True)
    status_period: float = param(1.0, 'Period of battery and hardware_estop repeats', unit='s', low=0.05,
                                 high=10.0, read_only=True)
    diagnostics_period: float = param(1.0, 'Period of the diagnostics message', unit='s', low=0.05,
                                      high=60.0, read_only=True)
    battery_frame: str = param('base_link', 'frame_id of the battery message', read_only=True)


class MotorDriverNode(Node):
    """Bridges the wheel and steering commands to the motor microcontroller and reports its feedback.

    Subscribes:
      * ``wheel_commands`` (sensor_msgs/JointState, reliable): velocity in rad/s for every wheel joint.
      * ``steering_commands`` (sensor_msgs/JointState, reliable; corner rovers): position in rad for
        every steering joint.
      A command must name every joint of its group exactly once with finite values within the
      geometry limits (max_wheel_speed, max_steering_angle); others are rejected whole and counted.
      * ``estop_state`` (std_msgs/Bool, latched; from the drive controller) and ``estop`` (std_msgs/Bool,
        latched + best effort): the e-stop gate (``EstopGate``). Wheels stay at zero from start-up, a
        pressed hardware button, ``estop`` true or ``estop_state`` true until ``estop_state`` false (the
        controller was reset) arrives with no source active (docs/safety.md).
    Publishes:
      * ``joint_states`` (sensor_msgs/JointState, sensor QoS): per wheel position (rad, unwrapped) and
        velocity (rad/s), per steering joint position (rad) and velocity (rad/s, differenced), at
        the MCU's feedback rate.
      * ``battery`` (sensor_msgs/BatteryState, sensor QoS, every ``status_period``): voltage in V.
      * ``hardware_estop`` (std_msgs/Bool, latched): the physical e-stop, on change and every
        ``status_period`` while feedback is fresh (silence means unknown).
      * ``diagnostics`` (diagnostic_msgs/DiagnosticArray): link state, error counts per kind, last frame
        age, rejected commands; MCU faults, battery, e-stop.
    Parameters: see ``MotorDriverParams`` (times in ms or s as named, rates in Hz; read-only).
    Callbacks store; a timer at ``rate`` Hz reads the port (non-blocking), steps the link and writes.
    Wheels are commanded to 0 rad/s (steering held) when a command is stale, when the link is not OK,
    while the e-stop gate is closed and on shutdown.
    """

    def __init__(self, **node_kwargs):
        super().__init__(NODE_NAME, **node_kwargs)
        self.params = p = declare_params(self, MotorDriverParams)
        try:
            self.geometry = load_robot_geometry(p.robot_config)
        except ValueError as error:
            raise ValueError(f'{NODE_NAME}: {error}') from None
        self.wheel_joints = self.geometry.wheel_joints
        self.steering_joints = self.geometry.steering_joints
        self.link = MotorLink(LinkConfig(
            wheel_count=len(self.wheel_joints), steering_count=len(self.steering_joints),
            link_timeout=p.link_timeout_ms / 1000.0, heartbeat_period=1.0 / p.heartbeat_rate,
            ack_timeout=p.ack_timeout_ms / 1000.0, command_timeout=p.command_timeout_ms / 1000.0))
        self.rejected: Counter[str] = Counter()
        self.tx_dropped = 0
        self._port: SerialPort | None = None
        self._next_open = 0.0
        self._logged_state: LinkState | None = None
        self._previous_feedback: Feedback | None = None
        self._published_estop: bool | None = None

        self._joint_pub = self.create_publisher(JointState, 'joint_states', sensor_qos())
        self._battery_pub = self.create_publisher(BatteryState, 'battery', sensor_qos())
        self._estop_pub = self.create_publisher(Bool, 'hardware_estop', latched_qos())
        self._diag_pub = self.create_publisher(DiagnosticArray, 'diagnostics', command_qos())
        self.create_subscription(JointState, 'wheel_commands', self._on_wheel_commands, command_qos())
        self.create_subscription(JointState, 'steering_commands', self._on_steering_commands, command_qos())
        self.create_subscription(Bool, 'estop_state', lambda m: self.link.gate.controller_latched(m.data),
                                 latched_qos())
        for qos in (latched_qos(), sensor_qos(depth=10)):
            self.create_subscription(Bool, 'estop', lambda m: self.link.gate.report('estop', m.data), qos)
        self.create_timer(1.0 / p.rate, self._step)
        self.create_timer(p.status_period, self._publish_status)
        self.create_timer(p.diagnostics_period, self._publish_diagnostics)
        self.get_logger().info(
            f"motor controller on {p.port}: robot '{self.geometry.name}', wheels {self.wheel_joints}, "
            f'steering {self.steering_joints}; link timeout {p.link_timeout_ms} ms')

    # ---- callbacks: validate and store ----------------------------------------------------------
    def _on_wheel_commands(self, msg: JointState) -> None:
        values = order_by_name(msg.name, msg.velocity, self.wheel_joints, self.geometry.max_wheel_speed)
        if self._accept('wheel_commands', values):
            self.link.set_wheel_command(values, time.monotonic())

    def _on_steering_commands(self, msg: JointState) -> None:
        values = order_by_name(msg.name, msg.position, self.steering_joints,
                               self.geometry.max_steering_angle)
        if self._accept('steering_commands', values):
            self.link.set_steering_command(values, time.monotonic())

    def _accept(self, topic: str, values) -> bool:
        if not isinstance(values, str):
            return True
        self.rejected[values] += 1
        self.get_logger().warning(f'rejected {topic}: {values}', throttle_duration_sec=2.0)
        return False

    # ---- the timer: read, step, write, publish --------------------------------------------------
    def _step(self) -> None:
        now = time.monotonic()
        self._read(now)
        self._write(self.link.step(now))
        self._log_state()
        feedback = self.link.take_feedback()
        if feedback is not None:
            self._publish_joint_states(feedback)
            if feedback.estop_pressed != self._published_estop:
                self._publish_estop(feedback.estop_pressed)

    def _read(self, now: float) -> None:
        if self._port is None and not self._open(now):
            return
        try:
            for _ in range(MAX_READS_PER_STEP):
                data = self._port.read_available()
                if not data:
                    break
                self.link.receive(data, now)
        except OSError as error:
            self._close(str(error))

    def _open(self, now: float) -> bool:
        if now < self._next_open:
            return False
        self._next_open = now + self.params.reconnect_period
        try:
            self._port = SerialPort(self.params.port, self.params.baud)
        except OSError as error:
            self.link.report_io_error(str(error))
            self.get_logger().error(str(error), throttle_duration_sec=10.0)
            return False
        self.link.clear_io_error()
        self.get_logger().info(f'opened {self.params.port}')
        return True

    def _close(self, reason: str) -> None:
        self.link.report_io_error(reason)
        self.get_logger().error(f'serial port closed: {reason}')
        if self._port is not None:
            self._port.close()
        self._port = None

    def _write(self, data: bytes) -> None:
        if self._port is None:
            return
        try:
            if not self._port.write(data):
                self.tx_dropped += 1
        except OSError as error:
            self._close(str(error))

    def _log_state(self) -> None:
        state = self.link.state
        if state is self._logged_state:
            return
        if state is LinkState.OK:
            self.get_logger().info('motor link OK')
        elif self._logged_state is None:
            self.get_logger().info(f'waiting for the motor controller ({self.link.reason})')
        else:
            self.get_logger().error(f'motor link {state.value}: {self.link.reason}; wheels commanded to zero')
        self._logged_state = state

    def _publish_joint_states(self, feedback: Feedback) -> None:
        msg = JointState()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.name = [*self.wheel_joints, *self.steering_joints]
        msg.position = [*feedback.wheel_positions, *feedback.steering_angles]
        msg.velocity = [*feedback.wheel_velocities, *steering_rates(self._previous_feedback, feedback)]
        self._previous_feedback = feedback
        self._joint_pub.publish(msg)

    def _publish_estop(self, pressed: bool) -> None:
        self._estop_pub.publish(Bool(data=pressed))
        if pressed and self._published_estop is not True:
            self.get_logger().error('hardware e-stop PRESSED')
        elif not pressed and self._published_estop:
            self.get_logger().info('hardware e-stop released')
        self._published_estop = pressed

    def _fresh_feedback(self) -> Feedback | None:
        """The latest feedback, if the link is OK (stale values are not republished)."""
        return self.link.feedback if self.link.state is LinkState.OK else None

    def _publish_status(self) -> None:
        feedback = self._fresh_feedback()
        if feedback is None:
            return
        self._publish_estop(feedback.estop_pressed)
        msg = BatteryState()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.header.frame_id = self.params.battery_frame
        msg.voltage = float(feedback.battery_voltage)
        for name in ('temperature', 'current', 'charge', 'capacity', 'design_capacity', 'percentage'):
            setattr(msg, name, math.nan)
        msg.power_supply_status = BatteryState.POWER_SUPPLY_STATUS_UNKNOWN
        msg.present = True
        self._battery_pub.publish(msg)

    def _publish_diagnostics(self) -> None:
        msg = DiagnosticArray()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.status = [self.link_status(time.monotonic()), self.motor_status()]
        self._diag_pub.publish(msg)

    def link_status(self, now: float) -> DiagnosticStatus:
        link = self.link
        level = DiagnosticStatus.OK if link.state is LinkState.OK else DiagnosticStatus.ERROR
        age = link.last_frame_age(now)
        values = {
            'state': link.state.value,
            'port': self.params.port if self._port is not None else f'{self.params.port} (closed)',
            'last_frame_age_ms': 'never' if age is None else f'{age * 1000.0:.0f}',
            'round_trip_ms': 'unknown' if link.round_trip is None else f'{link.round_trip * 1000.0:.1f}',
            'frames_ok': str(link.decoder.frames_ok),
            'frames_skipped': str(link.decoder.frames_skipped),
            'tx_dropped': str(self.tx_dropped),
        }
        values.update({f'errors_{kind}': str(n) for kind, n in link.errors.items()})
        values['rejected_commands'] = str(sum(self.rejected.values()))
        values['estop_gate'] = 'open' if link.gate.open else f'closed: {link.gate.why_closed()}'
        values.update({f'rejected_{reason}': str(n) for reason, n in sorted(self.rejected.items())})
        return DiagnosticStatus(level=level, name=f'{NODE_NAME}: link',
                                message=f'{link.state.value}: {link.reason}', hardware_id=self.params.port,
                                values=[KeyValue(key=k, value=v) for k, v in values.items()])

    def motor_status(self) -> DiagnosticStatus:
        feedback = self._fresh_feedback()
        faults = fault_names(self.link.mcu_faults)
        if feedback is None:
            level, message = DiagnosticStatus.STALE, 'no fresh feedback'
        elif faults:
            level, message = DiagnosticStatus.WARN, 'faults: ' + ', '.join(faults)
        elif feedback.estop_pressed:
            level, message = DiagnosticStatus.WARN, 'hardware e-stop pressed'
        else:
            level, message = DiagnosticStatus.OK, 'ok'
        values = {'fault_flags': f'{self.link.mcu_faults:#06x}'}
        if feedback is not None:
            values['estop_pressed'] = str(feedback.estop_pressed)
            values['battery_voltage_v'] = f'{feedback.battery_voltage:.2f}'
            values.update({f'current_a_{joint}': f'{amps:.2f}' for joint, amps in zip(
                self.wheel_joints, feedback.wheel_currents, strict=True)})
        return DiagnosticStatus(level=level, name=f'{NODE_NAME}: motors', message=message,
                                hardware_id=self.params.port,
                                values=[KeyValue(key=k, value=v) for k, v in values.items()])

    def destroy_node(self):
        """Stop the wheels (zero command, steering held) and close the port."""
        if self._port is not None:
            self._write(self.link.stop_bytes())
            if self._port is not None:
                self._port.close()
                self._port = None
        return super().destroy_node()


def main(args=None) -> int:
    return run_node(MotorDriverNode, NODE_NAME, args)


if __name__ == '__main__':
    raise SystemExit(main())
