"""run_node(): refused parameters end the process with 1 and one line; an error while spinning is a
crash (it propagates: traceback, non-zero exit, the runner respawns), never mistaken for a refusal."""
from __future__ import annotations

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
