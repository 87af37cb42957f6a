"""ROS 2 node imu_driver: an IMU speaking the $IMU line protocol on a serial port -> imu/data."""
from __future__ import annotations

import time
from dataclasses import dataclass

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node
from sensor_msgs.msg import Imu

from rover_stack.common.node_main import run_node
from rover_stack.common.params import declare_params, param
from rover_stack.common.qos import command_qos, sensor_qos
from rover_stack.drivers.imu_serial import ImuFormatError, ImuSample, lost_samples, parse_imu_line
from rover_stack.drivers.serial_lines import ReconnectingLines

NODE_NAME = 'imu_driver'


@dataclass
class ImuDriverParams:
    port: str = param('/dev/ttyUSB0', 'Serial device of the IMU board (udev symlink recommended)',
                      read_only=True)
    baud: int = param(115200, 'Serial baud rate', unit='baud', low=1200, high=4_000_000, read_only=True)
    frame_id: str = param('imu_link', 'header.frame_id of imu/data', read_only=True)
    poll_rate: float = param(200.0, 'Rate at which the port is read (at least the IMU rate)', unit='Hz',
                             low=10.0, high=2000.0, read_only=True)
    orientation_variance: float = param(0.0003, 'Variance of each orientation angle', unit='rad^2',
                                        low=0.0, high=10.0, read_only=True)
    angular_velocity_variance: float = param(1e-5, 'Variance of each angular velocity axis',
                                             unit='(rad/s)^2', low=0.0, high=10.0, read_only=True)
    linear_acceleration_variance: float = param(1e-3, 'Variance of each acceleration axis',
                                                unit='(m/s^2)^2', low=0.0, high=100.0, read_only=True)
    reconnect_period: float = param(1.0, 'Retry period for opening the port', unit='s', low=0.1, high=60.0,
                                    read_only=True)
    no_data_timeout: float = param(0.5, 'No valid sample for this long: diagnostics ERROR', unit='s',
                                   low=0.05, high=10.0, read_only=True)


def _diagonal(variance: float) -> list[float]:
    return [variance, 0.0, 0.0, 0.0, variance, 0.0, 0.0, 0.0, variance]


def imu_message(sample: ImuSample, params: ImuDriverParams, stamp) -> Imu:
    """An Imu message for ``sample``; orientation_covariance[0] = -1 when there is no orientation."""
    msg = Imu()
    msg.header.stamp = stamp
    msg.header.frame_id = params.frame_id
    if sample.orientation is None:
        msg.orientation_covariance = [-1.0] + [0.0] * 8
    else:
        w, x, y, z = sample.orientation
        msg.orientation.w, msg.orientation.x, msg.orientation.y, msg.orientation.z = w, x, y, z
        msg.orientation_covariance = _diagonal(params.orientation_variance)
    msg.angular_velocity.x, msg.angular_velocity.y, msg.angular_velocity.z = sample.angular_velocity
    acc = msg.linear_acceleration
    acc.x, acc.y, acc.z = sample.linear_acceleration
    msg.angular_velocity_covariance = _diagonal(params.angular_velocity_variance)
    msg.linear_acceleration_covariance = _diagonal(params.linear_acceleration_variance)
    return msg


class ImuDriverNode(Node):
    """Serial IMU driver for the $IMU line protocol (rover_stack.drivers.imu_serial, docs/drivers.md).

    Publishes:
      * ``imu/data`` (sensor_msgs/Imu, sensor QoS, frame ``frame_id``): one message per valid sample (the
        IMU's rate, 100 Hz in the contract); orientation in ENU (REP-145) or covariance[0] = -1;
        angular velocity rad/s; acceleration m/s^2 including gravity; diagonal covariances from the
        parameters. Nothing is published while no valid samples arrive (consumers time out).
      * ``diagnostics`` (diagnostic_msgs/DiagnosticArray, 1 Hz): ERROR while the port is not open or no
        valid sample came for ``no_data_timeout`` s (silent, stalled, garbage), else OK; counts of bad
        lines, lost samples and reconnections.
    Parameters: ``ImuDriverParams`` (port, baud, frame_id, poll_rate Hz, variances, reconnect_period s).
    Invalid lines (checksum, format, range) and sequence gaps are counted and logged.
    """

    def __init__(self, **node_kwargs):
        super().__init__(NODE_NAME, **node_kwargs)
        self.params = p = declare_params(self, ImuDriverParams)
        self.lines = ReconnectingLines(p.port, p.baud, p.reconnect_period)
        self.bad_lines = 0
        self.lost = 0
        self._seq: int | None = None
        self._last_error = ''
        self._last_sample = None       # monotonic s of the last valid sample
        self._pub = self.create_publisher(Imu, 'imu/data', sensor_qos())
        self._diag_pub = self.create_publisher(DiagnosticArray, 'diagnostics', command_qos())
        self.create_timer(1.0 / p.poll_rate, self._step)
        self.create_timer(1.0, self._publish_diagnostics)

    def _step(self) -> None:
        for line in self.lines.poll(time.monotonic()):
            try:
                sample = parse_imu_line(line)
            except ImuFormatError as error:
                self.bad_lines += 1
                self.get_logger().warning(f'bad IMU line ({self.bad_lines} so far): {error}',
                                          throttle_duration_sec=5.0)
                continue
            if sample is None:
                continue
            self.lost += lost_samples(self._seq, sample.seq)
            self._seq, self._last_sample = sample.seq, time.monotonic()
            self._pub.publish(imu_message(sample, self.params, self.get_clock().now().to_msg()))
        if self.lines.error and self.lines.error != self._last_error:
            self.get_logger().error(f'{self.lines.error}; retrying every {self.params.reconnect_period} s')
        self._last_error = self.lines.error

    def _publish_diagnostics(self) -> None:
        age = None if self._last_sample is None else time.monotonic() - self._last_sample
        silent = age is None or age > self.params.no_data_timeout
        if not self.lines.open:
            message = f'IMU port not open: {self.lines.error or "opening"}'
        elif silent:
            message = 'no valid IMU sample yet' if age is None else f'no valid IMU sample for {age:.1f} s'
            message += f' ({self.bad_lines} bad lines so far)' if self.bad_lines else ''
        else:
            message = 'streaming'
        level = DiagnosticStatus.ERROR if silent or not self.lines.open else DiagnosticStatus.OK
        if level == DiagnosticStatus.ERROR:
            self.get_logger().error(message, throttle_duration_sec=5.0)
        values = {'port': self.params.port, 'open': str(self.lines.open), 'bad_lines': str(self.bad_lines),
                  'dropped_bytes_lines': str(self.lines.dropped), 'lost_samples': str(self.lost),
                  'reconnects': str(self.lines.reconnects),
                  'sample_age_s': 'never' if age is None else f'{age:.3f}'}
        array = DiagnosticArray(status=[DiagnosticStatus(
            level=level, name=f'{self.get_name()}: imu', message=message, hardware_id=self.params.port,
            values=[KeyValue(key=k, value=v) for k, v in values.items()])])
        array.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(array)

    def destroy_node(self) -> None:
        self.lines.close()
        super().destroy_node()


def main(args=None) -> int:
    return run_node(ImuDriverNode, NODE_NAME, args)


if __name__ == '__main__':
    raise SystemExit(main())
