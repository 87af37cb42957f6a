"""joystick_teleop against a real (virtual) SDL joystick: SDL_JoystickAttachVirtual (SDL >= 2.0.14) on the
SDL library pygame loaded, driven through ctypes. The node reads it through pygame exactly as a USB pad:
enable (deadman) + stick -> TwistStamped on joystick/cmd_vel, turbo, release -> zero, unplug -> one zero
and silence."""
from __future__ import annotations

import ctypes
import os
from pathlib import Path

import pytest
import rclpy
from geometry_msgs.msg import TwistStamped
from rclpy.executors import SingleThreadedExecutor

from rover_stack.base_station.joystick_teleop_node import JoystickTeleopNode
from rover_stack.common.qos import command_qos
from rover_stack.testing.waiting import spin_for, spin_until

os.environ.setdefault('SDL_VIDEODRIVER', 'dummy')
os.environ.setdefault('SDL_AUDIODRIVER', 'dummy')
os.environ.setdefault('PYGAME_HIDE_SUPPORT_PROMPT', '1')
pygame = pytest.importorskip('pygame')

GAMECONTROLLER = 1      # SDL_JOYSTICK_TYPE_GAMECONTROLLER
AXES, BUTTONS = 6, 11   # an Xbox-style layout: the defaults of config/base_station.yaml use axes 0, 1, buttons 4, 5
ENABLE, TURBO = 4, 5


def _loaded_sdl() -> ctypes.CDLL:
    """The SDL2 library pygame uses (same handle, so virtual devices are seen by pygame)."""
    if pygame.get_sdl_version() < (2, 0, 14):
        pytest.skip(f'SDL {pygame.get_sdl_version()} has no virtual joysticks (2.0.14 or later needed)')
    maps = Path('/proc/self/maps').read_text().splitlines()
    paths = sorted({line.split()[-1] for line in maps if '/libSDL2-2' in line or '/libSDL2.so' in line})
    if not paths:
        pytest.skip('pygame has not loaded an SDL2 shared library this test can reach')
    sdl = ctypes.CDLL(paths[0])
    sdl.SDL_JoystickOpen.restype = ctypes.c_void_p
    sdl.SDL_JoystickOpen.argtypes = [ctypes.c_int]
    sdl.SDL_JoystickSetVirtualAxis.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int16]
    sdl.SDL_JoystickSetVirtualButton.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_uint8]
    sdl.SDL_JoystickClose.argtypes = [ctypes.c_void_p]
    sdl.SDL_GetError.restype = ctypes.c_char_p
    return sdl


class VirtualGamepad:
    """A virtual SDL joystick: plug, move axes (-1..1), press buttons, unplug."""

    def __init__(self, sdl: ctypes.CDLL):
        self.sdl = sdl
        self.index = sdl.SDL_JoystickAttachVirtual(GAMECONTROLLER, AXES, BUTTONS, 0)
        if self.index < 0:
            raise RuntimeError(f'SDL_JoystickAttachVirtual: {sdl.SDL_GetError().decode()}')
        self.handle = sdl.SDL_JoystickOpen(self.index)
        if not self.handle:
            raise RuntimeError(f'SDL_JoystickOpen: {sdl.SDL_GetError().decode()}')

    def axis(self, axis: int, value: float) -> None:
        raw = max(-32768, min(32767, round(value * 32767)))
        assert self.sdl.SDL_JoystickSetVirtualAxis(self.handle, axis, raw) == 0

    def button(self, button: int, pressed: bool) -> None:
        assert self.sdl.SDL_JoystickSetVirtualButton(self.handle, button, int(pressed)) == 0

    def unplug(self) -> None:
        if self.handle:
            self.sdl.SDL_JoystickClose(self.handle)
            self.handle = None
            assert self.sdl.SDL_JoystickDetachVirtual(self.index) == 0


@pytest.fixture
def rig(ros_context):
    teleop = JoystickTeleopNode(context=ros_context)   # default mapping and speeds (JoystickParams)
    probe = rclpy.create_node('joystick_probe', context=ros_context)
    got: list[tuple[float, float]] = []
    probe.create_subscription(TwistStamped, 'joystick/cmd_vel',
                              lambda m: got.append((m.twist.linear.x, m.twist.angular.z)), command_qos())
    executor = SingleThreadedExecutor(context=ros_context)
    executor.add_node(teleop)
    executor.add_node(probe)
    if pygame.joystick.get_count():   # the node would read that one (device_index 0)
        teleop.destroy_node()
        probe.destroy_node()
        pytest.skip('a real joystick is connected')
    pad = VirtualGamepad(_loaded_sdl())
    yield executor, pad, got
    pad.unplug()
    executor.shutdown()
    probe.destroy_node()
    teleop.destroy_node()


def _latest_is(got, expected):
    return lambda: bool(got) and got[-1] == pytest.approx(expected, abs=1e-3)


def test_enable_button_stick_turbo_release_and_unplug(rig):
    executor, pad, got = rig
    spin_until(executor, lambda: got, 5.0, 'the first command after the pad was plugged in')
    pad.axis(1, -0.5)   # stick half up (pads report up as negative)
    pad.axis(0, 1.0)    # stick full right
    spin_for(executor, 0.3)
    assert got and all(cmd == (0.0, 0.0) for cmd in got), 'moved without the enable button'

    pad.button(ENABLE, True)
    spin_until(executor, _latest_is(got, (0.25, -1.0)), 3.0, '0.5 m/s x half stick, turning clockwise')
    pad.button(TURBO, True)
    spin_until(executor, _latest_is(got, (0.5, -2.0)), 3.0, 'turbo speeds')
    pad.axis(0, 0.05)   # inside the dead zone
    spin_until(executor, _latest_is(got, (0.5, 0.0)), 3.0, 'no turn inside the dead zone')

    pad.button(ENABLE, False)
    spin_until(executor, _latest_is(got, (0.0, 0.0)), 3.0, 'zero once the enable button is released')
    pad.button(ENABLE, True)
    spin_until(executor, _latest_is(got, (0.5, 0.0)), 3.0, 'driving again')

    pad.unplug()        # e.g. the cable pulled while driving
    spin_until(executor, _latest_is(got, (0.0, 0.0)), 3.0, 'one zero when the pad disappears')
    count = len(got)
    spin_for(executor, 0.3)
    assert len(got) == count, 'commands published without a joystick'
