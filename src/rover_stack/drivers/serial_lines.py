"""Lines from a serial device that may come and go (unplugged receiver, USB reset). No rclpy."""
from __future__ import annotations

from rover_stack.drivers.nmea import LineReader
from rover_stack.hardware.link import SerialPort


class ReconnectingLines:
    """Non-blocking line source: opens ``device`` (retrying every ``reconnect_period`` s), reads what
    is waiting and returns complete lines. Errors are reported through ``error`` (last message) and
    ``open``, never raised, so a node keeps running and keeps publishing its no-data state."""

    def __init__(self, device: str, baud: int, reconnect_period: float):
        self.device, self.baud, self.reconnect_period = device, baud, reconnect_period
        self._port: SerialPort | None = None
        self._next_attempt = 0.0
        self._reader = LineReader()
        self.error = ''
        self.reconnects = 0

    @property
    def open(self) -> bool:
        return self._port is not None

    @property
    def dropped(self) -> int:
        return self._reader.dropped

    def poll(self, now: float) -> list[str]:
        """Complete lines received since the last call (possibly none). ``now`` in s, monotonic."""
        if self._port is None:
            if now < self._next_attempt:
                return []
            try:
                self._port = SerialPort(self.device, self.baud)
            except OSError as error:
                self.error = str(error)
                self._next_attempt = now + self.reconnect_period
                return []
            self.reconnects += 1
            self._reader = LineReader()
            self.error = ''
        try:
            data = self._port.read_available()
        except OSError as error:
            self.error = str(error)
            self.close()
            self._next_attempt = now + self.reconnect_period
            return []
        return self._reader.feed(data) if data else []

    def close(self) -> None:
        if self._port is not None:
            self._port.close()
            self._port = None
