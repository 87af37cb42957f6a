"""Message stamps as numbers. Pure: works on any object with ``sec`` and ``nanosec``."""
from __future__ import annotations


def stamp_seconds(stamp) -> float:
    """A ``builtin_interfaces/Time`` (or anything with ``sec``, ``nanosec``) in seconds."""
    return stamp.sec + stamp.nanosec * 1e-9
