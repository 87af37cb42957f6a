"""Start Gazebo, spawn the rover and run the ros_gz bridge as rover_stack executables.

The node-set schema (config/node_sets.yaml) names rover_stack executables with ROS parameters only:
it cannot give Gazebo an absolute world path, the bridge its absolute config_file, or the spawner a
URDF generated with sim_gazebo:=true. These three thin wrappers read their ROS parameters with rclpy
(so ``-p``, ``--params-file`` and launch_ros's parameter files all work), work out the command, and
``exec`` it, so the supervised process (runner or launch) *is* the Gazebo / ros_gz process:

* ``gz_sim``: ``gz sim -r [-s] <share>/sim/gazebo/<world>.sdf``, GZ_SIM_RESOURCE_PATH extended with
  sim/gazebo (headless unless ``gui`` is true).
* ``gz_spawn``: ros_gz_sim ``create`` with the robot description of ``robot_config`` expanded with
  sim_gazebo:=true (written to a temporary file) at the spawn pose; waits for the server by itself.
* ``gz_bridge``: ros_gz_bridge ``parameter_bridge`` with ``config_file`` = config/gz_bridge.yaml,
  keeping the node name, namespace and remappings it was started with.

Each exits 1 with a message naming the missing package when Gazebo or ros_gz is not installed.
The ``*_command`` functions are pure and unit-tested.
"""
from __future__ import annotations

import logging
import math
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from rover_stack.common.param_spec import param
from rover_stack.common.share_files import share_path, share_roots
from rover_stack.description.xacro_expand import expand

GZ_PACKAGE_HINT = 'install Gazebo Harmonic and ros_gz: sudo apt install ros-jazzy-ros-gz (docs/gazebo.md)'
MODEL_NAME = 'rover'


class LauncherError(RuntimeError):
    """The wrapped program cannot be started (not installed, bad world name)."""


@dataclass
class GzSimParams:
    world: str = param('urc_demo', 'World name: sim/gazebo/<world>.sdf of the package (or a .sdf path)',
                       read_only=True)
    gui: bool = param(False, 'Also open the Gazebo GUI (false: server only)', read_only=True)
    verbosity: int = param(2, 'gz sim verbosity 0..4', low=0, high=4, read_only=True)


@dataclass
class GzSpawnParams:
    robot_config: str = param('skid4', 'Robot variant (skid4, skid6, corner6) or robot yaml path',
                              read_only=True)
    name: str = param(MODEL_NAME, 'Model name in Gazebo (gz topics use /rover; see urdf/gazebo.xacro)',
                      read_only=True)
    x: float = param(0.0, 'Spawn x in the world (= map) frame', unit='m', low=-1e4, high=1e4, read_only=True)
    y: float = param(0.0, 'Spawn y', unit='m', low=-1e4, high=1e4, read_only=True)
    z: float = param(0.5, 'Spawn z (a little above the ground)', unit='m', low=-1e3, high=1e4, read_only=True)
    yaw: float = param(0.0, 'Spawn yaw, counter-clockwise from east', unit='rad', low=-2 * math.pi,
                       high=2 * math.pi, read_only=True)


def world_file(world: str, share: Path) -> Path:
    """sim/gazebo/<world>.sdf under ``share``, or ``world`` itself when it is a path."""
    is_path = world.endswith('.sdf') or '/' in world
    path = Path(world) if is_path else share / 'sim' / 'gazebo' / f'{world}.sdf'
    if not path.is_file():
        known = sorted(p.stem for p in (share / 'sim' / 'gazebo').glob('*.sdf'))
        raise LauncherError(f'no Gazebo world {world!r} ({path}); known: {known}')
    return path


def gz_sim_command(params: GzSimParams, share: Path, environ: dict[str, str],
                   gz: str | None) -> tuple[list[str], dict[str, str]]:
    """(argv, environment) of the Gazebo server (and GUI)."""
    if gz is None:
        raise LauncherError(f'gz (Gazebo) not found: {GZ_PACKAGE_HINT}')
    path = world_file(params.world, share)
    env = dict(environ)
    resource = [str(path.parent)] + [p for p in env.get('GZ_SIM_RESOURCE_PATH', '').split(os.pathsep) if p]
    env['GZ_SIM_RESOURCE_PATH'] = os.pathsep.join(resource)
    argv = [gz, 'sim', '-r', '-v', str(params.verbosity)] + ([] if params.gui else ['-s']) + [str(path)]
    return argv, env


