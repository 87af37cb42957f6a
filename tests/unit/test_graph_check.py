"""The graph check (bringup/graph_check.py): every profile meets every need of its nodes, for every value of
its choice arguments; a broken node set is caught; names, remappings, parameters, peers and waivers."""
from __future__ import annotations

import dataclasses
import io
import textwrap
from pathlib import Path

import pytest

from rover_stack.bringup import runner
from rover_stack.bringup.graph_check import (
    PortsError,
    check_all_choices,
    check_profile,
    choice_combinations,
    expand_name,
    load_ports,
    ports_of,
    resolve_name,
)
from rover_stack.bringup.node_set import NodeSetError, NodeSpec, load_node_sets, parse_node_sets, resolve

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
NODE_SETS = ROOT / 'config' / 'node_sets.yaml'
PORTS = ROOT / 'config' / 'node_ports.yaml'
PROFILES = ('sim', 'rover', 'gazebo', 'base_station', 'test_pair')


@pytest.fixture(scope='module')
def profiles():
    return load_node_sets(NODE_SETS)


@pytest.fixture(scope='module')
def ports():
    return load_ports(PORTS)


@pytest.mark.parametrize('name', PROFILES)
def test_every_profile_meets_every_need_for_every_choice(profiles, ports, name):
    assert check_all_choices(profiles, name, ports) == {}


def test_the_choices_are_all_combinations(profiles):
    combos = choice_combinations(profiles['rover'])
    assert {'lidar': 'none', 'robot_config': 'corner6', 'use_sim_time': 'true', 'autonomy': 'false',
            'datum_source': 'file', 'web': 'true', 'foxglove': 'false', 'nav2': 'true'} in combos
    assert len(combos) == 2 * 3 * 2 * 2 * 2 * 2 * 2 * 2
    assert all(c['lidar'] == 'none' for c in choice_combinations(profiles['rover'], {'lidar': 'none'}))


def test_sim_gazebo_and_rover_run_the_same_onboard_nodes_with_the_same_parameters(profiles):
    """One on-board node set: the three profiles differ only in their world side."""
    def onboard(name):
        specs = resolve(profiles[name], {'use_sim_time': 'true'}, Path('/share'))
        return {s.name: s for s in specs}

    world = {'sim': {'rover_simulator'}, 'gazebo': {'gz_sim', 'gz_spawn', 'gz_bridge', 'gz_wheel_adapter'},
             'rover': {'motor_driver', 'gnss_driver', 'imu_driver', 'camera_driver', 'sllidar_node'}}
    nodes = {name: onboard(name) for name in world}
    shared = set(nodes['sim']) - world['sim']
    assert {'ekf_localization', 'obstacle_grid', 'aruco_detector', 'object_detector', 'navigator',
            'mission_executive', 'drive_controller', 'cmd_arbitration', 'static_tf_publisher',
            'web_bridge'} <= shared
    for name, own in world.items():
        assert set(nodes[name]) - own == shared, name
        assert own <= set(nodes[name]), name
        for node in shared:
            assert nodes[name][node] == nodes['sim'][node], (name, node)


BROKEN_ROVER = """
profiles:
  rover:
    description: the rover profile as it was (drivers, drive and navigation only)
    args:
      robot_config: {default: skid4, choices: [skid4, corner6], description: variant}
    nodes:
      - {executable: static_tf_publisher, name: static_tf_publisher, parameters: [{robot_config: $(arg robot_config)}]}
      - {executable: cmd_arbitration, name: cmd_arbitration}
      - {executable: drive_controller, name: drive_controller, parameters: [{robot_config: $(arg robot_config)}]}
      - {executable: navigator, name: navigator}
      - {executable: motor_driver, name: motor_driver}
      - {executable: gnss_driver, name: gnss_driver}
      - {executable: imu_driver, name: imu_driver}
"""


def test_a_broken_node_set_is_caught(ports):
    """The rover profile before the on-board group: no EKF, no grid, so the navigator's needs are unmet."""
    profiles = parse_node_sets(textwrap.dedent(BROKEN_ROVER))
    failures = check_all_choices(profiles, 'rover', ports)
    assert len(failures) == 2
    unmet = {str(u) for u in next(iter(failures.values()))}
    assert unmet == {
        '/navigator needs topic /odometry/filtered: no node of the profile offers it',
        '/navigator needs topic /obstacles/grid: no node of the profile offers it',
        '/navigator needs transform map->odom: no chain of transforms offered by the profile joins the two frames'}


