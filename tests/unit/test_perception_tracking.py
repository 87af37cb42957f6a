"""N-of-M marker confirmation and the latest-frame slot."""
import threading

import pytest

from rover_stack.perception.latest_frame import LatestFrame, SequenceGaps
from rover_stack.perception.tracking import ConfirmationTracker


@pytest.mark.parametrize(('n', 'm', 'sightings', 'confirmed_after'), [
    (3, 5, [1, 1, 1], [False, False, True]),
    (3, 5, [1, 0, 1, 0, 1], [False, False, False, False, True]),
    (3, 5, [1, 0, 0, 1, 0, 0, 1], [False] * 7),                  # never 3 within 5 frames
    (3, 5, [1, 1, 1, 0, 0, 0], [False, False, True, True, True, False]),
    (1, 1, [1, 0, 1], [True, False, True]),
    (2, 3, [1, 1, 0, 0], [False, True, True, False]),
])
def test_n_of_m(n, m, sightings, confirmed_after):
    tracker = ConfirmationTracker(n, m)
    result = []
    for seen in sightings:
        tracker.update({4: 'pose'} if seen else {})
        result.append(tracker.confirmed(4))
    assert result == confirmed_after


def test_state_keeps_the_newest_payload_and_forgets_ids_out_of_the_window():
    tracker = ConfirmationTracker(2, 3)
    tracker.update({1: 'a', 2: 'x'})
    tracker.update({1: 'b'})
    state = tracker.state(1)
    assert state.payload == 'b' and state.hits == 2 and state.confirmed and state.last_frame == 1
    assert tracker.confirmed_ids() == [1]
    for _ in range(3):
        tracker.update({})
    assert tracker.state(1) is None and tracker.state(2) is None and tracker.confirmed_ids() == []


def test_bad_n_of_m_is_refused():
    for n, m in ((0, 3), (4, 3)):
        with pytest.raises(ValueError):
            ConfirmationTracker(n, m)


def test_latest_frame_counts_overwritten_items_as_dropped():
    slot = LatestFrame()
    assert slot.take() is None
    for i in range(5):
        slot.put(i)
    assert slot.take() == 4
    slot.put(5)
    assert slot.take() == 5
    assert slot.counts() == {'received': 6, 'processed': 2, 'dropped': 4, 'pending': 0}


def test_latest_frame_wakes_a_waiting_worker_and_close_releases_it():
    slot = LatestFrame()
    got = []
    worker = threading.Thread(target=lambda: got.append(slot.take(timeout=5.0)))
    worker.start()
    slot.put('frame')
    worker.join(timeout=5.0)
    assert got == ['frame']
    worker = threading.Thread(target=lambda: got.append(slot.take(timeout=None)))
    worker.start()
    slot.close()
    worker.join(timeout=5.0)
    assert not worker.is_alive() and got == ['frame', None]


def test_sequence_gaps_count_frames_between_consecutive_numbers():
    gaps = SequenceGaps()
    assert gaps.missed_before(40) == 0        # the first frame: what came before was not for us
    assert gaps.missed_before(41) == 0
    assert gaps.missed_before(45) == 3
    assert gaps.missed_before(3) == 0         # numbers going back: a new publisher, counting restarts
    assert gaps.missed_before(5) == 1
    assert gaps.missed_before(None) == 0      # RMW without sequence numbers
    assert gaps.missed_before(0) == 0


def test_latest_frame_counts_frames_dropped_before_they_arrived():
    slot = LatestFrame()
    slot.count_dropped(3)
    slot.count_dropped(0)
    slot.put('a')
    assert slot.take() == 'a'
    assert slot.counts() == {'received': 4, 'processed': 1, 'dropped': 3, 'pending': 0}
