"""A tree of frames with time-stamped transforms, like tf2's buffer, in pure Python.

Each child frame has exactly one parent. An edge parent -> child is either static (one transform,
valid at every time) or dynamic (samples stamped in ns, kept for ``cache_duration_s`` behind the
newest one, linearly interpolated in translation and slerped in rotation). ``lookup(target, source,
stamp_ns)`` returns T_target_source, which maps points in ``source`` into ``target``; ``stamp_ns == 0``
means the latest time at which every edge on the path has data.

Thread-safe: every public method holds one lock, so a ROS subscription callback may store while
another thread looks up.
"""
from __future__ import annotations

import bisect
import math
import threading
from dataclasses import dataclass, field

from rover_stack.tf.transform import Transform

LATEST = 0
"""``stamp_ns`` meaning "the latest common time" in lookups."""

DEFAULT_CACHE_DURATION_S = 10.0


class TransformLookupError(LookupError):
    """Base of every error ``lookup`` raises."""


class FrameNotFoundError(TransformLookupError):
    """A frame named in a lookup has never been given a transform."""

    def __init__(self, frame: str, known: list[str]):
        self.frame = frame
        self.known = known
        listed = ', '.join(known) if known else '(none)'
        super().__init__(f"frame '{frame}' does not exist; known frames: {listed}")


class NotConnectedError(TransformLookupError):
    """Both frames exist but lie in different trees."""

    def __init__(self, target: str, source: str, target_root: str, source_root: str):
        self.target, self.source = target, source
        super().__init__(
            f"frames '{target}' and '{source}' are not connected: '{target}' is in the tree rooted at "
            f"'{target_root}', '{source}' in the tree rooted at '{source_root}'")


class ExtrapolationError(TransformLookupError):
    """The requested time lies outside the data of one edge on the path."""

    direction = 'outside the data'

    def __init__(self, target: str, source: str, *, requested_ns: int, parent: str, child: str,
                 oldest_ns: int, newest_ns: int):
        self.target, self.source = target, source
        self.requested_ns, self.oldest_ns, self.newest_ns = requested_ns, oldest_ns, newest_ns
        self.parent, self.child = parent, child
        super().__init__(
            f"lookup '{source}' -> '{target}' at t={format_stamp(requested_ns)} s would extrapolate "
            f"{self.direction}: edge '{parent}' -> '{child}' has data from {format_stamp(oldest_ns)} s "
            f"to {format_stamp(newest_ns)} s")


class PastExtrapolationError(ExtrapolationError):
    """The requested time is older than the oldest sample of an edge."""

    direction = 'into the past'


class FutureExtrapolationError(ExtrapolationError):
    """The requested time is newer than the newest sample of an edge."""

    direction = 'into the future'


class ReparentError(ValueError):
    """A child frame was given a second parent, or an edge switched between static and dynamic."""


def format_stamp(stamp_ns: int) -> str:
    """Stamp in ns as seconds with 9 decimals, e.g. '12.500000000'."""
    seconds, nanoseconds = divmod(int(stamp_ns), 1_000_000_000)
    return f'{seconds}.{nanoseconds:09d}'


@dataclass
class _Edge:
    parent: str
    static: bool
    stamps: list[int] = field(default_factory=list)        # ns, ascending
    transforms: list[Transform] = field(default_factory=list)

    def at(self, stamp_ns: int) -> Transform:
        """Transform at ``stamp_ns``; the caller has checked it lies within [oldest, newest]."""
        if self.static:
            return self.transforms[0]
        i = bisect.bisect_left(self.stamps, stamp_ns)
        if self.stamps[i] == stamp_ns:
            return self.transforms[i]
        before, after = self.stamps[i - 1], self.stamps[i]
        fraction = (stamp_ns - before) / (after - before)
        return self.transforms[i - 1].interpolate(self.transforms[i], fraction)


