"""gnss_driver node reading recorded NMEA from a pseudo-terminal: what it publishes meets the contract."""
import math
import os

import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter
from sensor_msgs.msg import NavSatFix, NavSatStatus

from rover_stack.common.qos import sensor_qos
from rover_stack.contract.checks import run_checks
from rover_stack.contract.model import load_contract
from rover_stack.drivers.gnss_driver_node import GnssDriverNode
from rover_stack.drivers.nmea import with_checksum
from rover_stack.testing.waiting import spin_until

SPEC = load_contract().topic('gnss/fix')
NO_DATA_TIMEOUT = 0.3   # s


def epoch(second: int, quality: int = 1, gst: bool = True) -> bytes:
    """One 1 Hz epoch of a u-blox-like receiver near the MDRS datum: GST, GGA, RMC."""
    time_text = f'1200{second:02d}.00'
    lines = []
    if gst:
        lines.append(with_checksum(f'GNGST,{time_text},1.1,0.9,0.7,30.0,0.8,0.6,1.4'))
    if quality:
        lines.append(with_checksum(f'GNGGA,{time_text},3824.3840,N,11047.5140,W,{quality},12,0.9,1325.0,M,-17.0,M,,'))
    else:
        lines.append(with_checksum(f'GNGGA,{time_text},,,,,0,00,99.99,,,,,,'))
    lines.append(with_checksum(f'GNRMC,{time_text},{"A" if quality else "V"},3824.3840,N,11047.5140,W,0.0,,271126,,,A'))
    return ''.join(line + '\r\n' for line in lines).encode()


@pytest.fixture
def rig(ros_context):
    master, slave = os.openpty()
    driver = GnssDriverNode(context=ros_context, parameter_overrides=[
        Parameter('port', value=os.ttyname(slave)), Parameter('no_data_timeout', value=NO_DATA_TIMEOUT)])
    probe = rclpy.create_node('gnss_probe', context=ros_context)
    fixes = []
    probe.create_subscription(NavSatFix, 'gnss/fix', fixes.append, sensor_qos(50))
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(driver)
    executor.add_node(probe)
    spin_until(executor, lambda: driver.count_subscribers('gnss/fix') > 0
               and probe.count_publishers('gnss/fix') > 0 and driver.lines.open, 5.0, 'discovery')
    yield executor, driver, fixes, master
    executor.shutdown()
    probe.destroy_node()
    driver.destroy_node()
    os.close(master)
    os.close(slave)


def test_fixes_meet_the_contract_with_gst_covariance(rig):
    executor, _driver, fixes, master = rig
    os.write(master, epoch(0) + epoch(1))
    spin_until(executor, lambda: sum(f.status.status == NavSatStatus.STATUS_FIX for f in fixes) >= 2, 5.0, 'fixes')
    good = [f for f in fixes if f.status.status == NavSatStatus.STATUS_FIX]
    for fix in good:
        assert fix.header.frame_id == SPEC.frame_id
        assert run_checks(fix, SPEC.checks) == []
        assert fix.latitude == pytest.approx(38 + 24.384 / 60) and fix.longitude == pytest.approx(-(110 + 47.514 / 60))
        assert fix.altitude == pytest.approx(1308.0)
        assert fix.position_covariance_type == NavSatFix.COVARIANCE_TYPE_DIAGONAL_KNOWN
        assert list(fix.position_covariance) == pytest.approx([0.36, 0, 0, 0, 0.64, 0, 0, 0, 1.96])


def test_partial_lines_bad_checksums_and_no_fix_periods(rig):
    executor, driver, fixes, master = rig
    data = epoch(0, gst=False)
    os.write(master, data[:25])                       # a sentence cut in the middle ...
    spin_until(executor, lambda: True, 0.1)
    os.write(master, data[25:])                       # ... completed later
    corrupted = epoch(1).replace(b'3824.3840', b'3824.3841')   # bad checksums: never published
    os.write(master, corrupted + epoch(2, quality=0) + epoch(3, quality=4))
    spin_until(executor, lambda: any(f.status.status == NavSatStatus.STATUS_GBAS_FIX for f in fixes), 5.0,
               'RTK fix after the no-fix epoch')
    statuses = [f.status.status for f in fixes]
    first = statuses.index(NavSatStatus.STATUS_FIX)   # NO_FIX may come before it (silence during discovery)
    rtk = statuses.index(NavSatStatus.STATUS_GBAS_FIX)
    between = statuses[first + 1:rtk]
    assert between and set(between) == {NavSatStatus.STATUS_NO_FIX}   # the corrupted epoch added nothing
    assert fixes[first].position_covariance_type == NavSatFix.COVARIANCE_TYPE_APPROXIMATED   # no GST: HDOP
    assert math.isnan(fixes[first + 1].latitude)
    assert driver.bad_sentences == 2   # the GGA and RMC of the corrupted epoch (its GST is intact)
    for fix in fixes:
        assert run_checks(fix, SPEC.checks) == []


def test_silence_publishes_no_fix_periodically(rig):
    executor, _driver, fixes, master = rig
    os.write(master, epoch(0))
    def after_fix():
        statuses = [f.status.status for f in fixes]
        return statuses[statuses.index(0) + 1:] if 0 in statuses else []

    spin_until(executor, lambda: len(after_fix()) >= 2, 5.0, 'NO_FIX after the receiver went quiet')
    assert set(after_fix()) == {NavSatStatus.STATUS_NO_FIX}
    assert run_checks(fixes[-1], SPEC.checks) == []


def test_missing_port_still_reports_no_fix(ros_context):
    driver = GnssDriverNode(context=ros_context, parameter_overrides=[
        Parameter('port', value='/dev/no_such_gnss'), Parameter('no_data_timeout', value=NO_DATA_TIMEOUT)])
    probe = rclpy.create_node('gnss_probe', context=ros_context)
    fixes = []
    probe.create_subscription(NavSatFix, 'gnss/fix', fixes.append, sensor_qos())
    executor = SingleThreadedExecutor(context=ros_context)
    try:
        executor.add_node(driver)
        executor.add_node(probe)
        spin_until(executor, lambda: fixes, 5.0, 'NO_FIX without a port')
        assert fixes[0].status.status == NavSatStatus.STATUS_NO_FIX and 'cannot open' in driver.lines.error
    finally:
        executor.shutdown()
        probe.destroy_node()
        driver.destroy_node()
