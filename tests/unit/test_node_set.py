"""Node-set loading, validation, resolution and the ROS argv built from it (bringup/node_set.py)."""
from __future__ import annotations

import io
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from rover_stack.bringup import runner
from rover_stack.bringup.node_set import (
    NodeSetError,
    NodeSpec,
    format_param,
    load_node_sets,
    parse_arg_assignments,
    parse_node_sets,
    process_args,
    processes,
    resolve,
    ros_args,
    section_applies,
)
from rover_stack.executables import COMPONENTS, EXECUTABLES

ROOT = Path(__file__).resolve().parents[2]
NODE_SETS = ROOT / 'config' / 'node_sets.yaml'
SHARE = Path('/share/rover_stack')

VALID = """
profiles:
  demo:
    description: demo
    args:
      namespace: {default: '', description: ns}
      rate: {default: '10.0', description: Hz}
      mode: {default: a, description: mode, choices: [a, b]}
      enabled: {default: true, description: flag}
    nodes:
      - executable: heartbeat_talker
        name: talker
        namespace: drive
        parameters:
          - config/robot/$(arg mode).yaml
          - {rate: $(arg rate), frame: base_link, count: 3, nested: {gain: 0.5}, label: 'true', ids: [1, 2]}
        remappings:
          - [heartbeat, $(arg mode)/heartbeat]
        respawn: true
        respawn_delay: 0.5
        required: true
      - executable: heartbeat_listener
        name: listener_b
        when: mode == b
      - executable: heartbeat_listener
        name: listener_on
        when: enabled
      - executable: heartbeat_listener
        name: listener_b_on
        when: mode == b and enabled
"""


CONTAINER = """profiles:
  p:
    nodes:
      - {executable: static_tf_publisher, name: tf, container: core, respawn: true}
      - {executable: heartbeat_talker, name: alone}
      - {executable: cmd_arbitration, name: arb, container: core, respawn: true}
"""


def load(text: str = VALID):
    return parse_node_sets(textwrap.dedent(text), 'node_sets.yaml')


def node_variant(node_yaml: str, args: str = "{rate: {default: '1', description: d}}") -> str:
    body = textwrap.indent(textwrap.dedent(node_yaml).strip(), ' ' * 8)
    return f'profiles:\n  p:\n    description: x\n    args: {args}\n    nodes:\n      -\n{body}\n'


# --- the real file ---------------------------------------------------------------------------

def test_project_node_sets_load_and_name_known_executables():
    profiles = load_node_sets(NODE_SETS)
    assert {'sim', 'rover', 'gazebo', 'base_station', 'test_pair'} <= set(profiles)
    for profile in profiles.values():
        for entry in profile.nodes:
            # another package's node (the rover's vendor lidar driver, Nav2's servers) is started by package +
            # executable
            vendor = (entry.package, entry.executable) == ('sllidar_ros2', 'sllidar_node')
            assert entry.executable in EXECUTABLES or vendor or entry.package.startswith('nav2_')


def test_project_node_sets_resolve_with_defaults_and_their_files_exist():
    for profile in load_node_sets(NODE_SETS).values():
        for spec in resolve(profile, share_dir=ROOT):
            for path in spec.param_files:
                assert Path(path).is_file(), f'{profile.name}/{spec.name}: {path}'


def test_test_pair_runs_talker_and_listener_respawned_and_required():
    specs = resolve(load_node_sets(NODE_SETS)['test_pair'], share_dir=ROOT)
    assert [(s.executable, s.respawn, s.required) for s in specs] == [
        ('heartbeat_talker', True, True), ('heartbeat_listener', True, True)]


# --- loader errors: each names file, profile, node and field ---------------------------------

