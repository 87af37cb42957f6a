"""Fuzzing every parser of outside input (issue #10): any bytes or text either parse into a valid object
or raise the module's documented error type, never another exception and never hang; valid inputs
round-trip where an encoder exists.

Covered here: motor protocol payloads and CRC-valid frames (random bytes on the wire are already in
test_motor_protocol.py), NMEA GNSS sentences and the line reader, the IMU line format, mission files,
course files, and the web API (client messages, the bridge session logic, the WebSocket origin check).
Deterministic (derandomized) and bounded (max_examples) so the module runs in seconds.
"""
from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rover_stack.autonomy.mission import Mission, MissionError, mission_from_text
from rover_stack.base_station.bridge_core import BridgeConfig, BridgeCore
from rover_stack.base_station.protocol import Limits, Message, ProtocolError, parse
from rover_stack.base_station.web_server import _same_origin
from rover_stack.drivers.gnss_nmea import Fix, FixAssembler, Gga, Gst, Rmc, parse_line
from rover_stack.drivers.imu_serial import (
    MAX_ACCELERATION,
    MAX_ANGULAR_VELOCITY,
    ImuFormatError,
    ImuSample,
    format_imu_line,
    parse_imu_line,
)
from rover_stack.drivers.nmea import MAX_LINE, LineReader, NmeaError, split_sentence, with_checksum
from rover_stack.hardware.protocol import (
    CRC,
    HEADER,
    MAX_PAYLOAD,
    MESSAGE_TYPES,
    PROTOCOL_VERSION,
    DriveCommand,
    Feedback,
    FrameDecoder,
    Heartbeat,
    HeartbeatAck,
    cobs_encode,
    crc16,
)
from rover_stack.hardware.protocol import (
    ProtocolError as MotorProtocolError,
)
from rover_stack.sim.course import Course, CourseError, load_course

