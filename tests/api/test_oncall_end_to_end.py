"""On-call end to end on the running system: an OCS schedule set up through its API, an incident
assigned to it, the worker mailing tier 1's contact on call over real SMTP, tier 2 once the
delay passed unacknowledged (the scheduler's hand-over run with the clock moved on), the default
email of a schedule with nobody on call; the schedule's calendar feed holding its shifts."""
from __future__ import annotations

import datetime as dt

import icalendar
from falcon import testing

from models import clock
from models.incidents import announcements
from models.oncall import engine
from tests.factories.accounts import bearer
from tests.factories.organisations import make_cast
from tests.polling import wait_until


def _layer(contact_ids: list[int], start: dt.datetime) -> dict:
    return {"start": start.strftime("%Y-%m-%dT%H:%M:%SZ"), "rotation": '{"type":"daily"}',
            "restrictions": "null", "contacts": contact_ids, "index": 0,
            "tz": "Europe/Berlin"}


def _schedule(client, headers, name: str, tiers: list[tuple[list, dt.datetime]]) -> dict:
    made = client.simulate_post("/api/ocs/", headers=headers, json={
        "name": name, "default_email": "ops@example.com", "default_phone": None})
    assert made.status_code == 201, made.json
    for number, (contact_ids, start) in enumerate(tiers, start=1):
        patched = client.simulate_patch(f"/api/ocs-tier/{made.json['id']}_{number}/",
                                        headers=headers, json={
                                            "on_demand": [], "dirty": True,
                                            "layers": [_layer(contact_ids, start)]})
        assert patched.status_code == 200, patched.json
    return made.json


def _declare(client, headers, team, schedule: dict) -> dict:
    made = client.simulate_post(f"/v1/team/{team.id}/incident", headers=headers, json={
        "name": "Database down", "urgency": "critical", "escalation_delay_minutes": 5,
        "assignees": [{"type": "ocs", "id": schedule["id"]}]})
    assert made.status_code == 201, made.json
    return made.json


def test_an_incident_climbs_the_tiers_of_its_ocs_schedule(client, settings, smtp_sink):
    cast = make_cast(settings, bob_role="manager")
    headers = bearer(cast.alice_token)
    contacts = {c["customer"]: c["id"] for c in
                client.simulate_get("/api/contacts/", headers=headers).json["results"]}
    yesterday = clock.now() - dt.timedelta(days=1)
    schedule = _schedule(client, headers, "Primary", [([contacts[str(cast.alice.id)]], yesterday),
                                                     ([contacts[str(cast.bob.id)]], yesterday)])
    incident = _declare(client, headers, cast.team, schedule)
    assert _mail(smtp_sink, cast.alice.email, "Database down")
    assert not _about(smtp_sink, cast.bob.email, "Database down")
    # the delay passes unacknowledged: the scheduler hands tier 2's step to the worker
    announcements.hand_over_due(now=clock.now() + dt.timedelta(minutes=6))
    assert "escalated" in _mail(smtp_sink, cast.bob.email, "Database down")[0].subject
    timeline = client.simulate_get(f"/v1/incident/{incident['id']}/timeline",
                                   headers=headers).json
    messages = [entry["message"] for entry in timeline["data"]]
    assert any("on-call schedule Primary" in m and "Notified" in m for m in messages), messages


def test_nobody_on_call_mails_the_schedules_default_address(client, settings, smtp_sink):
    cast = make_cast(settings)
    headers = bearer(cast.alice_token)
    contacts = {c["customer"]: c["id"] for c in
                client.simulate_get("/api/contacts/", headers=headers).json["results"]}
    tomorrow = clock.now() + dt.timedelta(days=1)        # the layer has not started yet
    schedule = _schedule(client, headers, "Night", [([contacts[str(cast.alice.id)]], tomorrow)])
    _declare(client, headers, cast.team, schedule)
    assert _mail(smtp_sink, "ops@example.com", "Database down")
    assert not _about(smtp_sink, cast.alice.email, "Database down")


def test_the_schedules_calendar_feed_holds_its_computed_shifts(client, settings):
    cast = make_cast(settings)
    headers = bearer(cast.alice_token)
    contacts = {c["customer"]: c["id"] for c in
                client.simulate_get("/api/contacts/", headers=headers).json["results"]}
    start = dt.datetime(2026, 11, 1, 8, tzinfo=dt.timezone.utc)   # 09:00 in Berlin
    alice, bob = contacts[str(cast.alice.id)], contacts[str(cast.bob.id)]
    schedule = _schedule(client, headers, "Primary", [([alice, bob], start)])
    url = client.simulate_get(f"/api/ocs/{schedule['id']}/calendar/", headers=headers).json["url"]
    assert client.simulate_get(f"/api/ocs/{schedule['id']}/calendar/",
                               headers=bearer(cast.charlie_token)).status_code == 404
    answer = testing.TestClient(client.app).simulate_get(url.split("pinghome.test", 1)[1])
    assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/calendar")
    events = icalendar.Calendar.from_ical(answer.text).walk("VEVENT")
    now = clock.now()
    expected = engine.layer_shifts(engine.Layer(
        start_at=start, rotation=engine.Rotation("daily"), contacts=("Alice", "Bob"), index=0,
        zone="Europe/Berlin"), now - dt.timedelta(days=7), now + dt.timedelta(days=90))
    # the first and last are cut by the feed's window, taken a moment before ours
    assert [(e.decoded("dtstart"), e.decoded("dtend"), _who(str(e["summary"])))
            for e in events][1:-1] == [(s.start_at, s.end_at, s.contact) for s in expected][1:-1]
    assert len(events) == len(expected) > 90


def _about(smtp_sink, address: str, text: str) -> list:
    return [m for m in smtp_sink.to(address) if text in m.subject]


def _mail(smtp_sink, address: str, text: str) -> list:
    """The messages to `address` whose subject holds `text`, once there is one."""
    return wait_until(lambda: _about(smtp_sink, address, text), timeout=20,
                      message=f"a mail to {address} about {text!r}")


def _who(summary: str) -> str:
    return "Alice" if "Alice" in summary else "Bob" if "Bob" in summary else summary