ERRORS = [
    ('unknown executable', node_variant('executable: no_such_node\nname: n'),
     "node_sets.yaml: profile 'p', node 0 (n), field 'executable': unknown executable 'no_such_node'"),
    ('missing executable', node_variant('name: n'),
     "profile 'p', node 0 (n), field 'executable': is required"),
    ('missing name', node_variant('executable: heartbeat_talker'),
     "profile 'p', node 0, field 'name': is required"),
    ('respawn not bool', node_variant('executable: heartbeat_talker\nname: n\nrespawn: "yes"'),
     "field 'respawn': must be true or false, got 'yes'"),
    ('negative delay', node_variant('executable: heartbeat_talker\nname: n\nrespawn_delay: -1'),
     "field 'respawn_delay': must be a number of seconds in [0, 3600], got -1"),
    ('delay as text', node_variant('executable: heartbeat_talker\nname: n\nrespawn_delay: soon'),
     "field 'respawn_delay': must be a number of seconds"),
    ('bad name', node_variant('executable: heartbeat_talker\nname: 9lives'),
     "field 'name': node name '9lives' must be an identifier"),
    ('absolute namespace', node_variant('executable: heartbeat_talker\nname: n\nnamespace: /abs'),
     "field 'namespace': must be relative"),
    ('unknown field', node_variant('executable: heartbeat_talker\nname: n\nrespwan: true'),
     "node 0 (n): unknown keys ['respwan']"),
    ('undeclared arg ref', node_variant('executable: heartbeat_talker\nname: n\nparameters: [{a: $(arg nope)}]'),
     "field 'parameters.a': $(arg nope) refers to an argument the profile does not declare"),
    ('other substitution', node_variant('executable: heartbeat_talker\nname: n\nnamespace: $(env HOME)'),
     "field 'namespace': unsupported substitution '$(env HOME)': only $(arg NAME) is allowed"),
    ('unterminated substitution', node_variant('executable: heartbeat_talker\nname: n\nnamespace: $(arg rate'),
     "field 'namespace': unterminated substitution"),
    ('arg inside list', node_variant('executable: heartbeat_talker\nname: n\nparameters: [{a: [$(arg rate)]}]'),
     "field 'parameters.a': $(arg ...) is allowed in text values only"),
    ('file after inline', node_variant('executable: heartbeat_talker\nname: n\nparameters: [{a: 1}, f.yaml]'),
     "field 'parameters': list parameter files before inline mappings"),
    ('parameters not list', node_variant('executable: heartbeat_talker\nname: n\nparameters: {a: 1}'),
     "field 'parameters': must be a list"),
    ('bad remapping', node_variant('executable: heartbeat_talker\nname: n\nremappings: [[a, b, c]]'),
     "field 'remappings': entry 0 must be a [from, to] pair"),
    ('remap to number', node_variant('executable: heartbeat_talker\nname: n\nremappings: [[a, 3]]'),
     "field 'remappings': must be text, got int 3"),
    ('when on undeclared arg', node_variant('executable: heartbeat_talker\nname: n\nwhen: mode == b'),
     "field 'when': refers to undeclared argument 'mode'"),
    ('malformed when', node_variant('executable: heartbeat_talker\nname: n\nwhen: rate > 3'),
     "field 'when': must be 'ARG', 'ARG == VALUE' or 'ARG != VALUE'"),
    ('malformed when after and', node_variant('executable: heartbeat_talker\nname: n\nwhen: rate and x > 3'),
     "field 'when': must be 'ARG', 'ARG == VALUE' or 'ARG != VALUE'"),
    ('foreign package in a container',
     node_variant('executable: talker\nname: n\npackage: demo_nodes_cpp\ncontainer: c'),
     "field 'container': only rover_stack nodes can share a container process"),
    ('foreign package name', node_variant('executable: talker\nname: n\npackage: demo-nodes'),
     "field 'package': package name 'demo-nodes' must be an identifier"),
    ('arg without description', node_variant('executable: heartbeat_talker\nname: n', '{x: {default: a}}'),
     "profile 'p', field 'args.x': needs both default and description"),
    ('arg default a list', node_variant('executable: heartbeat_talker\nname: n',
                                        '{x: {default: [1], description: d}}'),
     "field 'args.x': default must be text, a number or a bool"),
    ('default outside choices', node_variant('executable: heartbeat_talker\nname: n',
                                             '{x: {default: c, description: d, choices: [a, b]}}'),
     "field 'args.x': default 'c' is not one of the choices ['a', 'b']"),
    ('no profiles', 'profiles: {}\n', "node_sets.yaml: expected a mapping with a non-empty 'profiles'"),
    ('not yaml', 'profiles: [\n', 'node_sets.yaml: not valid YAML'),
    ('node not mapping', 'profiles:\n  p:\n    nodes: [3]\n', "profile 'p', node 0: must be a mapping"),
    ('unknown profile key', 'profiles:\n  p:\n    node: []\n', "profile 'p': unknown keys ['node']"),
    ('container not a component', node_variant('executable: heartbeat_talker\nname: n\ncontainer: c'),
     "node 0 (n), field 'container': 'heartbeat_talker' cannot share a process"),
    ('container name', node_variant('executable: cmd_arbitration\nname: n\ncontainer: a-b'),
     "field 'container': container name 'a-b' must be an identifier"),
    ('container members disagree', CONTAINER.replace('respawn: true}', 'respawn: false}', 1),
     "node 2 (arb), field 'respawn': respawn differs from 'tf' in the same container 'core'"),
    ('container named like a node', CONTAINER.replace('container: core', 'container: tf'),
     "node 0 (tf), field 'container': container 'tf' has the name of a node"),
]