ROOT = Path(__file__).resolve().parents[2]
FUZZ = settings(derandomize=True, max_examples=100, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
FUZZ_FILES = settings(FUZZ, max_examples=50)     # YAML documents: PyYAML is slow (a course takes ~50 ms)
FUZZ_COURSES = settings(FUZZ, max_examples=30)

# Any text, including control characters, NULs and characters YAML or JSON refuse.
any_text = st.one_of(st.text(max_size=300), st.binary(max_size=300).map(lambda b: b.decode('latin-1')))


# ---------------------------------------------------------------- motor protocol (payload level)

@pytest.mark.parametrize('cls', [DriveCommand, Heartbeat, Feedback, HeartbeatAck])
@FUZZ
@given(payload=st.binary(max_size=MAX_PAYLOAD))
def test_motor_payload_unpacks_or_raises_protocol_error_and_round_trips(cls, payload):
    try:
        message = cls.unpack(payload)
    except MotorProtocolError:
        return
    assert message.pack() == payload      # every accepted payload is re-encoded byte for byte


def _counted_payloads():
    """Payloads with consistent joint counts, so the float checks behind the size check are reached."""
    def build(cls, wheels, steering, flags, data):
        size = cls.size(wheels, steering)
        head = bytes([wheels, steering])
        return head + data[:size - 2].ljust(size - 2, b'\x00') if cls is Feedback else \
            head + bytes([flags]) + data[:size - 3].ljust(size - 3, b'\x00')
    return st.builds(build, st.sampled_from([DriveCommand, Feedback]), st.integers(0, 8), st.integers(0, 8),
                     st.integers(0, 3), st.binary(min_size=200, max_size=200))


@FUZZ
@given(payload=_counted_payloads())
def test_motor_payload_with_plausible_counts_unpacks_or_raises_protocol_error(payload):
    for cls in (DriveCommand, Feedback):
        try:
            message = cls.unpack(payload)
        except MotorProtocolError:
            continue
        values = [v for field in ('wheel_velocities', 'steering_angles', 'wheel_positions', 'wheel_currents',
                                  'steering_currents') for v in getattr(message, field, ())]
        assert all(math.isfinite(v) for v in values)
        assert message.pack() == payload


@FUZZ
@given(version=st.sampled_from([PROTOCOL_VERSION, PROTOCOL_VERSION + 1, 0]),
       kind=st.sampled_from([*MESSAGE_TYPES, 0x00, 0x7F, 0xFF]), seq=st.integers(0, 0xFFFF),
       payload=st.binary(max_size=MAX_PAYLOAD), accept_all=st.booleans())
def test_crc_valid_frames_decode_to_a_message_or_one_counted_error(version, kind, seq, payload, accept_all):
    """Random bytes rarely pass the CRC; these frames do, so the checks behind it are fuzzed."""
    body = HEADER.pack(version, kind, seq, len(payload)) + payload
    raw = body + CRC.pack(crc16(body))
    decoder = FrameDecoder(MESSAGE_TYPES if accept_all else (kind,))
    frames = decoder.feed(cobs_encode(raw) + b'\x00')
    assert len(frames) + decoder.error_total == 1
    if frames:
        assert frames[0].seq == seq and frames[0].message.pack() == payload


# ---------------------------------------------------------------- NMEA GNSS

def _fields(count_range=(0, 16)):
    field = st.one_of(st.text(alphabet='0123456789.-+NSEWAVMK', max_size=14), st.sampled_from(
        ['', '4807.038', '01131.000', 'N', 'S', 'E', 'W', 'A', 'V', '1', '4', '9', 'nan', 'inf', '-0',
         '9999.99', '12345678901234567890', '1e400', '8960.000', '18000.1', '12', '60.0']))
    return st.lists(field, min_size=count_range[0], max_size=count_range[1])


nmea_bodies = st.builds(lambda talker, kind, fields: ','.join([talker + kind, *fields]),
                        st.sampled_from(['GP', 'GN', 'GL', 'XX', '']), st.sampled_from(['GGA', 'RMC', 'GST', 'GSV', '']),
                        _fields())


def _check_sentence(sentence) -> None:
    assert sentence is None or isinstance(sentence, Gga | Rmc | Gst)
    if isinstance(sentence, Gga | Rmc):
        assert math.isnan(sentence.latitude) or -90.0 <= sentence.latitude <= 90.0
        assert math.isnan(sentence.longitude) or -180.0 <= sentence.longitude <= 180.0


@FUZZ
@given(line=any_text)
def test_nmea_any_text_parses_or_raises_nmea_error(line):
    try:
        _check_sentence(parse_line(line))
    except NmeaError:
        pass


@FUZZ
@given(bodies=st.lists(nmea_bodies, min_size=1, max_size=6), now=st.floats(0.0, 1e6))
def test_nmea_checksummed_sentences_parse_or_raise_and_fixes_stay_sane(bodies, now):
    assembler = FixAssembler()
    for body in bodies:
        sentence = with_checksum(body)
        assert split_sentence(sentence) == body.split(',')      # framing round-trips
        try:
            parsed = parse_line(sentence)
        except NmeaError:
            continue
        _check_sentence(parsed)
        fix = assembler.on_sentence(parsed, now)
        if fix is not None:
            assert isinstance(fix, Fix) and fix.status in (-1, 0, 1, 2)
            assert all(math.isfinite(c) and c >= 0.0 for c in fix.covariance)
            if fix.status == -1:
                assert math.isnan(fix.latitude) and math.isnan(fix.longitude)


@FUZZ
@given(chunks=st.lists(st.binary(max_size=200), max_size=12))
def test_line_reader_takes_any_bytes_and_returns_bounded_ascii_lines(chunks):
    reader = LineReader()
    for chunk in chunks:
        for line in reader.feed(chunk):
            assert line.isascii() and 0 < len(line) <= MAX_LINE


# ---------------------------------------------------------------- IMU serial lines

imu_fields = st.lists(st.one_of(st.sampled_from(['', '0', '1', '0.5', '-0.5', 'nan', 'inf', '1e400', '65536',
                                                 '-1', '9.81', '35.1', '200']),
                                st.floats(-200, 200).map(lambda v: f'{v:.4f}'),
                                st.text(alphabet='0123456789.-e', max_size=8)), min_size=0, max_size=13)


@FUZZ
@given(line=st.one_of(any_text, imu_fields.map(lambda f: with_checksum(','.join(['IMU', *f])))))
def test_imu_any_line_parses_or_raises_imu_format_error(line):
    try:
        sample = parse_imu_line(line)
    except ImuFormatError:
        return
    if sample is not None:
        assert isinstance(sample, ImuSample) and 0 <= sample.seq <= 0xFFFF
        assert all(math.isfinite(v) for v in (*sample.angular_velocity, *sample.linear_acceleration))
        assert max(map(abs, sample.angular_velocity)) <= MAX_ANGULAR_VELOCITY
        assert max(map(abs, sample.linear_acceleration)) <= MAX_ACCELERATION
        if sample.orientation is not None:
            assert abs(math.hypot(*sample.orientation) - 1.0) < 1e-9


def _unit(q):
    norm = math.hypot(*q)
    return tuple(v / norm for v in q)


valid_samples = st.builds(
    ImuSample, st.integers(0, 0xFFFF),
    st.one_of(st.none(), st.tuples(*[st.floats(-1, 1)] * 4).filter(lambda q: math.hypot(*q) > 0.1).map(_unit)),
    st.tuples(*[st.floats(-MAX_ANGULAR_VELOCITY + 0.01, MAX_ANGULAR_VELOCITY - 0.01)] * 3),
    st.tuples(*[st.floats(-MAX_ACCELERATION + 0.01, MAX_ACCELERATION - 0.01)] * 3))


@FUZZ
@given(sample=valid_samples)
def test_imu_valid_samples_round_trip(sample):
    parsed = parse_imu_line(format_imu_line(sample))
    assert parsed.seq == sample.seq
    assert parsed.angular_velocity == pytest.approx(sample.angular_velocity, abs=1e-5)
    assert parsed.linear_acceleration == pytest.approx(sample.linear_acceleration, abs=1e-5)
    if sample.orientation is None:
        assert parsed.orientation is None
    else:
        assert parsed.orientation == pytest.approx(sample.orientation, abs=1e-5)


# ---------------------------------------------------------------- mission and course files

yaml_scalars = st.one_of(st.none(), st.booleans(), st.integers(-10**30, 10**30), st.floats(),
                         st.text(max_size=20), st.sampled_from(['gnss', 'post', 'gate', 'object', 'mallet']))
yaml_values = st.recursive(yaml_scalars, lambda inner: st.one_of(
    st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)), max_leaves=8)


