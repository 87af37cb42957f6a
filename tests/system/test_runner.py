"""rover_runner and rover_sim as separate processes: prefixed output, respawn of a killed node, clean
SIGINT stop, no child left behind, failure when a required node cannot start."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
import time
from pathlib import Path

import pytest
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from std_msgs.msg import UInt32

from rover_stack.common.qos import command_qos
from rover_stack.testing.waiting import DeadlineExceededError, spin_until

STARTED = re.compile(r'^\[rover_runner\] started (\w+) \(pid (\d+)\)$')


class RunnerProcess:
    """``python -m MODULE ...`` (the runner by default) in its own process group, output collected."""

    def __init__(self, *args: str, module: str = 'rover_stack.bringup.runner'):
        self.process = subprocess.Popen(
            [sys.executable, '-m', module, *args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
            process_group=0)
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stdout:
            with self._lock:
                self.lines.append(line.rstrip('\n'))

    def output(self) -> list[str]:
        with self._lock:
            return list(self.lines)

    def wait_for_line(self, pattern: str, timeout: float, after: int = 0) -> re.Match:
        """The first output line (from index ``after``) matching ``pattern``; DeadlineExceededError if none."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in self.output()[after:]:
                if match := regex.search(line):
                    return match
            if self.process.poll() is not None and not self._reader.is_alive():
                break
            time.sleep(0.05)
        raise DeadlineExceededError(f'no line matching {pattern!r} within {timeout} s; output:\n'
                               + '\n'.join(self.output()[-40:]))

    def child_pids(self) -> dict[str, list[int]]:
        pids: dict[str, list[int]] = {}
        for line in self.output():
            if match := STARTED.match(line):
                pids.setdefault(match.group(1), []).append(int(match.group(2)))
        return pids

    def stop(self) -> None:
        """Test clean-up: kill the runner's group and every child group it reported."""
        groups = [self.process.pid] + [p for pids in self.child_pids().values() for p in pids]
        for group in groups:
            try:
                os.killpg(group, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        self.process.wait(timeout=10)
        self._reader.join(timeout=5)


def alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        stat = Path(f'/proc/{pid}/stat').read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(')', 1)[1].split()[0] != 'Z'


def processes_in_groups(groups: set[int]) -> list[int]:
    """PIDs of live processes whose process group is one of ``groups``."""
    found = []
    for entry in Path('/proc').iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / 'stat').read_text().rsplit(')', 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        if int(fields[2]) in groups and fields[0] != 'Z':
            found.append(int(entry.name))
    return found


@pytest.fixture
def runner_factory():
    runners: list[RunnerProcess] = []

    def start(*args: str, module: str = 'rover_stack.bringup.runner') -> RunnerProcess:
        runners.append(RunnerProcess(*args, module=module))
        return runners[-1]
    yield start
    for runner in runners:
        runner.stop()


class CountWatcher:
    """An in-test rclpy node recording heartbeat_count values."""

    def __init__(self, context):
        self.values: list[int] = []
        self.node = Node('heartbeat_count_watcher', context=context)
        self.node.create_subscription(UInt32, 'heartbeat_count', lambda m: self.values.append(m.data),
                                      command_qos())
        self.executor = SingleThreadedExecutor(context=context)
        self.executor.add_node(self.node)

    def spin_until(self, condition, timeout: float, what: str) -> None:
        spin_until(self.executor, condition, timeout, what)

    def close(self) -> None:
        self.executor.shutdown()
        self.node.destroy_node()


def test_runner_prefixes_output_respawns_a_killed_node_and_stops_cleanly(runner_factory, ros_context):
    runner = runner_factory('test_pair', '--shutdown-timeout', '3')
    runner.wait_for_line(r'^\[heartbeat_talker\] .*published heartbeat', timeout=30)
    runner.wait_for_line(r'^\[heartbeat_listener\] .*heard .heartbeat', timeout=30)
    talker_pid = runner.child_pids()['heartbeat_talker'][0]
    listener_pid = runner.child_pids()['heartbeat_listener'][0]

    watcher = CountWatcher(ros_context)
    try:
        watcher.spin_until(lambda: watcher.values and max(watcher.values) >= 20, 30, 'heartbeat_count >= 20')
        before_kill = max(watcher.values)

        os.kill(listener_pid, signal.SIGKILL)
        mark = len(runner.output())
        runner.wait_for_line(r'^\[rover_runner\] heartbeat_listener exited with code -9: .*respawning in',
                             timeout=10, after=mark)
        match = runner.wait_for_line(r'^\[rover_runner\] started heartbeat_listener \(pid (\d+)\)$',
                                     timeout=10, after=mark)
        new_pid = int(match.group(1))
        assert new_pid != listener_pid
        assert not alive(listener_pid), 'the killed listener was not reaped'
        # The new listener counts from 1 again (values still queued from the old one are >= before_kill)
        # and keeps counting.
        watcher.values.clear()
        watcher.spin_until(lambda: any(v < before_kill for v in watcher.values), 30,
                           'heartbeat_count restarting from the new listener')
        first = next(v for v in watcher.values if v < before_kill)
        watcher.spin_until(lambda: watcher.values[-1] >= first + 3, 30, 'heartbeat_count growing again')
        assert alive(talker_pid) and runner.child_pids()['heartbeat_talker'] == [talker_pid]
    finally:
        watcher.close()

    children = {talker_pid, listener_pid, new_pid}
    runner.process.send_signal(signal.SIGINT)
    assert runner.process.wait(timeout=5) == 0, '\n'.join(runner.output()[-20:])
    runner.wait_for_line(r'^\[rover_runner\] stopped$', timeout=2)
    assert not [pid for pid in children if alive(pid)]
    assert processes_in_groups(children) == []


FAILING = """
profiles:
  failing:
    description: a required node that exits 1 at once, next to a healthy one
    nodes:
      - {executable: heartbeat_talker, name: talker, respawn: true}
      - {executable: fail_on_start, name: broken, required: true, respawn: true, respawn_delay: 0.2}
"""


def test_runner_fails_when_a_required_node_fails_to_start(runner_factory, tmp_path):
    config = tmp_path / 'node_sets.yaml'
    config.write_text(textwrap.dedent(FAILING))
    runner = runner_factory('failing', '--config', str(config))
    assert runner.process.wait(timeout=30) == 1, '\n'.join(runner.output())
    runner.wait_for_line(r'^\[broken\] .*failing on purpose', timeout=2)
    runner.wait_for_line(r'^\[rover_runner\] FAILED: required node broken failed to start: exited with code 1',
                         timeout=2)
    started = runner.child_pids()
    assert len(started['broken']) == 1, 'a node that failed to start must not be respawned'
    groups = {pid for pids in started.values() for pid in pids}
    assert processes_in_groups(groups) == []


OPTIONAL = """
profiles:
  optional_broken:
    description: a node that is not required fails next to a healthy one
    nodes:
      - {executable: heartbeat_talker, name: talker}
      - {executable: fail_on_start, name: broken}
  only_broken:
    description: the only node fails and is not required
    nodes:
      - {executable: fail_on_start, name: broken}
"""


@pytest.mark.parametrize(('profile', 'code', 'message'), [
    ('optional_broken', 0, r'^\[rover_runner\] shutting down: duration of 3 s reached$'),
    ('only_broken', 1, r'^\[rover_runner\] FAILED: every node has ended, with errors: broken$'),
])
def test_runner_outlives_a_failing_node_that_is_not_required(runner_factory, tmp_path, profile, code, message):
    config = tmp_path / 'node_sets.yaml'
    config.write_text(textwrap.dedent(OPTIONAL))
    runner = runner_factory(profile, '--config', str(config), '--duration', '3')
    assert runner.process.wait(timeout=30) == code, '\n'.join(runner.output())
    runner.wait_for_line(r'^\[rover_runner\] broken exited with code 1: .*not required, not respawned', timeout=2)
    runner.wait_for_line(message, timeout=2)
    assert len(runner.child_pids()['broken']) == 1


@pytest.mark.parametrize(('args', 'code', 'message'), [
    (['test_pair', '--arg', 'nope:=1'], 2, r"has no argument\(s\) \['nope'\]"),
    (['no_such_profile'], 2, r"no profile 'no_such_profile'"),
    (['test_pair', '--arg', 'rate'], 2, r"'rate' must look like name:=value"),
    (['--list'], 0, r'^test_pair: Heartbeat'),
    (['--list', 'test_pair', '--arg', 'namespace:=r1'], 0, r'--ros-args -r __node:=heartbeat_listener -r __ns:=/r1'),
])
def test_runner_command_line(runner_factory, args, code, message):
    runner = runner_factory(*args)
    assert runner.process.wait(timeout=30) == code, '\n'.join(runner.output())
    runner.wait_for_line(message, timeout=2)


def test_duration_stops_the_runner_cleanly(runner_factory):
    runner = runner_factory('test_pair', '--duration', '3')
    assert runner.process.wait(timeout=30) == 0, '\n'.join(runner.output())
    runner.wait_for_line(r'^\[rover_runner\] shutting down: duration of 3 s reached$', timeout=2)
    groups = {pid for pids in runner.child_pids().values() for pid in pids}
    assert len(groups) == 2 and processes_in_groups(groups) == []


def test_children_die_when_the_runner_is_killed(runner_factory):
    runner = runner_factory('test_pair')
    runner.wait_for_line(r'^\[rover_runner\] started heartbeat_listener', timeout=30)
    runner.wait_for_line(r'^\[heartbeat_listener\] ', timeout=30)
    groups = {pid for pids in runner.child_pids().values() for pid in pids}
    runner.process.kill()
    runner.process.wait(timeout=5)
    deadline = time.monotonic() + 10
    while processes_in_groups(groups) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_in_groups(groups) == [], 'children outlived a SIGKILLed runner'


# --- rover_sim (make sim) ----------------------------------------------------------------------

SIM = 'rover_stack.cli.rover_sim'


def test_sim_runs_the_sim_profile_with_the_chosen_kinematics_and_stops_on_sigint(runner_factory):
    sim = runner_factory('--kinematics', 'corner', module=SIM)
    sim.wait_for_line(r"^rover_sim: profile 'sim' runs nodes: .*drive_controller", timeout=10)
    sim.wait_for_line(r'^\[rover_runner\] started drive_controller \(pid \d+\)$', timeout=30)
    sim.wait_for_line(r'^\[drive_controller\] .*corner6', timeout=30)     # robot_config reached the node
    children = {pid for pids in sim.child_pids().values() for pid in pids}
    sim.process.send_signal(signal.SIGINT)
    assert sim.process.wait(timeout=5) == 0, '\n'.join(sim.output()[-20:])
    assert children and processes_in_groups(children) == []


def test_sim_duration_ends_cleanly(runner_factory):
    sim = runner_factory('--duration', '2', module=SIM)
    assert sim.process.wait(timeout=30) == 0, '\n'.join(sim.output()[-20:])
    sim.wait_for_line(r'shutting down: duration of 2 s reached', timeout=2)


@pytest.mark.parametrize(('args', 'code', 'message'), [
    (['--list-courses'], 0, r'.'),
    (['--kinematics', 'hover'], 2, r"invalid choice: 'hover'"),
    (['--duration', '-1'], 2, r'--duration must be >= 0'),
])
def test_sim_command_line(runner_factory, args, code, message):
    sim = runner_factory(*args, module=SIM)
    assert sim.process.wait(timeout=30) == code, '\n'.join(sim.output())
    sim.wait_for_line(message, timeout=2)
