"""gnss_driver and imu_driver diagnostics: a silent, garbled or missing device is ERROR in /diagnostics with
a clear message, a valid stream is OK (docs/drivers.md). One table, both drivers, on pseudo-terminals."""
import os
import time

import pytest
import rclpy
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter

from rover_stack.common.qos import command_qos
from rover_stack.drivers.gnss_driver_node import GnssDriverNode
from rover_stack.drivers.imu_driver_node import ImuDriverNode
from rover_stack.sim.device_lines import gnss_epoch, imu_line
from rover_stack.testing.waiting import spin_until


def _imu_data(i: int) -> bytes:
    return imu_line(i, (0.0, 0.0, 0.0, 1.0), (0.0, 0.0, 0.1), (0.0, 0.0, 9.81)).encode()


def _gnss_data(i: int) -> bytes:
    return ''.join(gnss_epoch(1_790_000_000.0 + i * 0.2, True, latitude=38.4, longitude=-110.8, altitude=1340.0,
                              sigma_horizontal=2.5, sigma_vertical=4.0)).encode()


DRIVERS = {'imu': (ImuDriverNode, _imu_data, 0.01), 'gnss': (GnssDriverNode, _gnss_data, 0.2)}


class Rig:
    def __init__(self, ros_context, kind: str, port: str):
        cls, self.data, self.period = DRIVERS[kind]
        self.driver = cls(context=ros_context, parameter_overrides=[
            Parameter('port', value=port), Parameter('no_data_timeout', value=0.5),
            Parameter('reconnect_period', value=0.2)])
        self.probe = rclpy.create_node('diag_probe', context=ros_context)
        self.statuses: list[DiagnosticStatus] = []
        self.probe.create_subscription(DiagnosticArray, 'diagnostics',
                                       lambda m: self.statuses.extend(m.status), command_qos())
        self.executor = SingleThreadedExecutor(context=ros_context)
        self.executor.add_node(self.driver)
        self.executor.add_node(self.probe)

    def feed(self, master: int, seconds: float, start: int = 0) -> None:
        """Valid data at the device's rate for ``seconds`` of wall time, spinning meanwhile."""
        end, i, due = time.monotonic() + seconds, start, time.monotonic()
        while time.monotonic() < end:
            if time.monotonic() >= due:
                os.write(master, self.data(i))
                i, due = i + 1, due + self.period
            self.executor.spin_once(timeout_sec=0.005)

    def wait_level(self, level: int, timeout: float = 10.0) -> DiagnosticStatus:
        self.statuses.clear()
        spin_until(self.executor, lambda: any(s.level == level for s in self.statuses), timeout,
                   f'diagnostics level {level}')
        return next(s for s in self.statuses if s.level == level)

    def close(self) -> None:
        self.executor.shutdown()
        self.probe.destroy_node()
        self.driver.destroy_node()


@pytest.mark.parametrize('kind', sorted(DRIVERS))
def test_stream_ok_then_silence_and_garbage_are_error(ros_context, kind):
    master, slave = os.openpty()
    rig = Rig(ros_context, kind, os.ttyname(slave))
    try:
        spin_until(rig.executor, lambda: rig.driver.lines.open, 10.0, 'port open')
        rig.feed(master, 1.5)
        rig.statuses.clear()
        rig.feed(master, 1.5, start=100)
        assert any(s.level == DiagnosticStatus.OK for s in rig.statuses), rig.statuses
        silent = rig.wait_level(DiagnosticStatus.ERROR)          # stalled stream
        assert 'no valid' in silent.message
        os.write(master, bytes(range(256)) * 4 + b'$GARBAGE*00\r\n\x00\xff')
        garbled = rig.wait_level(DiagnosticStatus.ERROR)
        assert 'no valid' in garbled.message
        assert rig.driver.lines.open                             # the node keeps reading
        rig.statuses.clear()
        rig.feed(master, 2.5, start=200)
        assert any(s.level == DiagnosticStatus.OK for s in rig.statuses)   # and recovers on valid data
    finally:
        rig.close()
        os.close(master)
        os.close(slave)


@pytest.mark.parametrize('kind', sorted(DRIVERS))
def test_missing_device_is_error_with_the_path(ros_context, kind, tmp_path):
    rig = Rig(ros_context, kind, str(tmp_path / 'nothing_here'))
    try:
        status = rig.wait_level(DiagnosticStatus.ERROR)
        assert 'port not open' in status.message and 'nothing_here' in status.message
    finally:
        rig.close()
