"""ROS 2 node gnss_driver: an NMEA 0183 GNSS receiver on a serial port -> gnss/fix (contract)."""
from __future__ import annotations

import math
import time
from dataclasses import dataclass

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node
from sensor_msgs.msg import NavSatFix, NavSatStatus

from rover_stack.common.node_main import run_node
from rover_stack.common.params import declare_params, param
from rover_stack.common.qos import command_qos, sensor_qos
from rover_stack.drivers.gnss_nmea import COV_UNKNOWN, NO_FIX, Fix, FixAssembler, parse_line
from rover_stack.drivers.nmea import NmeaError
from rover_stack.drivers.serial_lines import ReconnectingLines

NODE_NAME = 'gnss_driver'


@dataclass
class GnssDriverParams:
    port: str = param('/dev/ttyACM1', 'Serial device of the GNSS receiver (udev symlink recommended)',
                      read_only=True)
    baud: int = param(9600, 'Serial baud rate (ignored by USB CDC receivers)', unit='baud', low=1200,
                      high=4_000_000, read_only=True)
    frame_id: str = param('gnss_link', 'header.frame_id of gnss/fix (the antenna frame)', read_only=True)
    uere: float = param(3.0, 'User-equivalent range error: sigma = HDOP * uere when the receiver sends '
                        'no GST', unit='m', low=0.01, high=100.0, read_only=True)
    poll_rate: float = param(50.0, 'Rate at which the port is read', unit='Hz', low=5.0, high=1000.0,
                             read_only=True)
    no_data_timeout: float = param(1.0, 'No fix sentence for this long: publish NO_FIX every this period',
                                   unit='s', low=0.1, high=10.0, read_only=True)
    reconnect_period: float = param(1.0, 'Retry period for opening the port', unit='s', low=0.1, high=60.0,
                                    read_only=True)


def fix_message(fix: Fix, frame_id: str, stamp) -> NavSatFix:
    """A NavSatFix for ``fix`` (service GPS; NaN position when there is no fix)."""
    msg = NavSatFix()
    msg.header.stamp = stamp
    msg.header.frame_id = frame_id
    msg.status.status = fix.status
    msg.status.service = NavSatStatus.SERVICE_GPS
    msg.latitude, msg.longitude, msg.altitude = fix.latitude, fix.longitude, fix.altitude
    east, north, up = fix.covariance
    msg.position_covariance = [east, 0.0, 0.0, 0.0, north, 0.0, 0.0, 0.0, up]
    msg.position_covariance_type = fix.covariance_type
    return msg


class GnssDriverNode(Node):
    """NMEA GNSS receiver driver (GGA, RMC, GST; docs/drivers.md).

    Publishes:
      * ``gnss/fix`` (sensor_msgs/NavSatFix, sensor QoS, frame ``frame_id``): one per GGA epoch (the
        receiver's rate, 5 Hz in the contract); status from the fix quality; covariance from GST when
        the receiver sends it, else (HDOP * uere)^2; NO_FIX with NaN position when the receiver has no
        fix, and every ``no_data_timeout`` s while nothing valid arrives (unplugged, silent, garbage).
      * ``diagnostics`` (diagnostic_msgs/DiagnosticArray, 1 Hz): ERROR while the port is not open or no
        fix sentence came for ``no_data_timeout`` s, WARN while the receiver reports no fix, else OK;
        counts of bad sentences and reconnections.
    Parameters: ``GnssDriverParams`` (port, baud, frame_id, uere m, poll_rate Hz, no_data_timeout s,
    reconnect_period s). Bad checksums and malformed sentences are counted and logged, never published.
    """

    def __init__(self, **node_kwargs):
        super().__init__(NODE_NAME, **node_kwargs)
        self.params = p = declare_params(self, GnssDriverParams)
        self.assembler = FixAssembler(p.uere)
        self.lines = ReconnectingLines(p.port, p.baud, p.reconnect_period)
        self.bad_sentences = 0
        self._last_fix_time = time.monotonic()
        self._last_error = ''
        self._last_status = NO_FIX
        self._pub = self.create_publisher(NavSatFix, 'gnss/fix', sensor_qos())
        self._diag_pub = self.create_publisher(DiagnosticArray, 'diagnostics', command_qos())
        self.create_timer(1.0 / p.poll_rate, self._step)
        self.create_timer(1.0, self._publish_diagnostics)

    def _step(self) -> None:
        now = time.monotonic()
        for line in self.lines.poll(now):
            try:
                fix = self.assembler.on_sentence(parse_line(line), now)
            except NmeaError as error:
                self.bad_sentences += 1
                self.get_logger().warning(f'bad NMEA sentence ({self.bad_sentences} so far): {error}',
                                          throttle_duration_sec=5.0)
                continue
            if fix is not None:
                self._publish(fix)
                self._last_fix_time, self._last_status = now, fix.status
        if self.lines.error and self.lines.error != self._last_error:
            self.get_logger().error(f'{self.lines.error}; retrying every {self.params.reconnect_period} s')
        self._last_error = self.lines.error
        if now - self._last_fix_time > self.params.no_data_timeout:
            self._publish(Fix(NO_FIX, math.nan, math.nan, math.nan, (0.0, 0.0, 0.0), COV_UNKNOWN))
            self._last_fix_time, self._last_status = now, None    # None: no data (not a receiver's NO_FIX)

    def _publish(self, fix: Fix) -> None:
        self._pub.publish(fix_message(fix, self.params.frame_id, self.get_clock().now().to_msg()))

    def _publish_diagnostics(self) -> None:
        if not self.lines.open:
            level, message = DiagnosticStatus.ERROR, f'GNSS port not open: {self.lines.error or "opening"}'
        elif self._last_status is None:
            level = DiagnosticStatus.ERROR
            message = (f'no valid fix sentence for {self.params.no_data_timeout:g} s '
                       f'({self.bad_sentences} bad sentences so far)')
        elif self._last_status == NO_FIX:
            level, message = DiagnosticStatus.WARN, 'receiver reports no fix'
        else:
            level, message = DiagnosticStatus.OK, 'fix'
        if level == DiagnosticStatus.ERROR:
            self.get_logger().error(message, throttle_duration_sec=5.0)
        values = {'port': self.params.port, 'open': str(self.lines.open),
                  'bad_sentences': str(self.bad_sentences), 'dropped_lines': str(self.lines.dropped),
                  'reconnects': str(self.lines.reconnects)}
        array = DiagnosticArray(status=[DiagnosticStatus(
            level=level, name=f'{self.get_name()}: gnss', message=message, hardware_id=self.params.port,
            values=[KeyValue(key=k, value=v) for k, v in values.items()])])
        array.header.stamp = self.get_clock().now().to_msg()
        self._diag_pub.publish(array)

    def destroy_node(self) -> None:
        self.lines.close()
        super().destroy_node()


def main(args=None) -> int:
    return run_node(GnssDriverNode, NODE_NAME, args)


if __name__ == '__main__':
    raise SystemExit(main())
