"""Settings are read once from the environment and refused with a message naming the variable."""
from __future__ import annotations

import os
import stat

import pytest

from models.settings import SettingsError, load_settings

KEY = {"PINGHOME_SECRET_KEY": "k" * 40}


def test_defaults_are_the_embedded_form(tmp_path):
    settings = load_settings({**KEY, "PINGHOME_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path}/pinghome.db"
    assert settings.redis_url is None and settings.smtp_url is None
    assert settings.regions == ("local",)
    assert settings.allow_private_targets is True
    assert (settings.port, settings.gateway_port) == (8000, 8001)
    assert settings.ntp_server == "pool.ntp.org"


def test_private_targets_are_refused_by_default_in_the_distributed_form():
    settings = load_settings({**KEY, "REDIS_URL": "redis://127.0.0.1:6379/0",
                              "DATABASE_URL": "postgres://u@h/db"})
    assert settings.allow_private_targets is False


def test_values_are_parsed():
    settings = load_settings({**KEY, "PINGHOME_REGIONS": "eu-central-1, us-east-1,eu-central-1",
                              "PORT": "9000", "PINGHOME_NTP_SERVER": "off",
                              "PINGHOME_ALLOW_PRIVATE_TARGETS": "no",
                              "SMTP_URL": "smtps://u:p@mail.example.com:465"})
    assert settings.regions == ("eu-central-1", "us-east-1")
    assert settings.port == 9000
    assert settings.ntp_server is None
    assert settings.allow_private_targets is False


@pytest.mark.parametrize("name, value", [
    ("DATABASE_URL", "mysql://u@h/db"),
    ("REDIS_URL", "http://localhost"),
    ("SMTP_URL", "mail.example.com"),
    ("PORT", "eighty"),
    ("PORT", "70000"),
    ("GATEWAY_PORT", "0"),
    ("PINGHOME_REGIONS", "EU Central"),
    ("PINGHOME_REGIONS", ","),
    ("PINGHOME_ALLOW_PRIVATE_TARGETS", "maybe"),
    ("PINGHOME_MAX_CLOCK_OFFSET_SECONDS", "-1"),
    ("PINGHOME_LOG_LEVEL", "loud"),
    ("PINGHOME_SIGN_IN_RATE_LIMIT", "lots"),
    ("PINGHOME_SECRET_KEY", "short"),
    ("PINGHOME_SIGN_UP_RATE_LIMIT", "lots"),
    ("PINGHOME_CODE_SEND_RATE_LIMIT", "5 an hour"),
    ("PINGHOME_CHANNEL_SEND_RATE_LIMIT", "often"),
    ("PINGHOME_ORGANISATION_SEND_RATE_LIMIT", "50/fortnight"),
    ("PINGHOME_DEFAULT_PLAN", "gold"),
    ("PINGHOME_DEFAULT_PLAN", "free/v9"),
    ("PINGHOME_STATUS_CNAME_TARGET", "https://status.example.com"),
    ("PINGHOME_DNS_SERVERS", "dns.example.com"),
    ("PINGHOME_DNS_SERVERS", "127.0.0.1:99999"),
    ("PINGHOME_DNS_TIMEOUT_SECONDS", "0"),
    ("PINGHOME_STATUSPAGE_API_URL", "api.statuspage.io"),
    ("PINGHOME_STATUS_SUBSCRIBE_RATE_LIMIT", "often"),
    ("PINGHOME_STATUS_PAGE_CACHE_SECONDS", "120"),
    ("PINGHOME_BILLING", "paypal"),
    ("PINGHOME_METRICS_PORT", "0"),
    ("PINGHOME_METRICS_ALLOW", "10.0.0.0/8, prometheus.internal"),
    ("PROMETHEUS_MULTIPROC_DIR", "/no/such/directory"),
])
def test_a_bad_value_is_refused_naming_the_variable(name, value):
    with pytest.raises(SettingsError, match=name):
        load_settings({**KEY, name: value})


STRIPE = {"PINGHOME_BILLING": "stripe", "STRIPE_API_KEY": "sk_test_x",
          "STRIPE_WEBHOOK_SECRET": "whsec_x"}


@pytest.mark.parametrize("name, value", [
    ("STRIPE_API_KEY", ""),
    ("STRIPE_API_KEY", "pk_test_public"),       # the publishable key cannot act for us
    ("STRIPE_WEBHOOK_SECRET", ""),
    ("STRIPE_API_BASE", "localhost:12111"),
    ("PINGHOME_TRIAL_DAYS", "-1"),
])
def test_billing_on_needs_its_stripe_settings(name, value):
    with pytest.raises(SettingsError, match=name):
        load_settings({**KEY, **STRIPE, name: value})


def test_with_billing_on_new_organisations_start_free_and_trials_last_two_weeks():
    settings = load_settings({**KEY, **STRIPE})
    assert (settings.billing, settings.default_plan, settings.trial_days) == \
        ("stripe", ("free", "v1"), 14)
    assert settings.stripe_api_base == "https://api.stripe.com"
    assert load_settings({**KEY, **STRIPE, "PINGHOME_DEFAULT_PLAN": "team"}).default_plan == \
        ("team", "v1")


def test_the_secret_key_is_generated_once_and_kept_private(tmp_path):
    first = load_settings({"PINGHOME_DATA_DIR": str(tmp_path)})
    second = load_settings({"PINGHOME_DATA_DIR": str(tmp_path)})
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 32
    mode = os.stat(tmp_path / "secret_key").st_mode
    assert stat.S_IMODE(mode) == 0o600


def test_new_organisations_get_the_self_hosted_plan_unless_another_is_named():
    assert load_settings(KEY).default_plan == ("self-hosted", "v1")
    assert load_settings({**KEY, "PINGHOME_DEFAULT_PLAN": "free"}).default_plan == ("free", "v1")
    assert load_settings({**KEY, "PINGHOME_DEFAULT_PLAN": "team/v1"}).default_plan == ("team",
                                                                                      "v1")


def test_dns_servers_and_the_cname_target_are_parsed():
    settings = load_settings({**KEY, "PINGHOME_DNS_SERVERS": "127.0.0.1:5353, 9.9.9.9,[::1]:54",
                              "PINGHOME_STATUS_CNAME_TARGET": "Pages.Example.NET.",
                              "PINGHOME_PUBLIC_URL": "https://app.example.com"})
    assert settings.dns_servers == (("127.0.0.1", 5353), ("9.9.9.9", 53), ("::1", 54))
    assert settings.cname_target == "pages.example.net"
    assert settings.statuspage_api_url == "https://api.statuspage.io"
    assert load_settings({**KEY, "PINGHOME_PUBLIC_URL": "https://app.example.com"}
                         ).cname_target == "status.app.example.com"


def test_metrics_are_served_to_loopback_and_on_no_port_of_their_own_unless_told(tmp_path):
    settings = load_settings(KEY)
    assert settings.metrics_port is None and settings.metrics_multiproc_dir is None
    assert [str(n) for n in settings.metrics_allow] == ["127.0.0.0/8", "::1/128"]
    settings = load_settings({**KEY, "PINGHOME_METRICS_PORT": "9400",
                              "PINGHOME_METRICS_ALLOW": "10.0.0.0/8, 192.0.2.7,2001:db8::/32",
                              "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)})
    assert settings.metrics_port == 9400 and settings.metrics_multiproc_dir == str(tmp_path)
    assert [str(n) for n in settings.metrics_allow] == ["10.0.0.0/8", "192.0.2.7/32",
                                                         "2001:db8::/32"]