@pytest.mark.parametrize('name', ['rover', 'gazebo'])
def test_nav2_servers_meet_the_navigators_nav2_needs(profiles, ports, name):
    """nav2:=true: the navigator (backend nav2) needs navigate_to_pose, which only Nav2's bt_navigator
    offers; bt_navigator needs the planner, controller and behaviour servers."""
    names = {s.name for s in resolve(profiles[name], {'nav2': 'true'}, Path('/share'))}
    assert {'bt_navigator', 'controller_server', 'lifecycle_manager_navigation', 'gps_waypoint_follower'} <= names
    assert check_profile(profiles, name, {'nav2': 'true'}, ports)[0] == []
    for gone, unmet in (('bt_navigator', '/navigator needs action /navigate_to_pose'),
                        ('behavior_server', '/bt_navigator needs action /spin')):
        broken = dataclasses.replace(profiles[name], nodes=tuple(
            n for n in profiles[name].nodes if n.executable != gone))
        assert any(str(u).startswith(unmet) for u in check_profile({name: broken}, name, {'nav2': 'true'}, ports)[0])


def test_rover_runner_check_prints_the_unmet_needs(tmp_path, capsys):
    broken = tmp_path / 'node_sets.yaml'
    broken.write_text(textwrap.dedent(BROKEN_ROVER))
    assert runner.main(['--check', 'rover', '--config', str(broken)]) == 1
    out = capsys.readouterr().out
    assert 'robot_config:=corner6: 3 unmet need(s)' in out
    assert '/navigator needs topic /obstacles/grid' in out
    assert runner.main(['--check', 'rover']) == 0
    out = capsys.readouterr().out
    assert 'rover: every need is met of 384 combination(s)' in out
    assert 'note: /scan is not offered: no lidar' in out


def test_a_type_mismatch_is_an_unmet_need(ports):
    profiles = parse_node_sets(textwrap.dedent("""
        profiles:
          p:
            nodes:
              - {executable: heartbeat_listener, name: listener}
              - {executable: drive_controller, name: dc, remappings: [[odom, heartbeat]]}
    """))
    unmet = check_profile(profiles, 'p', {}, ports)[0]
    assert any(u.name == '/heartbeat' and 'offered as nav_msgs/msg/Odometry' in u.reason for u in unmet)


def test_waivers_and_peers(profiles, ports):
    unmet, notes = check_profile(profiles, 'rover', {'lidar': 'none'}, ports)
    assert unmet == [] and len(notes) == 1
    # the base station's needs (gnss/fix, estop_state, reset_estop) are met by its peer, the rover
    alone = parse_node_sets(NODE_SETS.read_text().replace('    peers: [rover]\n', ''))
    unmet, _ = check_profile(alone, 'base_station', {}, ports)
    assert {u.name for u in unmet} == {'/gnss/fix', '/estop_state', '/reset_estop'}


def test_a_waiver_applies_only_while_its_condition_holds(profiles, ports):
    text = NODE_SETS.read_text().replace("when: lidar == rplidar\n", "when: lidar == never\n")
    text = text.replace("choices: [rplidar, none]", "choices: [rplidar, none, never]")
    unmet, _ = check_profile(parse_node_sets(text), 'rover', {'lidar': 'rplidar'}, ports)
    assert [str(u) for u in unmet] == ['/obstacle_grid needs topic /scan: no node of the profile offers it']


def spec(name='n', namespace='/', remappings=(), params=None, executable='drive_controller', files=()):
    return NodeSpec('rover_stack', executable, name, namespace, tuple(files), params or {}, tuple(remappings))


def test_names_expand_and_remap_as_rcl_does():
    assert expand_name('odom', '/', 'n') == '/odom'
    assert expand_name('odom', '/rover1', 'n') == '/rover1/odom'
    assert expand_name('~/x', '/rover1', 'n') == '/rover1/n/x'
    assert expand_name('/clock', '/rover1', 'n') == '/clock'
    s = spec(namespace='/r', remappings=[('cmd_vel', 'drive/cmd_vel'), ('/odom', '/wheel_odom')])
    assert resolve_name('cmd_vel', s) == '/r/drive/cmd_vel'
    assert resolve_name('odom', s) == '/r/odom'
    assert resolve_name('/odom', s) == '/wheel_odom'


