"""MotorLink state machine with injected time (no sleeping, no device), and its pure helpers."""
import math

import pytest

from rover_stack.hardware.link import LinkConfig, LinkState, MotorLink, order_by_name, steering_rates
from rover_stack.hardware.protocol import (
    HOST_TO_MCU,
    DriveCommand,
    Feedback,
    FrameDecoder,
    FrameEncoder,
    Heartbeat,
    HeartbeatAck,
)

CONFIG = LinkConfig(wheel_count=4, steering_count=2, link_timeout=0.2, heartbeat_period=0.1,
                    ack_timeout=0.5, command_timeout=0.25)


class FakeMcu:
    """Both ends of the wire for the link: decodes what it sends, encodes what the MCU says."""

    def __init__(self, wheels=4, steering=2):
        self.decoder = FrameDecoder(HOST_TO_MCU)
        self.encoder = FrameEncoder()
        self.wheels, self.steering = wheels, steering
        self.heartbeats: list[Heartbeat] = []
        self.commands: list[DriveCommand] = []

    def take(self, data: bytes) -> None:
        for frame in self.decoder.feed(data):
            if isinstance(frame.message, Heartbeat):
                self.heartbeats.append(frame.message)
            else:
                self.commands.append(frame.message)

    def feedback(self, velocity=1.0, estop=False) -> bytes:
        n, m = self.wheels, self.steering
        return self.encoder.encode(Feedback((0.0,) * n, (velocity,) * n, (0.5,) * n, (0.1,) * m, (0.2,) * m,
                                            estop_pressed=estop, battery_voltage=24.0))

    def ack_all(self) -> bytes:
        out = b''.join(self.encoder.encode(HeartbeatAck(hb.host_time_ms)) for hb in self.heartbeats)
        self.heartbeats.clear()
        return out


def run(link, mcu, start, stop, dt=0.02, reply=True, ack=True):
    """Step the link from ``start`` to ``stop`` s; the MCU answers every step unless told not to."""
    t = start
    while t < stop - 1e-9:
        mcu.take(link.step(t))
        if reply:
            link.receive(mcu.feedback() + (mcu.ack_all() if ack else b''), t + 0.005)
        t = round(t + dt, 9)
    return t


def connected(config=CONFIG):
    link, mcu = MotorLink(config), FakeMcu(config.wheel_count, config.steering_count)
    link.gate.controller_latched(False)     # the drive controller was reset (the e-stop gate opens)
    run(link, mcu, 0.0, 0.1)
    link.step(0.1)
    assert link.state is LinkState.OK
    return link, mcu


def test_starts_lost_and_sends_a_stop_and_a_heartbeat():
    link, mcu = MotorLink(CONFIG), FakeMcu()
    link.set_wheel_command([1.0] * 4, 0.0)
    mcu.take(link.step(0.0))
    assert link.state is LinkState.LINK_LOST
    assert link.reason == 'no frame received yet'
    assert mcu.commands == [DriveCommand((0.0,) * 4, (0.0,) * 2, hold_steering=True)]
    assert len(mcu.heartbeats) == 1


def test_fresh_commands_are_forwarded_when_ok():
    link, mcu = connected()
    link.set_wheel_command([1.0, 2.0, 3.0, 4.0], 0.1)
    link.set_steering_command([0.25, -0.5], 0.1)
    mcu.take(link.step(0.12))
    assert mcu.commands[-1] == DriveCommand((1.0, 2.0, 3.0, 4.0), (0.25, -0.5), hold_steering=False)


def test_stale_commands_become_zero_and_steering_hold():
    link, mcu = connected()
    link.set_wheel_command([1.0] * 4, 0.1)
    link.set_steering_command([0.25, -0.5], 0.1)
    run(link, mcu, 0.1, 0.38)        # steps at 0.34 (fresh) and 0.36 (0.26 s old: stale)
    assert mcu.commands[-2].wheel_velocities == (1.0,) * 4
    assert mcu.commands[-1] == DriveCommand((0.0,) * 4, (0.0,) * 2, hold_steering=True)
    assert link.state is LinkState.OK


def test_wheels_stop_while_a_fresh_steering_command_is_still_sent():
    link, mcu = connected()
    link.set_steering_command([0.25, -0.5], 0.1)
    mcu.take(link.step(0.12))
    assert mcu.commands[-1] == DriveCommand((0.0,) * 4, (0.25, -0.5), hold_steering=False)


