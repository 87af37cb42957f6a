"""The import layers of docs/architecture.md, read from the sources' syntax trees (every import, also
the ones inside functions): common <- algorithm cores <- ROS helpers <- nodes <- bringup, cli, testing.

* no import cycles between the package's modules;
* ``common`` imports only ``common``;
* a node module (the module of an executable in executables.py that runs a ROS node) is imported only
  by the layers above it (bringup, cli, testing, demo): never by another node module or a core; what two
  nodes share lives in a core, a ROS helper or common;
* an algorithm core never loads ROS, not even through another module: every module that does (rclpy,
  message packages, launch) is a node, an upper-layer module or one of ``ROS_HELPERS`` below, each
  named with what it is for, so a new one is a decision and not an accident.
"""
from __future__ import annotations

import ast
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / 'src'
PACKAGE = SRC / 'rover_stack'
UPPER = ('rover_stack.bringup', 'rover_stack.cli', 'rover_stack.testing', 'rover_stack.demo')
ROS_ROOTS = ('rclpy', 'rover_interfaces', 'launch', 'launch_ros', 'launch_testing', 'rosidl_runtime_py')

#: Modules below the nodes that use ROS on purpose: helpers nodes share.
ROS_HELPERS = {
    'rover_stack.common.qos': 'the named QoS profiles',
    'rover_stack.common.params': 'declare and watch ROS parameters from a param_spec dataclass',
    'rover_stack.common.node_main': 'rclpy init, executor, clean Ctrl-C of every node',
    'rover_stack.common.trigger_call': 'call a std_srvs/Trigger service until accepted',
    'rover_stack.common.actions': 'action-server helpers',
    'rover_stack.autonomy.goal_client': 'one action goal at a time: re-send, lost result, restarted server',
    'rover_stack.drive.estop_reset': "the operator's e-stop reset call",
    'rover_stack.tf.listener': 'tf / tf_static subscriber and broadcasters on a node',
    'rover_stack.tf.ros_conversions': 'geometry_msgs <-> tf.transform',
    'rover_stack.perception.image_pipeline': 'image-processing node base class (worker thread, frame gate)',
    'rover_stack.base_station.command_msg': 'web commands -> geometry_msgs twists',
    'rover_stack.navigation.nav2_backend': "the navigator's Nav2 action client (backend nav2)",
    'rover_stack.contract.checker': "the hardware-contract checker: subscribes to a backend's topics",
    'rover_stack.reporting.recorder': 'records topics of a run to MCAP',
}


def module_name(path: Path) -> str:
    name = '.'.join(path.relative_to(SRC).with_suffix('').parts)
    return name.removesuffix('.__init__')


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob('*.py'))}


def imports(path: Path) -> tuple[set[str], bool]:
    """(the package's modules ``path`` imports, whether it imports ROS itself)."""
    found, ros = set(), False
    for node in ast.walk(ast.parse(path.read_text(encoding='utf-8'))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module + '.' + alias.name for alias in node.names]
            found.update(n if n in MODULES else node.module for n in names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        else:
            continue
    roots = {n.split('.')[0] for n in found}
    ros = any(r in ROS_ROOTS or r.endswith(('_msgs', '_srvs')) for r in roots)
    return {n for n in found if n in MODULES}, ros


GRAPH, DIRECT_ROS = {}, set()
for _name, _path in MODULES.items():
    GRAPH[_name], _ros = imports(_path)
    if _ros:
        DIRECT_ROS.add(_name)


def loads_ros() -> set[str]:
    """Modules that import ROS themselves or through another module of the package."""
    result, changed = set(DIRECT_ROS), True
    while changed:
        changed = False
        for name, targets in GRAPH.items():
            if name not in result and targets & result:
                result.add(name)
                changed = True
    return result


def node_modules() -> set[str]:
    sys.path.insert(0, str(SRC))
    try:
        from rover_stack.executables import EXECUTABLES  # noqa: PLC0415 - imported from SRC put on sys.path here
    finally:
        sys.path.remove(str(SRC))
    entries = {target.split(':')[0] for target in EXECUTABLES.values()}
    return {m for m in entries if m in loads_ros() and not m.startswith(UPPER)}


def test_there_are_no_import_cycles():
    index, low, stack, on_stack, cycles = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(GRAPH[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for name in sorted(GRAPH):
        if name not in index:
            visit(name)
    assert cycles == []


def test_common_imports_only_common():
    bad = {m: sorted(t for t in GRAPH[m] if not t.startswith('rover_stack.common'))
           for m in GRAPH if m.startswith('rover_stack.common')}
    assert {m: t for m, t in bad.items() if t} == {}


def test_node_modules_are_imported_only_by_bringup_cli_and_testing():
    nodes = node_modules()
    assert 'rover_stack.drive.drive_controller_node' in nodes and 'rover_stack.perception.aruco_detector_node' in nodes
    bad = {m: sorted(GRAPH[m] & nodes - {m}) for m in GRAPH if not m.startswith(UPPER)}
    assert {m: t for m, t in bad.items() if t} == {}


def test_algorithm_cores_never_load_ros():
    ros = loads_ros()
    unexpected = sorted(m for m in ros - node_modules() - set(ROS_HELPERS) if not m.startswith(UPPER))
    assert unexpected == [], 'modules below the nodes that load ROS (make them ROS-free or a ROS helper)'
    assert sorted(set(ROS_HELPERS) - set(MODULES)) == []          # no stale entries
    assert sorted(h for h in ROS_HELPERS if h not in ros) == []   # a ROS-free module is a core, not a helper
