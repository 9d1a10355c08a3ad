"""Run the HTTP API with uvicorn: in the foreground (`mo serve`) or in a background thread."""

from __future__ import annotations

import threading
import time
from typing import Self

import httpx
import uvicorn

from mo.api.app import create_app
from mo.api.cli import DEFAULT_HOST, DEFAULT_PORT
from mo.errors import ErrorCode, MOError
from mo.settings import max_header_bytes
from mo.util.tls import tls_context


def build_server(
    *,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
    db_url: str | None = None,
    log_level: str = "info",
) -> uvicorn.Server:
    """A uvicorn server for the app over db_url (default MO_DB_URL); raises what create_app raises."""
    config = uvicorn.Config(
        create_app(db_url),
        host=host,
        port=port,
        log_level=log_level,
        access_log=log_level == "debug",
        lifespan="on",
        # h11 explicitly: its cap on a request's head is what bounds header sizes (httptools,
        # picked by "auto" when installed, has none).
        http="h11",
        h11_max_incomplete_event_size=max_header_bytes(),
    )
    return uvicorn.Server(config)


def serve(*, host: str = DEFAULT_HOST, port: int = DEFAULT_PORT, db_url: str | None = None) -> None:
    """Serve until interrupted."""
    build_server(host=host, port=port, db_url=db_url).run()


class BackgroundServer:
    """A real uvicorn server on a loopback port in a daemon thread (tests, notebooks, demos).

    start() returns once the server answers /v1/health; stop() shuts it down and waits (or not:
    stop(wait=False), then join()).
    Raises unavailable when it does not come up within `timeout` seconds.
    """

    def __init__(
        self, *, db_url: str, host: str = DEFAULT_HOST, port: int = 0, timeout: float = 20.0
    ) -> None:
        self.server = build_server(host=host, port=port, db_url=db_url, log_level="warning")
        self._thread = threading.Thread(target=self.server.run, name="mo-serve", daemon=True)
        self._timeout = timeout

    @property
    def base_url(self) -> str:
        sockets = [s for server in self.server.servers for s in server.sockets]
        host, port = sockets[0].getsockname()[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        self._thread.start()
        deadline = time.monotonic() + self._timeout
        while time.monotonic() < deadline:
            if self.server.started and self._answers():
                return self
            if not self._thread.is_alive():
                break
            time.sleep(0.02)
        self.stop()
        raise MOError(ErrorCode.UNAVAILABLE, "the API server did not start", {"reason": "startup"})

    def _answers(self) -> bool:
        try:
            return httpx.get(self.base_url + "/v1/health", timeout=2.0,
                             verify=tls_context()).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self, *, wait: bool = True) -> None:
        """Ask the server to shut down and, with `wait`, wait until it has (join). uvicorn takes
        about 0.2 s: up to a 0.1 s tick to notice, then a fixed 0.1 s grace for connections."""
        self.server.should_exit = True
        if wait:
            self.join()

    def join(self) -> bool:
        """Wait (at most `timeout` seconds) for a stopping server; True once it has exited."""
        self._thread.join(timeout=self._timeout)
        return not self._thread.is_alive()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
