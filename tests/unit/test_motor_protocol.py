"""Motor-controller protocol: COBS, CRC, message layouts, the streaming decoder and its checks."""
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rover_stack.hardware.protocol import (
    CRC,
    DELIMITER,
    ERROR_KINDS,
    HEADER,
    HOST_TO_MCU,
    MAX_ENCODED,
    MAX_JOINTS,
    MCU_TO_HOST,
    DriveCommand,
    Feedback,
    Frame,
    FrameDecoder,
    FrameEncoder,
    Heartbeat,
    HeartbeatAck,
    ProtocolError,
    build_raw_frame,
    cobs_decode,
    cobs_encode,
    crc16,
    encode_frame,
    fault_names,
    seq_newer,
)

# Published COBS examples (Cheshire & Baker; the Wikipedia table), without the trailing delimiter.
RUN_254 = bytes(range(1, 255))
COBS_VECTORS = [
    (b'', b'\x01'),
    (b'\x00', b'\x01\x01'),
    (b'\x00\x00', b'\x01\x01\x01'),
    (b'\x00\x11\x00', b'\x01\x02\x11\x01'),
    (b'\x11\x22\x00\x33', b'\x03\x11\x22\x02\x33'),
    (b'\x11\x22\x33\x44', b'\x05\x11\x22\x33\x44'),
    (b'\x11\x00\x00\x00', b'\x02\x11\x01\x01\x01'),
    (RUN_254, b'\xff' + RUN_254),
    (b'\x00' + RUN_254, b'\x01\xff' + RUN_254),
    (bytes(range(1, 256)), b'\xff' + RUN_254 + b'\x02\xff'),
    (bytes(range(2, 256)) + b'\x00', b'\xff' + bytes(range(2, 256)) + b'\x01\x01'),
    (bytes(range(3, 256)) + b'\x00\x01', b'\xfe' + bytes(range(3, 256)) + b'\x02\x01'),
]

DETERMINISTIC = settings(derandomize=True, max_examples=300, deadline=None)
STREAMS = settings(derandomize=True, max_examples=120, deadline=None)   # multi-frame cases: slower
f32 = st.floats(width=32, allow_nan=False, allow_infinity=False)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
joints = st.integers(0, MAX_JOINTS)


def float_tuple(n):
    return st.lists(f32, min_size=n, max_size=n).map(tuple)


drive_commands = st.builds(
    lambda n, m, data, hold: DriveCommand(data[0][:n], data[1][:m], hold),
    joints, joints,
    st.tuples(float_tuple(MAX_JOINTS), float_tuple(MAX_JOINTS)), st.booleans())
heartbeats = st.builds(Heartbeat, u32)
acks = st.builds(HeartbeatAck, u32, u32, u16)


@st.composite
def feedbacks(draw):
    n, m = draw(joints), draw(joints)
    return Feedback(draw(float_tuple(n)), draw(float_tuple(n)), draw(float_tuple(n)), draw(float_tuple(m)),
                    draw(float_tuple(m)), draw(u16), draw(st.booleans()), draw(f32), draw(u16), draw(u32))


mcu_messages = st.one_of(feedbacks(), acks)
any_message = st.one_of(drive_commands, heartbeats, feedbacks(), acks)


def stream(messages, first_seq=0):
    encoder = FrameEncoder(first_seq)
    return [encoder.encode(m) for m in messages]


# --- COBS and CRC ---------------------------------------------------------------------------------

@pytest.mark.parametrize(('raw', 'encoded'), COBS_VECTORS)
def test_cobs_known_vectors(raw, encoded):
    assert cobs_encode(raw) == encoded
    assert cobs_decode(encoded) == raw


@DETERMINISTIC
@given(st.binary(max_size=1200))
def test_cobs_round_trip_has_no_zero_and_bounded_overhead(data):
    encoded = cobs_encode(data)
    assert 0 not in encoded
    assert len(encoded) <= len(data) + len(data) // 254 + 1
    assert cobs_decode(encoded) == data


@pytest.mark.parametrize('bad', [b'', b'\x00', b'\x03\x11\x00', b'\x05\x11\x22', b'\x02\x11\x04'])
def test_cobs_decode_rejects_invalid_packets(bad):
    with pytest.raises(ValueError):
        cobs_decode(bad)


def test_crc16_ccitt_false_check_value():
    assert crc16(b'123456789') == 0x29B1
    assert crc16(b'') == 0xFFFF
    assert crc16(b'6789', crc16(b'12345')) == 0x29B1    # incremental


