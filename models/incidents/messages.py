"""What an incident's notices say: the incident, its subject, cause, urgency and time, and a
signed link that acknowledges it (a page whose button POSTs, so a mail scanner following the
link acknowledges nothing). Webhooks get the same as JSON."""
from __future__ import annotations

import hashlib
import hmac

from models.clock import isoformat

_HEADINGS = {"opened": "Incident", "escalated": "Incident (escalated)",
             "reminder": "Still open", "resolved": "Resolved"}


def acknowledge_url(settings, incident_id, by: str) -> str:
    """The link that acknowledges the incident on behalf of `by` (the channel or person
    told), signed so it cannot be made for another incident."""
    return (f"{settings.public_url}/v1/incident/{incident_id}/acknowledgement"
            f"?by={by}&token={link_token(settings, incident_id, by)}")


def link_token(settings, incident_id, by: str) -> str:
    return hmac.new(settings.secret_key.encode(), f"ack:{incident_id}:{by}".encode(),
                    hashlib.sha256).hexdigest()


def is_valid_token(settings, incident_id, by: str, token: str) -> bool:
    return hmac.compare_digest(link_token(settings, incident_id, by), token or "")


def notice(incident, reason: str, *, settings, by: str) -> tuple[str, str, dict]:
    """(subject, body, webhook payload) of one notice."""
    heading = _HEADINGS[reason]
    subject = f"[{incident.urgency}] {heading}: {incident.name}"[:255]
    lines = [f"{heading}: {incident.name}",
             f"Urgency: {incident.urgency}. Status: {incident.status}.",
             f"Opened at {isoformat(incident.created_at)}"]
    if incident.subject_type:
        lines.append(f"About: {incident.subject_type} {incident.subject_id}")
    if incident.description:
        lines.append(f"Cause: {incident.description}")
    link = None
    if reason != "resolved" and incident.status == "triggered":
        link = acknowledge_url(settings, incident.id, by)
        lines.append(f"Acknowledge: {link}")
    payload = {"type": f"incident.{reason}", "incident": describe(incident),
               "acknowledge_url": link}
    return subject, "\n".join(lines) + "\n", payload


def describe(incident) -> dict:
    return {"id": str(incident.id), "name": incident.name, "urgency": incident.urgency,
            "status": incident.status, "team_id": str(incident.team_id),
            "subject": None if incident.subject_type is None else {
                "type": incident.subject_type, "id": str(incident.subject_id)},
            "cause": incident.description, "created_at": isoformat(incident.created_at)}
