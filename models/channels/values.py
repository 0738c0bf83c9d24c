"""What a channel's `value` may be, by type, and its one normal form.

Email addresses are checked and normalised by email-validator, phone numbers by phonenumbers
(E.164), chat webhooks by Apprise itself: a value is accepted only if Apprise makes a notifier
of the expected service from it, so what we store is what we can deliver to.
"""
from __future__ import annotations

import re
from urllib.parse import urlsplit

import apprise
import email_validator
import phonenumbers

from models.errors import Invalid

TYPES = ("email", "sms", "webhook", "slack", "discord", "msteams", "telegram")
CHAT_TYPES = ("slack", "discord", "msteams", "telegram")
SECRET_TYPES = ("webhook", *CHAT_TYPES)      # values that are credentials, see `shown`
_APPRISE_PLUGIN = {"slack": "NotifySlack", "discord": "NotifyDiscord",
                   "msteams": "NotifyWorkflows", "telegram": "NotifyTelegram"}
_TELEGRAM = re.compile(r"^(?P<token>\d+:[A-Za-z0-9_-]{20,})/(?P<chat>-?\d+|@[A-Za-z0-9_]{4,})$")
_HINTS = {
    "email": "an email address",
    "sms": "a phone number in international form, such as +994551234567",
    "webhook": "an http(s) URL",
    "slack": "a Slack incoming-webhook URL (https://hooks.slack.com/services/...)",
    "discord": "a Discord webhook URL (https://discord.com/api/webhooks/ID/TOKEN)",
    "msteams": "a Microsoft Teams workflow webhook URL (https://.../workflows/.../invoke?...)",
    "telegram": "BOT_TOKEN/CHAT_ID, such as 123456789:AAH.../-1001234567",
}


def normalise(channel_type: str, value: str) -> str:
    """The value in normal form; `Invalid` naming what the type expects otherwise."""
    try:
        return _NORMALISERS[channel_type](value.strip())
    except (ValueError, email_validator.EmailNotValidError, phonenumbers.NumberParseException):
        raise Invalid(f"A {channel_type} channel's value must be {_HINTS[channel_type]}.",
                      fields={"value": f"not {_HINTS[channel_type]}"}) from None


def shown(channel_type: str, value: str) -> str:
    """What a team's `user` sees of a value: webhook and chat values are credentials (whoever
    holds a Slack or Discord webhook URL, a Telegram bot token or a webhook's secret path can
    post there), so they are cut to their host; addresses and numbers are shown whole."""
    if channel_type not in SECRET_TYPES:
        return value
    parts = urlsplit(value)
    return f"{parts.scheme}://{parts.hostname}/…" if parts.scheme and parts.hostname else "…"


def apprise_url(channel_type: str, value: str) -> str:
    """The Apprise URL that delivers to a chat channel's (normalised) value."""
    if channel_type == "telegram":
        return f"tgram://{value}"
    return value


def _email(value: str) -> str:
    return email_validator.validate_email(value, check_deliverability=False).normalized.lower()


def _sms(value: str) -> str:
    if not value.startswith("+"):
        raise ValueError("no country code")
    number = phonenumbers.parse(value, None)
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _webhook(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or len(value) > 2000:
        raise ValueError("not an http(s) URL")
    return value


def _chat(channel_type: str):
    def normalise_chat(value: str) -> str:
        if channel_type == "telegram":
            if not _TELEGRAM.match(value):
                raise ValueError("not BOT_TOKEN/CHAT_ID")
        elif not value.startswith("https://") or len(value) > 2000:
            raise ValueError("not an https URL")
        notifier = apprise.Apprise.instantiate(apprise_url(channel_type, value))
        if notifier is None or type(notifier).__name__ != _APPRISE_PLUGIN[channel_type]:
            raise ValueError(f"not a {channel_type} URL")
        return value
    return normalise_chat


_NORMALISERS = {"email": _email, "sms": _sms, "webhook": _webhook,
                **{name: _chat(name) for name in CHAT_TYPES}}