# --- layouts --------------------------------------------------------------------------------------

def test_heartbeat_frame_matches_documented_layout():
    raw = build_raw_frame(Heartbeat(0x04030201), seq=0x1234)
    body = bytes([0x01, 0x02, 0x34, 0x12, 0x04, 0x01, 0x02, 0x03, 0x04])
    assert raw == body + struct.pack('<H', crc16(body))
    assert encode_frame(Heartbeat(0x04030201), 0x1234) == cobs_encode(raw) + b'\x00'


def test_drive_command_payload_layout():
    payload = DriveCommand((1.5, -2.0), (0.25,), hold_steering=True).pack()
    assert payload == bytes([2, 1, 1]) + struct.pack('<3f', 1.5, -2.0, 0.25)


def test_feedback_payload_layout():
    fb = Feedback((1.0,), (2.0,), (3.0,), (0.5,), (0.75,), fault_flags=0x0021, estop_pressed=True,
                  battery_voltage=24.0, command_seq=0xBEEF, mcu_time_ms=7)
    expected = (bytes([1, 1, 0x21, 0x00, 1]) + struct.pack('<fHI', 24.0, 0xBEEF, 7)
                + struct.pack('<5f', 1.0, 2.0, 3.0, 0.5, 0.75))
    assert fb.pack() == expected
    assert Feedback.size(1, 1) == len(expected)


def test_largest_messages_fit_the_payload_bound():
    full = (0.0,) * MAX_JOINTS
    for message in (DriveCommand(full, full), Feedback(full, full, full, full, full)):
        frame = encode_frame(message, 0)
        assert len(frame) - 1 <= MAX_ENCODED


@pytest.mark.parametrize('message', [
    DriveCommand((float('nan'),)),
    DriveCommand((float('inf'),)),
    DriveCommand((1e39,)),                     # beyond float32
    DriveCommand((0.0,) * (MAX_JOINTS + 1)),
    Feedback((0.0,), (0.0, 1.0), (0.0,)),      # per-joint tuples differ
    Feedback((), (), (), battery_voltage=float('nan')),
])
def test_encoding_refuses_invalid_messages(message):
    with pytest.raises(ProtocolError):
        encode_frame(message, 0)


def test_fault_names():
    assert fault_names(0) == []
    assert fault_names(0b100001) == ['overcurrent', 'command_timeout']
    assert fault_names(1 << 15) == ['bit15']


# --- round trips ----------------------------------------------------------------------------------

@DETERMINISTIC
@given(any_message, u16)
def test_every_message_type_round_trips(message, seq):
    accepted = HOST_TO_MCU if message.TYPE in HOST_TO_MCU else MCU_TO_HOST
    decoder = FrameDecoder(accepted)
    assert decoder.feed(encode_frame(message, seq)) == [Frame(seq, message)]
    assert decoder.error_total == 0


@STREAMS
@given(st.lists(mcu_messages, min_size=1, max_size=20), u16, st.integers(1, 64))
def test_split_anywhere_decodes_the_same(messages, first_seq, chunk):
    data = b''.join(stream(messages, first_seq))
    decoder = FrameDecoder()
    frames = []
    for i in range(0, len(data), chunk):
        frames += decoder.feed(data[i:i + chunk])
    assert [f.message for f in frames] == messages
    assert decoder.error_total == 0


# --- the decoder's checks -------------------------------------------------------------------------

def raw_with(kind, payload, seq=0, version=1):
    body = HEADER.pack(version, kind, seq, len(payload)) + payload
    return cobs_encode(body + CRC.pack(crc16(body))) + DELIMITER