def gz_spawn_command(params: GzSpawnParams, create: str | None, urdf_path: Path) -> list[str]:
    """argv of ros_gz_sim create (gflags form; no -world: it waits for the server's world list)."""
    if create is None:
        raise LauncherError(f'ros_gz_sim create not found: {GZ_PACKAGE_HINT}')
    return [create, '-file', str(urdf_path), '-name', params.name, '-x', repr(params.x), '-y', repr(params.y),
            '-z', repr(params.z), '-Y', repr(params.yaw)]


def gz_bridge_command(bridge: str | None, ros_argv: list[str], config_file: Path) -> list[str]:
    """argv of parameter_bridge: the ROS arguments this process got, plus config_file."""
    if bridge is None:
        raise LauncherError(f'ros_gz_bridge parameter_bridge not found: {GZ_PACKAGE_HINT}')
    if not config_file.is_file():
        raise LauncherError(f'bridge configuration {config_file} does not exist')
    ros_args = list(ros_argv)
    if '--ros-args' not in ros_args:
        ros_args.insert(0, '--ros-args')
    return [bridge, *ros_args, '-p', f'config_file:={config_file}']


def ros_arguments(argv: list[str]) -> list[str]:
    """The ``--ros-args ...`` part of ``argv`` (empty when there is none)."""
    return argv[argv.index('--ros-args'):] if '--ros-args' in argv else []


def package_executable(package: str, name: str) -> str | None:
    """<prefix>/lib/<package>/<name> from the ament index, or None."""
    try:
        from ament_index_python.packages import PackageNotFoundError, get_package_prefix  # noqa: PLC0415 - ament_index_python: optional
    except ImportError:
        return None
    try:
        path = Path(get_package_prefix(package)) / 'lib' / package / name
    except PackageNotFoundError:
        return None
    return str(path) if os.access(path, os.X_OK) else None


def _read_params(node_name: str, cls):
    """Parameters of ``cls`` as this process's ROS arguments set them (node created and destroyed)."""
    import rclpy  # noqa: PLC0415 - rclpy: unit tests import this module

    from rover_stack.common.params import declare_params  # noqa: PLC0415 - rclpy: unit tests import this module

    rclpy.init()
    try:
        node = rclpy.create_node(node_name)
        try:
            return declare_params(node, cls)
        finally:
            node.destroy_node()
    finally:
        rclpy.try_shutdown()


def _run(build) -> int:
    """Build (argv, env) and exec it; exit 1 with the reason when it cannot start."""
    logging.basicConfig(level=logging.INFO, format='[%(name)s] %(message)s')
    log = logging.getLogger('gazebo')
    try:
        argv, env = build()
    except (LauncherError, ValueError) as error:
        log.error(str(error))
        return 1
    log.info('exec %s', ' '.join(argv))
    sys.stdout.flush()
    os.execve(argv[0], argv, env)
    return 1   # not reached


def gz_sim_main() -> int:
    def build():
        params = _read_params('gz_sim', GzSimParams)
        return gz_sim_command(params, share_roots()[0], dict(os.environ), shutil.which('gz'))
    return _run(build)


def gz_spawn_main() -> int:
    def build():
        params = _read_params('gz_spawn', GzSpawnParams)
        create = package_executable('ros_gz_sim', 'create')
        gz_spawn_command(params, create, Path('/dev/null'))   # fails before writing when create is missing
        urdf = expand(params.robot_config, sim_gazebo=True)
        handle, path = tempfile.mkstemp(prefix='rover_gazebo_', suffix='.urdf')   # left for create to read
        with os.fdopen(handle, 'w') as out:
            out.write(urdf)
        return gz_spawn_command(params, create, Path(path)), dict(os.environ)
    return _run(build)


def gz_bridge_main() -> int:
    def build():
        return (gz_bridge_command(package_executable('ros_gz_bridge', 'parameter_bridge'),
                                  ros_arguments(sys.argv), share_path('config/gz_bridge.yaml')),
                dict(os.environ))
    return _run(build)