@pytest.mark.parametrize(('case', 'text', 'message'), ERRORS, ids=[e[0] for e in ERRORS])
def test_loader_error_names_the_place(case, text, message):
    with pytest.raises(NodeSetError) as raised:
        load(text)
    assert message in str(raised.value), str(raised.value)


def test_unreadable_file_is_reported(tmp_path):
    with pytest.raises(NodeSetError, match='cannot read node-set file'):
        load_node_sets(tmp_path / 'missing.yaml')


def test_executables_are_checked_against_the_given_table():
    with pytest.raises(NodeSetError, match="unknown executable 'heartbeat_talker'"):
        parse_node_sets(textwrap.dedent(VALID), executables={'other': 'm:f'})


# --- resolution ------------------------------------------------------------------------------

def test_resolve_with_defaults():
    specs = resolve(load()['demo'], share_dir=SHARE)
    assert [s.name for s in specs] == ['talker', 'listener_on']
    talker = specs[0]
    assert talker.namespace == '/drive'
    assert talker.param_files == ('/share/rover_stack/config/robot/a.yaml',)
    assert talker.parameters == {'rate': 10.0, 'frame': 'base_link', 'count': 3, 'nested.gain': 0.5,
                                 'label': 'true', 'ids': [1, 2]}
    assert talker.remappings == (('heartbeat', 'a/heartbeat'),)
    assert (talker.respawn, talker.respawn_delay, talker.required) == (True, 0.5, True)
    listener = specs[1]
    assert (listener.respawn, listener.respawn_delay, listener.required) == (False, 1.0, False)


def test_resolve_with_overrides_and_conditions():
    specs = resolve(load()['demo'], {'namespace': 'rover1', 'mode': 'b', 'enabled': 'False', 'rate': '2'},
                    share_dir=SHARE)
    assert [s.name for s in specs] == ['talker', 'listener_b']
    assert specs[0].namespace == '/rover1/drive'
    assert specs[1].namespace == '/rover1'
    assert specs[0].parameters['rate'] == 2
    assert specs[0].remappings == (('heartbeat', 'b/heartbeat'),)


@pytest.mark.parametrize(('overrides', 'started'), [
    ({'mode': 'b'}, ['talker', 'listener_b', 'listener_on', 'listener_b_on']),
    ({'mode': 'b', 'enabled': '0'}, ['talker', 'listener_b']),
    ({'mode': 'a'}, ['talker', 'listener_on']),
])
def test_conditions_joined_by_and_hold_when_all_hold(overrides, started):
    profile = load()['demo']
    assert [s.name for s in resolve(profile, overrides, share_dir=SHARE)] == started
    assert profile.nodes[-1].when.args == ('mode', 'enabled')


@pytest.mark.parametrize(('overrides', 'message'), [
    ({'nope': '1'}, r"has no argument\(s\) \['nope'\]"),
    ({'mode': 'c'}, r"argument mode:='c' is not one of \['a', 'b'\]"),
    ({'enabled': 'maybe'}, r"condition on argument 'enabled': 'maybe' is not true/false/1/0"),
    ({'namespace': 'bad//ns'}, r'namespace .* is not a valid ROS namespace'),
    ({'namespace': 'rover1/'}, r'namespace .* is not a valid ROS namespace'),
])
def test_resolve_rejects_bad_arguments(overrides, message):
    with pytest.raises(NodeSetError, match=message):
        resolve(load()['demo'], overrides, share_dir=SHARE)


def test_duplicate_node_names_are_rejected_when_both_run():
    text = node_variant('executable: heartbeat_talker\nname: n').replace(
        '      -\n', '      - {executable: heartbeat_listener, name: n}\n      -\n')
    with pytest.raises(NodeSetError, match=r"more than one node named \['n'\]"):
        resolve(load(text)['p'], share_dir=SHARE)


def test_parse_arg_assignments():
    assert parse_arg_assignments(['a:=1', 'b:=x:=y', 'c:=']) == {'a': '1', 'b': 'x:=y', 'c': ''}
    with pytest.raises(NodeSetError, match="'a=1' must look like name:=value"):
        parse_arg_assignments(['a=1'])


# --- argv ------------------------------------------------------------------------------------

def test_ros_args_exact_argv():
    spec = resolve(load()['demo'], {'namespace': 'r1'}, share_dir=SHARE)[0]
    assert ros_args(spec) == [
        '--ros-args', '-r', '__node:=talker', '-r', '__ns:=/r1/drive',
        '--params-file', '/share/rover_stack/config/robot/a.yaml',
        '-p', 'rate:=10.0', '-p', 'frame:=base_link', '-p', 'count:=3', '-p', 'nested.gain:=0.5',
        '-p', "label:='true'", '-p', 'ids:=[1, 2]',
        '-r', 'heartbeat:=a/heartbeat',
    ]