GOOD = Heartbeat(7)
CHECK_CASES = [
    # (name, bytes, accepted types, error kind)
    ('bad crc', cobs_encode(build_raw_frame(HeartbeatAck(1), 0)[:-1] + b'\x00') + DELIMITER, MCU_TO_HOST,
     'bad_crc'),
    ('payload bit flip', cobs_encode(bytes([1, 0x82, 0, 0, 10, 1] + [0] * 9) + CRC.pack(crc16(
        bytes([1, 0x82, 0, 0, 10, 0] + [0] * 9)))) + DELIMITER, MCU_TO_HOST, 'bad_crc'),
    ('too short', cobs_encode(b'\x01\x82\x00') + DELIMITER, MCU_TO_HOST, 'bad_length'),
    ('length field too big', cobs_encode(build_raw_frame(GOOD, 0)[:-3]) + DELIMITER, HOST_TO_MCU,
     'bad_length'),
    ('cobs overrun', b'\x09\x01\x02' + DELIMITER, MCU_TO_HOST, 'bad_cobs'),
    ('version 2', cobs_encode(build_raw_frame(GOOD, 0, version=2)) + DELIMITER, HOST_TO_MCU,
     'bad_version'),
    ('unknown type', raw_with(0x55, b''), MCU_TO_HOST, 'unknown_type'),
    ('command sent to the host', encode_frame(DriveCommand((1.0,)), 0), MCU_TO_HOST, 'unexpected_type'),
    ('feedback sent to the MCU', encode_frame(Feedback((), (), ()), 0), HOST_TO_MCU, 'unexpected_type'),
    ('feedback counts vs size', raw_with(0x81, Feedback((1.0,), (1.0,), (1.0,)).pack()[:-4]), MCU_TO_HOST,
     'bad_payload'),
    ('nan in feedback', raw_with(0x81, Feedback((), (), ()).pack()[:5] + struct.pack('<f', float('nan'))
                                 + b'\x00' * 6), MCU_TO_HOST, 'bad_payload'),
    ('too many joints', raw_with(0x01, bytes([9, 0, 0]) + b'\x00' * 36), HOST_TO_MCU, 'bad_payload'),
    ('unknown drive flag', raw_with(0x01, bytes([0, 0, 2])), HOST_TO_MCU, 'bad_payload'),
    ('estop status bits', raw_with(0x81, Feedback((), (), ()).pack()[:4] + b'\x02'
                                   + Feedback((), (), ()).pack()[5:]), MCU_TO_HOST, 'bad_payload'),
    ('ack size', raw_with(0x82, b'\x00' * 9), MCU_TO_HOST, 'bad_payload'),
    ('oversize', b'\x01' * (MAX_ENCODED + 10) + DELIMITER, MCU_TO_HOST, 'oversize'),
]


@pytest.mark.parametrize(('name', 'data', 'accepted', 'kind'), CHECK_CASES, ids=[c[0] for c in CHECK_CASES])
def test_decoder_rejects_and_counts_then_resynchronises(name, data, accepted, kind):
    decoder = FrameDecoder(accepted)
    good_message = HeartbeatAck(5) if accepted == MCU_TO_HOST else GOOD
    good = encode_frame(good_message, 100)
    assert decoder.feed(data + good) == [Frame(100, good_message)], name
    assert decoder.errors[kind] == 1
    assert decoder.error_total == 1


def test_oversize_counted_once_while_bytes_keep_coming():
    decoder = FrameDecoder()
    for _ in range(10):
        assert decoder.feed(b'\x01' * 100) == []
    assert decoder.feed(DELIMITER + encode_frame(HeartbeatAck(1), 0)) == [Frame(0, HeartbeatAck(1))]
    assert decoder.errors['oversize'] == 1
    assert decoder.error_total == 1


def test_idle_delimiters_are_not_errors():
    decoder = FrameDecoder()
    assert decoder.feed(b'\x00\x00\x00') == []
    assert decoder.error_total == 0


# --- sequence numbers -----------------------------------------------------------------------------

@pytest.mark.parametrize(('seq', 'last', 'newer'), [
    (1, 0, True), (0, 0, False), (0, 1, False), (0, 65535, True), (5, 65530, True),
    (32767, 0, True), (32768, 0, False), (65535, 0, False), (100, 200, False),
])
def test_seq_newer_with_wraparound(seq, last, newer):
    assert seq_newer(seq, last) is newer


def test_sequence_wraps_and_skips_are_counted():
    frames = stream([HeartbeatAck(i) for i in range(6)], first_seq=65533)
    decoder = FrameDecoder()
    out = decoder.feed(b''.join(frames[:2] + frames[3:]))     # 65533, 65534, (65535 lost), 0, 1, 2
    assert [f.seq for f in out] == [65533, 65534, 0, 1, 2]
    assert decoder.frames_skipped == 1
    assert decoder.error_total == 0


def test_replayed_duplicate_and_out_of_order_frames_are_rejected():
    frames = stream([HeartbeatAck(i) for i in range(5)], first_seq=65534)   # 65534 .. 2
    decoder = FrameDecoder()
    data = frames[0] + frames[1] + frames[2] + frames[1] + frames[2] + frames[0] + frames[4] + frames[3]
    assert [f.seq for f in decoder.feed(data)] == [65534, 65535, 0, 2]
    assert decoder.errors['replayed'] == 4


