"""Settings: the environment, read once into a frozen object and checked at start-up.

Nothing else in the project reads `os.environ`; tests build their own `Settings`.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import os
import re
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import limits

from models import plans


class SettingsError(ValueError):
    """A setting has a value we cannot run with; the message names the variable."""


@dataclasses.dataclass(frozen=True)
class Settings:
    database_url: str = "sqlite:///var/pinghome.db"
    redis_url: str | None = None
    smtp_url: str | None = None
    mail_from: str = "Pinghome <noreply@pinghome.localhost>"
    regions: tuple[str, ...] = ("local",)
    secret_key: str = ""
    ntp_server: str | None = "pool.ntp.org"
    ntp_timeout_seconds: float = 2.0
    max_clock_offset_seconds: float = 2.0
    allow_private_targets: bool = True
    bind_host: str = "127.0.0.1"
    port: int = 8000
    gateway_port: int = 8001
    data_dir: str = "var"
    log_level: str = "INFO"
    max_body_bytes: int = 256 * 1024
    access_token_ttl_seconds: int = 3600
    refresh_token_ttl_seconds: int = 30 * 24 * 3600
    code_ttl_seconds: int = 15 * 60
    code_max_attempts: int = 5
    sign_in_rate_limit: str = "10/minute"
    code_rate_limit: str = "10/minute"
    sign_up_rate_limit: str = "5/hour"
    code_send_rate_limit: str = "5/hour"
    channel_send_rate_limit: str = "5/hour"
    organisation_send_rate_limit: str = "50/hour"
    mail_max_attempts: int = 8
    public_url: str = "http://127.0.0.1:8000"
    gateway_url: str = "http://127.0.0.1:8001"
    twilio_account_sid: str | None = None
    twilio_auth_token: str | None = None
    twilio_from: str | None = None
    twilio_api_url: str = "https://api.twilio.com"
    tls_ca_file: str | None = None
    rdap_bootstrap_url: str = "https://data.iana.org/rdap/dns.json"
    whois_server: str | None = None
    result_retention_days: int = 30
    rollup_retention_days: int = 400
    probe_batch_size: int = 200
    heartbeat_flush_seconds: float = 0.5
    worker_threads: int = 8
    escalation_delay_minutes: int = 5
    shift_notice_minutes: int = 15
    default_plan: tuple[str, str] = plans.DEFAULT_PLAN
    status_cname_target: str = ""           # "" = status.<public_url's host>
    dns_servers: tuple[tuple[str, int], ...] = ()   # () = the system's resolvers
    dns_timeout_seconds: float = 3.0
    statuspage_api_url: str = "https://api.statuspage.io"
    status_domain: str = ""                 # "" = pages are not served at <subdomain>.<it>
    status_page_cache_seconds: float = 1.0  # how long a rendered public page is reused
    status_password_rate_limit: str = "10/minute"
    status_subscribe_rate_limit: str = "5/hour"            # confirmations asked, per address
    status_subscribe_client_rate_limit: str = "30/hour"    # and per client
    billing: str = ""                       # "" = off: everyone on the default plan
    stripe_api_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = "https://api.stripe.com"
    trial_days: int = 14
    metrics_port: int | None = None         # None = scheduler and workers serve no metrics
    metrics_allow: tuple = (ipaddress.ip_network("127.0.0.0/8"), ipaddress.ip_network("::1/128"))
    metrics_keys: bool = True               # read-only API keys may read /metrics
    metrics_multiproc_dir: str | None = None   # gunicorn's workers add their counts up here

    @property
    def cname_target(self) -> str:
        """The host a status page's own domain must be a CNAME of."""
        host = (urlsplit(self.public_url).hostname or "localhost").rstrip(".").lower()
        return (self.status_cname_target or f"status.{host}").rstrip(".").lower()

    @property
    def is_embedded_broker(self) -> bool:
        return self.redis_url is None

    @property
    def sends_sms(self) -> bool:
        return self.twilio_account_sid is not None

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite:")

    def replace(self, **changes) -> "Settings":
        return dataclasses.replace(self, **changes)


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}
_HOSTNAME = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)*"
                       r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_REGION = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def load_settings(environ: dict | None = None) -> Settings:
    """Reads and checks every setting; raises `SettingsError` naming the first bad variable."""
    env = os.environ if environ is None else environ
    reader = _Reader(env)
    data_dir = reader.text("PINGHOME_DATA_DIR", "var")
    redis_url = reader.url("REDIS_URL", schemes={"redis", "rediss", "unix"})
    billing = (reader.text("PINGHOME_BILLING", "") or "").lower()
    if billing not in ("", "stripe"):
        raise SettingsError(f"PINGHOME_BILLING must be stripe or unset; got {billing!r}")
    stripe_keys = (reader.text("STRIPE_API_KEY", "") or "",
                   reader.text("STRIPE_WEBHOOK_SECRET", "") or "")
    if billing and not stripe_keys[0].startswith(("sk_", "rk_")):
        raise SettingsError("PINGHOME_BILLING=stripe needs STRIPE_API_KEY, a secret (sk_...) or "
                            "restricted (rk_...) key of the Stripe account")
    if billing and not stripe_keys[1].startswith("whsec_"):
        raise SettingsError("PINGHOME_BILLING=stripe needs STRIPE_WEBHOOK_SECRET, the signing "
                            "secret (whsec_...) of the webhook endpoint pointed at "
                            "<gateway>/v1/billing/stripe-webhook")
    settings = Settings(
        database_url=reader.url("DATABASE_URL", schemes={"sqlite", "postgres", "postgresql"})
        or f"sqlite:///{data_dir}/pinghome.db",
        redis_url=redis_url,
        smtp_url=reader.url("SMTP_URL", schemes={"smtp", "smtps"}),
        mail_from=reader.text("PINGHOME_MAIL_FROM", Settings.mail_from),
        regions=reader.regions("PINGHOME_REGIONS"),
        secret_key=env.get("PINGHOME_SECRET_KEY") or _stored_secret_key(data_dir),
        ntp_server=_ntp_server(env.get("PINGHOME_NTP_SERVER", "pool.ntp.org")),
        ntp_timeout_seconds=reader.number("PINGHOME_NTP_TIMEOUT_SECONDS", 2.0, low=0.1, high=30),
        max_clock_offset_seconds=reader.number("PINGHOME_MAX_CLOCK_OFFSET_SECONDS", 2.0,
                                               low=0.001, high=3600),
        allow_private_targets=reader.flag("PINGHOME_ALLOW_PRIVATE_TARGETS", redis_url is None),
        bind_host=reader.text("PINGHOME_BIND_HOST", "127.0.0.1"),
        port=reader.integer("PORT", 8000, low=1, high=65535),
        gateway_port=reader.integer("GATEWAY_PORT", 8001, low=1, high=65535),
        data_dir=data_dir,
        log_level=reader.choice("PINGHOME_LOG_LEVEL", "INFO",
                                {"DEBUG", "INFO", "WARNING", "ERROR"}),
        max_body_bytes=reader.integer("PINGHOME_MAX_BODY_BYTES", 256 * 1024,
                                      low=1024, high=64 * 1024 * 1024),
        access_token_ttl_seconds=reader.integer("PINGHOME_ACCESS_TOKEN_TTL_SECONDS", 3600,
                                                low=60, high=31 * 24 * 3600),
        refresh_token_ttl_seconds=reader.integer("PINGHOME_REFRESH_TOKEN_TTL_SECONDS",
                                                 30 * 24 * 3600, low=300, high=365 * 24 * 3600),
        code_ttl_seconds=reader.integer("PINGHOME_CODE_TTL_SECONDS", 900, low=60, high=86400),
        code_max_attempts=reader.integer("PINGHOME_CODE_MAX_ATTEMPTS", 5, low=1, high=20),
        sign_in_rate_limit=reader.rate("PINGHOME_SIGN_IN_RATE_LIMIT", "10/minute"),
        code_rate_limit=reader.rate("PINGHOME_CODE_RATE_LIMIT", "10/minute"),
        sign_up_rate_limit=reader.rate("PINGHOME_SIGN_UP_RATE_LIMIT", "5/hour"),
        code_send_rate_limit=reader.rate("PINGHOME_CODE_SEND_RATE_LIMIT", "5/hour"),
        channel_send_rate_limit=reader.rate("PINGHOME_CHANNEL_SEND_RATE_LIMIT", "5/hour"),
        organisation_send_rate_limit=reader.rate("PINGHOME_ORGANISATION_SEND_RATE_LIMIT",
                                                 "50/hour"),
        mail_max_attempts=reader.integer("PINGHOME_MAIL_MAX_ATTEMPTS", 8, low=1, high=50),
        public_url=(reader.url("PINGHOME_PUBLIC_URL", schemes={"http", "https"})
                    or f"http://127.0.0.1:{reader.integer('PORT', 8000, low=1, high=65535)}"
                    ).rstrip("/"),
        gateway_url=(reader.url("PINGHOME_GATEWAY_URL", schemes={"http", "https"})
                     or f"http://127.0.0.1:{reader.integer('GATEWAY_PORT', 8001, low=1, high=65535)}"
                     ).rstrip("/"),
        twilio_account_sid=reader.text("PINGHOME_TWILIO_ACCOUNT_SID", None),
        twilio_auth_token=reader.text("PINGHOME_TWILIO_AUTH_TOKEN", None),
        twilio_from=reader.text("PINGHOME_TWILIO_FROM", None),
        twilio_api_url=(reader.url("PINGHOME_TWILIO_API_URL", schemes={"http", "https"})
                        or "https://api.twilio.com").rstrip("/"),
        tls_ca_file=reader.existing_file("PINGHOME_TLS_CA_FILE"),
        rdap_bootstrap_url=(reader.url("PINGHOME_RDAP_BOOTSTRAP_URL", schemes={"http", "https"})
                            or "https://data.iana.org/rdap/dns.json"),
        whois_server=reader.text("PINGHOME_WHOIS_SERVER", None),
        result_retention_days=reader.integer("PINGHOME_RESULT_RETENTION_DAYS", 30, low=1,
                                             high=3650),
        rollup_retention_days=reader.integer("PINGHOME_ROLLUP_RETENTION_DAYS", 400, low=1,
                                             high=36500),
        probe_batch_size=reader.integer("PINGHOME_PROBE_BATCH_SIZE", 200, low=1, high=5000),
        heartbeat_flush_seconds=reader.number("PINGHOME_HEARTBEAT_FLUSH_SECONDS", 0.5, low=0,
                                              high=10),
        worker_threads=reader.integer("PINGHOME_WORKER_THREADS", 8, low=1, high=1024),
        escalation_delay_minutes=reader.integer("PINGHOME_ESCALATION_DELAY_MINUTES", 5, low=1,
                                                high=24 * 60),
        shift_notice_minutes=reader.integer("PINGHOME_SHIFT_NOTICE_MINUTES", 15, low=1,
                                            high=24 * 60),
        # with billing on, a new organisation starts on the free plan and pays for more
        default_plan=reader.plan("PINGHOME_DEFAULT_PLAN",
                                 plans.FREE_PLAN if billing else plans.DEFAULT_PLAN),
        status_cname_target=reader.hostname("PINGHOME_STATUS_CNAME_TARGET"),
        dns_servers=reader.dns_servers("PINGHOME_DNS_SERVERS"),
        dns_timeout_seconds=reader.number("PINGHOME_DNS_TIMEOUT_SECONDS", 3.0, low=0.1, high=30),
        statuspage_api_url=(reader.url("PINGHOME_STATUSPAGE_API_URL", schemes={"http", "https"})
                            or "https://api.statuspage.io").rstrip("/"),
        status_domain=reader.hostname("PINGHOME_STATUS_DOMAIN"),
        status_page_cache_seconds=reader.number("PINGHOME_STATUS_PAGE_CACHE_SECONDS", 1.0,
                                                low=0, high=60),
        status_password_rate_limit=reader.rate("PINGHOME_STATUS_PASSWORD_RATE_LIMIT",
                                               "10/minute"),
        status_subscribe_rate_limit=reader.rate("PINGHOME_STATUS_SUBSCRIBE_RATE_LIMIT",
                                                "5/hour"),
        status_subscribe_client_rate_limit=reader.rate(
            "PINGHOME_STATUS_SUBSCRIBE_CLIENT_RATE_LIMIT", "30/hour"),
        billing=billing,
        stripe_api_key=stripe_keys[0],
        stripe_webhook_secret=stripe_keys[1],
        stripe_api_base=(reader.url("STRIPE_API_BASE", schemes={"http", "https"})
                         or "https://api.stripe.com").rstrip("/"),
        trial_days=reader.integer("PINGHOME_TRIAL_DAYS", 14, low=0, high=730),
        metrics_port=reader.integer("PINGHOME_METRICS_PORT", None, low=1, high=65535),
        metrics_allow=reader.networks("PINGHOME_METRICS_ALLOW", Settings.metrics_allow),
        metrics_keys=reader.flag("PINGHOME_METRICS_KEYS", True),
        metrics_multiproc_dir=reader.directory("PROMETHEUS_MULTIPROC_DIR"),
    )
    twilio = (settings.twilio_account_sid, settings.twilio_auth_token, settings.twilio_from)
    if any(twilio) and not all(twilio):
        raise SettingsError("PINGHOME_TWILIO_ACCOUNT_SID, PINGHOME_TWILIO_AUTH_TOKEN and "
                            "PINGHOME_TWILIO_FROM go together: set all three, or none")
    if len(settings.secret_key) < 32:
        raise SettingsError("PINGHOME_SECRET_KEY must be at least 32 characters long")
    return settings