def test_ros_args_minimal():
    spec = NodeSpec('rover_stack', 'heartbeat_talker', 'n', '/', (), {}, ())
    assert ros_args(spec) == ['--ros-args', '-r', '__node:=n', '-r', '__ns:=/']


scalars = st.one_of(st.booleans(), st.integers(-10**9, 10**9),
                    st.floats(allow_nan=False, allow_infinity=False, width=64),
                    st.text(st.characters(codec='utf-8', exclude_categories=['Cs', 'Cc']), max_size=20))


@settings(max_examples=200, derandomize=True)
@given(st.one_of(scalars, st.lists(st.one_of(st.integers(-1000, 1000), st.booleans()), max_size=5)))
def test_format_param_types_back_to_the_same_value(value):
    assert yaml.safe_load(format_param(value)) == value
    assert '\n' not in format_param(value)


@pytest.mark.parametrize(('key', 'namespace', 'applies'), [
    ('drive_controller', '/', True),
    ('/drive_controller', '/', True),
    ('drive_controller', '/r1', False),          # a plain key does not follow the node into a namespace
    ('/**/drive_controller', '/r1', True),
    ('/**/drive_controller', '/', True),
    ('/**/drive_controller', '/r1/drive', True),
    ('/**', '/r1', True),
    ('/*/drive_controller', '/r1', True),
    ('/*/drive_controller', '/', False),
    ('/r1/drive_controller', '/r1', True),
    ('/r2/drive_controller', '/r1', False),
    ('cmd_arbitration', '/', False),
])
def test_param_file_section_matching_follows_rcl(key, namespace, applies):
    assert section_applies(key, namespace, 'drive_controller') is applies


def test_runner_falls_back_to_this_interpreter_when_not_installed(monkeypatch):
    monkeypatch.setattr(runner, 'installed_executable', lambda _name, _package='rover_stack': None)
    spec = NodeSpec('rover_stack', 'heartbeat_talker', 'n', '/', (), {'rate': 2.0}, ())
    argv = runner.node_command(spec)
    assert argv[:2] == [sys.executable, '-c']
    assert 'from rover_stack.demo.heartbeat import talker_main' in argv[2]
    compile(argv[2], '<runner -c>', 'exec')
    assert argv[3:] == ros_args(spec)


def test_another_package_not_installed_is_reported_unavailable_not_started(monkeypatch, tmp_path):
    """A vendor node (e.g. sllidar_ros2's sllidar_node) whose package is missing: a warning and the rest runs;
    when it is required, a clear error and exit 1, never a crash."""
    config = tmp_path / 'sets.yaml'
    text = textwrap.dedent("""
        profiles:
          p:
            nodes:
              - {package: no_such_vendor_pkg, executable: lidar_node, name: lidar, required: REQUIRED}
              - {executable: heartbeat_talker, name: talker}
    """)
    started = []
    monkeypatch.setattr(runner.ProcessRunner, 'run', lambda self, _duration: started.append(list(self.specs)) or 0)
    config.write_text(text.replace('REQUIRED', 'false'))
    out = io.StringIO()
    assert runner.run_profile('p', config=config, out=out) == 0
    assert started == [['talker']]
    assert ('warning: lidar is unavailable: package no_such_vendor_pkg (executable lidar_node) is not '
            'installed; not started') in out.getvalue()
    config.write_text(text.replace('REQUIRED', 'true'))
    out = io.StringIO()
    assert runner.run_profile('p', config=config, out=out) == 1
    assert 'error: lidar is unavailable' in out.getvalue()
    assert started == [['talker']]


def test_nodes_naming_one_container_are_one_process_in_first_member_order():
    specs = resolve(load(CONTAINER)['p'], share_dir='/share')
    procs = processes(specs)
    assert [(p.name, p.executable, [m.name for m in p.members]) for p in procs] == [
        ('core', 'rover_container', ['tf', 'arb']), ('alone', 'heartbeat_talker', ['alone'])]
    assert procs[0].respawn and not procs[1].respawn
    argv = process_args(procs[0])
    assert argv == ['--node', 'static_tf_publisher', *ros_args(specs[0]), '--node', 'cmd_arbitration',
                    *ros_args(specs[2])]
    assert process_args(procs[1]) == ros_args(specs[1])


def test_project_containers_hold_only_components_and_keep_the_mission_executive_alone():
    # The mission executive is the process the SIGKILL/respawn tests kill: it must not take others with it.
    for profile in load_node_sets(NODE_SETS).values():
        for entry in profile.nodes:
            if entry.container is not None:
                assert entry.executable in COMPONENTS and entry.executable != 'mission_executive'
