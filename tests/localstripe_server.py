"""localstripe, a stateful fake of Stripe's API, in a subprocess on loopback for the tests.

`python -m localstripe --port N` would do, but it listens on every interface (`::`) and pickles
its whole store to the fixed /tmp/localstripe.pickle on every write, a file every localstripe
on the machine shares and a cost that grows with each object. So this file is also the
launcher: run as a script it serves localstripe's own aiohttp app on 127.0.0.1, with that
persistence turned off (its state lives as long as the process, which is what a test session
wants), with the Stripe endpoints localstripe lacks that tests/stripe_extras.py adds. It runs
under the interpreter of the tests (`sys.executable -m tests.localstripe_server PORT` from the
checkout), whatever virtualenv that is.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from pinghome.localservers import ServerUnavailable, free_port

API_KEY = "sk_test_pinghome"      # localstripe takes any key that starts with sk_


class LocalStripe:
    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = Path(tempfile.mkdtemp(prefix="pinghome-localstripe-")) / "log"
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 20) -> "LocalStripe":
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "tests.localstripe_server", str(self.port)],
                cwd=Path(__file__).resolve().parents[1], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerUnavailable(f"localstripe exited ({self.process.returncode}): "
                                        f"{self.log.read_text()[-2000:]}")
            if self._answers():
                return self
            time.sleep(0.05)
        self.stop()
        raise ServerUnavailable(f"localstripe did not answer within {timeout} s: "
                                f"{self.log.read_text()[-2000:]}")

    def _answers(self) -> bool:
        request = urllib.request.Request(f"{self.url}/v1/balance",
                                         headers={"Authorization": f"Bearer {API_KEY}"})
        try:
            with urllib.request.urlopen(request, timeout=1) as response:
                return response.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        shutil.rmtree(self.log.parent, ignore_errors=True)


def configure(url: str, path: str, body: dict) -> None:
    """localstripe's own configuration routes (`/_config/webhooks/{id}`: where and with what
    secret it posts its events)."""
    request = urllib.request.Request(f"{url}/_config/{path}", method="POST",
                                     data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200


def authenticate_3ds(url: str, payment_intent) -> int:
    """What Stripe.js does after the customer passes 3-D Secure (a localstripe-only route);
    answers the HTTP status (402 when the charge is then declined)."""
    body = urllib.parse.urlencode({"client_secret": payment_intent.client_secret,
                                   "success": "true"}).encode()
    request = urllib.request.Request(
        f"{url}/v1/payment_intents/{payment_intent.id}/_authenticate", data=body,
        headers={"Authorization": f"Bearer {API_KEY}"})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as refused:
        return refused.code


def _serve(port: int) -> None:
    import logging

    from aiohttp import web
    from localstripe import resources, server

    from tests import stripe_extras

    # an instance attribute shadows the method that Store.__setitem__ and the server's
    # middleware call after every write
    resources.store.dump_to_disk = lambda: None
    stripe_extras.install(server.app)     # prices, trials, Checkout, promotion codes
    access = logging.getLogger("aiohttp.access")      # webhook deliveries are logged here too
    access.setLevel(logging.INFO)
    access.addHandler(logging.StreamHandler())
    web.run_app(server.app, host="127.0.0.1", port=port, access_log=access, print=None)


if __name__ == "__main__":
    _serve(int(sys.argv[1]))
