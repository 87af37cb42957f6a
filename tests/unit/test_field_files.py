"""The field set-up files agree with the rover profile: every device path of config/devices.yaml has a udev
rule that creates it, and the example systemd unit starts the rover profile and stops it cleanly."""
import re
from pathlib import Path

import pytest
import yaml

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def device_paths() -> dict[str, str]:
    data = yaml.safe_load((ROOT / 'config' / 'devices.yaml').read_text())
    return {key.removeprefix('/**/'): next(iter(section['ros__parameters'].values()))
            for key, section in data.items()}


def test_every_device_of_the_rover_profile_has_a_udev_rule():
    rules = [line for line in (ROOT / 'config' / 'udev' / '99-rover.rules').read_text().splitlines()
             if line.strip() and not line.startswith('#')]
    links = {'/dev/' + m.group(1) for line in rules for m in [re.search(r'SYMLINK\+="([^"]+)"', line)] if m}
    assert set(device_paths().values()) == links
    for line in rules:
        assert re.fullmatch(r'(\w+(\{\w+\})?(==|\+?=)"[^"]*"(, )?)+', line), line


def test_every_node_of_the_rover_profile_that_opens_a_device_reads_it_from_devices_yaml():
    profile = yaml.safe_load((ROOT / 'config' / 'node_sets.yaml').read_text())['profiles']['rover']
    with_devices = {node['name'] for node in profile['nodes']
                    if 'name' in node and 'config/devices.yaml' in node.get('parameters', [])}
    assert with_devices == set(device_paths()) == {'motor_driver', 'gnss_driver', 'imu_driver', 'camera_driver',
                                                   'sllidar_node'}


def test_the_systemd_unit_starts_the_rover_profile_and_stops_it_with_sigint():
    unit = (ROOT / 'config' / 'systemd' / 'rover-stack.service').read_text()
    sections = re.findall(r'^\[(\w+)\]', unit, flags=re.M)
    assert sections == ['Unit', 'Service', 'Install']
    assert 'ros2 launch rover_stack rover.launch.py' in unit
    assert 'KillSignal=SIGINT' in unit and 'Restart=on-failure' in unit
    assert 'SupplementaryGroups=dialout video' in unit
