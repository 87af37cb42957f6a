"""An operator's std_srvs/Trigger call from a script (``rover sim``, tests, benchmarks): repeated until
it is accepted, e.g. ``mission/resume`` after a respawn of the mission executive (docs/safety.md).

Right after a (re)start the service may not be up, may refuse (e.g. "no mission is running" until the
mission is restored), or a request may reach only a killed process and never be answered: the call is
repeated.
"""
from __future__ import annotations

import time

from std_srvs.srv import Trigger


def call_until_accepted(node, executor, service: str, *, timeout: float = 60.0, retry: float = 0.5,
                        answer_wait: float = 3.0) -> str:
    """Call ``service`` through ``node``, spinning ``executor``, until it answers success; its message.

    Refusals are retried every ``retry`` s and unanswered requests after ``answer_wait`` s;
    TimeoutError after ``timeout`` s (wall) with the last reason."""
    client = node.create_client(Trigger, service)
    deadline = time.monotonic() + timeout
    last = 'service not available'
    try:
        while True:
            if client.service_is_ready():
                future = client.call_async(Trigger.Request())
                answer_by = min(deadline, time.monotonic() + answer_wait)
                while not future.done() and time.monotonic() < answer_by:
                    executor.spin_once(timeout_sec=0.05)
                result = future.result() if future.done() else None
                if result is not None and result.success:
                    return result.message
                last = result.message if result is not None else 'no answer'
            if time.monotonic() > deadline:
                raise TimeoutError(f'{service} not accepted within {timeout:g} s: {last}')
            retry_at = time.monotonic() + retry
            while time.monotonic() < retry_at:
                executor.spin_once(timeout_sec=0.05)
    finally:
        node.destroy_client(client)
