"""What a webhook event's body says, read the way alert sources write it: each signal in it
(an Alertmanager or Grafana payload holds one per alert), what it asks (open, acknowledge,
resolve), its dedup key, and a title for the incident.

- Prometheus Alertmanager (and Grafana alerting, which posts the same shape):
  `{"alerts": [{"status": "firing" | "resolved", "fingerprint", "labels", "annotations"}]}`;
  each alert is a signal, keyed by its fingerprint, held against the rules merged with the
  payload's common fields.
- PagerDuty Events v2: `{"event_action": "trigger" | "acknowledge" | "resolve", "dedup_key",
  "payload": {"summary", "source", "severity"}}`.
- Anything else: one signal, keyed by its `dedup_key`, else its `fingerprint` (a ruleset's
  `dedup_key` path chooses another), opening an incident; a body that is not JSON is still a
  signal (body conditions see its text).
"""
from __future__ import annotations

import dataclasses
import json

from models.conditions import read_path

_ACTIONS = {"trigger": "trigger", "acknowledge": "acknowledge", "resolve": "resolve"}


@dataclasses.dataclass(frozen=True)
class Signal:
    document: object              # what conditions read (None: not JSON)
    body: bytes                   # what body conditions read
    action: str                   # trigger, acknowledge, resolve
    default_key: str | None
    title: str | None
    description: str | None

    def dedup_key(self, path: tuple | None) -> str | None:
        """The value at the ruleset's `path`, or the payload's own key."""
        if path is None:
            return self.default_key
        value = read_path(self.document, path, missing=None)
        return None if value is None or value == "" else _text(value)[:300]


def signals_of(body: str, content_type: str | None) -> list[Signal]:
    raw = body.encode()
    try:
        document = json.loads(body)
    except (ValueError, RecursionError):
        return [Signal(None, raw, "trigger", None, None, None)]
    if isinstance(document, dict) and isinstance(document.get("alerts"), list):
        return _alertmanager(document)
    if isinstance(document, dict) and document.get("event_action") in _ACTIONS:
        return [_pagerduty(document, raw)]
    if isinstance(document, dict):
        key = document.get("dedup_key") or document.get("fingerprint")
        title = _first(document, "title", "summary", "name", "message")
        return [Signal(document, raw, "trigger", _key(key), title,
                       _first(document, "description", "details"))]
    return [Signal(document, raw, "trigger", None, None, None)]


def _alertmanager(document: dict) -> list[Signal]:
    common = {k: v for k, v in document.items() if k != "alerts"}
    found = []
    for alert in document["alerts"]:
        if not isinstance(alert, dict):
            continue
        merged = {**common, **alert}
        labels = alert.get("labels") if isinstance(alert.get("labels"), dict) else {}
        notes = alert.get("annotations") if isinstance(alert.get("annotations"), dict) else {}
        name = labels.get("alertname")
        summary = notes.get("summary")
        title = ": ".join(_text(part) for part in (name, summary) if part) or None
        found.append(Signal(merged, json.dumps(alert).encode(),
                            "resolve" if alert.get("status") == "resolved" else "trigger",
                            _key(alert.get("fingerprint")), title,
                            _text(notes["description"]) if notes.get("description") else None))
    return found


def _pagerduty(document: dict, raw: bytes) -> Signal:
    details = document.get("payload") if isinstance(document.get("payload"), dict) else {}
    source = details.get("source")
    return Signal(document, raw, _ACTIONS[document["event_action"]],
                  _key(document.get("dedup_key")), _first(details, "summary"),
                  f"from {_text(source)}" if source else None)


def _first(document: dict, *names) -> str | None:
    for name in names:
        value = document.get(name)
        if isinstance(value, str) and value.strip():
            return value.strip()[:5000]
    return None


def _key(value) -> str | None:
    return None if value is None or value == "" else _text(value)[:300]


def _text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
