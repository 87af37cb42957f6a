"""Binary protocol between the stack (host) and the motor microcontroller (MCU).

Pure Python, no I/O; the byte layouts are documented in docs/motor_protocol.md. In short: each
packet is ``version u8 | type u8 | seq u16 | length u8 | payload | crc16 u16`` (little-endian,
CRC-16/CCITT-FALSE over everything before it), COBS-encoded and terminated by one 0x00 byte.
Units on the wire: rad, rad/s, A, V, ms.
"""
from __future__ import annotations

import binascii
import math
import struct
from collections.abc import Iterable
from dataclasses import dataclass

PROTOCOL_VERSION = 1
HEADER = struct.Struct('<BBHB')          # version, type, seq, payload length
CRC = struct.Struct('<H')
MAX_PAYLOAD = 240                        # bytes
MAX_JOINTS = 8                           # per group (wheels, steering)
MIN_FRAME = HEADER.size + CRC.size       # raw frame without payload: 7 bytes
MAX_FRAME = MIN_FRAME + MAX_PAYLOAD
MAX_ENCODED = MAX_FRAME + MAX_FRAME // 254 + 1   # COBS overhead
DELIMITER = b'\x00'
SEQ_MODULO = 1 << 16
SEQ_WINDOW = 1 << 15                     # a seq is newer if 0 < (seq - last) mod 2^16 < 2^15

# Message types: host -> MCU below 0x80, MCU -> host from 0x80.
DRIVE_COMMAND = 0x01
HEARTBEAT = 0x02
FEEDBACK = 0x81
HEARTBEAT_ACK = 0x82

# Fault flag bits reported by the MCU (FEEDBACK.fault_flags, HEARTBEAT_ACK.fault_flags).
FAULT_OVERCURRENT = 1 << 0
FAULT_OVERTEMPERATURE = 1 << 1
FAULT_UNDERVOLTAGE = 1 << 2
FAULT_ENCODER = 1 << 3
FAULT_DRIVER = 1 << 4
FAULT_COMMAND_TIMEOUT = 1 << 5   # MCU watchdog stopped the wheels: no DRIVE_COMMAND for its timeout
FAULT_NAMES = {
    FAULT_OVERCURRENT: 'overcurrent',
    FAULT_OVERTEMPERATURE: 'overtemperature',
    FAULT_UNDERVOLTAGE: 'undervoltage',
    FAULT_ENCODER: 'encoder',
    FAULT_DRIVER: 'driver',
    FAULT_COMMAND_TIMEOUT: 'command_timeout',
}

# Error kinds counted by FrameDecoder, in the order the checks run.
ERROR_KINDS = (
    'oversize',         # more than MAX_ENCODED bytes without a delimiter
    'bad_cobs',         # COBS block runs past the end of the packet (truncated or garbled)
    'bad_length',       # shorter than a header + CRC, or length field disagrees with the size
    'bad_crc',
    'bad_version',
    'unknown_type',
    'unexpected_type',  # a valid type, but one this side never receives (e.g. host gets a command)
    'bad_payload',      # payload size or joint counts inconsistent, or a non-finite float
    'replayed',         # seq not newer than the last accepted one (duplicate, replay, out of order)
)


class ProtocolError(ValueError):
    """A message that cannot be encoded or a payload that cannot be decoded."""


def fault_names(flags: int) -> list[str]:
    """Names of the fault bits set in ``flags`` (unknown bits as ``bit<n>``)."""
    names = []
    for bit in range(16):
        if flags & (1 << bit):
            names.append(FAULT_NAMES.get(1 << bit, f'bit{bit}'))
    return names


# --- COBS and CRC ---------------------------------------------------------------------------------

def cobs_encode(data: bytes) -> bytes:
    """Consistent Overhead Byte Stuffing: the result contains no 0x00 byte (delimiter not added)."""
    out = bytearray()
    block = bytearray()
    last = len(data) - 1
    for index, byte in enumerate(data):
        if byte == 0:
            out.append(len(block) + 1)
            out += block
            block.clear()
            continue
        block.append(byte)
        if len(block) == 254:
            out.append(0xFF)
            out += block
            block.clear()
            if index == last:        # a full block at the very end needs no closing code
                return bytes(out)
    out.append(len(block) + 1)
    out += block
    return bytes(out)


