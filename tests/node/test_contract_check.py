"""check_backend against an in-process fake backend: a conforming one passes, each fault is named."""
import math
import time
from functools import partial

import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.qos import DurabilityPolicy, QoSProfile, ReliabilityPolicy
from std_msgs.msg import String

from rover_stack.common.qos import PROFILES, by_name
from rover_stack.common.share_files import robot_config_path
from rover_stack.contract.checker import check_backend
from rover_stack.contract.model import QOS_NAMES, load_contract, message_class
from rover_stack.contract.samples import sample_message
from rover_stack.description.geometry import load_geometry

CONTRACT = load_contract()
GEOMETRY = load_geometry(robot_config_path('skid4'))
DURATION_S = 2.0
CONFORMING = {'joint_states': 50.0, 'imu/data': 100.0, 'gnss/fix': 5.0, 'hardware_estop': 1.0}


def new_context():
    """A context whose nodes are destroyed before shutdown, so no latched sample outlives its test."""
    context = rclpy.Context()
    rclpy.init(context=context)
    context.test_nodes = []
    return context


def close_context(context):
    for node in context.test_nodes:
        node.destroy_node()
    rclpy.try_shutdown(context=context)


def make_node(context, name, namespace=None):
    node = rclpy.create_node(name, context=context, namespace=namespace)
    context.test_nodes.append(node)
    return node


@pytest.fixture()
def ctx():
    context = new_context()
    yield context
    close_context(context)


@pytest.fixture()
def other_ctx():
    """A second context: its nodes are another DDS participant, as a backend in another process is."""
    context = new_context()
    yield context
    close_context(context)


@pytest.fixture()
def executor(ctx):
    executor = SingleThreadedExecutor(context=ctx)
    yield executor
    executor.shutdown(timeout_sec=1.0)


class FakeBackend:
    """Publishes contract sample messages on the given topics at the given rates, optionally spoiled."""

    def __init__(self, ctx, executor, rates, spoil=None, namespace=None):
        self.node = make_node(ctx, 'fake_backend', namespace=namespace)
        spoil = spoil or {}
        for name, rate in rates.items():
            spec = CONTRACT.topic(name)
            publisher = self.node.create_publisher(message_class(spec.type), name, by_name(spec.qos))
            publish = partial(self._publish, spec, publisher, spoil.get(name))
            self.node.create_timer(1.0 / rate, publish)
            if spec.qos == 'latched':
                publish()
        executor.add_node(self.node)

    def _publish(self, spec, publisher, spoil):
        msg = sample_message(spec, GEOMETRY, stamp_s=self.node.get_clock().now().nanoseconds * 1e-9)
        if spoil is not None:
            spoil(msg)
        publisher.publish(msg)


def check(ctx, executor, topics, **kwargs):
    report = check_backend(ctx, CONTRACT, DURATION_S, topics, geometry=GEOMETRY, executor=executor, **kwargs)
    assert set(report.topics) == set(topics)
    return report


def test_qos_names_of_the_model_are_the_profiles():
    assert set(QOS_NAMES) == set(PROFILES)
    for topic in CONTRACT.topics.values():
        by_name(topic.qos)


def test_conforming_backend_passes(ctx, executor):
    FakeBackend(ctx, executor, CONFORMING, namespace='rover1')
    report = check(ctx, executor, list(CONFORMING), namespace='rover1')
    assert report.ok, str(report)
    for name, rate in CONFORMING.items():
        result = report.topics[name]
        assert result.messages >= 2, str(result)
        assert result.measured_rate_hz == pytest.approx(rate, rel=0.2), str(result)
        assert result.skipped == []


def spoil_frame(msg):
    msg.header.frame_id = 'base_link'


def spoil_nan(msg):
    msg.velocity[0] = math.nan


# (topic, rate to publish at, spoiling, reason expected)
FAULTS = [
    ('imu/data', 100.0, spoil_frame, "header.frame_id is 'base_link', contract says 'imu_link'"),
    ('imu/data', 50.0, None, 'outside 100 Hz +-20%'),
    ('joint_states', 50.0, spoil_nan, 'velocity[0] is nan, not finite'),
]


@pytest.mark.parametrize(('faulty', 'rate', 'spoil', 'reason'), FAULTS, ids=['frame_id', 'half_rate', 'nan'])
def test_each_fault_is_reported_with_its_reason(ctx, executor, faulty, rate, spoil, reason):
    rates = dict(CONFORMING)
    rates[faulty] = rate
    FakeBackend(ctx, executor, rates, spoil={faulty: spoil})
    report = check(ctx, executor, list(rates))
    assert not report.ok
    assert set(report.failed) == {faulty}, str(report)
    assert any(reason in problem for problem in report.failed[faulty]), str(report)
    if spoil is None:
        assert report.topics[faulty].measured_rate_hz == pytest.approx(rate, rel=0.2)


def test_silent_topic_wrong_type_and_wrong_qos_are_reported(ctx, executor, other_ctx):
    node = make_node(other_ctx, 'wrong_backend')
    node.create_publisher(String, 'battery', 10)
    best_effort = QoSProfile(depth=1, reliability=ReliabilityPolicy.BEST_EFFORT,
                             durability=DurabilityPolicy.VOLATILE)
    node.create_publisher(message_class('std_msgs/msg/Bool'), 'hardware_estop', best_effort)
    started = time.monotonic()
    report = check_backend(ctx, CONTRACT, 1.0, ['battery', 'hardware_estop', 'scan'], geometry=GEOMETRY,
                           executor=executor, discovery_timeout_s=1.0)
    assert time.monotonic() - started < 5.0
    failed = report.failed
    assert set(failed) == {'battery', 'hardware_estop', 'scan'}, str(report)
    assert any('publishes type std_msgs/msg/String, contract says sensor_msgs/msg/BatteryState' in p
               for p in failed['battery']), str(report)
    assert any('best effort' in p and 'needs reliable' in p for p in failed['hardware_estop']), str(report)
    for name in failed:
        assert any(p.startswith('no message in') for p in failed[name]), str(report)


def test_same_process_type_clash_is_a_problem_not_a_crash(ctx, executor):
    node = make_node(ctx, 'clashing_backend')
    node.create_publisher(String, 'battery', 10)
    report = check_backend(ctx, CONTRACT, 0.5, ['battery'], executor=executor, discovery_timeout_s=0.5)
    assert any('cannot subscribe as sensor_msgs/msg/BatteryState' in p for p in report.failed['battery'])


def test_checker_runs_on_a_given_node_with_its_own_executor(ctx):
    """The simulator's tests may hand in their own node; check_backend then spins a private executor."""
    backend_executor = SingleThreadedExecutor(context=ctx)
    FakeBackend(ctx, backend_executor, {'gnss/fix': 5.0})
    checker_node = make_node(ctx, 'my_checker')
    # The backend must run while the checker listens: give both to one executor via executor=.
    report = check_backend(checker_node, CONTRACT, DURATION_S, ['gnss/fix'], geometry=GEOMETRY,
                           executor=backend_executor)
    assert report.ok, str(report)
    assert checker_node not in backend_executor.get_nodes()
    backend_executor.shutdown(timeout_sec=1.0)


def test_default_topics_are_the_from_hardware_ones_without_geometry_checks_skipped(ctx, executor):
    report = check_backend(ctx, CONTRACT, 0.2, geometry=None, executor=executor, discovery_timeout_s=0.2)
    assert set(report.topics) == {t.name for t in CONTRACT.select('from_hardware')}
    assert not report.ok   # nothing publishes
    assert report.topics['joint_states'].skipped == ['joint_names(field=name, joints=[wheel, steering])']
