"""Status light colour for the executive state, URC convention (pure).

Red = autonomous operation, blue = teleoperation, flashing green = arrived at a target. Paused by the
operator: red flashing (autonomy engaged but holding); no mission: off, or blue while a teleop
source drives.
"""
from __future__ import annotations

from dataclasses import dataclass

from rover_stack.autonomy.executive import State

OFF, RED, BLUE, GREEN = 0, 1, 2, 3   # rover_interfaces/StatusLight constants


@dataclass(frozen=True)
class Light:
    color: int
    flashing: bool
    reason: str


AUTONOMOUS = frozenset({State.NAVIGATE, State.SEARCH, State.APPROACH, State.RETURNING, State.NEXT_LEG})


def light_for(state: State, teleop_source: str = '', leg_index: int = 0) -> Light:
    """The light for an executive state; ``teleop_source`` is the active higher-priority source, if any."""
    if state is State.TELEOP or (teleop_source and state not in AUTONOMOUS | {State.ARRIVED}):
        return Light(BLUE, False, f'teleop:{teleop_source or "operator"}')
    if state is State.ARRIVED:
        return Light(GREEN, True, f'arrived leg {leg_index + 1}')
    if state in AUTONOMOUS:
        return Light(RED, False, 'autonomous')
    if state is State.PAUSED:
        return Light(RED, True, 'autonomous: paused')
    return Light(OFF, False, 'idle' if state is State.IDLE else f'mission {state.value}')
