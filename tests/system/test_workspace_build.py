"""A standard ROS workspace: the committed repository cloned as ws/src/rover_stack builds with a plain
`colcon build` from ws (the Makefile's CMake arguments, the pinned wheels), and the result has the
interface packages, the Python package, every executable and the share/ files.

Tests the committed HEAD (git clone), not uncommitted changes. A few minutes on 2 cores (niced).
"""
import json
import os
import subprocess
from pathlib import Path

import pytest
from catkin_pkg.packages import find_packages

from rover_stack.executables import EXECUTABLES

ROOT = Path(__file__).resolve().parents[2]
BUILD_TIMEOUT = 1500   # s; ~1.5 min on 2 idle cores, several when they are shared

CHECK = r'''
import json, os, sys
from ament_index_python.packages import get_package_prefix, get_package_share_directory
import rover_interfaces.action, rover_interfaces.msg, rover_interfaces.srv, tf2_msgs.msg
import rover_stack
from rover_interfaces.msg import StatusLight
names = sys.argv[1:]
prefix = get_package_prefix('rover_stack')
share = get_package_share_directory('rover_stack')
print(json.dumps({
    'prefixes': {p: get_package_prefix(p) for p in ('rover_stack', 'rover_interfaces', 'tf2_msgs')},
    'modules': {m.__name__: os.path.abspath(m.__file__) for m in (rover_interfaces.msg, tf2_msgs.msg, rover_stack)},
    'rover_stack_source': os.path.realpath(rover_stack.__file__),
    'status_light_red': StatusLight.RED,
    'missing_executables': [n for n in names
                            if not os.access(os.path.join(prefix, 'lib', 'rover_stack', n), os.X_OK)],
    'share': sorted(os.listdir(share)),
    'sim_launch': os.path.isfile(os.path.join(share, 'launch', 'sim.launch.py')),
}))
'''


def _clean_env() -> dict[str, str]:
    """The env shell's environment without this checkout's overlays (install*/), so nothing the
    workspace needs can come from the repository's own build."""
    env = dict(os.environ)
    for var in ('AMENT_PREFIX_PATH', 'CMAKE_PREFIX_PATH', 'COLCON_PREFIX_PATH', 'PYTHONPATH', 'PATH',
                'LD_LIBRARY_PATH'):
        kept = [p for p in env.get(var, '').split(os.pathsep)
                if p and not p.startswith(str(ROOT / 'install'))]
        env[var] = os.pathsep.join(kept)
    return env


def _run(cmd, cwd, env, timeout=120):
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f'{cmd}: exit {proc.returncode}\n{proc.stdout[-4000:]}\n{proc.stderr[-4000:]}'
    return proc.stdout


@pytest.mark.timeout(BUILD_TIMEOUT + 300)
def test_a_clone_in_ws_src_builds_with_colcon(tmp_path):
    if 'VIRTUAL_ENV' not in os.environ:
        pytest.fail('run in the env shell: source scripts/env.sh')
    ws = tmp_path / 'ws'
    src = ws / 'src'
    src.mkdir(parents=True)
    env = _clean_env()
    _run(['git', 'clone', '--quiet', str(ROOT), str(src / 'rover_stack')], tmp_path, env)

    # What colcon and rosdep (catkin_pkg's crawl) see from the workspace: every manifest there is.
    assert _run(['colcon', 'list', '--names-only'], ws, env).split() == ['rover_stack']
    crawled = find_packages(str(src))
    assert [p.name for p in crawled.values()] == ['rover_stack']
    assert sorted(str(p.relative_to(src)) for p in src.rglob('package.xml')) == \
        sorted(str(Path(path) / 'package.xml') for path in crawled)

    python = Path(os.environ['VIRTUAL_ENV']) / 'bin' / 'python'
    _run(['nice', '-n', '10', 'colcon', 'build', '--symlink-install',
          '--event-handlers', 'console_stderr-', 'summary+', '--cmake-args',
          f'-DCMAKE_PROJECT_INCLUDE={src}/rover_stack/cmake/drop_wheel_build_paths.cmake',
          f'-DPython3_EXECUTABLE={python}'], ws, env, timeout=BUILD_TIMEOUT)

    out = _run(['bash', '-c', 'source install/local_setup.bash && python -c "$0" "$@"', CHECK,
                *sorted(EXECUTABLES)], ws, env)
    found = json.loads(out)
    install = str(ws / 'install' / 'rover_stack')
    assert found['prefixes'] == {p: install for p in ('rover_stack', 'rover_interfaces', 'tf2_msgs')}
    assert found['modules']['rover_interfaces.msg'].startswith(install)
    assert found['modules']['tf2_msgs.msg'].startswith(install)
    assert found['modules']['rover_stack'].startswith(install)
    assert found['rover_stack_source'].startswith(str(src / 'rover_stack' / 'src'))   # symlink install
    assert found['status_light_red'] == 1
    assert found['missing_executables'] == []
    assert {'config', 'launch', 'urdf', 'sim', 'package.xml'} <= set(found['share'])
    assert found['sim_launch']

    runner = ws / 'install' / 'rover_stack' / 'lib' / 'rover_stack' / 'rover_runner'
    profiles = _run(['bash', '-c', f'source install/local_setup.bash && {runner} --list'], ws, env)
    assert 'sim:' in profiles
