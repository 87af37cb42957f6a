"""Discovery on the loopback-only profile still works when a bringup has many processes.

Unicast discovery probes a fixed number of participant ports on 127.0.0.1. With Fast DDS's default
(4), two processes started after the first few never find each other (measured: a navigator and its
client in a 7-process bringup). The profile raises the range; this test holds it there.
"""
import signal
import subprocess
import sys
import time

import rclpy
from std_msgs.msg import String

from rover_stack.testing.waiting import spin_until

EARLY = 6
PUBLISHER_SCRIPT = """
import sys, rclpy
from std_msgs.msg import String
rclpy.init()
node = rclpy.create_node(f'crowd_{sys.argv[1]}')
publisher = node.create_publisher(String, 'crowd', 10)
node.create_timer(0.1, lambda: publisher.publish(String(data=sys.argv[1])))
try:
    rclpy.spin(node)
except KeyboardInterrupt:
    pass
"""


def _wait_for_participants(count: int, timeout: float) -> None:
    """Give the early processes time to create their participants (they take the low port ids)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        time.sleep(0.5)
        if count <= 0:
            return
        count -= 1


def test_two_late_processes_find_each_other_after_many_early_ones(ros_context):
    processes = [subprocess.Popen([sys.executable, '-c', PUBLISHER_SCRIPT, f'early{i}'])
                 for i in range(EARLY)]
    _wait_for_participants(EARLY, 10.0)
    processes.append(subprocess.Popen([sys.executable, '-c', PUBLISHER_SCRIPT, 'late']))
    node = rclpy.create_node('crowd_listener', context=ros_context)
    heard = set()
    node.create_subscription(String, 'crowd', lambda msg: heard.add(msg.data), 50)
    executor = rclpy.executors.SingleThreadedExecutor(context=ros_context)
    executor.add_node(node)
    try:
        expected = {f'early{i}' for i in range(EARLY)} | {'late'}
        spin_until(executor, lambda: heard >= expected, 30.0,
                   f'every publisher process, the late one included (heard {sorted(heard)})')
    finally:
        executor.shutdown()
        node.destroy_node()
        for process in processes:
            process.send_signal(signal.SIGINT)
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
