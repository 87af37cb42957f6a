"""Launch files and launch_builder, checked without a ROS distro.

launch/launch_ros are not installable here, so (a) every launch file is read as a syntax tree and must
call the builder with its own profile, and (b) the builder runs against a recording stand-in of the
launch/launch_ros classes it uses (constructor keywords as upstream: ros2/launch, ros2/launch_ros
Jazzy). The recorded Node arguments are evaluated the way launch_ros does and must equal what the
runner starts for the same profile and arguments: one source of truth.
"""
from __future__ import annotations

import ast
import os
import sys
import textwrap
import types
from pathlib import Path

import pytest
import yaml

from rover_stack.bringup import launch_builder
from rover_stack.bringup.node_set import (
    CONTAINER_EXECUTABLE,
    load_node_sets,
    process_args,
    processes,
    resolve,
    ros_args,
)

ROOT = Path(__file__).resolve().parents[2]
NODE_SETS = ROOT / 'config' / 'node_sets.yaml'
SHARE = Path('/opt/ros/share/rover_stack')
NOT_LAUNCHED = {'test_pair'}      # profiles for tests only, without a launch file
NAV2_PACKAGES = {'nav2_controller', 'nav2_planner', 'nav2_behaviors', 'nav2_bt_navigator', 'nav2_velocity_smoother',
                 'nav2_lifecycle_manager'}


# --- (a) launch files ------------------------------------------------------------------------

def launch_files() -> list[Path]:
    return sorted((ROOT / 'launch').glob('*.launch.py'))


def test_every_profile_but_test_ones_has_a_launch_file_and_back():
    profiles = set(load_node_sets(NODE_SETS)) - NOT_LAUNCHED
    assert {p.name.removesuffix('.launch.py') for p in launch_files()} == profiles


@pytest.mark.parametrize('path', launch_files(), ids=lambda p: p.name)
def test_launch_file_calls_the_builder_with_its_profile(path):
    tree = ast.parse(path.read_text(), filename=str(path))
    imports = [n for n in tree.body if isinstance(n, ast.ImportFrom)]
    assert [(n.module, [a.name for a in n.names]) for n in imports] == [
        ('rover_stack.bringup.launch_builder', ['generate_launch_description_for'])]
    functions = [n for n in tree.body if isinstance(n, ast.FunctionDef)]
    assert [f.name for f in functions] == ['generate_launch_description']
    body = functions[0].body
    assert len(body) == 1 and isinstance(body[0], ast.Return)
    call = body[0].value
    assert isinstance(call, ast.Call) and call.func.id == 'generate_launch_description_for'
    assert [a.value for a in call.args] == [path.name.removesuffix('.launch.py')] and not call.keywords


# --- (b) recording stand-in of launch / launch_ros --------------------------------------------

EXECUTE_PROCESS_KWARGS = {  # launch.actions.ExecuteProcess / ExecuteLocal / Action keywords (Jazzy)
    'name', 'cwd', 'env', 'additional_env', 'shell', 'sigterm_timeout', 'sigkill_timeout', 'emulate_tty',
    'output', 'output_format', 'cached_output', 'log_cmd', 'on_exit', 'respawn', 'respawn_delay',
    'respawn_max_retries', 'prefix', 'condition'}


class LaunchDescription:
    def __init__(self, initial_entities=None, *, deprecated_reason=None):
        self.entities = list(initial_entities or [])


class DeclareLaunchArgument:
    def __init__(self, name, *, default_value=None, description=None, choices=None, **kwargs):
        assert set(kwargs) <= {'condition'}, kwargs
        self.name, self.default_value, self.description, self.choices = name, default_value, description, choices


class Shutdown:
    def __init__(self, *, reason='reason not given', **kwargs):
        self.reason = reason


class OpaqueFunction:
    def __init__(self, *, function, args=None, kwargs=None, **more):
        self.function = function

    def perform(self, config: dict[str, str]) -> list:
        return self.function(types.SimpleNamespace(launch_configurations=dict(config)))


