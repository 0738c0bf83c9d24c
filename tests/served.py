"""A WSGI app served by waitress on a loopback port, in a thread of the test process (as
`pinghome up` serves its apps), for tests that need real sockets."""
from __future__ import annotations

import threading

import waitress


class Served:
    """`app` on 127.0.0.1:`port` (waitress's options besides) until `close`."""

    def __init__(self, app, port: int, **options):
        self._server = waitress.create_server(app, host="127.0.0.1", port=port, **options)
        self._closing = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._server.run()
        except OSError:     # its socket closed under its select by `close`
            if not self._closing.is_set():
                raise

    def close(self) -> None:
        self._closing.set()
        self._server.close()
        self._thread.join(10)
