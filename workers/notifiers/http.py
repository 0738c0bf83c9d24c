"""An HTTP client for user-supplied URLs: urllib3, with every connection checked against the
network policy on the address it is about to use (so DNS cannot point it inward)."""
from __future__ import annotations

import urllib3
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

from workers import netpolicy


def _guarded(base, allow_private: bool):
    class Guarded(base):
        def _new_conn(self):
            return netpolicy.connect(self._dns_host, self.port, allow_private=allow_private,
                                     timeout=self.timeout if isinstance(self.timeout, (int, float))
                                     else 10)
    return Guarded


def pool_manager(*, allow_private: bool) -> urllib3.PoolManager:
    manager = urllib3.PoolManager(num_pools=10, retries=False)
    manager.pool_classes_by_scheme = {
        "http": type("GuardedHTTPPool", (HTTPConnectionPool,),
                     {"ConnectionCls": _guarded(HTTPConnection, allow_private)}),
        "https": type("GuardedHTTPSPool", (HTTPSConnectionPool,),
                      {"ConnectionCls": _guarded(HTTPSConnection, allow_private)}),
    }
    return manager


_managers = {True: pool_manager(allow_private=True), False: pool_manager(allow_private=False)}


def request(method: str, url: str, *, allow_private: bool, **kwargs) -> urllib3.BaseHTTPResponse:
    """One request without redirects; `netpolicy.PrivateAddressRefused` for a refused target."""
    return _managers[allow_private].request(method, url, redirect=False, **kwargs)