class IfCondition:
    def __init__(self, predicate_expression):
        self.predicate = predicate_expression

    def evaluate(self, config: dict[str, str]) -> bool:
        text = perform(self.predicate, config).strip().lower()
        if text not in ('true', '1', 'false', '0'):
            raise ValueError(f'IfCondition: {text!r}')
        return text in ('true', '1')


class LaunchConfiguration:
    def __init__(self, variable_name, *, default=None):
        self.variable_name = variable_name


class TextSubstitution:
    def __init__(self, *, text=''):
        self.text = text


class PythonExpression:
    def __init__(self, expression, python_modules=('math',)):
        self.expression = expression


class Node:
    def __init__(self, *, executable, package=None, name=None, namespace=None, exec_name=None,
                 parameters=None, remappings=None, ros_arguments=None, arguments=None, **kwargs):
        unknown = set(kwargs) - EXECUTE_PROCESS_KWARGS
        assert not unknown, f'not an ExecuteProcess keyword: {unknown}'
        self.kwargs = dict(kwargs, executable=executable, package=package, name=name, namespace=namespace,
                           parameters=parameters, remappings=remappings, arguments=arguments)


SUBSTITUTION_TYPES = (LaunchConfiguration, TextSubstitution, PythonExpression)


def perform(value, config: dict[str, str]) -> str:
    """Evaluate text, a substitution or a sequence of them, as launch's perform_substitutions does."""
    if isinstance(value, str):
        return value
    if isinstance(value, LaunchConfiguration):
        return config[value.variable_name]
    if isinstance(value, TextSubstitution):
        return value.text
    if isinstance(value, PythonExpression):
        return str(eval(perform(value.expression, config), {'__builtins__': {}}))
    assert isinstance(value, list | tuple), value
    return ''.join(perform(v, config) for v in value)


def is_substitution(value) -> bool:
    return isinstance(value, SUBSTITUTION_TYPES) or (
        isinstance(value, tuple) and value and all(isinstance(v, SUBSTITUTION_TYPES) for v in value))


@pytest.fixture
def launch_api(monkeypatch):
    """Install the stand-in as the modules launch, launch.actions, ..., launch_ros.actions."""
    modules = {
        'launch': {'LaunchDescription': LaunchDescription},
        'launch.actions': {'DeclareLaunchArgument': DeclareLaunchArgument, 'Shutdown': Shutdown,
                           'OpaqueFunction': OpaqueFunction},
        'launch.conditions': {'IfCondition': IfCondition},
        'launch.substitutions': {'LaunchConfiguration': LaunchConfiguration,
                                 'TextSubstitution': TextSubstitution, 'PythonExpression': PythonExpression},
        'launch_ros': {},
        'launch_ros.actions': {'Node': Node},
    }
    for name, attributes in modules.items():
        module = types.ModuleType(name)
        module.__dict__.update(attributes)
        monkeypatch.setitem(sys.modules, name, module)
    monkeypatch.setattr(launch_builder, 'package_share_dir', lambda: SHARE)


def launched(node: Node, config: dict[str, str]) -> dict | None:
    """What launch_ros would run for this Node with these launch configurations (None: skipped)."""
    kw = node.kwargs
    if 'condition' in kw and not kw['condition'].evaluate(config):
        return None
    if kw['executable'] == CONTAINER_EXECUTABLE:
        assert kw['name'] is None and kw['parameters'] is None and kw['remappings'] is None
        return {'executable': kw['executable'], 'arguments': kw['arguments'], 'respawn': kw['respawn'],
                'respawn_delay': kw['respawn_delay'], 'shuts_down_on_exit': isinstance(kw.get('on_exit'), Shutdown)}
    namespace = perform(kw['namespace'], config)
    files, values = [], {}
    for item in kw['parameters']:
        if isinstance(item, dict):
            values.update({k: yaml.safe_load(perform(v, config)) if is_substitution(v) else v
                           for k, v in item.items()})
        else:
            files.append(os.path.normpath(perform(item, config)))
    return {
        'package': kw['package'], 'executable': kw['executable'], 'name': kw['name'],
        'namespace': namespace if namespace.startswith('/') else '/' + namespace,
        'param_files': files, 'parameters': values,
        'remappings': [(perform(a, config), perform(b, config)) for a, b in kw['remappings']],
        'respawn': kw['respawn'], 'respawn_delay': kw['respawn_delay'],
        'shuts_down_on_exit': isinstance(kw.get('on_exit'), Shutdown),
    }