def test_jump_beyond_the_window_is_rejected_until_reset():
    decoder = FrameDecoder()
    decoder.feed(encode_frame(HeartbeatAck(0), 10))
    far = encode_frame(HeartbeatAck(1), 10 + 40000)          # looks older than 10 in uint16 arithmetic
    assert decoder.feed(far) == []
    assert decoder.errors['replayed'] == 1
    decoder.reset_sequence()                                  # e.g. after the link was lost
    assert [f.seq for f in decoder.feed(far)] == [40010]


# --- fuzzing --------------------------------------------------------------------------------------

def valid_raw_frames(data: bytes) -> set[bytes]:
    """Raw frames (COBS-decoded) of the delimited chunks of ``data`` whose CRC is right."""
    out = set()
    for chunk in data.split(DELIMITER):
        try:
            raw = cobs_decode(chunk)
        except ValueError:
            continue
        if len(raw) >= 7 and CRC.unpack(raw[-2:])[0] == crc16(raw[:-2]):
            out.add(raw)
    return out


@DETERMINISTIC
@given(st.binary(max_size=2000), st.sampled_from([MCU_TO_HOST, HOST_TO_MCU]))
def test_random_bytes_never_raise_and_only_crc_valid_frames_come_out(data, accepted):
    decoder = FrameDecoder(accepted)
    frames = decoder.feed(data) + decoder.feed(DELIMITER)
    valid = valid_raw_frames(data)
    for frame in frames:
        assert build_raw_frame(frame.message, frame.seq) in valid
    assert set(decoder.errors) == set(ERROR_KINDS)


@STREAMS
@given(st.lists(mcu_messages, min_size=2, max_size=12), st.data())
def test_a_bit_flip_loses_at_most_two_frames_and_is_counted(messages, data):
    frames = stream(messages)
    wire = bytearray(b''.join(frames))
    bit = data.draw(st.integers(0, len(wire) * 8 - 1))
    wire[bit // 8] ^= 1 << (bit % 8)
    decoder = FrameDecoder()
    out = decoder.feed(bytes(wire)) + decoder.feed(DELIMITER)
    original = [Frame(i, m) for i, m in enumerate(messages)]
    assert all(frame in original for frame in out)
    assert len(out) >= len(messages) - 2
    assert decoder.error_total >= 1 or len(out) == len(messages)


@STREAMS
@given(st.lists(mcu_messages, min_size=2, max_size=12), st.data())
def test_a_truncated_frame_is_counted_and_the_others_pass(messages, data):
    frames = stream(messages)
    victim = data.draw(st.integers(0, len(frames) - 1))
    body = frames[victim][:-1]
    start = data.draw(st.integers(0, len(body) - 1))
    stop = data.draw(st.integers(start + 1, len(body) - (start == 0)))    # never the whole frame
    frames[victim] = body[:start] + body[stop:] + DELIMITER
    decoder = FrameDecoder()
    out = decoder.feed(b''.join(frames))
    assert out == [Frame(i, m) for i, m in enumerate(messages) if i != victim]
    assert decoder.error_total == 1


@STREAMS
@given(st.lists(mcu_messages, min_size=2, max_size=12), st.data())
def test_a_replayed_frame_is_counted_and_the_others_pass(messages, data):
    frames = stream(messages, first_seq=data.draw(u16))
    after = data.draw(st.integers(1, len(frames) - 1))
    replayed = data.draw(st.integers(0, after))
    wire = b''.join(frames[:after + 1]) + frames[replayed] + b''.join(frames[after + 1:])
    decoder = FrameDecoder()
    assert [f.message for f in decoder.feed(wire)] == messages
    assert decoder.errors['replayed'] == 1
    assert decoder.error_total == 1


@STREAMS
@given(st.lists(mcu_messages, min_size=1, max_size=8), st.lists(st.binary(max_size=300), min_size=1,
                                                                 max_size=8))
def test_garbage_between_frames_does_not_hide_good_frames(messages, garbage):
    frames = stream(messages)
    wire = b''.join(DELIMITER + g.replace(DELIMITER, b'\x01') + DELIMITER + f for g, f in
                    zip(garbage * len(frames), frames, strict=False))
    decoder = FrameDecoder()
    assert [f.message for f in decoder.feed(wire)] == messages