def test_link_lost_exactly_after_the_timeout_then_recovers():
    link, mcu = connected()
    last_frame = 0.085                                 # the last reply of connected() arrived at 0.085
    mcu.take(link.step(last_frame + 0.2))
    assert link.state is LinkState.OK                  # 200 ms is not yet more than the timeout
    link.set_wheel_command([1.0] * 4, last_frame + 0.2)
    mcu.take(link.step(last_frame + 0.201))
    assert link.state is LinkState.LINK_LOST
    assert 'no valid frame for 201 ms' in link.reason
    assert mcu.commands[-1].wheel_velocities == (0.0,) * 4     # fresh command, but the link is lost
    assert link.decoder.last_seq is None                       # a rebooted MCU may restart at seq 0
    assert link.last_frame_age(0.5) == pytest.approx(0.5 - last_frame)
    link.receive(FakeMcu().feedback(), 0.5)                     # new MCU, seq 0 again
    mcu.take(link.step(0.5))
    assert link.state is LinkState.OK
    assert mcu.commands[-1].wheel_velocities == (1.0,) * 4     # the command is 0.215 s old: fresh


def test_heartbeats_at_their_period():
    link, mcu = MotorLink(CONFIG), FakeMcu()
    run(link, mcu, 0.0, 1.0, dt=0.01, ack=False)
    assert len(mcu.heartbeats) == 10
    stamps = [hb.host_time_ms for hb in mcu.heartbeats]
    assert stamps == sorted(stamps)
    assert len(mcu.commands) == 100


def test_unacknowledged_heartbeats_are_an_error_and_acks_clear_it():
    link, mcu = connected()
    end = run(link, mcu, 0.12, 0.5, ack=False)
    link.step(end)
    assert link.state is LinkState.OK                   # the only ack came at 0.005: 0.495 s ago
    end = run(link, mcu, end, 0.7, ack=False)
    link.step(end)
    assert link.state is LinkState.ERROR
    assert 'not acknowledged' in link.reason
    link.set_wheel_command([1.0] * 4, end)
    mcu.take(link.step(end + 0.001))
    assert mcu.commands[-1].wheel_velocities == (0.0,) * 4
    end = run(link, mcu, end, end + 0.2)
    link.step(end)
    assert link.state is LinkState.OK
    assert link.round_trip == pytest.approx(0.005)


def test_an_ack_for_a_heartbeat_never_sent_is_counted_and_ignored():
    link, mcu = connected()
    link.receive(mcu.encoder.encode(HeartbeatAck(123456)), 0.11)
    assert link.errors['stale_ack'] == 1


def test_wrong_joint_counts_are_an_error_and_the_feedback_is_not_used():
    link, mcu = connected()
    assert link.take_feedback() is not None
    wrong = FakeMcu(wheels=6, steering=0)
    wrong.encoder = mcu.encoder
    link.receive(wrong.feedback(velocity=9.0), 0.11)
    link.step(0.11)
    assert link.state is LinkState.ERROR
    assert '6 wheels / 0 steering' in link.reason
    assert link.errors['joint_count_mismatch'] == 1
    assert link.take_feedback() is None
    link.receive(mcu.feedback(), 0.12)
    link.step(0.12)
    assert link.state is LinkState.OK
    assert link.take_feedback().wheel_velocities == (1.0,) * 4


def test_io_errors_hold_the_link_in_error_until_cleared():
    link, mcu = connected()
    link.report_io_error('/dev/ttyACM0: read failed')
    link.report_io_error('/dev/ttyACM0: read failed')
    link.receive(mcu.feedback(), 0.11)
    link.step(0.11)
    assert (link.state, link.reason) == (LinkState.ERROR, '/dev/ttyACM0: read failed')
    assert link.errors['io_error'] == 1
    link.clear_io_error()
    link.step(0.12)
    assert link.state is LinkState.OK


def test_take_feedback_returns_each_feedback_once():
    link, mcu = connected()
    assert link.take_feedback() is not None
    assert link.take_feedback() is None
    link.receive(mcu.feedback(velocity=2.0, estop=True), 0.11)
    feedback = link.take_feedback()
    assert feedback.wheel_velocities == (2.0,) * 4
    assert feedback.estop_pressed


def test_stop_bytes_is_a_zero_command_holding_steering():
    link, mcu = connected()
    mcu.take(link.stop_bytes())
    assert mcu.commands[-1] == DriveCommand((0.0,) * 4, (0.0,) * 2, hold_steering=True)


