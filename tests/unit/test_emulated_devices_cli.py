"""`rover sim --devices emulated`: the commands it builds and its argument checks (no processes started)."""
import math

import pytest

from rover_stack.bringup.node_set import load_node_sets, resolve
from rover_stack.bringup.runner import default_config
from rover_stack.cli import emulated_devices as emulation
from rover_stack.cli.sim import main


def _pairs(argv, flag):
    return dict(argv[i + 1].split(':=', 1) for i, a in enumerate(argv) if a == flag)


def test_simulator_command_uses_the_rover_camera_and_the_vendor_scan(tmp_path):
    argv = emulation.simulator_argv('/c/urc_sprint.yaml', 'skid4', 3, tmp_path, 'imu_silent@1+2')
    params = _pairs(argv, '-p')
    assert params['devices'] == 'emulated' and params['devices_dir'] == str(tmp_path)
    assert params['seed'] == '3' and params['device_faults'] == 'imu_silent@1+2'
    assert (params['camera.width'], params['camera.height'], params['camera.rate'], params['camera.fovy']) == (
        '640', '480', '15.0', '50.0')        # config/perception.yaml camera_driver
    assert float(params['range.angle_min']) == pytest.approx(-math.pi)
    assert params['range.samples'] == '360' and params['range.rate'] == '10.0'


def test_rover_command_passes_only_device_paths_and_wall_clock():
    devices = {'motor_port': '/d/motors', 'gnss_port': '/d/gnss', 'imu_port': '/d/imu',
               'camera_device': 'http://127.0.0.1:9/stream.mjpg'}
    argv = emulation.rover_runner_argv(devices, {'robot_config': 'skid4', 'use_sim_time': 'true'})
    assert argv[:3] == ['nice', '-n', str(emulation.STACK_NICE)] and 'rover' in argv
    args = _pairs(argv, '--arg')
    assert args['use_sim_time'] == 'false' and args['lidar'] == 'none'
    assert {k: args[k] for k in devices} == devices
    profile = load_node_sets(default_config())['rover']
    names = {spec.name for spec in resolve(profile, args)}   # every argument one the rover profile declares
    assert set(emulation.DRIVERS) <= names and 'sllidar_node' not in names


def test_wait_for_devices_reports_a_dead_simulator_and_reads_the_file(tmp_path):
    with pytest.raises(RuntimeError, match='stopped'):
        emulation.wait_for_devices(tmp_path, alive=lambda: False, timeout=5.0)
    (tmp_path / 'devices.yaml').write_text('motor_port: /m\ngnss_port: /g\nimu_port: /i\n')
    with pytest.raises(RuntimeError, match='camera_device'):
        emulation.wait_for_devices(tmp_path, alive=lambda: True, timeout=5.0)
    (tmp_path / 'devices.yaml').write_text('motor_port: /m\ngnss_port: /g\nimu_port: /i\ncamera_device: u\n')
    assert emulation.wait_for_devices(tmp_path, alive=lambda: True)['camera_device'] == 'u'


def test_drivers_started_from_the_runner_log(tmp_path):
    log = tmp_path / 'stack.log'
    log.write_text('[rover_runner] started gnss_driver (pid 5)\n[rover_runner] started motor_driver (pid 4)\n')
    assert emulation.drivers_started(log) == ['motor_driver', 'gnss_driver']
    assert emulation.drivers_started(tmp_path / 'none.log') == []


@pytest.mark.parametrize('argv', [['--device-faults', 'gnss_unplug@1+2'],
                                  ['--devices', 'emulated', '--device-faults', 'warp@1+2']])
def test_bad_device_options_exit_2(argv, capsys):
    assert main(['--course', 'urc_sprint', *argv]) == 2
    assert 'device-faults' in capsys.readouterr().err