def _paths(document, prefix=()):
    """Every (path) to a value in a nested dict/list document."""
    yield prefix
    if isinstance(document, dict):
        for key, value in document.items():
            yield from _paths(value, (*prefix, key))
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from _paths(value, (*prefix, index))


def _mutated(document, data) -> str:
    """YAML text of ``document`` with one value replaced, one key deleted or one unknown key added."""
    document = copy.deepcopy(document)
    path = data.draw(st.sampled_from(list(_paths(document))[1:]))
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    action = data.draw(st.sampled_from(['replace', 'delete', 'add']))
    if action == 'replace':
        parent[path[-1]] = data.draw(yaml_values)
    elif action == 'delete':
        del parent[path[-1]]
    elif isinstance(parent, dict):
        parent[data.draw(st.text(min_size=1, max_size=8))] = data.draw(yaml_values)
    return yaml.safe_dump(document, allow_unicode=True)


MISSION_DOC = yaml.safe_load((ROOT / 'config' / 'missions' / 'urc_demo.yaml').read_text())
COURSE_DOC = yaml.safe_load((ROOT / 'sim' / 'courses' / 'urc_demo.yaml').read_text())

# Texts that once escaped the loaders with another exception (OverflowError, ValueError, ReaderError,
# RecursionError) or took exponential time (aliases).
HOSTILE_YAML = {
    'huge_integer': 'name: a\ndatum: {latitude: ' + '9' * 400 + ', longitude: 0}\n',
    'impossible_date': 'name: !!timestamp 2020-13-45\n',
    'nul_character': 'name: a\x00',
    'deep_nesting': '[' * 3000 + ']' * 3000,
    'alias_bomb': 'a: &a [' + ', '.join(['x'] * 10) + ']\n' + ''.join(   # 10^8 values once expanded
        f'{c}: &{c} [' + ', '.join([f'*{p}'] * 10) + ']\n' for p, c in zip('abcdefg', 'bcdefgh', strict=True)),
    'binary_tag': 'name: !!binary "not base64 !"\n',
    'python_tag': 'name: !!python/object/apply:os.system ["true"]\n',
}


