"""The workspace set-up: colcon sees every package, the Makefile picks wheels or a sourced distro."""
import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _make_dry_run(*args, **env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in ('ROS_DISTRO', 'MAKEFLAGS', 'MAKELEVEL')}
    env.update(env_overrides)
    # -n: print the recipe, -B: as if every target were out of date; nothing is executed.
    proc = subprocess.run(['make', '-n', '-B', *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_colcon_lists_every_package():
    colcon = shutil.which('colcon')
    if colcon is None:
        pytest.fail('colcon not on PATH: source scripts/env.sh')
    out = subprocess.run([colcon, 'list', '--names-only', '--base-paths', '.', 'src'], cwd=ROOT,
                         capture_output=True, text=True, timeout=60, check=True).stdout.split()
    assert sorted(out) == ['rover_interfaces', 'rover_stack', 'tf2_msgs']


def test_wheels_mode_installs_the_ros_lock():
    out = _make_dry_run('deps')
    assert 'requirements/python.lock requirements/ros-jazzy.lock' in out


def test_kilted_is_a_make_variable():
    out = _make_dry_run('deps', 'ROS_WHEELS=kilted')
    assert 'requirements/ros-kilted.lock' in out
    assert f'{ROOT}/.venv-kilted' in out


def test_a_sourced_distro_gets_no_ros_wheels():
    out = _make_dry_run('deps', ROS_DISTRO='jazzy')
    assert 'requirements/python.lock' in out
    assert 'ros-jazzy.lock' not in out and 'ros-kilted.lock' not in out


@pytest.mark.parametrize('lock', ['python.lock', 'ros-jazzy.lock', 'ros-kilted.lock'])
def test_every_dependency_is_pinned(lock):
    lines = [line.strip() for line in (ROOT / 'requirements' / lock).read_text().splitlines()]
    requirements = [line for line in lines if line and not line.startswith('#')]
    assert requirements
    unpinned = [line for line in requirements if '==' not in line]
    assert not unpinned


def test_python_lock_agrees_with_the_ros_locks():
    def pins(name):
        text = (ROOT / 'requirements' / name).read_text().splitlines()
        return dict(line.lower().split('==') for line in text if '==' in line)

    python = pins('python.lock')
    for lock in ('ros-jazzy.lock', 'ros-kilted.lock'):
        ros = pins(lock)
        assert {k: ros.get(k) for k in python} == python, lock
