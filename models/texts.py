"""Text from outside (senders' messages, targets' answers in probe errors) as the database
can keep it: Postgres text holds neither NUL nor a lone surrogate, and a value it refuses
would fail the whole batch it was written in."""
from __future__ import annotations


def storable(value, limit: int) -> str:
    """At most `limit` characters of `value`: NUL becomes U+FFFD and a lone surrogate `?`."""
    text = str(value)[:limit].replace("\x00", "\ufffd")
    return text if text.isascii() else text.encode("utf-8", "replace").decode()
