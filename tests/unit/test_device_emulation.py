"""Device emulation algorithms: NMEA epochs and $IMU lines read back by the drivers' own parsers, MJPEG
framing read by cv2, the fault schedule, the pty device's unplug/plug, the motor emulator's plant."""
import math
import os
import threading
import time
from itertools import pairwise

import cv2
import numpy as np
import pytest

from rover_stack.drivers.gnss_nmea import COV_DIAGONAL_KNOWN, FIX, NO_FIX, FixAssembler, parse_line
from rover_stack.drivers.imu_serial import parse_imu_line
from rover_stack.drivers.nmea import LineReader
from rover_stack.hardware.emulator import EmulatedMotorController, EmulatorConfig
from rover_stack.hardware.link import SerialPort
from rover_stack.hardware.protocol import MCU_TO_HOST, DriveCommand, Feedback, FrameDecoder, encode_frame
from rover_stack.sim.device_emulation import FaultError, FaultSchedule, PtyDevice, WheelPlant
from rover_stack.sim.device_lines import gnss_epoch, imu_line
from rover_stack.sim.mjpeg import MjpegServer, mjpeg_part

UTC = 1_790_000_000.25    # s since the epoch


def _fix_from(lines):
    assembler, fixes = FixAssembler(uere=3.0), []
    for line in lines:
        fix = assembler.on_sentence(parse_line(line), 0.0)
        if fix is not None:
            fixes.append(fix)
    return fixes


@pytest.mark.parametrize(('lat', 'lon'), [(38.4064, -110.7919), (-33.5, 151.25), (0.0000001, -0.5)])
def test_gnss_epoch_reads_back_through_the_driver_parser(lat, lon):
    lines = gnss_epoch(UTC, True, latitude=lat, longitude=lon, altitude=1340.25, sigma_horizontal=2.5,
                       sigma_vertical=4.0)
    assert [line[3:6] for line in lines] == ['GST', 'GGA', 'RMC'] and all(x.endswith('\r\n') for x in lines)
    (fix,) = _fix_from(lines)
    assert fix.status == FIX and fix.covariance_type == COV_DIAGONAL_KNOWN
    assert fix.latitude == pytest.approx(lat, abs=1e-8) and fix.longitude == pytest.approx(lon, abs=1e-8)
    assert fix.altitude == pytest.approx(1340.25, abs=1e-3)
    assert fix.covariance == pytest.approx((6.25, 6.25, 16.0), rel=1e-3)


def test_gnss_epoch_without_fix_is_no_fix():
    lines = gnss_epoch(UTC, False, latitude=math.nan, longitude=math.nan, altitude=math.nan,
                       sigma_horizontal=2.5, sigma_vertical=4.0)
    (fix,) = _fix_from(lines)
    assert fix.status == NO_FIX and math.isnan(fix.latitude)


def test_gnss_epoch_time_of_day():
    line = gnss_epoch(86400.0 * 3 + 3600 * 13 + 60 * 5 + 7.5, True, latitude=1.0, longitude=1.0, altitude=0.0,
                      sigma_horizontal=1.0, sigma_vertical=1.0)[1]
    assert line.split(',')[1] == '130507.50'


def test_imu_line_reads_back_through_the_driver_parser():
    line = imu_line(70000, (0.0, 0.0, math.sin(0.3), math.cos(0.3)), (0.01, -0.02, 0.3), (0.1, 0.2, 9.81))
    sample = parse_imu_line(line)
    assert sample.seq == 70000 % 65536
    assert sample.orientation == pytest.approx((math.cos(0.3), 0.0, 0.0, math.sin(0.3)), abs=1e-6)
    assert sample.angular_velocity == pytest.approx((0.01, -0.02, 0.3), abs=1e-5)
    assert parse_imu_line(imu_line(1, None, (0, 0, 0), (0, 0, 9.8))).orientation is None


def test_fault_schedule_parse_and_windows():
    schedule = FaultSchedule.parse(' gnss_unplug@20+5, motor_corrupt=0.01,camera_drop@40.5+3 ')
    assert schedule.motor_corrupt == 0.01
    assert schedule.active('gnss_unplug', 20.0) and schedule.active('gnss_unplug', 24.9)
    assert not schedule.active('gnss_unplug', 25.0) and not schedule.active('gnss_unplug', None)
    assert schedule.active('camera_drop', 43.0) and not schedule.active('imu_silent', 21.0)
    assert FaultSchedule.parse('').timed == []


@pytest.mark.parametrize('text', ['gnss_unplug@20', 'warp@1+2', 'motor_corrupt=2', 'imu_silent@-1+2',
                                  'imu_silent@1+0', 'gnss_unplug=0.1', 'imu_silent@a+b'])
def test_fault_schedule_refuses(text):
    with pytest.raises(FaultError):
        FaultSchedule.parse(text)