def cobs_decode(data: bytes) -> bytes:
    """Inverse of cobs_encode; ValueError if ``data`` is empty, holds 0x00 or a block overruns."""
    if not data:
        raise ValueError('empty COBS packet')
    out = bytearray()
    index = 0
    size = len(data)
    while index < size:
        code = data[index]
        if code == 0:
            raise ValueError(f'zero byte inside COBS packet at {index}')
        end = index + code
        if end > size:
            raise ValueError(f'COBS block at {index} needs {code - 1} bytes, {size - index - 1} left')
        block = data[index + 1:end]
        if 0 in block:
            raise ValueError('zero byte inside COBS packet')
        out += block
        index = end
        if code < 0xFF and index < size:
            out.append(0)
    return bytes(out)


def crc16(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/CCITT-FALSE: poly 0x1021, init 0xFFFF, no reflection, no final xor (the standard library's
    CRC-CCITT, ``binascii.crc_hqx``; check value 0x29B1 for b'123456789')."""
    return binascii.crc_hqx(data, crc)


def seq_newer(seq: int, last: int) -> bool:
    """True if ``seq`` comes after ``last`` in uint16 serial-number arithmetic (RFC 1982)."""
    return 0 < (seq - last) % SEQ_MODULO < SEQ_WINDOW


# --- Messages -------------------------------------------------------------------------------------

def _floats(values: Iterable[float], what: str) -> tuple[float, ...]:
    out = tuple(float(v) for v in values)
    if len(out) > MAX_JOINTS:
        raise ProtocolError(f'{what}: {len(out)} values, at most {MAX_JOINTS}')
    if not all(math.isfinite(v) for v in out):
        raise ProtocolError(f'{what}: values must be finite, got {out}')
    return out


def _check_finite(values: tuple[float, ...]) -> None:
    if not all(math.isfinite(v) for v in values):
        raise ProtocolError('non-finite float in payload')


def _counts(payload: bytes, size_of) -> tuple[int, int]:
    if len(payload) < 2:
        raise ProtocolError('payload too short for joint counts')
    wheels, steering = payload[0], payload[1]
    if wheels > MAX_JOINTS or steering > MAX_JOINTS:
        raise ProtocolError(f'joint counts {wheels}/{steering} above {MAX_JOINTS}')
    if len(payload) != size_of(wheels, steering):
        raise ProtocolError(f'payload of {len(payload)} bytes, expected {size_of(wheels, steering)}')
    return wheels, steering


@dataclass(frozen=True)
class DriveCommand:
    """Host -> MCU. Wheel velocities in rad/s and steering angles in rad, in configured joint order.

    ``hold_steering``: the MCU ignores ``steering_angles`` and keeps the steering where it is (sent
    when no fresh steering command exists, so a stale or lost command never swings the wheels).
    """
    wheel_velocities: tuple[float, ...]
    steering_angles: tuple[float, ...] = ()
    hold_steering: bool = False
    TYPE = DRIVE_COMMAND
    FLAG_HOLD_STEERING = 0x01

    def pack(self) -> bytes:
        wheels = _floats(self.wheel_velocities, 'wheel_velocities')
        steering = _floats(self.steering_angles, 'steering_angles')
        flags = self.FLAG_HOLD_STEERING if self.hold_steering else 0
        return struct.pack(f'<BBB{len(wheels) + len(steering)}f', len(wheels), len(steering), flags,
                           *wheels, *steering)

    @staticmethod
    def size(wheels: int, steering: int) -> int:
        return 3 + 4 * (wheels + steering)

    @classmethod
    def unpack(cls, payload: bytes) -> DriveCommand:
        wheels, steering = _counts(payload, cls.size)
        flags = payload[2]
        if flags & ~cls.FLAG_HOLD_STEERING:
            raise ProtocolError(f'unknown DRIVE_COMMAND flags {flags:#x}')
        values = struct.unpack_from(f'<{wheels + steering}f', payload, 3)
        _check_finite(values)
        return cls(values[:wheels], values[wheels:], bool(flags & cls.FLAG_HOLD_STEERING))


@dataclass(frozen=True)
class Heartbeat:
    """Host -> MCU. ``host_time_ms``: host clock in ms mod 2^32, echoed back in HEARTBEAT_ACK."""
    host_time_ms: int
    TYPE = HEARTBEAT
    LAYOUT = struct.Struct('<I')

    def pack(self) -> bytes:
        return self.LAYOUT.pack(self.host_time_ms & 0xFFFFFFFF)

    @classmethod
    def unpack(cls, payload: bytes) -> Heartbeat:
        if len(payload) != cls.LAYOUT.size:
            raise ProtocolError(f'HEARTBEAT payload of {len(payload)} bytes, expected {cls.LAYOUT.size}')
        return cls(*cls.LAYOUT.unpack(payload))


@dataclass(frozen=True)
class Feedback:
    """MCU -> host. Per wheel: position rad, velocity rad/s, current A; per steering joint: angle rad,
    current A. ``command_seq``: seq of the last DRIVE_COMMAND the MCU applied."""
    wheel_positions: tuple[float, ...]
    wheel_velocities: tuple[float, ...]
    wheel_currents: tuple[float, ...]
    steering_angles: tuple[float, ...] = ()
    steering_currents: tuple[float, ...] = ()
    fault_flags: int = 0
    estop_pressed: bool = False
    battery_voltage: float = 0.0       # V
    command_seq: int = 0
    mcu_time_ms: int = 0
    TYPE = FEEDBACK
    FIXED = struct.Struct('<BBHBfHI')  # counts, fault flags, status, battery V, command seq, MCU time

    @staticmethod
    def size(wheels: int, steering: int) -> int:
        return Feedback.FIXED.size + 12 * wheels + 8 * steering

    def pack(self) -> bytes:
        pos = _floats(self.wheel_positions, 'wheel_positions')
        vel = _floats(self.wheel_velocities, 'wheel_velocities')
        cur = _floats(self.wheel_currents, 'wheel_currents')
        angles = _floats(self.steering_angles, 'steering_angles')
        steer_cur = _floats(self.steering_currents, 'steering_currents')
        if not len(pos) == len(vel) == len(cur) or len(angles) != len(steer_cur):
            raise ProtocolError('Feedback: per-joint tuples differ in length')
        if not math.isfinite(self.battery_voltage):
            raise ProtocolError('Feedback: battery_voltage must be finite')
        status = 1 if self.estop_pressed else 0
        head = self.FIXED.pack(len(pos), len(angles), self.fault_flags & 0xFFFF, status, self.battery_voltage,
                               self.command_seq % SEQ_MODULO, self.mcu_time_ms & 0xFFFFFFFF)
        wheels = [v for joint in zip(pos, vel, cur, strict=True) for v in joint]
        steering = [v for joint in zip(angles, steer_cur, strict=True) for v in joint]
        return head + struct.pack(f'<{len(wheels) + len(steering)}f', *wheels, *steering)

    @classmethod
    def unpack(cls, payload: bytes) -> Feedback:
        wheels, steering = _counts(payload, cls.size)
        _, _, faults, status, battery, command_seq, mcu_time = cls.FIXED.unpack_from(payload)
        if status & ~1:
            raise ProtocolError(f'unknown status bits {status:#x}')
        values = struct.unpack_from(f'<{3 * wheels + 2 * steering}f', payload, cls.FIXED.size)
        _check_finite((*values, battery))
        w, s = values[:3 * wheels], values[3 * wheels:]
        return cls(w[0::3], w[1::3], w[2::3], s[0::2], s[1::2], faults, bool(status & 1), battery,
                   command_seq, mcu_time)


@dataclass(frozen=True)
class HeartbeatAck:
    """MCU -> host. Echoes a HEARTBEAT's ``host_time_ms``; MCU uptime in ms and its fault flags."""
    host_time_ms: int
    mcu_time_ms: int = 0
    fault_flags: int = 0
    TYPE = HEARTBEAT_ACK
    LAYOUT = struct.Struct('<IIH')

    def pack(self) -> bytes:
        return self.LAYOUT.pack(self.host_time_ms & 0xFFFFFFFF, self.mcu_time_ms & 0xFFFFFFFF,
                                self.fault_flags & 0xFFFF)

    @classmethod
    def unpack(cls, payload: bytes) -> HeartbeatAck:
        if len(payload) != cls.LAYOUT.size:
            raise ProtocolError(f'HEARTBEAT_ACK payload of {len(payload)} bytes, expected {cls.LAYOUT.size}')
        return cls(*cls.LAYOUT.unpack(payload))


Message = DriveCommand | Heartbeat | Feedback | HeartbeatAck
MESSAGE_TYPES: dict[int, type] = {cls.TYPE: cls for cls in (DriveCommand, Heartbeat, Feedback, HeartbeatAck)}
HOST_TO_MCU = frozenset({DRIVE_COMMAND, HEARTBEAT})
MCU_TO_HOST = frozenset({FEEDBACK, HEARTBEAT_ACK})


@dataclass(frozen=True)
class Frame:
    """A decoded, verified frame: its sequence number and its message."""
    seq: int
    message: Message


# --- Framing --------------------------------------------------------------------------------------

def build_raw_frame(message: Message, seq: int, version: int = PROTOCOL_VERSION) -> bytes:
    """The un-stuffed frame: header, payload and CRC (no COBS, no delimiter)."""
    try:
        payload = message.pack()
    except (struct.error, OverflowError) as error:    # e.g. a float beyond float32 range
        raise ProtocolError(f'{type(message).__name__}: {error}') from None
    if len(payload) > MAX_PAYLOAD:
        raise ProtocolError(f'payload of {len(payload)} bytes above MAX_PAYLOAD={MAX_PAYLOAD}')
    body = HEADER.pack(version, message.TYPE, seq % SEQ_MODULO, len(payload)) + payload
    return body + CRC.pack(crc16(body))


def encode_frame(message: Message, seq: int) -> bytes:
    """Bytes to put on the wire for ``message`` with sequence number ``seq``: COBS packet + 0x00."""
    return cobs_encode(build_raw_frame(message, seq)) + DELIMITER


class FrameEncoder:
    """Encodes messages with a uint16 sequence number that increments per frame and wraps."""

    def __init__(self, first_seq: int = 0):
        self.next_seq = first_seq % SEQ_MODULO

    def encode(self, message: Message) -> bytes:
        data = encode_frame(message, self.next_seq)
        self.next_seq = (self.next_seq + 1) % SEQ_MODULO
        return data


class FrameDecoder:
    """Streaming decoder: ``feed(bytes) -> list[Frame]``; never raises on bad input.

    Splits the stream on 0x00 (so it resynchronises at the next delimiter after any damage), drops
    and counts (``errors[kind]``, kinds in ERROR_KINDS) every packet that fails a check, and drops
    frames whose seq is not newer than the last accepted one. ``accepted_types``: the message types
    this side expects to receive; other known types count as ``unexpected_type``.
    """

    def __init__(self, accepted_types: Iterable[int] = MCU_TO_HOST):
        self.accepted_types = frozenset(accepted_types)
        self.errors = dict.fromkeys(ERROR_KINDS, 0)
        self.frames_ok = 0
        self.frames_skipped = 0       # frames missing between accepted seqs (lost on the wire)
        self.last_seq: int | None = None
        self._buffer = bytearray()
        self._discarding = False      # after an oversize packet: drop bytes until the next delimiter

    @property
    def error_total(self) -> int:
        return sum(self.errors.values())

    def reset_sequence(self) -> None:
        """Forget the last accepted seq (e.g. after the link was lost and the MCU may have rebooted)."""
        self.last_seq = None

    def feed(self, data: bytes) -> list[Frame]:
        frames = []
        *complete, tail = bytes(data).split(DELIMITER)
        for chunk in complete:
            frame = self._packet_done(chunk)
            if frame is not None:
                frames.append(frame)
        self._append(tail)
        return frames

    def _append(self, data: bytes) -> None:
        if self._discarding:
            return
        self._buffer += data
        if len(self._buffer) > MAX_ENCODED:
            self.errors['oversize'] += 1
            self._buffer.clear()
            self._discarding = True

    def _packet_done(self, chunk: bytes) -> Frame | None:
        """Called at each delimiter with the bytes since the previous one."""
        self._append(chunk)
        packet = bytes(self._buffer)
        self._buffer.clear()
        if self._discarding:
            self._discarding = False
            return None
        if not packet:                # back-to-back delimiters are allowed (idle filler)
            return None
        return self._check(packet)

    def _check(self, packet: bytes) -> Frame | None:
        try:
            raw = cobs_decode(packet)
        except ValueError:
            self.errors['bad_cobs'] += 1
            return None
        if len(raw) < MIN_FRAME or len(raw) != MIN_FRAME + raw[4] or raw[4] > MAX_PAYLOAD:
            self.errors['bad_length'] += 1
            return None
        body = raw[:-CRC.size]
        if CRC.unpack(raw[-CRC.size:])[0] != crc16(body):
            self.errors['bad_crc'] += 1
            return None
        version, kind, seq, _length = HEADER.unpack_from(body)
        if version != PROTOCOL_VERSION:
            self.errors['bad_version'] += 1
            return None
        cls = MESSAGE_TYPES.get(kind)
        if cls is None:
            self.errors['unknown_type'] += 1
            return None
        if kind not in self.accepted_types:
            self.errors['unexpected_type'] += 1
            return None
        try:
            message = cls.unpack(body[HEADER.size:])
        except (ProtocolError, struct.error):
            self.errors['bad_payload'] += 1
            return None
        if self.last_seq is not None:
            if not seq_newer(seq, self.last_seq):
                self.errors['replayed'] += 1
                return None
            self.frames_skipped += (seq - self.last_seq) % SEQ_MODULO - 1
        self.last_seq = seq
        self.frames_ok += 1
        return Frame(seq, message)
