"""NMEA 0183 framing shared by the serial drivers: line assembly from a byte stream and checksums.

A sentence is ``$<body>*<HH>\\r\\n`` where HH is the XOR of every byte of ``body`` in hex. Pure.
"""
from __future__ import annotations

MAX_LINE = 120   # bytes; NMEA allows 82, proprietary sentences a little more. Longer = garbage


class NmeaError(ValueError):
    """A line that is not a valid sentence (no $, bad or missing checksum, bad field)."""


def checksum(body: str) -> int:
    """XOR of the characters of ``body`` (between '$' and '*')."""
    value = 0
    for char in body.encode('ascii', errors='replace'):
        value ^= char
    return value


def with_checksum(body: str) -> str:
    """The full sentence for ``body``: '$' + body + '*HH' (no line end)."""
    return f'${body}*{checksum(body):02X}'


def split_sentence(line: str) -> list[str]:
    """Fields of a checked sentence ('$GPGGA,...*HH' -> ['GPGGA', ...]); NmeaError if invalid."""
    line = line.strip()
    if not line.startswith('$'):
        raise NmeaError(f'no leading $: {line[:40]!r}')
    body, star, given = line[1:].rpartition('*')
    if not star:
        raise NmeaError(f'no checksum: {line[:40]!r}')
    try:
        expected = int(given, 16)
    except ValueError:
        raise NmeaError(f'checksum {given!r} is not hex') from None
    if len(given) != 2 or checksum(body) != expected:
        raise NmeaError(f'checksum mismatch in {line[:40]!r}: computed {checksum(body):02X}')
    return body.split(',')


class LineReader:
    """Assembles lines from arbitrary byte chunks (partial lines wait for the rest).

    Lines longer than MAX_LINE and undecodable bytes are dropped and counted in ``dropped``.
    """

    def __init__(self):
        self._buffer = b''
        self._skipping = False
        self.dropped = 0

    def feed(self, data: bytes) -> list[str]:
        lines = []
        self._buffer += data
        while True:
            end = self._buffer.find(b'\n')
            if end < 0:
                break
            raw, self._buffer = self._buffer[:end], self._buffer[end + 1:]
            if self._skipping:          # the tail of an over-long line
                self._skipping = False
                continue
            try:
                text = raw.decode('ascii').strip()
            except UnicodeDecodeError:
                self.dropped += 1
                continue
            if len(raw) > MAX_LINE:
                self.dropped += 1
            elif text:
                lines.append(text)
        if len(self._buffer) > MAX_LINE:
            self._buffer = b''
            self._skipping = True
            self.dropped += 1
        return lines
