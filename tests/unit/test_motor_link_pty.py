"""MotorLink over a real pseudo-terminal against the emulated MCU (pure Python, real time, deadlines)."""
import time

import pytest

from rover_stack.hardware.emulator import EmulatedMotorController, EmulatorConfig
from rover_stack.hardware.link import LinkConfig, LinkState, MotorLink, SerialPort

PERIOD = 0.02       # s, host loop
LINK_TIMEOUT = 0.2  # s


class Host:
    """The host loop of the driver node, without ROS: read, step, write every PERIOD."""

    def __init__(self, port: str):
        self.link = MotorLink(LinkConfig(wheel_count=4, steering_count=2, link_timeout=LINK_TIMEOUT,
                                         heartbeat_period=0.1, ack_timeout=0.5, command_timeout=0.5))
        self.link.gate.controller_latched(False)     # the drive controller was reset
        self.port = SerialPort(port, 115200)
        self.wheels = None

    def tick(self) -> None:
        now = time.monotonic()
        self.link.receive(self.port.read_available(), now)
        if self.wheels is not None:
            self.link.set_wheel_command(self.wheels, now)
        assert self.port.write(self.link.step(now))

    def until(self, condition, timeout: float, what: str) -> float:
        """Run the loop until ``condition()``; the time it took. Fails after ``timeout`` s."""
        start = time.monotonic()
        while not condition():
            if time.monotonic() - start > timeout:
                pytest.fail(f'timed out after {timeout} s waiting for {what} '
                            f'(state {self.link.state}: {self.link.reason}, errors {self.link.errors})')
            self.tick()
            time.sleep(PERIOD)
        return time.monotonic() - start


@pytest.fixture
def rig():
    emulator = EmulatedMotorController(EmulatorConfig(wheel_count=4, steering_count=2)).start()
    host = Host(emulator.port)
    yield emulator, host
    host.port.close()
    emulator.stop()


def velocities_are(host, target, tol=0.05):
    feedback = host.link.feedback
    return feedback is not None and all(abs(v - t) < tol for v, t in zip(feedback.wheel_velocities, target,
                                                                          strict=True))


def test_commands_reach_the_mcu_and_feedback_follows(rig):
    emulator, host = rig
    host.until(lambda: host.link.state is LinkState.OK, 2.0, 'link OK')
    host.wheels = (1.0, -1.0, 2.0, -2.0)
    host.until(lambda: velocities_are(host, host.wheels), 2.0, 'wheel velocities to follow')
    assert emulator.snapshot().last_command.wheel_velocities == host.wheels
    assert host.link.round_trip is not None and host.link.round_trip < 0.1
    assert host.link.decoder.error_total == 0


def test_damaged_frames_are_counted_and_good_ones_still_pass(rig):
    emulator, host = rig
    host.until(lambda: host.link.state is LinkState.OK, 2.0, 'link OK')
    emulator.corrupt_next(3)
    emulator.truncate_next(3)
    emulator.replay_next(3)
    errors = host.link.decoder.errors
    host.until(lambda: errors['bad_crc'] >= 3 and errors['bad_cobs'] + errors['bad_length'] >= 3
               and errors['replayed'] >= 3, 3.0, 'the injected faults to be counted')
    ok_before = host.link.decoder.frames_ok
    host.until(lambda: host.link.decoder.frames_ok >= ok_before + 10, 2.0, 'more good frames')
    assert host.link.state is LinkState.OK
    assert (errors['bad_crc'], errors['replayed'], errors['bad_cobs'] + errors['bad_length']) == (3, 3, 3)


def test_silence_loses_the_link_stops_the_wheels_and_recovery_resumes(rig):
    emulator, host = rig
    host.wheels = (1.0,) * 4
    host.until(lambda: host.link.state is LinkState.OK and velocities_are(host, host.wheels), 2.0, 'driving')
    emulator.set_silent(True)
    silent_at = time.monotonic()
    took = host.until(lambda: host.link.state is LinkState.LINK_LOST, 2.0, 'LINK_LOST')
    assert took <= LINK_TIMEOUT + 0.1
    host.until(lambda: emulator.snapshot().last_command.wheel_velocities == (0.0,) * 4, 1.0, 'zero command')
    stopped = [t for t, c in emulator.commands_since(silent_at) if c.wheel_velocities == (0.0,) * 4]
    assert stopped[0] - silent_at <= LINK_TIMEOUT + 0.1
    emulator.set_silent(False)
    host.until(lambda: host.link.state is LinkState.OK, 2.0, 'recovery')
    host.until(lambda: emulator.snapshot().last_command.wheel_velocities == host.wheels, 1.0,
               'commands forwarded again')


def test_an_mcu_that_ignores_heartbeats_is_an_error(rig):
    emulator, host = rig
    host.until(lambda: host.link.state is LinkState.OK, 2.0, 'link OK')
    emulator.set_ignore_heartbeats(True)
    host.until(lambda: host.link.state is LinkState.ERROR, 2.0, 'ERROR')
    assert 'heartbeat' in host.link.reason
    emulator.set_ignore_heartbeats(False)
    host.until(lambda: host.link.state is LinkState.OK, 2.0, 'recovery')


def test_opening_a_missing_device_is_an_os_error(tmp_path):
    with pytest.raises(OSError, match='cannot open'):
        SerialPort(str(tmp_path / 'ttyNONE'), 115200)
