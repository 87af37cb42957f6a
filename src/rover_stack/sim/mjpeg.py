"""An IP camera on 127.0.0.1: JPEG frames served as an MJPEG stream over HTTP (multipart/x-mixed-replace),
which cv2.VideoCapture (FFmpeg's mpjpeg demuxer) opens from its URL like a network camera. No rclpy.

``mjpeg_part`` is the framing (pure); ``MjpegServer`` serves the newest frame to every client, once per
``publish``. ``drop(seconds)`` cuts every connection and refuses new ones for that long (a camera whose
stream dropped), then serves again.
"""
from __future__ import annotations

import logging
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

LOG = logging.getLogger(__name__)
BOUNDARY = 'rover_frame'
PATH = '/stream.mjpg'
CLIENT_WAIT = 1.0       # s a client waits for the next frame before checking the server state again
#: Bytes the kernel may queue toward a client (about one 640x480 JPEG): a client that reads slower than
#: the camera's rate then misses frames, as from a real camera, instead of reading an ever older backlog
SEND_BUFFER = 65536


def mjpeg_part(jpeg: bytes, boundary: str = BOUNDARY) -> bytes:
    """One part of the multipart stream: boundary line, headers, the JPEG bytes, CR LF."""
    if not jpeg.startswith(b'\xff\xd8'):
        raise ValueError('not a JPEG image (no SOI marker)')
    head = f'--{boundary}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n'
    return head.encode('ascii') + jpeg + b'\r\n'


class MjpegServer:
    """Serves ``http://127.0.0.1:PORT/stream.mjpg`` (``url``); ``port`` 0 picks a free port."""

    def __init__(self, port: int = 0):
        self._frame: bytes | None = None
        self._count = 0
        self._cond = threading.Condition()
        self._dropped_until = 0.0
        self._generation = 0          # bumped by drop(): streaming clients of an older one disconnect
        self.clients = 0
        self.connections = 0
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):   # http.server's name
                server._serve(self)

            def log_message(self, fmt, *args):   # quiet: one line per request is noise
                LOG.debug('mjpeg: ' + fmt, *args)

        self._http = ThreadingHTTPServer(('127.0.0.1', port), Handler)
        self._http.daemon_threads = True
        self.port = self._http.server_address[1]
        self.url = f'http://127.0.0.1:{self.port}{PATH}'
        self._thread = threading.Thread(target=self._http.serve_forever, name='mjpeg-server', daemon=True)
        self._thread.start()

    def publish(self, jpeg: bytes) -> None:
        """The next frame (JPEG bytes) for every connected client."""
        with self._cond:
            self._frame = jpeg
            self._count += 1
            self._cond.notify_all()

    def drop(self, seconds: float) -> None:
        """Cut the stream: current clients are disconnected, new ones refused (503) for ``seconds``."""
        with self._cond:
            self._dropped_until = time.monotonic() + seconds
            self._generation += 1
            self._cond.notify_all()

    @property
    def dropped(self) -> bool:
        return time.monotonic() < self._dropped_until

    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        if handler.path.split('?')[0] != PATH:
            handler.send_error(404, 'unknown path')
            return
        if self.dropped:
            handler.send_error(503, 'stream dropped')
            return
        with self._cond:
            generation, seen = self._generation, self._count - 1 if self._frame is not None else 0
        handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
        handler.send_response(200)
        handler.send_header('Content-Type', f'multipart/x-mixed-replace;boundary={BOUNDARY}')
        handler.send_header('Cache-Control', 'no-cache')
        handler.end_headers()
        self.clients += 1
        self.connections += 1
        try:
            while True:
                with self._cond:
                    last = seen
                    self._cond.wait_for(lambda last=last: (self._count > last
                                                           or self._generation != generation),
                                        CLIENT_WAIT)
                    if self._generation != generation:
                        return
                    if self._count == seen:
                        continue
                    frame, seen = self._frame, self._count
                handler.wfile.write(mjpeg_part(frame))
                handler.wfile.flush()
        except OSError:   # broken pipe, reset, timeout
            LOG.debug('mjpeg: client went away')
        finally:
            self.clients -= 1

    def close(self) -> None:
        self.drop(3600.0)
        self._http.shutdown()
        self._http.server_close()
        self._thread.join(2.0)
