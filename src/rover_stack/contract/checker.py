"""Check a running backend (hardware drivers, simulator) against the hardware-interface contract.

``check_backend(context_or_node, contract, duration_s)`` subscribes to the contract's topics with the
contract's QoS, listens for ``duration_s`` seconds per topic (counted from that topic's first
message), and returns a :class:`ContractReport`: per topic the message count, the measured rate,
and every reason it fails (type, frame_id, rate outside +-20 %, value checks, QoS mismatch).

The rate is measured from the publisher's source timestamps of the samples published after the
checker subscribed (a latched sample from before does not count), falling back to arrival times.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

import rclpy
from rclpy.context import Context
from rclpy.executors import Executor, SingleThreadedExecutor
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, ReliabilityPolicy

from rover_stack.common.qos import by_name
from rover_stack.contract.checks import run_checks, skipped_checks
from rover_stack.contract.model import Contract, TopicContract, message_class

RATE_TOLERANCE = 0.2          # fraction of the nominal rate
DISCOVERY_TIMEOUT_S = 5.0     # s to wait for the first message of each topic
MAX_DISTINCT_PROBLEMS = 20    # per topic, so a message field full of varying bad values stays readable


@dataclass
class TopicResult:
    """What the checker saw on one topic."""
    name: str
    type: str
    nominal_rate_hz: float
    messages: int = 0
    measured_rate_hz: float | None = None
    problems: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)   # checks not run (need a RoverGeometry)

    @property
    def ok(self) -> bool:
        return not self.problems

    def __str__(self) -> str:
        rate = 'n/a' if self.measured_rate_hz is None else f'{self.measured_rate_hz:.1f} Hz'
        head = (f'{"PASS" if self.ok else "FAIL"} {self.name} ({self.type}): {self.messages} messages, '
                f'rate {rate} (nominal {self.nominal_rate_hz:g} Hz)')
        return '\n'.join([head, *(f'    - {problem}' for problem in self.problems)])


@dataclass
class ContractReport:
    """Per-topic results of :func:`check_backend`; ``ok`` when every topic passed."""
    topics: dict[str, TopicResult]

    @property
    def ok(self) -> bool:
        return all(result.ok for result in self.topics.values())

    @property
    def failed(self) -> dict[str, list[str]]:
        """Topic -> reasons, for the failing topics only."""
        return {name: result.problems for name, result in self.topics.items() if not result.ok}

    def __str__(self) -> str:
        return '\n'.join(str(result) for result in self.topics.values())


class _TopicRecorder:
    """Subscription callback target: stores arrival time and message; checks run later in the loop."""

    def __init__(self, spec: TopicContract, geometry, tolerance: float):
        self.spec = spec
        self.geometry = geometry
        self.tolerance = tolerance
        self.pending: list[tuple[float, int, object]] = []
        self.arrivals: list[float] = []          # s, time.monotonic() when taken
        self.published: list[float] = []         # s, publisher's source timestamps of live samples
        self.subscribed_ns = time.time_ns()
        self.first: float | None = None
        self.problems: Counter[str] = Counter()
        self.overflow = 0
        self.window_s = 0.0
        self.setup_error = ''
        self.message_class = message_class(spec.type)

    def on_message(self, msg, info) -> None:
        self.pending.append((time.monotonic(), info.get('source_timestamp') or 0, msg))

    def done(self, now: float) -> bool:
        return bool(self.setup_error) or (self.first is not None and now >= self.first + self.window_s)

    def drain(self, window_s: float) -> None:
        self.window_s = window_s
        pending, self.pending = self.pending, []
        for arrival, source_ns, msg in pending:
            if self.first is None:
                self.first = arrival
            if arrival > self.first + window_s:
                continue
            self.arrivals.append(arrival)
            if source_ns >= self.subscribed_ns:   # not a sample latched before we subscribed
                self.published.append(source_ns * 1e-9)
            for problem in self._message_problems(msg):
                if problem in self.problems or len(self.problems) < MAX_DISTINCT_PROBLEMS:
                    self.problems[problem] += 1
                else:
                    self.overflow += 1

    def _message_problems(self, msg) -> list[str]:
        spec = self.spec
        if not isinstance(msg, self.message_class):
            return [f'message of class {type(msg).__name__}, contract says {spec.type}']
        problems = []
        if spec.frame_id is not None and msg.header.frame_id != spec.frame_id:
            problems.append(f'header.frame_id is {msg.header.frame_id!r}, contract says {spec.frame_id!r}')
        return problems + run_checks(msg, spec.checks, self.geometry)

    def result(self, node: Node, listened_s: float) -> TopicResult:
        spec = self.spec
        result = TopicResult(name=spec.name, type=spec.type, nominal_rate_hz=spec.rate_hz,
                             messages=len(self.arrivals),
                             skipped=[str(check) for check in skipped_checks(spec.checks, self.geometry)])
        result.problems += _endpoint_problems(node, spec)
        count = len(self.arrivals)
        if self.setup_error:
            result.problems.append(self.setup_error)
        elif count == 0:
            result.problems.append(f'no message in {listened_s:.1f} s')
        elif spec.rate_hz > 0:
            stamps = self.published if len(self.published) >= 2 else self.arrivals
            span = stamps[-1] - stamps[0]
            if len(stamps) < 2 or span <= 0.0:
                result.problems.append(f'only {count} message(s) in {self.window_s:.1f} s, '
                                       f'nominal {spec.rate_hz:g} Hz')
            else:
                rate = (len(stamps) - 1) / span
                result.measured_rate_hz = rate
                if abs(rate - spec.rate_hz) > self.tolerance * spec.rate_hz:
                    result.problems.append(f'rate {rate:.1f} Hz outside {spec.rate_hz:g} Hz '
                                           f'+-{self.tolerance:.0%}')
        result.problems += [f'{problem} (in {n} of {count} messages)' for problem, n in self.problems.items()]
        if self.overflow:
            result.problems.append(f'{self.overflow} more problems of other kinds not listed')
        return result


def _endpoint_problems(node: Node, spec: TopicContract) -> list[str]:
    """Publishers of the topic whose type or QoS cannot deliver to a contract subscriber."""
    problems = []
    expected_qos = by_name(spec.qos)
    for info in node.get_publishers_info_by_topic(node.resolve_topic_name(spec.name)):
        who = f'publisher {info.node_namespace.rstrip("/")}/{info.node_name}'
        if info.topic_type != spec.type:
            problems.append(f'{who} publishes type {info.topic_type}, contract says {spec.type}')
        qos = info.qos_profile
        if (expected_qos.reliability == ReliabilityPolicy.RELIABLE
                and qos.reliability == ReliabilityPolicy.BEST_EFFORT):
            problems.append(f'{who} is best effort; the contract\'s {spec.qos!r} QoS needs reliable')
        if (expected_qos.durability == DurabilityPolicy.TRANSIENT_LOCAL
                and qos.durability == DurabilityPolicy.VOLATILE):
            problems.append(f'{who} is volatile; the contract\'s {spec.qos!r} QoS needs transient local')
    return problems


def check_backend(
    node_or_context: Node | Context,
    contract: Contract,
    duration_s: float,
    topics: list[str] | None = None,
    *,
    geometry=None,
    executor: Executor | None = None,
    namespace: str = '',
    discovery_timeout_s: float = DISCOVERY_TIMEOUT_S,
    rate_tolerance: float = RATE_TOLERANCE,
) -> ContractReport:
    """Listen to a backend and judge it against ``contract``.

    node_or_context: a Context (a checker node is created in it, under ``namespace``) or a Node to
        subscribe on.
    topics: names to check; default every from_hardware topic (used by ``geometry.kinematics``
        when a geometry is given). to_hardware topics may be named too, to check what the stack sends.
    geometry: RoverGeometry for the joint-name and geometry-limit checks; without it those are
        skipped (listed in each result's ``skipped``).
    executor: spun here; the checker's node is added to it and removed afterwards (give the one
        that runs the backend when it lives in this process). Default: a private executor.
    Each topic is listened to for ``duration_s`` from its first message; a topic silent for
        ``discovery_timeout_s`` + ``duration_s`` fails with 'no message'.
    """
    if duration_s <= 0:
        raise ValueError(f'duration_s must be positive, got {duration_s}')
    kinematics = None if geometry is None else geometry.kinematics
    if topics is None:
        specs = contract.select('from_hardware', kinematics)
    else:
        specs = [contract.topic(name) for name in topics]
    own_node = isinstance(node_or_context, Context)
    if own_node:
        node = rclpy.create_node('contract_checker', namespace=namespace or None,
                                 context=node_or_context, start_parameter_services=False)
    else:
        node = node_or_context
    own_executor = executor is None
    if own_executor:
        executor = SingleThreadedExecutor(context=node.context)
    executor.add_node(node)
    recorders = [_TopicRecorder(spec, geometry, rate_tolerance) for spec in specs]
    subscriptions = []
    for recorder in recorders:
        try:
            subscriptions.append(node.create_subscription(
                recorder.message_class, recorder.spec.name, recorder.on_message, by_name(recorder.spec.qos)))
        except RuntimeError as error:   # rcl refuses, e.g. the name is used with another type here
            recorder.setup_error = f'cannot subscribe as {recorder.spec.type}: {error}'
    start = time.monotonic()
    deadline = start + discovery_timeout_s + duration_s
    try:
        while True:
            executor.spin_once(timeout_sec=0.02)
            for recorder in recorders:
                recorder.drain(duration_s)
            now = time.monotonic()
            if now >= deadline or all(recorder.done(now) for recorder in recorders):
                break
        listened = time.monotonic() - start
        report = ContractReport({r.spec.name: r.result(node, listened) for r in recorders})
    finally:
        for subscription in subscriptions:
            node.destroy_subscription(subscription)
        executor.remove_node(node)
        if own_executor:
            executor.shutdown(timeout_sec=1.0)
        if own_node:
            node.destroy_node()
    return report