def _check_mission(mission: Mission) -> None:
    assert mission.legs and len({leg.name for leg in mission.legs}) == len(mission.legs)
    for leg in mission.legs:
        assert leg.tolerance > 0.0 and 0.0 < leg.timeout and leg.search_radius > 0.0
        assert -90.0 <= leg.latitude <= 90.0 and -180.0 <= leg.longitude <= 180.0


def test_the_shipped_mission_and_course_load():
    _check_mission(mission_from_text(yaml.safe_dump(MISSION_DOC)))
    assert isinstance(load_course(ROOT / 'sim' / 'courses' / 'urc_demo.yaml'), Course)


@pytest.mark.parametrize('label', sorted(HOSTILE_YAML))
def test_hostile_yaml_is_a_mission_error(label):
    with pytest.raises(MissionError):
        mission_from_text(HOSTILE_YAML[label])


@FUZZ_FILES
@given(text=any_text)
def test_mission_any_text_loads_or_raises_mission_error(text):
    try:
        _check_mission(mission_from_text(text))
    except MissionError:
        pass


@FUZZ_FILES
@given(data=st.data())
def test_mission_mutations_load_or_raise_mission_error(data):
    try:
        _check_mission(mission_from_text(_mutated(MISSION_DOC, data)))
    except MissionError as error:
        assert str(error).startswith('<mission_yaml>:')      # names the source and the line


@pytest.fixture(scope='module')
def course_dir(tmp_path_factory):
    return tmp_path_factory.mktemp('courses')


def _load_course_text(directory: Path, text: str) -> Course:
    path = directory / 'fuzz_course.yaml'
    path.write_text(text, encoding='utf-8', errors='surrogatepass')
    return load_course(path)


@pytest.mark.parametrize('label', sorted(HOSTILE_YAML))
def test_hostile_yaml_is_a_course_error(label, course_dir):
    with pytest.raises(CourseError):
        _load_course_text(course_dir, HOSTILE_YAML[label])


@FUZZ_FILES
@given(text=any_text)
def test_course_any_text_loads_or_raises_course_error(text, course_dir):
    try:
        assert isinstance(_load_course_text(course_dir, text), Course)
    except CourseError:
        pass


@FUZZ_COURSES
@given(data=st.data())
def test_course_mutations_load_or_raise_course_error(data, course_dir):
    try:
        course = _load_course_text(course_dir, _mutated(COURSE_DOC, data))
    except CourseError:
        return
    assert course.posts and course.terrain.size_x >= 10.0
    for gate in course.gates:
        course.gate_centre(gate)       # every gate names two existing posts


# ---------------------------------------------------------------- web API (WebSocket messages, origin)

json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-2**60, 2**60), st.floats(), st.text(max_size=20)),
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
    max_leaves=6)
client_messages = st.builds(
    lambda kind, extra: json.dumps({'type': kind, **extra}),
    st.sampled_from(['hello', 'heartbeat', 'drive', 'estop', 'estop_reset', 'mission', 'telemetry', '', 'x']),
    st.dictionaries(st.sampled_from(['token', 'seq', 't', 'rtt', 'linear', 'angular', 'action', 'mission', 'type']),
                    json_values, max_size=5))
hostile_json = st.sampled_from(['[' * 1000, '{"a":' * 300, '{"type":"hello","token":"\\ud800"}', '"\\udfff"',
                                '{"type":"drive","linear":1e999,"angular":0}', '\ufeff{}', 'NaN', '{"type":"heartbeat","seq":-1}'])


def _check_message(message: Message, limits: Limits) -> None:
    assert isinstance(message, Message)
    if message.type == 'drive':
        assert abs(message.fields['linear']) <= limits.max_linear
        assert abs(message.fields['angular']) <= limits.max_angular
    json.dumps(message.fields, allow_nan=False)


