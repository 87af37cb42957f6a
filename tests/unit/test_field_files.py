"""The field set-up files agree with the rover profile: every device the profile opens is an argument whose
default a udev rule creates, and the example systemd unit starts the rover profile and stops it cleanly."""
import re
from pathlib import Path

import pytest

from rover_stack.bringup.node_set import load_node_sets, resolve

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
DEVICE_PARAMS = {'motor_driver': 'port', 'gnss_driver': 'port', 'imu_driver': 'port', 'camera_driver': 'device',
                 'sllidar_node': 'serial_port'}


def rover_devices(overrides=None) -> dict[str, str]:
    specs = resolve(load_node_sets(ROOT / 'config' / 'node_sets.yaml')['rover'], overrides or {}, ROOT)
    return {s.name: s.parameters[DEVICE_PARAMS[s.name]] for s in specs if s.name in DEVICE_PARAMS}


def test_every_device_of_the_rover_profile_is_an_argument_and_has_a_udev_rule():
    rules = [line for line in (ROOT / 'config' / 'udev' / '99-rover.rules').read_text().splitlines()
             if line.strip() and not line.startswith('#')]
    links = {'/dev/' + m.group(1) for line in rules for m in [re.search(r'SYMLINK\+="([^"]+)"', line)] if m}
    devices = rover_devices()
    assert set(devices) == set(DEVICE_PARAMS)
    assert set(devices.values()) == links
    for line in rules:
        assert re.fullmatch(r'(\w+(\{\w+\})?(==|\+?=)"[^"]*"(, )?)+', line), line
    moved = rover_devices({'motor_port': '/dev/pts/7', 'camera_device': '0', 'gnss_port': '/tmp/g',
                           'imu_port': '/tmp/i', 'lidar_port': '/tmp/l'})
    assert moved == {'motor_driver': '/dev/pts/7', 'gnss_driver': '/tmp/g', 'imu_driver': '/tmp/i',
                     'camera_driver': '0', 'sllidar_node': '/tmp/l'}     # a camera index stays text


def test_the_systemd_unit_starts_the_rover_profile_and_stops_it_with_sigint():
    unit = (ROOT / 'config' / 'systemd' / 'rover-stack.service').read_text()
    sections = re.findall(r'^\[(\w+)\]', unit, flags=re.M)
    assert sections == ['Unit', 'Service', 'Install']
    assert 'ros2 launch rover_stack rover.launch.py' in unit
    assert 'KillSignal=SIGINT' in unit and 'Restart=on-failure' in unit
    assert 'SupplementaryGroups=dialout video' in unit
