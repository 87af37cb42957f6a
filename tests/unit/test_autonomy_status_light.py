"""Status light: URC colours for every executive state."""
from __future__ import annotations

import pytest

from rover_stack.autonomy.executive import State
from rover_stack.autonomy.status_light import BLUE, GREEN, OFF, RED, light_for

EXPECTED = {
    State.IDLE: (OFF, False), State.NAVIGATE: (RED, False), State.SEARCH: (RED, False),
    State.APPROACH: (RED, False), State.NEXT_LEG: (RED, False), State.RETURNING: (RED, False),
    State.ARRIVED: (GREEN, True), State.PAUSED: (RED, True), State.TELEOP: (BLUE, False),
    State.SUCCEEDED: (OFF, False), State.FAILED: (OFF, False), State.ABORTED: (OFF, False),
    State.CANCELED: (OFF, False),
}


@pytest.mark.parametrize('state', list(State))
def test_light_for_each_state(state):
    light = light_for(state, leg_index=1)
    assert (light.color, light.flashing) == EXPECTED[state]
    assert light.reason


def test_teleop_source_makes_an_idle_rover_blue():
    assert light_for(State.IDLE, 'joystick').color == BLUE
    assert light_for(State.TELEOP, 'joystick').reason == 'teleop:joystick'
    assert light_for(State.ARRIVED, leg_index=2).reason == 'arrived leg 3'
