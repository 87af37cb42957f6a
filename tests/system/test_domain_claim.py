"""Two runs on one machine do not cross-talk: rover_runner and rover sim claim a free DDS domain when
ROS_DOMAIN_ID is not set, and print it so `ros2 topic echo` can join."""
import os
import re
import signal
import subprocess
import sys
import time

import rclpy
from rclpy.executors import SingleThreadedExecutor

from rover_stack.common.domains import DOMAIN_RANGE, claim_domain_id
from rover_stack.testing.waiting import spin_until

LINE = re.compile(r'DDS domain (\d+) \((claimed, ROS_DOMAIN_ID was not set|ROS_DOMAIN_ID)\)')
LINE_TIMEOUT = 60.0   # s


def _start(argv, tmp_path, name, domain=None):
    env = {k: v for k, v in os.environ.items() if k != 'ROS_DOMAIN_ID'}
    if domain is not None:
        env['ROS_DOMAIN_ID'] = str(domain)
    env.update(ROS_HOME=str(tmp_path / name), PYTHONUNBUFFERED='1')
    log = tmp_path / f'{name}.log'
    with open(log, 'wb') as out:
        process = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                   env=env, start_new_session=True)
    return process, log


def _domain_line(process, log):
    deadline = time.monotonic() + LINE_TIMEOUT
    while time.monotonic() < deadline:
        match = LINE.search(log.read_text(errors='replace'))
        if match:
            return int(match.group(1)), match.group(2)
        assert process.poll() is None, log.read_text()
        time.sleep(0.1)
    raise AssertionError(f'no "DDS domain" line within {LINE_TIMEOUT} s:\n{log.read_text()}')


def _stop(process):
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_two_runners_claim_different_domains_and_say_which(tmp_path):
    runs = [_start(['rover_runner', 'test_pair', '--duration', '120'], tmp_path, f'run{i}') for i in (1, 2)]
    try:
        (first, how1), (second, how2) = (_domain_line(*run) for run in runs)
        assert first != second and {first, second} <= set(DOMAIN_RANGE)
        assert how1 == how2 == 'claimed, ROS_DOMAIN_ID was not set'
        assert str(first) != os.environ['ROS_DOMAIN_ID'] != str(second)   # nor this pytest run's
        # the printed domain is the one the nodes are on: a probe joining it finds the talker
        context = rclpy.Context()
        rclpy.init(context=context, domain_id=first)
        try:
            probe = rclpy.create_node('domain_probe', context=context)
            executor = SingleThreadedExecutor(context=context)
            executor.add_node(probe)
            spin_until(executor, lambda: 'heartbeat_talker' in probe.get_node_names(), 60.0,
                       f'heartbeat_talker on the printed domain {first}')
            executor.shutdown()
            probe.destroy_node()
        finally:
            context.try_shutdown()
    finally:
        for process, _log in runs:
            _stop(process)


def test_rover_sim_claims_a_domain_and_keeps_a_given_one(tmp_path):
    argv = [sys.executable, '-m', 'rover_stack.cli.rover', 'sim', '--course', 'flat_easy', '--no-web']
    process, log = _start([*argv, '--out', str(tmp_path / 'a')], tmp_path, 'a')
    try:
        domain, how = _domain_line(process, log)
        assert domain in DOMAIN_RANGE and how.startswith('claimed')
    finally:
        _stop(process)
    given, claim = claim_domain_id()
    process, log = _start([*argv, '--out', str(tmp_path / 'b')], tmp_path, 'b', domain=given)
    try:
        assert _domain_line(process, log) == (given, 'ROS_DOMAIN_ID')
    finally:
        _stop(process)
        claim.close()
