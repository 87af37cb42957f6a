"""config/node_ports.yaml cannot drift from the code: start a profile through the runner and compare every
running node's publishers, subscriptions, services, clients and actions with what the file declares for it,
in both directions (every declared offer and need exists; nothing undeclared exists).

The sim profile (with the Foxglove relay), the rover profile with no devices and no lidar (drivers retrying,
vendor lidar absent), and the Gazebo wheel adapter with the test pair. The Gazebo launchers and the vendor
lidar driver cannot run here: the bridge's ports come from its bridge file (tests/unit/test_graph_check.py).
"""
from __future__ import annotations

import textwrap
import time
from pathlib import Path

import pytest
import rclpy

from rover_stack.bringup.graph_check import KINDS, ResolvedPorts, load_ports, profile_ports
from rover_stack.bringup.node_set import argument_values, load_node_sets
from rover_stack.common.domains import claim_domain_id
from rover_stack.testing.runner_process import RunnerProcess

pytestmark = pytest.mark.timeout(400)

ROOT = Path(__file__).resolve().parents[2]
START_TIMEOUT = 120.0   # s: every node of a profile in the graph, on a loaded 2-core machine
SETTLE_TIMEOUT = 60.0   # s: discovery of every endpoint
STANDARD_PUBLISHERS = {'/rosout', '/parameter_events'}
STANDARD_SUBSCRIPTIONS = {'/parameter_events', '/clock'}
STANDARD_SERVICE_SUFFIXES = ('/describe_parameters', '/get_parameter_types', '/get_parameters',
                             '/list_parameters', '/set_parameters', '/set_parameters_atomically',
                             '/get_type_description')
ACTION_SERVICES = {'send_goal': '{package}/action/{action}_SendGoal', 'cancel_goal': 'action_msgs/srv/CancelGoal',
                   'get_result': '{package}/action/{action}_GetResult'}


def expected_endpoints(node: ResolvedPorts) -> dict[str, tuple[set, set]]:
    """Per endpoint kind: (what must exist, what may exist) as (name, type) pairs, from the declaration."""
    must = {'pub': set(), 'sub': set(), 'srv': set(), 'cli': set()}
    may = {'pub': set(), 'sub': set(), 'srv': set(), 'cli': set()}
    for role, table in (('offers', must), ('needs', must), ('uses', may)):
        ports = getattr(node, role)
        for kind in KINDS:
            for name, type_name in ports.kind(kind).items():
                for key, pair in _graph_entries(role, kind, name, type_name):
                    table[key].add(pair)
    for key in may:
        may[key] |= must[key]
    return {key: (must[key], may[key]) for key in must}


def _graph_entries(role: str, kind: str, name: str, type_name: str):
    """How a declared port shows in the ROS graph: topics as publishers/subscriptions, services as
    servers/clients, actions as their three services and two topics."""
    serving = role == 'offers'
    if kind == 'topics':
        yield ('pub' if serving else 'sub'), (name, type_name)
    elif kind == 'services':
        yield ('srv' if serving else 'cli'), (name, type_name)
    else:
        package, _, action = type_name.split('/')
        for suffix, service in ACTION_SERVICES.items():
            yield ('srv' if serving else 'cli'), (f'{name}/_action/{suffix}',
                                                  service.format(package=package, action=action))
        yield ('pub' if serving else 'sub'), (f'{name}/_action/feedback', f'{package}/action/{action}_FeedbackMessage')
        yield ('pub' if serving else 'sub'), (f'{name}/_action/status', 'action_msgs/msg/GoalStatusArray')


def actual_endpoints(probe, fq_name: str) -> dict[str, set]:
    namespace, _, name = fq_name.rpartition('/')
    namespace = namespace or '/'

    def pairs(entries, ignore=()):
        return {(n, t) for n, types in entries for t in types
                if n not in ignore and not n.endswith(STANDARD_SERVICE_SUFFIXES)}

    return {'pub': pairs(probe.get_publisher_names_and_types_by_node(name, namespace), STANDARD_PUBLISHERS),
            'sub': pairs(probe.get_subscriber_names_and_types_by_node(name, namespace), STANDARD_SUBSCRIPTIONS),
            'srv': pairs(probe.get_service_names_and_types_by_node(name, namespace)),
            'cli': pairs(probe.get_client_names_and_types_by_node(name, namespace))}


def differences(probe, nodes: list[ResolvedPorts]) -> list[str]:
    problems = []
    for node in nodes:
        actual = actual_endpoints(probe, node.node)
        for key, (must, may) in expected_endpoints(node).items():
            problems += [f'{node.node}: declared {key} {n} [{t}] is not in the graph' for n, t in sorted(must - actual[key])]
            problems += [f'{node.node}: {key} {n} [{t}] is not declared in config/node_ports.yaml'
                         for n, t in sorted(actual[key] - may)]
    return problems


def check_live(profile_name: str, args: dict[str, str], config: Path | None = None) -> None:
    """Run the profile on a DDS domain of its own: nodes of earlier tests (or their stale graph entries)
    with the same names must not mix into the comparison (seen in CI: a destroyed Nav2-backend navigator)."""
    profiles = load_node_sets(config or ROOT / 'config' / 'node_sets.yaml')
    nodes = profile_ports(profiles[profile_name], argument_values(profiles[profile_name], args), load_ports())
    argv = [profile_name, *(a for k, v in args.items() for a in ('--arg', f'{k}:={v}'))]
    domain_id, domain_lock = claim_domain_id()
    runner = RunnerProcess(*argv, *(['--config', str(config)] if config else []),
                           env={'ROS_DOMAIN_ID': str(domain_id)})
    context = rclpy.Context()
    rclpy.init(context=context, domain_id=domain_id)
    probe = rclpy.create_node('graph_probe', context=context)
    try:
        wanted = {n.node for n in nodes}
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            running = {f'{ns.rstrip("/")}/{name}' for name, ns in probe.get_node_names_and_namespaces()}
            if wanted <= running:
                break
            assert runner.process.poll() is None, f'runner ended:\n{runner.tail(60)}'
            assert time.monotonic() < deadline, f'not in the graph: {sorted(wanted - running)}\n{runner.tail(60)}'
            time.sleep(0.5)
        deadline = time.monotonic() + SETTLE_TIMEOUT
        while problems := differences(probe, nodes):
            if time.monotonic() > deadline:
                pytest.fail('the running nodes differ from config/node_ports.yaml:\n' + '\n'.join(problems))
            time.sleep(1.0)
    finally:
        probe.destroy_node()
        context.try_shutdown()
        runner.stop()
        domain_lock.close()


def test_the_sim_profile_runs_what_its_nodes_declare():
    check_live('sim', {'course': 'flat_easy', 'camera_rate': '5.0', 'web_port': '0',
                                    'foxglove': 'true', 'foxglove_port': '0'})


def test_the_rover_profile_runs_what_its_nodes_declare_without_devices():
    check_live('rover', {'lidar': 'none', 'web_port': '0', 'robot_config': 'corner6'})


def test_the_gazebo_wheel_adapter_and_the_test_pair_run_what_they_declare(tmp_path):
    config = tmp_path / 'node_sets.yaml'
    config.write_text(textwrap.dedent("""
        profiles:
          p:
            nodes:
              - {executable: gz_wheel_adapter, name: gz_wheel_adapter, parameters: [{robot_config: corner6}]}
              - {executable: heartbeat_talker, name: heartbeat_talker}
              - {executable: heartbeat_listener, name: heartbeat_listener}
    """))
    check_live('p', {}, config)