def started_by_runner(process) -> dict:
    """What the runner starts for one process: a node (its facts) or a container (its argv)."""
    if process.container is None:
        return run_by_runner(process.members[0])
    return {'executable': CONTAINER_EXECUTABLE, 'arguments': process_args(process), 'respawn': process.respawn,
            'respawn_delay': process.respawn_delay, 'shuts_down_on_exit': process.required and not process.respawn}


def run_by_runner(spec) -> dict:
    """The same facts, read back from the runner's argv for ``spec``."""
    argv = ros_args(spec)
    assert argv[0] == '--ros-args'
    facts = {'param_files': [], 'parameters': {}, 'remappings': []}
    pairs = list(zip(argv[1::2], argv[2::2], strict=True))
    for flag, value in pairs:
        key, _, text = value.partition(':=')
        if flag == '--params-file':
            facts['param_files'].append(os.path.normpath(value))
        elif flag == '-p':
            facts['parameters'][key] = yaml.safe_load(text)
        elif key == '__node':
            facts['name'] = text
        elif key == '__ns':
            facts['namespace'] = text
        else:
            facts['remappings'].append((key, text))
    return dict(facts, package=spec.package, executable=spec.executable, respawn=spec.respawn,
                respawn_delay=spec.respawn_delay,
                shuts_down_on_exit=spec.required and not spec.respawn)


DEMO = """
profiles:
  demo:
    description: every feature once
    args:
      namespace: {default: '', description: ns}
      rate: {default: '10.0', description: Hz}
      mode: {default: a, description: mode, choices: [a, b]}
      enabled: {default: 'true', description: flag}
    nodes:
      - executable: heartbeat_talker
        name: talker
        namespace: drive
        parameters:
          - config/robot/$(arg mode).yaml
          - {rate: $(arg rate), frame: base_link, count: 3, nested: {gain: 0.5}, label: 'true', ids: [1, 2],
             topic: $(arg mode)_x}
        remappings: [[heartbeat, $(arg mode)/heartbeat]]
        respawn: true
        respawn_delay: 0.5
        required: true
      - {executable: heartbeat_listener, name: listener_b, when: mode == b, required: true}
      - {executable: heartbeat_listener, name: listener_not_b, when: mode != b}
      - {executable: heartbeat_listener, name: listener_on, when: enabled}
      - {executable: heartbeat_listener, name: listener_b_on, when: mode == b and enabled}
      - {executable: static_tf_publisher, name: tf_a, container: core, respawn: true, required: true}
      - {executable: cmd_arbitration, name: arb, namespace: drive, container: core, respawn: true, required: true,
         when: enabled, parameters: [{rate: $(arg rate)}]}
"""

CASES = [(NODE_SETS, name, {}) for name in load_node_sets(NODE_SETS)] + [
    (NODE_SETS, 'test_pair', {'namespace': 'rover1', 'rate': '2'}),
    (NODE_SETS, 'rover', {'lidar': 'none', 'robot_config': 'corner6', 'namespace': 'rover2'}),
    (NODE_SETS, 'gazebo', {'robot_config': 'corner6', 'autonomy': 'false', 'web': 'false'}),
    (NODE_SETS, 'rover', {'nav2': 'true', 'namespace': 'rover3'}),
    (NODE_SETS, 'gazebo', {'nav2': 'true'}),
    (NODE_SETS, 'gazebo', {'nav2': 'true', 'autonomy': 'false'}),
    ('demo', 'demo', {}),
    ('demo', 'demo', {'namespace': 'r2', 'mode': 'b', 'enabled': '0', 'rate': '3'}),
    ('demo', 'demo', {'namespace': '/r3/arm', 'enabled': 'False'}),
    ('demo', 'demo', {'mode': 'b', 'enabled': 'True'}),
]


