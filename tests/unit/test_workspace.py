"""The workspace set-up: one package that crawlers see whole, the Makefile picks wheels or a sourced distro."""
import os
import subprocess
from pathlib import Path

import pytest
from catkin_pkg.package import parse_package_string
from catkin_pkg.packages import find_packages

ROOT = Path(__file__).resolve().parents[2]


def _make_dry_run(*args, **env_overrides):
    env = {k: v for k, v in os.environ.items() if k not in ('ROS_DISTRO', 'MAKEFLAGS', 'MAKELEVEL')}
    env.update(env_overrides)
    # -n: print the recipe, -B: as if every target were out of date; nothing is executed.
    proc = subprocess.run(['make', '-n', '-B', *args], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def _manifest(path: Path):
    """A package.xml (or an interface sub-build's package.xml.in, its @VARIABLES@ filled) parsed by
    catkin_pkg, as rosdep and colcon do."""
    return parse_package_string(path.read_text().replace('@rover_stack_VERSION@', '0.0.0'), filename=str(path))


def _dependency_names(package) -> set[str]:
    return {dep.name for dep in (package.buildtool_depends + package.build_depends
                                 + package.build_export_depends + package.exec_depends)}


def _sub_builds() -> list[Path]:
    return sorted(ROOT.glob('src/*/package.xml.in'))


def test_a_package_crawl_finds_every_manifest():
    # rosdep --from-paths and colcon stop descending at a package.xml: the repository must hold
    # exactly one, at the top, so nothing below it goes unseen.
    found = find_packages(str(ROOT))
    assert [package.name for package in found.values()] == ['rover_stack']
    tracked = subprocess.run(['git', 'ls-files', '--', '*package.xml'], cwd=ROOT, capture_output=True,
                             text=True, timeout=60, check=True).stdout.split()
    assert tracked == ['package.xml']


def test_the_top_manifest_carries_every_sub_build_dependency():
    top = _manifest(ROOT / 'package.xml')
    assert top.get_build_type() == 'ament_cmake'
    declared = _dependency_names(top)
    subs = [_manifest(path) for path in _sub_builds()]
    assert sorted(sub.name for sub in subs) == ['rover_interfaces', 'tf2_msgs']
    for sub in subs:
        assert _dependency_names(sub) <= declared, sub.name
    # rosdep cannot resolve a package that is built inside this one (tf2_msgs is a distro package).
    assert 'rover_interfaces' not in declared


def test_cmake_builds_every_sub_build():
    cmake = (ROOT / 'CMakeLists.txt').read_text()
    for path in _sub_builds():
        assert f'rover_interface_package({path.parent.name})' in cmake


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