def _ntp_server(value: str) -> str | None:
    value = value.strip()
    return None if value.lower() in {"", "off", "none"} else value


def _stored_secret_key(data_dir: str) -> str:
    """The key generated on first start and kept under the data directory (mode 0600)."""
    path = Path(data_dir) / "secret_key"
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its key
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(key)
    return key


class _Reader:
    def __init__(self, env):
        self.env = env

    def _raw(self, name):
        value = self.env.get(name)
        return None if value is None or value.strip() == "" else value.strip()

    def text(self, name, default):
        return self._raw(name) or default

    def url(self, name, schemes):
        value = self._raw(name)
        if value is None:
            return None
        scheme = urlsplit(value).scheme
        if scheme not in schemes:
            raise SettingsError(
                f"{name} must be a URL starting with one of "
                f"{', '.join(sorted(s + '://' for s in schemes))}; got {value!r}")
        return value

    def integer(self, name, default, low, high):
        return self._number(name, default, low, high, int, "a whole number")

    def number(self, name, default, low, high):
        return self._number(name, default, low, high, float, "a number")

    def _number(self, name, default, low, high, kind, described):
        value = self._raw(name)
        if value is None:
            return default
        try:
            number = kind(value)
        except ValueError:
            raise SettingsError(f"{name} must be {described}; got {value!r}") from None
        if not low <= number <= high:
            raise SettingsError(f"{name} must be between {low} and {high}; got {number}")
        return number

    def existing_file(self, name):
        value = self._raw(name)
        if value is not None and not Path(value).is_file():
            raise SettingsError(f"{name} must name a readable file; {value!r} is not one")
        return value

    def directory(self, name):
        value = self._raw(name)
        if value is not None and not Path(value).is_dir():
            raise SettingsError(f"{name} must name an existing directory; {value!r} is not one")
        return value

    def networks(self, name, default):
        value = self._raw(name)
        if value is None:
            return default
        try:
            return tuple(ipaddress.ip_network(part.strip(), strict=False)
                         for part in value.split(",") if part.strip())
        except ValueError:
            raise SettingsError(f"{name} must be comma-separated addresses or networks such "
                                f"as '10.0.0.0/8,::1'; got {value!r}") from None

    def flag(self, name, default):
        value = self._raw(name)
        if value is None:
            return default
        if value.lower() in _TRUE:
            return True
        if value.lower() in _FALSE:
            return False
        raise SettingsError(f"{name} must be true or false; got {value!r}")

    def choice(self, name, default, choices):
        value = (self._raw(name) or default).upper()
        if value not in choices:
            raise SettingsError(f"{name} must be one of {', '.join(sorted(choices))}; got {value!r}")
        return value

    def rate(self, name, default):
        value = self._raw(name) or default
        try:
            limits.parse(value)
        except ValueError:
            raise SettingsError(f"{name} must be a rate such as '10/minute'; got {value!r}") from None
        return value

    def plan(self, name, default):
        value = self._raw(name)
        if value is None:
            return default
        try:
            return plans.named(value)
        except ValueError as exc:
            raise SettingsError(f"{name} must name a plan as 'name' or 'name/version': "
                                f"{exc}") from None

    def hostname(self, name):
        value = self._raw(name)
        if value is None:
            return ""
        value = value.rstrip(".").lower()
        if not _HOSTNAME.match(value):
            raise SettingsError(f"{name} must be a host name such as 'status.example.com'; "
                                f"got {value!r}")
        return value

    def dns_servers(self, name):
        value = self._raw(name)
        if value is None:
            return ()
        servers = []
        for part in (p.strip() for p in value.split(",") if p.strip()):
            if part.startswith("["):                    # [v6]:port
                host, _, port = part[1:].partition("]:")
            else:
                host, _, port = part.rpartition(":") if part.count(":") == 1 else (part, "", "53")
            try:
                servers.append((str(ipaddress.ip_address(host.strip("[]"))), int(port)))
            except ValueError:
                raise SettingsError(f"{name} must be comma-separated resolver addresses, "
                                    f"'ip' or 'ip:port'; got {part!r}") from None
            if not 1 <= servers[-1][1] <= 65535:
                raise SettingsError(f"{name}: port out of range in {part!r}")
        return tuple(servers)

    def regions(self, name):
        value = self._raw(name) or "local"
        names = tuple(dict.fromkeys(part.strip() for part in value.split(",") if part.strip()))
        bad = [region for region in names if not _REGION.match(region)]
        if not names or bad:
            raise SettingsError(
                f"{name} must be a comma-separated list of region names "
                f"(lower-case letters, digits and '-'); got {value!r}")
        return names