@pytest.mark.parametrize(('config', 'profile', 'overrides'), CASES,
                         ids=[f'{Path(c).stem}-{p}-{"-".join(o.values()) or "defaults"}' for c, p, o in CASES])
def test_launch_description_runs_what_the_runner_runs(launch_api, tmp_path, config, profile, overrides):
    if config == 'demo':
        config = tmp_path / 'node_sets.yaml'
        config.write_text(textwrap.dedent(DEMO))
    description = launch_builder.generate_launch_description_for(profile, config=config)
    declared = [e for e in description.entities if isinstance(e, DeclareLaunchArgument)]
    nodes = [e for e in description.entities if isinstance(e, Node | OpaqueFunction)]
    assert len(declared) + len(nodes) == len(description.entities)

    prof = load_node_sets(config)[profile]
    assert [(d.name, d.default_value, d.description, d.choices) for d in declared] == [
        (a.name, a.default, a.description, list(a.choices) if a.choices else None) for a in prof.args.values()]
    launch_config = {d.name: d.default_value for d in declared} | overrides

    started = [n for e in nodes for n in (e.perform(launch_config) if isinstance(e, OpaqueFunction) else [e])]
    by_launch = [facts for node in started if (facts := launched(node, launch_config)) is not None]
    by_runner = [started_by_runner(p) for p in processes(resolve(prof, overrides, share_dir=SHARE))]
    assert by_launch == by_runner
    assert all(n.kwargs['output'] == 'screen' for n in started)
    # every node is rover_stack's but the vendor's lidar driver and Nav2's servers (nav2:=true), normal
    # launch_ros Nodes of their packages
    packages = {n.kwargs['package'] for n in started if launched(n, launch_config) is not None}
    assert packages - {'rover_stack', 'sllidar_ros2'} == (NAV2_PACKAGES if overrides.get('nav2') == 'true'
                                                          and overrides.get('autonomy') != 'false' else set())


def test_demo_case_exercises_every_feature(launch_api, tmp_path):
    """Guard against the equivalence test passing on empty profiles."""
    config = tmp_path / 'node_sets.yaml'
    config.write_text(textwrap.dedent(DEMO))
    nodes = [e for e in launch_builder.generate_launch_description_for('demo', config=config).entities
             if isinstance(e, Node)]
    talker = nodes[0].kwargs
    assert talker['respawn'] is True and talker['respawn_delay'] == 0.5 and 'on_exit' not in talker
    assert isinstance(talker['parameters'][1]['rate'], LaunchConfiguration)
    assert isinstance(nodes[1].kwargs['on_exit'], Shutdown)
    assert isinstance(nodes[1].kwargs['condition'].predicate, PythonExpression)
    assert isinstance(nodes[3].kwargs['condition'].predicate, LaunchConfiguration)
    assert isinstance(nodes[4].kwargs['condition'].predicate, PythonExpression)   # 'and' of two conditions
    containers = [e for e in launch_builder.generate_launch_description_for('demo', config=config).entities
                  if isinstance(e, OpaqueFunction)]
    assert len(containers) == 1
    for enabled, members in (('true', ['tf_a', 'arb']), ('false', ['tf_a'])):
        config_values = {'namespace': '', 'rate': '10.0', 'mode': 'a', 'enabled': enabled}
        [container] = containers[0].perform(config_values)
        argv = container.kwargs['arguments']
        assert [argv[i + 1] for i, a in enumerate(argv) if a == '--node'] == [
            'static_tf_publisher', 'cmd_arbitration'][:len(members)]
        assert [a.split(':=')[1] for a in argv if a.startswith('__node:=')] == members


def test_unknown_profile_is_refused(launch_api):
    with pytest.raises(ValueError, match="no profile 'nope'"):
        launch_builder.generate_launch_description_for('nope', config=NODE_SETS)