class TransformBuffer:
    """Frame tree with per-edge transform history; see the module docstring."""

    def __init__(self, cache_duration_s: float = DEFAULT_CACHE_DURATION_S):
        if not (math.isfinite(cache_duration_s) and cache_duration_s > 0):
            raise ValueError(f'cache_duration_s={cache_duration_s} must be a positive number of seconds')
        self._cache_ns = round(cache_duration_s * 1e9)
        self._edges: dict[str, _Edge] = {}   # child -> edge to its parent
        self._lock = threading.RLock()

    @property
    def cache_duration_s(self) -> float:
        return self._cache_ns / 1e9

    # ---------------------------------------------------------------- storing

    def set_transform(self, parent: str, child: str, stamp_ns: int, transform: Transform,
                      static: bool = False) -> bool:
        """Store T_parent_child at ``stamp_ns`` (ignored for static edges).

        Returns False, storing nothing, for a dynamic sample older than the cache window. A sample at
        a stamp already stored replaces it. Raises ValueError for bad frame names or stamps, and
        ReparentError if ``child`` already has another parent, the edge would close a loop, or it
        switches between static and dynamic.
        """
        _check_frame(parent)
        _check_frame(child)
        if parent == child:
            raise ValueError(f"frame '{child}' cannot be its own parent")
        if not isinstance(transform, Transform):
            raise TypeError(f'transform must be a Transform, got {type(transform).__name__}')
        if isinstance(stamp_ns, bool) or not isinstance(stamp_ns, int) or stamp_ns < 0:
            raise ValueError(f'stamp_ns={stamp_ns!r} must be a non-negative integer (ns)')
        with self._lock:
            edge = self._edges.get(child)
            if edge is None:
                self._check_no_loop(parent, child)
                edge = _Edge(parent, static)
                self._edges[child] = edge
            elif edge.parent != parent:
                raise ReparentError(
                    f"frame '{child}' already has parent '{edge.parent}'; refusing to re-parent it to "
                    f"'{parent}' (a frame has exactly one parent)")
            elif edge.static != static:
                kind = 'static' if edge.static else 'dynamic'
                raise ReparentError(
                    f"edge '{parent}' -> '{child}' is {kind}; it cannot also be published as "
                    f"{'dynamic' if edge.static else 'static'}")
            if static:
                edge.stamps, edge.transforms = [stamp_ns], [transform]
                return True
            return self._insert_sample(edge, stamp_ns, transform)

    def _insert_sample(self, edge: _Edge, stamp_ns: int, transform: Transform) -> bool:
        if edge.stamps and stamp_ns < edge.stamps[-1] - self._cache_ns:
            return False
        i = bisect.bisect_left(edge.stamps, stamp_ns)
        if i < len(edge.stamps) and edge.stamps[i] == stamp_ns:
            edge.transforms[i] = transform
        else:
            edge.stamps.insert(i, stamp_ns)
            edge.transforms.insert(i, transform)
        oldest_kept = bisect.bisect_left(edge.stamps, edge.stamps[-1] - self._cache_ns)
        if oldest_kept:
            del edge.stamps[:oldest_kept]
            del edge.transforms[:oldest_kept]
        return True

    def _check_no_loop(self, parent: str, child: str) -> None:
        frame = parent
        while frame in self._edges:
            frame = self._edges[frame].parent
            if frame == child:
                raise ReparentError(f"edge '{parent}' -> '{child}' would close a loop: '{child}' is "
                                    f"already an ancestor of '{parent}'")

    def clear(self) -> None:
        """Forget every frame and transform."""
        with self._lock:
            self._edges.clear()

    # ---------------------------------------------------------------- looking up

    def lookup(self, target_frame: str, source_frame: str, stamp_ns: int = LATEST) -> Transform:
        """T_target_source at ``stamp_ns`` (0: latest common time). Raises a TransformLookupError."""
        return self.lookup_with_stamp(target_frame, source_frame, stamp_ns)[0]

    def lookup_with_stamp(self, target_frame: str, source_frame: str,
                          stamp_ns: int = LATEST) -> tuple[Transform, int]:
        """Like ``lookup``, also returning the time used (the resolved latest time when 0 is asked;
        0 if every edge on the path is static)."""
        with self._lock:
            known = self._frames()
            for frame in (target_frame, source_frame):
                if frame not in known:
                    raise FrameNotFoundError(frame, sorted(known))
            target_chain = self._chain_to_root(target_frame)
            source_chain = self._chain_to_root(source_frame)
            if target_chain[-1] != source_chain[-1]:
                raise NotConnectedError(target_frame, source_frame, target_chain[-1], source_chain[-1])
            common = next(f for f in source_chain if f in set(target_chain))
            source_path = source_chain[:source_chain.index(common)]   # children below common
            target_path = target_chain[:target_chain.index(common)]
            edges = [(child, self._edges[child]) for child in source_path + target_path]
            stamp = self._resolve_stamp(target_frame, source_frame, stamp_ns, edges)
            common_from_source = _chain_transform(self._edges, source_path, stamp)
            common_from_target = _chain_transform(self._edges, target_path, stamp)
            return common_from_target.inverse() @ common_from_source, stamp

    def can_transform(self, target_frame: str, source_frame: str, stamp_ns: int = LATEST) -> bool:
        """Whether ``lookup`` with the same arguments would succeed."""
        try:
            self.lookup_with_stamp(target_frame, source_frame, stamp_ns)
        except TransformLookupError:
            return False
        return True

    def _resolve_stamp(self, target: str, source: str, stamp_ns: int, edges: list[tuple[str, _Edge]]) -> int:
        dynamic = [(child, edge) for child, edge in edges if not edge.static]
        if stamp_ns == LATEST:
            if not dynamic:
                return 0
            latest = min(edge.stamps[-1] for _, edge in dynamic)
            stamp_ns = latest
        for child, edge in dynamic:
            oldest, newest = edge.stamps[0], edge.stamps[-1]
            if stamp_ns < oldest:
                raise PastExtrapolationError(target, source, requested_ns=stamp_ns, parent=edge.parent,
                                             child=child, oldest_ns=oldest, newest_ns=newest)
            if stamp_ns > newest:
                raise FutureExtrapolationError(target, source, requested_ns=stamp_ns, parent=edge.parent,
                                               child=child, oldest_ns=oldest, newest_ns=newest)
        return stamp_ns

    def _chain_to_root(self, frame: str) -> list[str]:
        chain = [frame]
        while chain[-1] in self._edges:
            chain.append(self._edges[chain[-1]].parent)
        return chain

    def _frames(self) -> set[str]:
        return set(self._edges) | {edge.parent for edge in self._edges.values()}

    # ---------------------------------------------------------------- inspecting

    def frames(self) -> list[str]:
        """Every known frame, sorted."""
        with self._lock:
            return sorted(self._frames())

    def parent_of(self, frame: str) -> str | None:
        """The parent of ``frame``, or None for a root or unknown frame."""
        with self._lock:
            edge = self._edges.get(frame)
            return edge.parent if edge else None

    def all_frames_as_dict(self) -> dict[str, dict]:
        """Per child frame: parent, static, number of samples, oldest and newest stamp in s."""
        with self._lock:
            return {
                child: {
                    'parent': edge.parent,
                    'static': edge.static,
                    'samples': len(edge.stamps),
                    'oldest_s': 0.0 if edge.static else edge.stamps[0] / 1e9,
                    'newest_s': 0.0 if edge.static else edge.stamps[-1] / 1e9,
                }
                for child, edge in sorted(self._edges.items())
            }

    def all_frames_as_yaml(self) -> str:
        """``all_frames_as_dict`` as YAML text, for logs and debugging."""
        lines = []
        for child, info in self.all_frames_as_dict().items():
            lines.append(f"'{child}':")
            lines.append(f"  parent: '{info['parent']}'")
            lines.append(f"  static: {str(info['static']).lower()}")
            lines.append(f"  samples: {info['samples']}")
            lines.append(f"  oldest_s: {info['oldest_s']:.9f}")
            lines.append(f"  newest_s: {info['newest_s']:.9f}")
        return '\n'.join(lines) + '\n' if lines else '{}\n'


def _chain_transform(edges: dict[str, _Edge], path: list[str], stamp_ns: int) -> Transform:
    """T_top_bottom along ``path`` (children listed from the bottom frame upward)."""
    result = Transform.identity()
    for child in path:
        result = edges[child].at(stamp_ns) @ result
    return result


def _check_frame(frame: str) -> None:
    if not isinstance(frame, str) or not frame:
        raise ValueError(f'frame id {frame!r} must be a non-empty string')
    if frame.startswith('/'):
        raise ValueError(f"frame id '{frame}' must not start with '/' (tf2 frame ids have no leading slash)")
    if frame != frame.strip() or "'" in frame:
        raise ValueError(f'frame id {frame!r} must not contain quotes or leading/trailing whitespace')
