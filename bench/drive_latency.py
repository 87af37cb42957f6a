"""Latency of the drive command path: twist in -> cmd_arbitration -> drive_controller -> wheel_commands.

The two nodes run as two separate processes (as on the rover); this process publishes one command at a
time on the arbitration's ``autonomy/cmd_vel`` source, waits until the wheel command that carries it
comes out, and records the hop times (monotonic clock of this process, callbacks included):

* arbitration: command published -> ``cmd_vel`` out of the arbitration carrying it;
* controller:  that ``cmd_vel`` -> ``wheel_commands`` carrying it;
* end to end:  command published -> ``wheel_commands``.

Both nodes act on a command's arrival (issue #23; their timers only ramp, time out and beat). Commands
are sent after a random (seeded) pause of up to one timer period, so they arrive at any phase of the
timers, as real commands do. The controller runs with high acceleration limits so a new command shows in
the wheel command it causes.

The floor beside it, measured in the same run: the round trip of a TwistStamped through an echo process
(this process -> echo -> this process: two DDS hops, where the command path has three).

Usage (in the dev env):  python bench/drive_latency.py [--count 10000] [--rate 50] [--json]
(``--json``: print one JSON line with the figures of ``measure`` instead of the table.)
"""
from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import rclpy
import yaml
from geometry_msgs.msg import TwistStamped
from rclpy.executors import SingleThreadedExecutor
from sensor_msgs.msg import JointState
from std_msgs.msg import Bool

from rover_stack.common.qos import command_qos, latched_qos
from rover_stack.description.geometry import load_geometry
from rover_stack.drive.estop_reset import reset_estop

ROOT = Path(__file__).resolve().parents[1]
ROBOT = ROOT / 'config' / 'robot' / 'skid4.yaml'
WHEEL = 'wheel_front_left_joint'


def start_nodes(namespace: str, rate: float, inputs_file: str) -> list[subprocess.Popen]:
    common = ['--ros-args', '-r', f'__ns:={namespace}', '-p', f'rate:={rate}', '--log-level', 'warn']
    controller = [sys.executable, '-m', 'rover_stack.drive.drive_controller_node', *common,
                  '-p', f'robot_config:={ROBOT}',
                  '-p', 'linear_max_acceleration:=100.0', '-p', 'linear_max_deceleration:=100.0']
    arbitration = [sys.executable, '-m', 'rover_stack.drive.cmd_arbitration_node', *common,
                   '-p', f'inputs_file:={inputs_file}']
    return [subprocess.Popen(cmd, env=os.environ.copy()) for cmd in (arbitration, controller)]


ECHO_SCRIPT = """
import rclpy, rclpy.executors
from geometry_msgs.msg import TwistStamped
from rover_stack.common.qos import command_qos
rclpy.init()
node = rclpy.create_node('twist_echo', namespace=__import__('sys').argv[1])
out = node.create_publisher(TwistStamped, 'echo/out', command_qos())
node.create_subscription(TwistStamped, 'echo/in', out.publish, command_qos())
try:
    rclpy.spin(node)
except (KeyboardInterrupt, rclpy.executors.ExternalShutdownException):
    pass
"""


def round_trips(node, executor, count: int) -> list[float]:
    """Seconds from publishing a TwistStamped to its echo's arrival, ``count`` times (one at a time)."""
    echo = subprocess.Popen([sys.executable, '-c', ECHO_SCRIPT, node.get_namespace()], env=os.environ.copy())
    pub = node.create_publisher(TwistStamped, 'echo/in', command_qos())
    back: list[float] = []
    node.create_subscription(TwistStamped, 'echo/out', lambda m: back.append(m.twist.linear.x), command_qos())
    times: list[float] = []
    try:
        deadline = time.monotonic() + 20.0
        while not back:                        # until the echo answers (discovery both ways)
            if time.monotonic() > deadline:
                raise RuntimeError('the echo process did not answer within 20 s')
            pub.publish(TwistStamped())
            executor.spin_once(timeout_sec=0.05)
        for k in range(count):
            msg = TwistStamped()
            msg.twist.linear.x = float(k + 1)
            sent = time.monotonic()
            pub.publish(msg)
            deadline = sent + 1.0
            while (not back or back[-1] != msg.twist.linear.x) and time.monotonic() < deadline:
                executor.spin_once(timeout_sec=0.01)
            if back and back[-1] == msg.twist.linear.x:
                times.append(time.monotonic() - sent)
    finally:
        echo.terminate()
        echo.wait(10)
    return times


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100.0 * (len(ordered) - 1)))]


