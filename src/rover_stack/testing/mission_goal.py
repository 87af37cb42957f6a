"""What an operator does in a second shell to run a mission on a launched stack, for launch tests: reset
the e-stop (a started drive controller is latched, docs/safety.md), then `ros2 action send_goal` on
``execute_mission``, resuming once if the executive paused the new mission for that e-stop (the goal
came before it saw the reset). Spins the caller's node meanwhile, so its subscriptions keep collecting.
"""
from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.parameter import Parameter

from rover_interfaces.msg import MissionStatus
from rover_stack.common.qos import latched_qos
from rover_stack.common.trigger_call import call_until_accepted
from rover_stack.drive.estop_reset import reset_estop

ESTOP_PAUSED = 'paused by the e-stop'   # message prefix of the executive's e-stop pause
START_HOLD = 30.0       # s wall after the reset in which an e-stop pause of the new mission is resumed once


@contextmanager
def operator_node(name: str, *, use_sim_time: bool = False) -> Iterator[tuple[object, object]]:
    """(node, executor) of the operator's shell on a private rclpy context, shut down on exit."""
    context = rclpy.Context()
    rclpy.init(context=context)
    node = rclpy.create_node(name, context=context,
                             parameter_overrides=[Parameter('use_sim_time', value=use_sim_time)])
    executor = SingleThreadedExecutor(context=context)
    executor.add_node(node)
    try:
        yield node, executor
    finally:
        executor.shutdown()
        node.destroy_node()
        context.try_shutdown()


def send_mission_goal(node, executor, mission: str, *, start_timeout: float,
                      goal_timeout: float) -> tuple[int, str]:
    """Reset the e-stop (waiting up to ``start_timeout`` s), send ``mission`` with `ros2 action send_goal`
    and wait for its result (up to ``goal_timeout`` s wall): (exit code, its output). AssertionError when
    there is no ros2 command line or the goal does not finish in time."""
    ros2 = shutil.which('ros2')
    assert ros2 is not None, 'no ros2 command line'
    statuses: list[MissionStatus] = []
    subscription = node.create_subscription(MissionStatus, 'mission/status', statuses.append, latched_qos())
    goal = None
    try:
        reset_estop(node, executor, timeout=start_timeout)
        reset_at = time.monotonic()
        # send_goal waits for the action server itself, then for the result
        goal = subprocess.Popen(
            [ros2, 'action', 'send_goal', '/execute_mission', 'rover_interfaces/action/ExecuteMission',
             f'{{mission_file: {mission}}}'],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        resumed = False
        deadline = time.monotonic() + goal_timeout
        while goal.poll() is None:
            assert time.monotonic() < deadline, f'the mission did not finish in {goal_timeout:.0f} s'
            executor.spin_once(timeout_sec=0.5)
            status = statuses[-1] if statuses else None
            if (not resumed and status is not None and status.state == MissionStatus.PAUSED
                    and status.message.startswith(ESTOP_PAUSED) and time.monotonic() - reset_at < START_HOLD):
                call_until_accepted(node, executor, 'mission/resume', timeout=30.0)
                resumed = True
        return goal.returncode, goal.stdout.read()
    finally:
        if goal is not None and goal.poll() is None:
            goal.kill()
            goal.wait()
        node.destroy_subscription(subscription)
