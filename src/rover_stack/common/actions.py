"""Action-client helpers shared by nodes."""
from __future__ import annotations

import time

POLL = 0.1   # s (wall) between checks


async def server_ready(node, client, timeout: float) -> bool:
    """Wait up to ``timeout`` s (wall time) for ``client``'s action server without blocking the executor
    (a coroutine for action callbacks); True once it is there."""
    from rclpy.clock import Clock, ClockType  # noqa: PLC0415 - rclpy: nav2_backend imports without ROS
    from rclpy.task import Future  # noqa: PLC0415 - rclpy: nav2_backend imports without ROS

    if client.server_is_ready():
        return True
    deadline = time.monotonic() + timeout
    done = Future()

    def poll():
        if not done.done() and (client.server_is_ready() or time.monotonic() >= deadline):
            done.set_result(None)

    timer = node.create_timer(POLL, poll, clock=Clock(clock_type=ClockType.STEADY_TIME))
    try:
        await done
    finally:
        node.destroy_timer(timer)
    return client.server_is_ready()