@FUZZ
@given(text=st.one_of(any_text, client_messages, hostile_json, st.binary(max_size=200)))
def test_web_message_parses_or_raises_protocol_error(text):
    limits = Limits()
    try:
        _check_message(parse(text, limits), limits)
    except ProtocolError:
        pass


def _drive_text(draw_seq, linear, angular, page_ms):
    return json.dumps({'type': 'drive', 'seq': draw_seq, 't': page_ms, 'linear': linear, 'angular': angular})


valid_drives = st.builds(_drive_text, st.integers(0, 40), st.floats(-1.0, 1.0), st.floats(-1.5, 1.5),
                         st.floats(0.0, 2000.0))


@FUZZ
@given(texts=st.lists(st.one_of(client_messages, hostile_json, any_text, valid_drives), min_size=1, max_size=12),
       authenticate=st.booleans(), latched=st.booleans())
def test_bridge_session_answers_every_message_without_raising(texts, authenticate, latched):
    """Also from an operator's session (logged in, live link, controls at rest), so the drive logic is
    reached: whatever comes, a published command is zero or a drive the page sent, within the limits,
    never while the e-stop is latched, and never from a session without the token."""
    token = 'operator-token-0123'
    core = BridgeCore(BridgeConfig(token=token, messages_per_second=1000))
    session = core.connect()
    now = 0.0
    if authenticate:
        replies, _ = core.handle(session, json.dumps({'type': 'hello', 'token': token}), now, estop_latched=False)
        assert replies[0]['can_drive']
        core.handle(session, '{"type": "heartbeat", "seq": 0, "t": 0}', now, estop_latched=False)
        assert core.handle(session, _drive_text(0, 0.0, 0.0, 0.0), now, estop_latched=False) == ([], [])
        assert session.armed and not session.link.expired(now)
    sent = set()
    for text in texts:
        now += 0.01
        replies, actions = core.handle(session, text, now, estop_latched=latched)
        assert isinstance(replies, list) and isinstance(actions, list)
        json.dumps(replies, allow_nan=False)
        try:
            message = parse(text)
        except ProtocolError:
            message = None
        if message is not None and message.type == 'drive':
            sent.add((message.fields['linear'], message.fields['angular']))
        out = core.step(now)
        if out.command is not None and out.command != (0.0, 0.0):
            assert authenticate and not latched, out
            assert out.command in sent, (out.command, sent)
            assert abs(out.command[0]) <= 1.0 and abs(out.command[1]) <= 1.5
    core.disconnect(session)


class _Handshake:
    """The two headers ``_same_origin`` reads from a WebSocket handshake."""

    def __init__(self, origin, host):
        self.headers = {k: v for k, v in (('origin', origin), ('host', host)) if v is not None}


@FUZZ
@given(origin=st.one_of(st.none(), any_text, st.sampled_from(['http://[', 'http://[::1', 'http://rover:8080'])),
       host=st.one_of(st.none(), st.just('rover:8080'), any_text))
def test_websocket_origin_check_answers_for_any_header(origin, host):
    """Accepted only without an Origin (not a browser) or when the Origin names exactly the Host the
    client connected to (non-empty): never another site, never a broken URL."""
    accepted = _same_origin(_Handshake(origin, host))
    assert accepted in (True, False)
    if accepted and origin is not None:
        assert host and urlsplit(origin).netloc == host, (origin, host)
    if origin is not None and host and origin in (f'http://{host}', f'https://{host}') and '/' not in host \
            and '@' not in host and host.isprintable() and host.strip() == host:
        try:
            same = urlsplit(origin).netloc == host
        except ValueError:
            same = False
        assert accepted == same, (origin, host)


def test_origin_check_refuses_other_sites_and_broken_urls():
    assert _same_origin(_Handshake('http://rover:8080', 'rover:8080'))
    assert _same_origin(_Handshake(None, 'rover:8080'))
    assert not _same_origin(_Handshake('http://evil.example', 'rover:8080'))
    assert not _same_origin(_Handshake('http://[', 'rover:8080'))
