"""run_node(): refused parameters end the process with 1 and one line; an error while spinning is a
crash (it propagates: traceback, non-zero exit, the runner respawns), never mistaken for a refusal."""
from __future__ import annotations

import os
import signal

import pytest
import rclpy.node

from rover_stack.common.node_main import run_node


class _FailsWhileSpinning(rclpy.node.Node):
    def __init__(self):
        super().__init__('fails_while_spinning')
        self.create_timer(0.01, self._boom)

    def _boom(self):
        raise ValueError('a bug in a callback')


def _refuses():
    raise ValueError('fails_while_spinning: speed out of range')


def test_refused_parameters_return_1():
    assert run_node(_refuses, 'refusing_node', []) == 1


def test_an_error_while_spinning_propagates():
    with pytest.raises(ValueError, match='a bug in a callback'):
        run_node(_FailsWhileSpinning, 'fails_while_spinning', [])


class _ErrorAfterShutdown(rclpy.node.Node):
    """What a SIGINT in the middle of taking a message looks like: the context is already shut down
    when rclpy raises RuntimeError('Unable to convert call argument ...')."""

    def __init__(self):
        super().__init__('error_after_shutdown')
        self.create_timer(0.01, self._shut_down_then_fail)

    def _shut_down_then_fail(self):
        rclpy.shutdown()
        raise RuntimeError("Unable to convert call argument '0' to Python object")


def test_an_error_raised_because_a_signal_shut_the_context_down_is_a_clean_exit():
    assert run_node(_ErrorAfterShutdown, 'error_after_shutdown', []) == 0


class _SignalWhileTaking(rclpy.node.Node):
    """A stop signal arriving while rclpy takes a message, with graceful signals (containers, the drive
    controller): the context is still alive, and pybind11 turns the handler's KeyboardInterrupt into
    RuntimeError('Unable to convert call argument ...'). Seen in `ros2 launch` on Ctrl-C: exit code 1."""

    def __init__(self):
        super().__init__('signal_while_taking')
        self.create_timer(0.01, self._signal_then_fail)

    def _signal_then_fail(self):
        try:
            os.kill(os.getpid(), signal.SIGINT)     # the handler raises KeyboardInterrupt here
        except KeyboardInterrupt:
            raise RuntimeError("Unable to convert call argument '0' to Python object") from None


def test_a_signal_while_taking_a_message_is_a_clean_exit():
    assert run_node(_SignalWhileTaking, 'signal_while_taking', [], graceful_signals=True) == 0
