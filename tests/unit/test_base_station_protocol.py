"""Base-station protocol: every malformed or out-of-range message is refused with a reason."""
import json

import pytest

from rover_stack.base_station.protocol import Limits, ProtocolError, RateLimiter, parse, token_matches

LIMITS = Limits(max_linear=1.0, max_angular=1.5, max_message_bytes=256)


def test_valid_messages_parse():
    assert parse('{"type": "hello", "token": "abc"}', LIMITS).fields == {'token': 'abc'}
    assert parse('{"type": "drive", "seq": 4, "t": 120.5, "linear": 0.5, "angular": -1}', LIMITS).fields == {
        'seq': 4, 't': 120.5, 'linear': 0.5, 'angular': -1.0}
    assert parse('{"type": "heartbeat", "seq": 3, "t": 12.5}', LIMITS).fields['rtt'] is None
    assert parse('{"type": "estop"}', LIMITS).type == 'estop'
    assert parse('{"type": "mission", "action": "start", "mission": "flat_easy"}', LIMITS).fields == {
        'action': 'start', 'mission': 'flat_easy'}
    assert parse('{"type": "mission", "action": "pause"}', LIMITS).fields['action'] == 'pause'


@pytest.mark.parametrize('text, reason', [
    ('not json', 'not valid JSON'),
    ('[1, 2]', 'JSON object'),
    ('{"type": "fly"}', 'unknown message type'),
    ('{"type": "drive", "seq": 1, "t": 0, "linear": 1.01, "angular": 0}', 'outside'),
    ('{"type": "drive", "seq": 1, "t": 0, "linear": 0, "angular": -1.6}', 'outside'),
    ('{"type": "drive", "seq": 1, "t": 0, "linear": "fast", "angular": 0}', 'number'),
    ('{"type": "drive", "seq": 1, "t": 0, "linear": true, "angular": 0}', 'number'),
    ('{"type": "drive", "seq": 1, "t": 0, "linear": NaN, "angular": 0}', 'outside'),
    ('{"type": "drive", "seq": 1, "t": 0, "angular": 0}', 'number'),
    ('{"type": "heartbeat", "seq": -1, "t": 0}', 'seq'),
    ('{"type": "drive", "linear": 0.5, "angular": 0}', 'seq'),            # no sequence number: refused
    ('{"type": "drive", "seq": 2, "linear": 0.5, "angular": 0}', 't'),   # no page time: refused
    ('{"type": "drive", "seq": 2.5, "t": 0, "linear": 0.5, "angular": 0}', 'seq'),
    ('{"type": "heartbeat", "seq": 1, "t": 0, "rtt": 99}', 'outside'),
    ('{"type": "hello", "token": 5}', 'token'),
    ('{"type": "mission", "action": "explode"}', 'action'),
    ('{"type": "mission", "action": "start", "mission": "../etc/passwd"}', 'mission'),
    ('{"type": "mission", "action": "start"}', 'mission'),
    (json.dumps({'type': 'hello', 'token': 'x' * 300}), 'exceeds'),
])
def test_bad_messages_are_refused(text, reason):
    with pytest.raises(ProtocolError, match=reason):
        parse(text, LIMITS)


def test_token_comparison():
    assert token_matches('secret-token-123', 'secret-token-123')
    assert not token_matches('secret-token-123', 'secret-token-124')
    assert not token_matches('', '')   # no configured token: nobody drives


def test_rate_limiter_sliding_window():
    limiter = RateLimiter(3, window=1.0)
    assert [limiter.allow(t) for t in (0.0, 0.1, 0.2, 0.3)] == [True, True, True, False]
    assert limiter.allow(1.05)        # the 0.0 event left the window
    assert not limiter.allow(1.06)
    with pytest.raises(ValueError):
        RateLimiter(0)