class Probe:
    """Publishes numbered commands, matches them in the two outputs by their speed."""

    def __init__(self, node, radius: float):
        self.node, self.radius = node, radius
        self.pub = node.create_publisher(TwistStamped, 'autonomy/cmd_vel', command_qos())
        self.expected: float | None = None
        self.sent_at = self.arbitrated_at = self.wheels_at = None
        self.wheel_index: int | None = None
        node.create_subscription(TwistStamped, 'cmd_vel', self._on_cmd_vel, command_qos())
        node.create_subscription(JointState, 'wheel_commands', self._on_wheels, command_qos())
        self.seen_wheels = False
        # The hardware's heartbeat: a silent hardware_estop counts as pressed (docs/safety.md)
        hardware = node.create_publisher(Bool, 'hardware_estop', latched_qos())
        node.create_timer(0.5, lambda: hardware.publish(Bool(data=False)))

    def send(self, v: float) -> None:
        self.expected, self.arbitrated_at, self.wheels_at = v, None, None
        msg = TwistStamped()
        msg.header.stamp = self.node.get_clock().now().to_msg()
        msg.twist.linear.x = v
        self.sent_at = time.monotonic()
        self.pub.publish(msg)

    def _on_cmd_vel(self, msg: TwistStamped) -> None:
        if self.arbitrated_at is None and self.expected is not None and msg.twist.linear.x == self.expected:
            self.arbitrated_at = time.monotonic()

    def _on_wheels(self, msg: JointState) -> None:
        self.seen_wheels = True
        if self.wheels_at is not None or self.expected is None or WHEEL not in msg.name:
            return
        speed = msg.velocity[list(msg.name).index(WHEEL)]
        if abs(speed * self.radius - self.expected) < 1e-9:
            self.wheels_at = time.monotonic()


def run(count: int, rate: float) -> dict[str, list[float]]:
    namespace = f'/drive_bench_{os.getpid()}'
    with tempfile.NamedTemporaryFile('w', suffix='.yaml', delete=False) as table:
        yaml.safe_dump({'sources': [{'name': 'autonomy', 'topic': 'autonomy/cmd_vel', 'priority': 10,
                                     'timeout': 1.0}]}, table)
    processes = start_nodes(namespace, rate, table.name)
    rclpy.init()
    node = rclpy.create_node('drive_latency_bench', namespace=namespace)
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    probe = Probe(node, load_geometry(ROBOT).wheel_radius)
    hops: dict[str, list[float]] = {'arbitration': [], 'controller': [], 'end to end': [],
                                    'dds round trip': []}
    missed = 0
    try:
        deadline = time.monotonic() + 20.0
        while not (probe.seen_wheels and probe.pub.get_subscription_count() > 0):
            if time.monotonic() > deadline:
                raise RuntimeError('the drive nodes did not come up within 20 s')
            executor.spin_once(timeout_sec=0.05)
        reset_estop(node, executor, timeout=20.0)    # a started controller is latched: reset as the operator
        pause = random.Random(20261127)
        for k in range(count + 20):                  # the first 20 warm up and are not counted
            resume = time.monotonic() + pause.uniform(0.0, 1.0 / rate)
            while (remaining := resume - time.monotonic()) > 0:
                executor.spin_once(timeout_sec=remaining)
            probe.send(0.2 + (k % 2000) * 0.0002)    # m/s, each one different from the previous
            deadline = time.monotonic() + 1.0
            # both outputs: when both are ready the probe may take the wheel command before the cmd_vel
            while (probe.wheels_at is None or probe.arbitrated_at is None) and time.monotonic() < deadline:
                executor.spin_once(timeout_sec=0.01)
            if probe.wheels_at is None or probe.arbitrated_at is None:
                missed += 1
                continue
            if k >= 20:
                arbitrated = min(probe.arbitrated_at, probe.wheels_at)   # taken after the wheels: no later
                hops['arbitration'].append(arbitrated - probe.sent_at)
                hops['controller'].append(probe.wheels_at - arbitrated)
                hops['end to end'].append(probe.wheels_at - probe.sent_at)
        hops['dds round trip'] = round_trips(node, executor, count)
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(10)
        Path(table.name).unlink()
    if missed:
        print(f'warning: {missed} commands never came out within 1 s')
    return hops


def summarize(hops: dict[str, list[float]]) -> dict[str, dict[str, float]]:
    """hop -> p50, p99, mean and max in ms (hops without samples are left out)."""
    out = {}
    for name, values in hops.items():
        if values:
            ms = [1000.0 * x for x in values]
            out[name] = {'p50_ms': percentile(ms, 50), 'p99_ms': percentile(ms, 99),
                         'mean_ms': statistics.fmean(ms), 'max_ms': max(ms)}
    return out


def measure(count: int = 10_000, rate: float = 50.0) -> dict:
    """Figures of one run: commands timed, node rate (Hz), wall time (s) and per-hop statistics (ms)."""
    started = time.monotonic()
    hops = run(count, rate)
    return {'commands': len(hops['end to end']), 'rate_hz': rate, 'wall_s': time.monotonic() - started,
            'hops': summarize(hops)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--count', type=int, default=10_000, help='commands to time (default 10000)')
    parser.add_argument('--rate', type=float, default=50.0, help='rate of both nodes in Hz (default 50)')
    parser.add_argument('--json', action='store_true', help='print the figures as one JSON line')
    options = parser.parse_args()
    figures = measure(options.count, options.rate)
    if options.json:
        print(json.dumps(figures))
        return
    print(f'\ndrive command latency, {figures["commands"]} commands, both nodes event-driven (timers at '
          f'{options.rate:g} Hz), two processes + this probe ({figures["wall_s"]:.0f} s); '
          'dds round trip: this process -> echo process -> this process')
    print(f'{"hop":<14}{"p50 ms":>9}{"p99 ms":>9}{"mean ms":>9}{"max ms":>9}')
    for name, hop in figures['hops'].items():
        print(f'{name:<14}{hop["p50_ms"]:9.2f}{hop["p99_ms"]:9.2f}{hop["mean_ms"]:9.2f}{hop["max_ms"]:9.2f}')


if __name__ == '__main__':
    main()
