"""imu_driver node reading $IMU lines from a pseudo-terminal: what it publishes meets the contract."""
import os

import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import Imu

from rover_stack.common.qos import sensor_qos
from rover_stack.contract.checks import run_checks
from rover_stack.contract.model import load_contract
from rover_stack.drivers.imu_driver_node import ImuDriverNode
from rover_stack.drivers.imu_serial import ImuSample, format_imu_line
from rover_stack.drivers.nmea import with_checksum
from rover_stack.testing.waiting import spin_until

SPEC = load_contract().topic('imu/data')


def lines(*samples) -> bytes:
    return ''.join((s if isinstance(s, str) else format_imu_line(s)) + '\r\n' for s in samples).encode()


@pytest.fixture
def rig(ros_context):
    master, slave = os.openpty()
    driver = ImuDriverNode(context=ros_context, parameter_overrides=[Parameter('port', value=os.ttyname(slave))])
    probe = rclpy.create_node('imu_probe', context=ros_context)
    received = []
    probe.create_subscription(Imu, 'imu/data', received.append, sensor_qos(100))
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(driver)
    executor.add_node(probe)
    spin_until(executor, lambda: driver.count_subscribers('imu/data') > 0
               and probe.count_publishers('imu/data') > 0 and driver.lines.open, 5.0, 'discovery')
    yield executor, driver, received, master
    executor.shutdown()
    probe.destroy_node()
    driver.destroy_node()
    os.close(master)
    os.close(slave)


def test_samples_meet_the_contract(rig):
    executor, _driver, received, master = rig
    level = ImuSample(0, (1.0, 0.0, 0.0, 0.0), (0.0, 0.0, 0.2), (0.0, 0.0, 9.81))
    bare = ImuSample(1, None, (0.1, 0.0, 0.0), (0.0, 0.5, 9.7))
    os.write(master, lines(level, bare))
    spin_until(executor, lambda: len(received) >= 2, 5.0, 'two samples')
    first, second = received[:2]
    for msg in (first, second):
        assert msg.header.frame_id == SPEC.frame_id
        assert run_checks(msg, SPEC.checks) == []
    assert (first.orientation.w, first.angular_velocity.z, first.linear_acceleration.z) == (1.0, 0.2, 9.81)
    assert first.orientation_covariance[0] == pytest.approx(0.0003)
    assert second.orientation_covariance[0] == -1.0
    assert second.linear_acceleration.y == 0.5


def test_bad_lines_are_dropped_and_gaps_counted(rig):
    executor, driver, received, master = rig
    good = [ImuSample(seq, (1.0, 0.0, 0.0, 0.0), (0.0, 0.0, 0.0), (0.0, 0.0, 9.81)) for seq in (10, 11, 14)]
    bad_checksum = format_imu_line(good[0])[:-2] + '00'
    out_of_range = with_checksum('IMU,12,1,0,0,0,50,0,0,0,0,9.8')
    data = lines(good[0], bad_checksum, out_of_range, good[1], 'garbage without dollar', good[2])
    os.write(master, data[:30])
    spin_until(executor, lambda: True, 0.05)
    os.write(master, data[30:])
    spin_until(executor, lambda: len(received) >= 3, 5.0, 'the three valid samples')
    spin_until(executor, lambda: driver.bad_lines >= 3, 2.0, 'bad lines counted')
    assert len(received) == 3 and driver.bad_lines == 3
    assert driver.lost == 2    # 12 and 13 never arrived valid
    assert all(run_checks(m, SPEC.checks) == [] for m in received)
