"""A simulated clock a test sets by hand: between two settings time stands still, so a node's timers
cannot tick and whatever it publishes was caused by a message's arrival (event-driven paths)."""
from __future__ import annotations

from rclpy.time import Time
from rosgraph_msgs.msg import Clock

from rover_stack.common.qos import sensor_qos
from rover_stack.testing.waiting import spin_until


class HeldClock:
    """Publishes ``/clock`` from ``probe`` (a node on wall time) only when ``set`` is called."""

    def __init__(self, probe):
        self._pub = probe.create_publisher(Clock, '/clock', sensor_qos(depth=10))   # as the simulator

    def set(self, executor, node, seconds: float, timeout: float = 10.0) -> None:
        """Publish ``seconds`` (s) until ``node`` (use_sim_time) reads it from its clock."""
        target = Time(nanoseconds=round(seconds * 1e9))

        def reached() -> bool:
            self._pub.publish(Clock(clock=target.to_msg()))
            return node.get_clock().now().nanoseconds == target.nanoseconds

        spin_until(executor, reached, timeout, f'{node.get_name()} at simulated time {seconds} s')