def test_conditional_ports_follow_the_node_parameters(ports, tmp_path):
    corner = ports_of(spec(params={'robot_config': 'corner6'}), ports)
    assert '/steering_commands' in corner.offers.topics and ('odom', 'base_footprint') in corner.offers.tf
    params_file = tmp_path / 'p.yaml'
    params_file.write_text('/**/n:\n  ros__parameters:\n    publish_odom_tf: false\n')
    no_tf = ports_of(spec(files=[str(params_file)]), ports)
    assert '/steering_commands' not in no_tf.offers.topics and no_tf.offers.tf == []
    assert '/tf' not in no_tf.offers.topics


def test_static_transforms_come_from_the_robot_description(ports):
    offered = ports_of(spec(executable='static_tf_publisher', params={'robot_config': 'skid4'}), ports)
    assert ('base_footprint', 'base_link') in offered.offers.tf
    assert any(child == 'camera_optical_frame' for _, child in offered.offers.tf)
    assert any(child == 'laser_link' for _, child in offered.offers.tf)


def test_the_gazebo_bridge_ports_come_from_its_bridge_file(ports):
    bridge = ports_of(spec(executable='gz_bridge'), ports)
    assert bridge.offers.topics['/scan'] == 'sensor_msgs/msg/LaserScan'
    assert bridge.offers.topics['/clock'] == 'rosgraph_msgs/msg/Clock'
    assert all(name.startswith('/gz/') for name in bridge.uses.topics)


def test_a_node_without_a_declaration_is_an_error(ports):
    with pytest.raises(PortsError, match='no entry'):
        ports_of(spec(executable='rover'), ports)


@pytest.mark.parametrize('text, message', [
    ('nodes: {a: {offers: {topics: {x: NotAType}}}}', 'pkg/msg/Type'),
    ('nodes: {a: {offers: {tf: [just_a_frame]}}}', 'parent->child'),
    ('nodes: {a: {if: [{param: p, equals: 1}]}}', 'defaults must give'),
    ('nodes: {a: {wants: {}}}', 'keys must be among'),
    ('[]', 'nodes mapping'),
])
def test_bad_port_files_are_refused(tmp_path, text, message):
    path = tmp_path / 'ports.yaml'
    path.write_text(text)
    with pytest.raises(PortsError, match=message):
        load_ports(path)


def test_describe_lists_an_unavailable_vendor_node(profiles):
    out = io.StringIO()
    runner.describe(profiles, 'rover', {}, out)
    assert 'sllidar_node --ros-args' in out.getvalue()


@pytest.mark.parametrize('body, message', [
    ('nodes: [{group: nope}]', "unknown group 'nope'"),
    ('nodes: [{group: g, name: x}]', 'only the key group'),
    ('peers: [nobody]\n    nodes: []', 'peers'),
    ('waivers: [{need: scan, when: absent, reason: r}]\n    nodes: []', 'undeclared argument'),
    ('nodes: [{package: other_pkg, executable: n, name: n, container: c}]', 'only rover_stack nodes'),
    ('nodes: [{package: other_pkg, executable: "bad name", name: n}]', 'must be a file name'),
])
def test_groups_peers_waivers_and_packages_are_validated(body, message):
    text = f"""
groups:
  g:
    nodes: [{{executable: heartbeat_talker, name: t}}]
profiles:
  p:
    {body}
"""
    with pytest.raises(NodeSetError, match=message):
        parse_node_sets(text)


def test_a_group_brings_its_nodes_and_arguments_and_a_profile_may_change_a_default():
    profiles = parse_node_sets("""
groups:
  g:
    args: {rate: {default: '1.0', description: Hz}}
    nodes: [{executable: heartbeat_talker, name: t, parameters: [{rate: $(arg rate)}]}]
profiles:
  a:
    nodes: [{group: g}, {executable: heartbeat_listener, name: l}]
  b:
    args: {rate: {default: '5.0', description: faster}}
    nodes: [{executable: heartbeat_listener, name: l}, {group: g}]
""")
    assert [n.name for n in profiles['a'].nodes] == ['t', 'l']
    assert [n.name for n in profiles['b'].nodes] == ['l', 't']
    assert profiles['a'].args['rate'].default == '1.0' and profiles['b'].args['rate'].default == '5.0'
