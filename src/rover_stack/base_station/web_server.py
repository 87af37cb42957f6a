"""The web side of the bridge: FastAPI app (page + WebSocket /ws) served by uvicorn in a thread.

``bridge`` is the node (web_bridge_node.WebBridgeNode); it supplies ``handle_text``, ``connect``,
``disconnect``, ``telemetry`` and ``camera_frame``; every call is thread-safe.
"""
from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

import uvicorn
from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from websockets.exceptions import ConnectionClosed

from rover_stack.base_station.bridge_core import BridgeFullError

STATIC = Path(__file__).resolve().parent / 'static'
SEND_PERIOD = 0.1   # s between telemetry messages (10 Hz)
_HEADERS = {'Content-Security-Policy': "default-src 'self'; img-src 'self' data:; connect-src 'self'",
            'X-Content-Type-Options': 'nosniff', 'Cache-Control': 'no-store'}
_CLOSED = (WebSocketDisconnect, RuntimeError, OSError, ConnectionClosed)


def _same_origin(websocket: WebSocket) -> bool:
    """Refuse pages from other sites (a browser tab elsewhere must not reach the rover)."""
    origin = websocket.headers.get('origin')
    if origin is None:
        return True
    host = websocket.headers.get('host', '')
    try:
        netloc = urlsplit(origin).netloc
    except ValueError:         # e.g. 'http://[' (an invalid IPv6 host): not our page
        return False
    return bool(host) and netloc == host   # an Origin without a host ('null', 'x') is not our page


def make_app(bridge) -> FastAPI:
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)
    app.mount('/static', StaticFiles(directory=STATIC), name='static')

    @app.get('/')
    def index() -> Response:
        return FileResponse(STATIC / 'index.html', headers=_HEADERS)

    @app.websocket('/ws')
    async def ws(websocket: WebSocket) -> None:
        if not _same_origin(websocket):
            await websocket.close(code=1008)
            return
        try:
            session = bridge.connect()
        except BridgeFullError:
            await websocket.close(code=1013)   # try again later
            return
        await websocket.accept()
        sender = asyncio.create_task(_send_loop(websocket, bridge, session))
        try:
            while True:
                message = await websocket.receive()
                if message['type'] == 'websocket.disconnect':
                    break
                text = message.get('text')
                replies = ([{'type': 'error', 'error': 'text frames only'}] if text is None
                           else bridge.handle_text(session, text))
                for reply in replies:
                    await websocket.send_text(json.dumps(reply))
        except _CLOSED:
            pass
        finally:
            bridge.disconnect(session)
            sender.cancel()

    return app


async def _send_loop(websocket: WebSocket, bridge, session) -> None:
    last_frame = -1
    try:
        while True:
            if session.evicted:       # made room for a newer connection (no token)
                await websocket.close(code=1013)
                return
            for reply in bridge.drain_outbox(session):
                await websocket.send_text(json.dumps(reply))
            await websocket.send_text(json.dumps(bridge.telemetry(session)))
            frame = bridge.camera_frame()
            if frame is not None and frame[0] != last_frame:
                last_frame = frame[0]
                await websocket.send_text(json.dumps({'type': 'camera', 'seq': frame[0], 'jpeg': frame[1]}))
            await asyncio.sleep(SEND_PERIOD)
    except _CLOSED:
        pass   # the receive loop sees the close and cleans up


class ServerThread:
    """uvicorn on host:port in a daemon thread; ``port`` is the bound port once started."""

    def __init__(self, app: FastAPI, host: str, port: int):
        config = uvicorn.Config(app, host=host, port=port, log_level='warning', ws='websockets-sansio',
                                lifespan='off', ws_max_size=65536)
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name='web_bridge_http', daemon=True)
        self.port = port

    def start(self, timeout: float = 10.0) -> int:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError('the web server did not start (port in use?)')
            time.sleep(0.02)
        self.port = self.server.servers[0].sockets[0].getsockname()[1]
        return self.port

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=timeout)
