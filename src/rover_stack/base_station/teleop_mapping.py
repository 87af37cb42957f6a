"""Pure mappings of terminal teleop: keys and joystick axes -> (linear m/s, angular rad/s)."""
from __future__ import annotations

from dataclasses import dataclass

# key -> (forward sign, turn sign); turn > 0 = counter-clockwise (REP-103)
KEYS = {'w': (1, 0), 's': (-1, 0), 'a': (0, 1), 'd': (0, -1), 'q': (1, 1), 'e': (1, -1),
        'z': (-1, -1), 'c': (-1, 1), ' ': (0, 0),
        '\x1b[A': (1, 0), '\x1b[B': (-1, 0), '\x1b[D': (0, 1), '\x1b[C': (0, -1)}
TURBO_KEYS = {'W': 'w', 'S': 's', 'A': 'a', 'D': 'd', 'Q': 'q', 'E': 'e', 'Z': 'z', 'C': 'c'}


@dataclass(frozen=True)
class Speeds:
    linear: float = 0.5          # m/s normal
    angular: float = 1.0         # rad/s normal
    turbo_linear: float = 1.0    # m/s with turbo
    turbo_angular: float = 2.0   # rad/s with turbo


def key_command(key: str, speeds: Speeds) -> tuple[float, float] | None:
    """Command for one key press (upper case = turbo); None for a key that is not a drive key."""
    turbo = key in TURBO_KEYS
    signs = KEYS.get(TURBO_KEYS.get(key, key))
    if signs is None:
        return None
    lin, ang = (speeds.turbo_linear, speeds.turbo_angular) if turbo else (speeds.linear, speeds.angular)
    return signs[0] * lin, signs[1] * ang


class Deadman:
    """Zero unless a command came within ``hold`` s (terminals repeat held keys, releases are silent)."""

    def __init__(self, hold: float = 0.3):
        self.hold = hold
        self._command = (0.0, 0.0)
        self._time: float | None = None

    def press(self, command: tuple[float, float], now: float) -> None:
        self._command, self._time = command, now

    def command(self, now: float) -> tuple[float, float]:
        if self._time is None or now - self._time > self.hold:
            return 0.0, 0.0
        return self._command


@dataclass(frozen=True)
class AxisMapping:
    """Joystick layout (from config): axis indices, inversion, buttons, dead zone (fraction)."""

    linear_axis: int = 1
    angular_axis: int = 0
    invert_linear: bool = True     # most pads report 'up' as -1
    invert_angular: bool = True    # 'left' is -1, counter-clockwise is +
    enable_button: int = 4
    turbo_button: int = 5
    deadzone: float = 0.1


def joystick_command(axes: list[float], buttons: list[int], mapping: AxisMapping,
                     speeds: Speeds) -> tuple[float, float]:
    """Command from a joystick state; zero without the enable button, or for missing axes/buttons."""
    def pressed(index: int) -> bool:
        return 0 <= index < len(buttons) and bool(buttons[index])

    def axis(index: int, invert: bool) -> float:
        if not 0 <= index < len(axes):
            return 0.0
        value = max(-1.0, min(1.0, float(axes[index])))
        if abs(value) < mapping.deadzone:
            return 0.0
        return -value if invert else value

    if not pressed(mapping.enable_button):
        return 0.0, 0.0
    turbo = pressed(mapping.turbo_button)
    lin = speeds.turbo_linear if turbo else speeds.linear
    ang = speeds.turbo_angular if turbo else speeds.angular
    return (axis(mapping.linear_axis, mapping.invert_linear) * lin,
            axis(mapping.angular_axis, mapping.invert_angular) * ang)
