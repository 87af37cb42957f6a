"""``rover sim --devices emulated``: the simulator as emulated devices, and the rover profile's command that
opens them (docs/device_emulation.md).

The simulator runs as ``rover_simulator`` with ``devices: emulated`` (its own process, output in
devices.log); once it has written ``devices.yaml`` the job starts the ``rover`` profile (its real
drivers, the on-board stack) with the device paths as the profile's launch arguments, wall-clock time
and ``lidar:=none`` (the simulator publishes ``scan`` as the vendor lidar driver would). The emulated
camera takes the rover camera's declared size, rate and field of view (config/perception.yaml
``camera_driver``), the emulated scan the vendor's (an RPLIDAR A1/A2 in Standard mode).
"""
from __future__ import annotations

import math
import sys
import time
from pathlib import Path

import yaml

from rover_stack.common.share_files import package_share_dir
from rover_stack.sim.device_emulation import DEVICES_FILE

PROFILE = 'rover'
DRIVERS = ('motor_driver', 'gnss_driver', 'imu_driver', 'camera_driver')
DEVICE_ARGS = ('motor_port', 'gnss_port', 'imu_port', 'camera_device')
#: sllidar_node's scan for an A1/A2 in Standard mode: 360 beams over a full turn, 10 Hz, 0.15-12 m
VENDOR_SCAN = {'range.angle_min': -math.pi, 'range.angle_max': math.pi, 'range.samples': 360,
               'range.range_min': 0.15, 'range.range_max': 12.0, 'range.rate': 10.0}
DEVICES_WAIT = 120.0    # s wall for the simulator to bring its devices up on a loaded machine
#: The rover's devices are other chips and do not share its CPU: on a shared machine the stack runs at a
#: lower priority than the emulated devices, so a busy stack does not starve the motor controller's link
STACK_NICE = 5


def camera_as_declared(share: Path | None = None) -> dict[str, float]:
    """The simulator's camera parameters for the rover camera of config/perception.yaml (camera_driver:
    width, height px, fps Hz, fovy deg), so the unchanged driver's pinhole matches the rendered images."""
    path = (share or package_share_dir()) / 'config' / 'perception.yaml'
    section = yaml.safe_load(path.read_text(encoding='utf-8'))['/**/camera_driver']['ros__parameters']
    return {'camera.width': int(section['width']), 'camera.height': int(section['height']),
            'camera.rate': float(section['fps']), 'camera.fovy': float(section['fovy'])}


def simulator_argv(course_path: str, robot_config: str, seed: int, devices_dir: Path,
                   faults: str = '') -> list[str]:
    """The ``rover_simulator`` command in device-emulation mode."""
    share = package_share_dir()
    values = {'course': course_path, 'robot_config': robot_config, 'seed': seed, 'devices': 'emulated',
              'devices_dir': str(devices_dir), 'use_sim_time': False, **camera_as_declared(share),
              **VENDOR_SCAN}
    if faults:
        values['device_faults'] = faults
    argv = [sys.executable, '-m', 'rover_stack.sim.rover_simulator_node', '--ros-args',
            '-r', '__node:=rover_simulator',
            '--params-file', str(share / 'config' / 'simulator.yaml')]
    for name, value in values.items():
        text = ('true' if value else 'false') if isinstance(value, bool) else str(value)
        argv += ['-p', f'{name}:={text}']
    return argv


def wait_for_devices(devices_dir: Path, alive, timeout: float = DEVICES_WAIT) -> dict[str, str]:
    """The launch arguments the simulator wrote (devices.yaml); RuntimeError when it stopped or took longer
    than ``timeout`` s. ``alive()``: the simulator process is running."""
    path = Path(devices_dir) / DEVICES_FILE
    deadline = time.monotonic() + timeout
    while not path.exists():
        if not alive():
            raise RuntimeError('the device emulation stopped before its devices were up (see devices.log)')
        if time.monotonic() > deadline:
            raise RuntimeError(f'no {path} after {timeout:.0f} s (see devices.log)')
        time.sleep(0.2)
    devices = yaml.safe_load(path.read_text(encoding='utf-8'))
    missing = [name for name in DEVICE_ARGS if not devices.get(name)]
    if missing:
        raise RuntimeError(f'{path} lacks {", ".join(missing)}')
    return {name: str(devices[name]) for name in DEVICE_ARGS}


def rover_runner_argv(devices: dict[str, str], values: dict[str, str], node_sets: str = '') -> list[str]:
    """The process runner with the ``rover`` profile on the emulated devices: wall-clock time, no vendor
    lidar, at STACK_NICE; ``values`` are the other launch arguments (robot_config, mission, ...)."""
    argv = ['nice', '-n', str(STACK_NICE), sys.executable, '-m', 'rover_stack.bringup.runner', PROFILE]
    if node_sets:
        argv += ['--config', str(Path(node_sets).resolve())]
    for name, value in {**values, **devices, 'use_sim_time': 'false', 'lidar': 'none'}.items():
        argv += ['--arg', f'{name}:={value}']
    return argv


def drivers_started(stack_log: Path) -> list[str]:
    """The real drivers the runner started (from its ``started NAME`` lines in stack.log)."""
    try:
        text = stack_log.read_text(encoding='utf-8')
    except OSError:
        return []
    return [name for name in DRIVERS if f'[rover_runner] started {name} ' in text]