def test_commands_must_match_the_configured_counts():
    link = MotorLink(CONFIG)
    with pytest.raises(ValueError):
        link.set_wheel_command([1.0] * 3, 0.0)
    with pytest.raises(ValueError):
        link.set_steering_command([0.0], 0.0)


@pytest.mark.parametrize('kwargs', [
    {'link_timeout': 0.0}, {'heartbeat_period': -1.0}, {'command_timeout': math.nan},
    {'ack_timeout': 0.05, 'heartbeat_period': 0.1},
])
def test_link_config_is_validated(kwargs):
    with pytest.raises(ValueError):
        LinkConfig(wheel_count=4, **kwargs)


JOINTS = ['a', 'b', 'c']


@pytest.mark.parametrize(('names', 'values', 'expected'), [
    (['c', 'a', 'b'], [3.0, 1.0, 2.0], (1.0, 2.0, 3.0)),
    (['a', 'b'], [1.0, 2.0, 3.0], 'bad_length'),
    (['a', 'a', 'b'], [1.0, 1.0, 2.0], 'duplicate_joint'),
    (['a', 'b', 'x'], [1.0, 2.0, 3.0], 'unknown_joint'),
    (['a', 'b'], [1.0, 2.0], 'missing_joint'),
    (['a', 'b', 'c'], [1.0, math.nan, 3.0], 'not_finite'),
    (['a', 'b', 'c'], [1.0, -math.inf, 3.0], 'not_finite'),
    (['a', 'b', 'c'], [1.0, 5.01, 3.0], 'out_of_range'),
    (['a', 'b', 'c'], [1.0, -5.0, 3.0], (1.0, -5.0, 3.0)),
])
def test_order_by_name(names, values, expected):
    assert order_by_name(names, values, JOINTS, limit=5.0) == expected


def test_order_by_name_with_no_joints_accepts_only_an_empty_command():
    assert order_by_name([], [], [], 1.0) == ()
    assert order_by_name(['a'], [0.0], [], 1.0) == 'unknown_joint'


def test_steering_rates_difference_over_the_mcu_clock():
    def fb(angles, ms):
        return Feedback((), (), (), angles, (0.0,) * len(angles), mcu_time_ms=ms)
    assert steering_rates(None, fb((0.1, 0.2), 100)) == (0.0, 0.0)
    assert steering_rates(fb((0.1, 0.2), 100), fb((0.2, 0.1), 120)) == pytest.approx((5.0, -5.0))
    assert steering_rates(fb((0.1,), 0xFFFFFFF6), fb((0.2,), 10)) == pytest.approx((5.0,))   # clock wrap
    assert steering_rates(fb((0.1,), 100), fb((0.2,), 100)) == (0.0,)
    assert steering_rates(fb((0.1,), 100), fb((0.2,), 900)) == (0.0,)


def test_the_estop_gate_stops_the_wheels_until_the_controller_reports_a_reset():
    """Issue #18 item 2 (the host's rule): closed at start, on estop_state true, on a source going
    active (the software e-stop, the MCU's button); open only on estop_state false with no source
    active."""
    link, mcu = MotorLink(CONFIG), FakeMcu()
    run(link, mcu, 0.0, 0.1)
    gate, t = link.gate, 0.1

    def sent():
        nonlocal t
        link.set_wheel_command([1.0] * 4, t)
        mcu.take(link.step(t))
        t = round(t + 0.02, 9)
        return mcu.commands[-1].wheel_velocities

    assert link.state is LinkState.OK and sent() == (0.0,) * 4 and not gate.open
    gate.controller_latched(False)
    assert sent() == (1.0,) * 4
    gate.report('estop', True)
    assert sent() == (0.0,) * 4
    gate.report('estop', False)
    assert sent() == (0.0,) * 4 and 'waiting' in gate.why_closed()     # released, not reset
    gate.controller_latched(True)
    gate.controller_latched(False)
    assert sent() == (1.0,) * 4
    link.receive(mcu.feedback(estop=True), t)            # the button, reported in FEEDBACK
    assert sent() == (0.0,) * 4 and gate.why_closed() == 'hardware_estop active'
    gate.controller_latched(False)                       # a reset while the button is pressed: still shut
    assert sent() == (0.0,) * 4
    link.receive(mcu.feedback(estop=False) + mcu.ack_all(), t)
    assert sent() == (1.0,) * 4                          # the reset came after the press