def test_mjpeg_stream_is_read_by_opencv_and_survives_a_drop():
    server = MjpegServer()
    image = np.zeros((48, 64, 3), np.uint8)
    image[:, :32] = (0, 0, 255)
    jpeg = cv2.imencode('.jpg', image)[1].tobytes()
    assert mjpeg_part(jpeg).startswith(b'--rover_frame\r\nContent-Type: image/jpeg\r\nContent-Length: ')
    with pytest.raises(ValueError):
        mjpeg_part(b'not a jpeg')
    stop = time.monotonic() + 30.0
    try:
        running = threading.Event()
        running.set()

        def feed():
            while running.is_set():
                server.publish(jpeg)
                time.sleep(0.05)
        threading.Thread(target=feed, daemon=True).start()
        capture = cv2.VideoCapture(server.url)
        assert capture.isOpened()
        ok, frame = capture.read()
        assert ok and frame.shape == (48, 64, 3) and frame[0, 0, 2] > 200 and frame[0, 60, 2] < 50
        server.drop(1.0)
        reads = 0
        while capture.read()[0] and reads < 100:       # frames FFmpeg had buffered, then the end
            reads += 1
        assert reads < 100                             # the stream ended
        capture.release()
        assert not cv2.VideoCapture(server.url).isOpened()    # refused while dropped
        while time.monotonic() < stop:
            time.sleep(0.2)
            capture = cv2.VideoCapture(server.url)
            if capture.isOpened():
                break
        assert capture.read()[0]
        capture.release()
        running.clear()
    finally:
        server.close()


def test_pty_device_unplug_and_plug_behind_the_same_link(tmp_path):
    device = PtyDevice(tmp_path / 'gnss')
    try:
        port = SerialPort(str(tmp_path / 'gnss'), 9600)
        device.write(b'$HELLO*00\r\n')
        deadline = time.monotonic() + 5.0
        data = b''
        while b'\n' not in data and time.monotonic() < deadline:
            data += port.read_available()
        assert LineReader().feed(data) == ['$HELLO*00']
        device.unplug()
        assert not (tmp_path / 'gnss').exists()
        with pytest.raises(OSError):
            for _ in range(100):
                port.read_available()
                time.sleep(0.01)
        port.close()
        with pytest.raises(OSError):
            SerialPort(str(tmp_path / 'gnss'), 9600)
        device.plug()
        SerialPort(str(tmp_path / 'gnss'), 9600).close()
    finally:
        device.unplug()


def test_wheel_plant_reports_positions_at_the_time_asked_like_an_encoder():
    plant = WheelPlant(2, 1, max_extrapolation=0.1)
    assert plant.measured(5.0) == ((0.0, 0.0), (0.0, 0.0), (0.0,))          # nothing read yet
    plant.update((1.0, 2.0, 0.3), (2.0, -1.0, 0.0), at=10.0)                  # 2 wheels + 1 steering
    positions, velocities, angles = plant.measured(10.05)
    assert positions == pytest.approx((1.1, 1.95)) and velocities == (2.0, -1.0) and angles == (0.3,)
    assert plant.measured(9.98)[0] == pytest.approx((0.96, 2.02))            # a reading from ahead
    assert plant.measured(11.0)[0] == pytest.approx((1.2, 1.9))              # a stalled simulator: 0.1 s
    assert plant.measured()[0] == (1.0, 2.0)                                 # as read
    # 20 ms physics chunks describing t = 0.02 k reach the plant 5 or 25 ms late (alternately); FEEDBACK
    # samples at 0.02 k + 15 ms. As read, the wheel would alternate standing still and moving twice as
    # far (increments 0, 0.04 rad); extrapolated it moves 0.02 rad every sample, as a real encoder.
    events = []
    for k in range(12):
        events.append((0.02 * k + (0.025 if k % 2 else 0.005), 'reading', k))
        events.append((0.02 * k + 0.015, 'sample', k))
    plant, samples, raw = WheelPlant(1, 0), [], []
    for wall, kind, k in sorted(events):
        if kind == 'reading':
            plant.update((0.02 * k,), (1.0,), at=0.02 * k)
        else:
            samples.append(plant.measured(wall)[0][0])
            raw.append(plant.measured()[0][0])
    assert max(abs(b - a) for a, b in pairwise(raw)) == pytest.approx(0.04)      # the aliasing
    assert [b - a for a, b in pairwise(samples)] == pytest.approx([0.02] * (len(samples) - 1))


def test_motor_emulator_with_a_plant_reports_the_plant_and_its_watchdog_stops_it():
    plant = WheelPlant(4, 0)
    plant.update((1.0, 2.0, 3.0, 4.0), (0.5, 0.5, 0.5, 0.5))
    with EmulatedMotorController(EmulatorConfig(wheel_count=4, command_timeout=0.3), plant=plant) as mcu:
        master = os.open(mcu.port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
        try:
            os.write(master, encode_frame(DriveCommand((2.0, 2.0, 2.0, 2.0), ()), 1))
            decoder, feedback = FrameDecoder(MCU_TO_HOST), None
            deadline = time.monotonic() + 5.0
            while time.monotonic() < deadline and plant.targets()[0] != (2.0,) * 4:
                time.sleep(0.01)
            assert plant.targets()[0] == (2.0,) * 4
            while feedback is None and time.monotonic() < deadline:
                try:
                    data = os.read(master, 4096)
                except BlockingIOError:
                    data = b''
                feedback = next((f.message for f in decoder.feed(data) if isinstance(f.message, Feedback)),
                                None)
            # positions extrapolated at 0.5 rad/s from the reading, by at most max_extrapolation (0.1 s)
            assert feedback is not None and feedback.wheel_positions == pytest.approx((1.0, 2.0, 3.0, 4.0),
                                                                                      abs=0.05 + 1e-6)
            while time.monotonic() < deadline and plant.targets()[0] != (0.0,) * 4:
                time.sleep(0.01)
            assert plant.targets()[0] == (0.0,) * 4       # no command for 0.3 s: the MCU watchdog
        finally:
            os.close(master)
