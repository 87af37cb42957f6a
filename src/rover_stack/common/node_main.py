"""The one ``main()`` of every node: init, build, spin, and a clean exit on Ctrl-C or SIGTERM.

The first SIGINT/SIGTERM stops the node; later ones are ignored while it shuts down, so Ctrl-C in a
terminal under ``ros2 launch`` (SIGINT from the terminal, then again from launch) still ends it with
exit code 0 and no traceback. A supervisor that must kill a stuck node uses SIGKILL.

A node class that refuses its parameters raises ValueError in its constructor: the error is logged
and the process exits with 1, so the runner (or ros2 launch) sees a failed start.
"""
from __future__ import annotations

import faulthandler
import signal
from collections.abc import Callable, Sequence

import rclpy
from rclpy.executors import ExternalShutdownException, SingleThreadedExecutor
from rclpy.logging import get_logger
from rclpy.signals import SignalHandlerOptions

from rover_stack.common.heap import keep_large_buffers_in_heap

SIGNAL_POLL = 0.25   # s, longest wait between checks for SIGINT/SIGTERM with graceful_signals
#: s; a clean-up (destroy the nodes, shut rclpy down) still running after this dumps every thread's stack
#: to stderr, once, so a hang (seen once in CI: a container SIGKILLed by launch 15 s after SIGINT) says
#: where it is; the clean-up goes on waiting (diagnostics only)
CLEANUP_REPORT_AFTER = 4.0


def _ignore_stop_signals() -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, signal.SIG_IGN)


_stop_requested: list[int] = []   # the stop signal received, if any (set by the handler below)


def _stop_on_first_signal(signum, _frame):
    """SIGINT/SIGTERM handler: stop the node (KeyboardInterrupt) and ignore any further signal."""
    _ignore_stop_signals()
    _stop_requested.append(signum)
    raise KeyboardInterrupt


def run_node(node_factory: Callable[[], object], name: str, args=None, *,
             executor_factory: Callable[[], object] | None = None,
             graceful_signals: bool = False,
             before_destroy: Callable[[object], None] | None = None) -> int:
    """Run the node made by ``node_factory`` until shutdown; the process exit code.

    ``graceful_signals``: take SIGINT/SIGTERM away from rclpy and turn them into KeyboardInterrupt,
    so the context is still alive while the node is destroyed (nodes that publish a final zero
    command on the way out need that). ``executor_factory``: spin in this executor instead of
    ``rclpy.spin`` (e.g. a MultiThreadedExecutor for action servers with blocking callbacks).
    ``before_destroy``: called with the node on the way out while the context is still valid (a
    final zero command), never after the context is gone.
    """
    return run_nodes([node_factory], name, args, executor_factory=executor_factory,
                     graceful_signals=graceful_signals, before_destroy=before_destroy)


def run_nodes(node_factories: Sequence[Callable[[], object]], name: str, args=None, *,
              executor_factory: Callable[[], object] | None = None,
              graceful_signals: bool = False,
              before_destroy: Callable[[object], None] | None = None) -> int:
    """``run_node`` for several nodes in one process and one executor (a container, see
    bringup/container.py): built in order, destroyed in reverse order; any refused -> exit 1."""
    keep_large_buffers_in_heap()   # images: no fresh mmap and page faults per frame
    # Without graceful_signals rclpy's own handlers (installed by init) shut the context down first
    # and then call this one.
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _stop_on_first_signal)
    if graceful_signals:
        rclpy.init(args=args, signal_handler_options=SignalHandlerOptions.NO)
    else:
        rclpy.init(args=args)
    nodes: list = []
    try:
        try:
            for factory in node_factories:
                nodes.append(factory())
        except ValueError as error:     # refused parameters: one clear line, exit code 1
            get_logger(name).error(str(error))
            return 1
        executor = executor_factory() if executor_factory is not None else SingleThreadedExecutor()
        for node in nodes:
            executor.add_node(node)
        if graceful_signals:
            # Our handler runs only when rcl_wait returns: with no timer due (e.g. sim time and no
            # /clock yet) it would never return, so wake up now and then.
            while True:
                executor.spin_once(timeout_sec=SIGNAL_POLL)
        else:
            executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    except Exception:
        # A stop signal arrived while the executor was taking a message: rclpy then raises (pybind11
        # turns the KeyboardInterrupt into RuntimeError 'Unable to convert call argument', or the
        # context is already shut down) instead of KeyboardInterrupt / ExternalShutdownException.
        if rclpy.ok() and not _stop_requested:
            raise
    finally:
        _ignore_stop_signals()      # a second Ctrl-C must not interrupt the clean-up
        faulthandler.dump_traceback_later(CLEANUP_REPORT_AFTER, exit=False)
        for node in reversed(nodes):
            if before_destroy is not None and rclpy.ok():
                before_destroy(node)
            node.destroy_node()
        rclpy.try_shutdown()
        faulthandler.cancel_dump_traceback_later()
        _ignore_stop_signals()      # try_shutdown put back the handlers that were there before init
    return 0
