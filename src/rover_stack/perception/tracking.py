"""N-of-M confirmation: a marker is confirmed when it was accepted in at least N of the last M frames.

Each processed frame is one ``update`` with the ids accepted in it (frames with no marker count too).
The tracker also keeps the newest observation of each id (any payload, e.g. its pose in base_link) so
gates can be formed from confirmed markers.
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class TrackState:
    hits: int            # frames in the window in which the id was seen
    window: int          # frames in the window so far (<= M)
    confirmed: bool
    last_frame: int      # frame index of the newest sighting
    payload: Any         # newest payload given for the id


class ConfirmationTracker:
    """Sliding window of the last ``window`` frames; confirmed when seen in >= ``required`` of them."""

    def __init__(self, required: int = 3, window: int = 5):
        if not 1 <= required <= window:
            raise ValueError(f'confirmation needs 1 <= N ({required}) <= M ({window})')
        self.required = required
        self.window = window
        self._frames: deque[frozenset[int]] = deque(maxlen=window)
        self._latest: dict[int, tuple[int, Any]] = {}
        self.frame_index = -1

    def update(self, seen: dict[int, Any]) -> dict[int, TrackState]:
        """Add one frame with the ids seen in it (id -> payload); states of the ids seen in the window."""
        self.frame_index += 1
        self._frames.append(frozenset(seen))
        for marker_id, payload in seen.items():
            self._latest[marker_id] = (self.frame_index, payload)
        in_window = set().union(*self._frames)
        for stale in set(self._latest) - in_window:
            del self._latest[stale]
        return {i: self.state(i) for i in in_window}

    def hits(self, marker_id: int) -> int:
        return sum(marker_id in frame for frame in self._frames)

    def confirmed(self, marker_id: int) -> bool:
        return self.hits(marker_id) >= self.required

    def state(self, marker_id: int) -> TrackState | None:
        if marker_id not in self._latest:
            return None
        frame, payload = self._latest[marker_id]
        hits = self.hits(marker_id)
        return TrackState(hits, len(self._frames), hits >= self.required, frame, payload)

    def confirmed_ids(self) -> list[int]:
        return sorted(i for i in self._latest if self.confirmed(i))

    def reset(self) -> None:
        self._frames.clear()
        self._latest.clear()
