"""The domain probe against an RDAP service (with its bootstrap file) and WHOIS servers on
loopback. The probe is handed a fixed `now`; nothing here reads the wall clock."""
from __future__ import annotations

import datetime as dt
import time

import pytest

from pinghome.localservers import free_port
from tests.probe_servers import RdapServer, SilentServer, WhoisServer, rdap_domain
from workers.probes import whois
from workers.probes.whois import probe_tld

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.timezone.utc)
REFUSED = ("127.0.0.1 resolves to 127.0.0.1, which this installation may not reach "
           "(PINGHOME_ALLOW_PRIVATE_TARGETS is off)")

VERISIGN_STYLE = """\
   Domain Name: EXAMPLE.WHO
   Registry Domain ID: 2336799_DOMAIN_COM-VRSN
   Registrar WHOIS Server: whois.example-registrar.test
   Updated Date: 2025-08-14T07:01:34Z
   Creation Date: 1995-08-14T04:00:00Z
   Registry Expiry Date: 2026-08-13T04:00:00Z
   Registrar: Example Registrar, Inc.
   Registrar IANA ID: 376
   Domain Status: clientDeleteProhibited https://icann.org/epp#clientDeleteProhibited
   Domain Status: clientTransferProhibited https://icann.org/epp#clientTransferProhibited
   Name Server: A.IANA-SERVERS.NET
   Name Server: B.IANA-SERVERS.NET
   DNSSEC: signedDelegation
>>> Last update of whois database: 2026-03-01T11:59:00Z <<<

NOTICE: The expiration date displayed in this record is the date the
registrar's sponsorship of the domain name registration in the registry is
currently set to expire.
"""


@pytest.fixture(scope="module")
def rdap_server():
    server = RdapServer(tlds=("test",)).start()
    yield server
    server.stop()


@pytest.fixture
def rdap(rdap_server):
    """The RDAP service for .test and .co.test, with no domains, answering normally; the
    probe's bootstrap cache starts empty."""
    rdap_server.domains.clear()
    rdap_server.failing_with = rdap_server.bootstrap_failing_with = None
    rdap_server.requests.clear()
    whois._bootstraps.clear()
    return rdap_server


@pytest.fixture
def registry():
    """A registry's WHOIS server; its `records` are set by the test."""
    server = WhoisServer().start()
    yield server
    server.stop()


def probe(domain, rdap, **options):
    """The probe with local servers only: without a `whois_server` or `iana_whois_server`,
    a closed local port stands for IANA's WHOIS, so no test can reach outside."""
    options = {"timeout": 5, "allow_private": True, "now": NOW,
               "rdap_bootstrap_url": rdap.bootstrap_url,
               "iana_whois_server": f"127.0.0.1:{free_port()}", **options}
    return probe_tld(domain, **options)


def bootstrap_fetches(rdap) -> int:
    return sum(path.startswith("/bootstrap/") for path, _ in rdap.requests)


def make_the_cached_bootstrap_a_day_older(rdap) -> None:
    # the cache keeps time.monotonic() readings: moving its entry back stands for a day passing
    fetched_at, services = whois._bootstraps[rdap.bootstrap_url]
    whois._bootstraps[rdap.bootstrap_url] = (fetched_at - 25 * 3600, services)


def test_rdap_gives_the_registration_facts(rdap, registry):
    rdap.domains["example.test"] = rdap_domain("example.test", expires_at="2027-03-01T12:00:00Z")
    result = probe("example.test", rdap, whois_server=registry.address)
    assert result.ok and result.error is None
    assert result.details == {
        "domain": "example.test", "expires_at": "2027-03-01T12:00:00Z",
        "registered_at": "2001-02-03T04:05:06Z", "updated_at": "2025-06-07T08:09:10Z",
        "registrar": "Example Registrar, Inc.", "status": ["client transfer prohibited"],
        "nameservers": ["ns1.example.net", "ns2.example.net"], "days_left": 365,
        "source": "rdap"}
    assert result.response_ms == result.timings["total_ms"] > 0
    assert [path for path, _ in rdap.requests] == ["/bootstrap/dns.json",
                                                   "/rdap/domain/example.test"]
    assert rdap.requests[1][1]["accept"] == "application/rdap+json"
    assert registry.queries == []


@pytest.mark.parametrize("expires_at, ok, days_left, error", [
    ("2026-03-01T15:00:00Z", True, 0, None),
    ("2026-03-01T11:59:59Z", False, -1, "domain expired on 2026-03-01T11:59:59Z"),
    ("2026-01-30T00:00:00+02:00", False, -31, "domain expired on 2026-01-29T22:00:00Z"),
    ("2026-04-30T12:00:00.000Z", True, 60, None),
])
def test_the_expiry_is_judged_at_the_callers_now(rdap, expires_at, ok, days_left, error):
    rdap.domains["example.test"] = rdap_domain("example.test", expires_at=expires_at)
    result = probe("example.test", rdap)
    assert (result.ok, result.details["days_left"], result.error) == (ok, days_left, error)


def test_the_longest_matching_suffix_picks_the_rdap_service(rdap):
    rdap.domains["shop.co.test"] = rdap_domain("shop.co.test", expires_at="2027-01-01T00:00:00Z")
    result = probe("Shop.CO.test.", rdap)
    assert result.ok and result.details["domain"] == "shop.co.test"
    assert rdap.requests[-1][0] == "/other/domain/shop.co.test"


def test_an_internationalised_name_is_asked_for_in_its_ascii_form(rdap):
    rdap.domains["xn--bcher-kva.test"] = rdap_domain("xn--bcher-kva.test",
                                                     expires_at="2027-01-01T00:00:00Z")
    result = probe("bücher.test", rdap)
    assert result.ok and result.details["domain"] == "xn--bcher-kva.test"


def test_a_domain_the_registry_does_not_know_is_not_registered(rdap, registry):
    result = probe("nowhere.test", rdap, whois_server=registry.address)
    assert not result.ok and result.error == "nowhere.test is not registered"
    assert (result.details["source"], result.details["expires_at"]) == ("rdap", None)
    assert registry.queries == []


def test_a_record_without_an_expiry_date_cannot_be_judged(rdap):
    rdap.domains["example.test"] = rdap_domain("example.test", expires_at=None)
    result = probe("example.test", rdap)
    assert not result.ok
    assert result.error == "the registry publishes no expiry date for example.test"
    assert result.details["registrar"] == "Example Registrar, Inc."


@pytest.mark.parametrize("trouble", ["service answers 503", "service unreadable",
                                     "bootstrap down", "bootstrap silent", "tld without rdap"])
def test_whois_answers_when_rdap_cannot(rdap, registry, trouble):
    domain = "example.who" if trouble == "tld without rdap" else "example.test"
    rdap.failing_with = 503 if trouble == "service answers 503" else None
    rdap.domains[domain] = {"events": "not a list"}
    registry.records[domain] = VERISIGN_STYLE
    silent = SilentServer().start()
    bootstrap = {"bootstrap down": f"http://127.0.0.1:{free_port()}/dns.json",
                 "bootstrap silent": f"http://{silent.address}/dns.json"}
    started = time.monotonic()
    try:
        result = probe(domain, rdap, rdap_bootstrap_url=bootstrap.get(trouble, rdap.bootstrap_url),
                       whois_server=registry.address, timeout=1)
    finally:
        silent.stop()
    assert time.monotonic() - started < 1.5
    assert result.ok, result.error
    assert result.details == {
        "domain": domain, "expires_at": "2026-08-13T04:00:00Z",
        "registered_at": "1995-08-14T04:00:00Z", "updated_at": "2025-08-14T07:01:34Z",
        "registrar": "Example Registrar, Inc.",
        "status": ["clientDeleteProhibited", "clientTransferProhibited"],
        "nameservers": ["a.iana-servers.net", "b.iana-servers.net"], "days_left": 164,
        "source": "whois"}
    assert registry.queries == [domain]


def test_without_a_whois_server_iana_names_the_registrys(rdap, registry):
    registry.records["example.who"] = VERISIGN_STYLE
    iana = WhoisServer({"who": f"% IANA WHOIS server\n\ndomain:       WHO\n"
                               f"refer:        {registry.address}\n"}).start()
    try:
        result = probe("example.who", rdap, iana_whois_server=iana.address)
    finally:
        iana.stop()
    assert result.ok and result.details["source"] == "whois"
    assert (iana.queries, registry.queries) == (["who"], ["example.who"])


def test_a_tld_iana_knows_no_whois_server_for_is_a_clear_failure(rdap):
    iana = WhoisServer({"who": "% IANA WHOIS server\n\ndomain:       WHO\n"}).start()
    try:
        result = probe("example.who", rdap, iana_whois_server=iana.address)
    finally:
        iana.stop()
    assert not result.ok and result.details == {}
    assert result.error == ("RDAP: no RDAP service for .who; "
                            "WHOIS: IANA names no WHOIS server for .who")


@pytest.mark.parametrize("record, expires_at, registrar", [
    (VERISIGN_STYLE, "2026-08-13T04:00:00Z", "Example Registrar, Inc."),
    ("Domain name:\n    example.co.uk\n\n    Registered on: 26-Aug-1996\n"
     "    Expiry date:  26-Aug-2027\n    Last updated:  25-Aug-2025\n",
     "2027-08-26T00:00:00Z", None),
    ("domain:        EXAMPLE.RU\nnserver:       ns1.example.ru.\n"
     "state:         REGISTERED, DELEGATED, VERIFIED\nregistrar:     RU-CENTER-RU\n"
     "created:       2001-09-03T20:00:00Z\npaid-till:     2026-09-04T21:00:00Z\n",
     "2026-09-04T21:00:00Z", "RU-CENTER-RU"),
    ("Domain Name: example.who\nRegistrar Registration Expiration Date: 2027-05-06 07:08:09\n"
     "Registrar: Registrar Co\n", "2027-05-06T07:08:09Z", "Registrar Co"),
    ("domain: example.who\nexpire: 2026.12.31\n", "2026-12-31T00:00:00Z", None),
    ("domain: example.who\nExpiration Date: 2026/12/31 (UTC)\n", "2026-12-31T00:00:00Z", None),
    ("domain: example.who\nexpires: 20261231\n", "2026-12-31T00:00:00Z", None),
    ("domain: example.who\nExpiration Time: 2026-12-31 10:00:00 UTC\n",
     "2026-12-31T10:00:00Z", None),
])
def test_whois_answers_in_the_formats_registries_use_are_read(rdap, registry, record,
                                                              expires_at, registrar):
    registry.records["example.who"] = record
    result = probe("example.who", rdap, whois_server=registry.address)
    assert result.ok, result.error
    assert (result.details["expires_at"], result.details["registrar"]) == (expires_at, registrar)


def test_the_ru_style_status_list_and_name_servers_are_read(rdap, registry):
    registry.records["example.who"] = ("nserver: ns1.example.ru.\nnserver: ns2.example.ru.\n"
                                       "state: REGISTERED, DELEGATED\npaid-till: 2026-09-04\n")
    details = probe("example.who", rdap, whois_server=registry.address).details
    assert details["status"] == ["REGISTERED", "DELEGATED"]
    assert details["nameservers"] == ["ns1.example.ru", "ns2.example.ru"]


@pytest.mark.parametrize("answer", [
    'No match for "EXAMPLE.WHO".\n>>> Last update of whois database: 2026-03-01 <<<\n',
    "NOT FOUND\n",
    "%% No entries found for the selected source(s).\n",
    "Domain not found.\n",
    "The queried object does not exist: DOMAIN NOT FOUND\n",
])
def test_whois_without_a_record_means_not_registered(rdap, registry, answer):
    registry.records["example.who"] = answer
    result = probe("example.who", rdap, whois_server=registry.address)
    assert not result.ok and result.error == "example.who is not registered"
    assert result.details["source"] == "whois"


def test_an_expired_domain_in_whois_is_not_ok(rdap, registry):
    registry.records["example.who"] = "Registry Expiry Date: 2026-02-01T00:00:00Z\n"
    result = probe("example.who", rdap, whois_server=registry.address)
    assert not result.ok and result.error == "domain expired on 2026-02-01T00:00:00Z"
    assert result.details["days_left"] == -29     # 28.5 days ago


@pytest.mark.parametrize("answer, error", [
    ("Welcome to our WHOIS service.\nThis server is under maintenance.\n",
     "the answer about example.who has no registration fields we know"),
    ("Registry Expiry Date: sometime next year\n",
     "the expiry date 'sometime next year' cannot be read"),
    ("", "the answer about example.who has no registration fields we know"),
])
def test_an_unreadable_whois_answer_is_a_clear_error(rdap, registry, answer, error):
    registry.records["example.who"] = answer
    result = probe("example.who", rdap, whois_server=registry.address)
    assert not result.ok and result.details == {}
    assert result.error == f"RDAP: no RDAP service for .who; WHOIS: {error}"


def test_when_neither_source_answers_the_error_names_both(rdap):
    rdap.failing_with = 503
    closed = f"127.0.0.1:{free_port()}"
    result = probe("example.test", rdap, whois_server=closed)
    assert not result.ok and result.details == {}
    assert result.error == (f"RDAP: the RDAP service answered HTTP 503; "
                            f"WHOIS: {closed}: connection refused")


def test_private_addresses_are_refused_unless_allowed(rdap, registry):
    rdap.domains["example.test"] = rdap_domain("example.test", expires_at="2027-01-01T00:00:00Z")
    registry.records["example.test"] = VERISIGN_STYLE
    result = probe("example.test", rdap, whois_server=registry.address, allow_private=False)
    assert not result.ok and result.details == {}
    assert result.error == (
        f"RDAP: {rdap.url.split('//')[1]}: {REFUSED}; WHOIS: {registry.address}: {REFUSED}")
    assert (rdap.requests, registry.queries) == ([], [])


def test_the_bootstrap_file_is_fetched_once_a_day(rdap):
    rdap.domains["example.test"] = rdap_domain("example.test", expires_at="2027-01-01T00:00:00Z")
    for _ in range(3):
        assert probe("example.test", rdap).ok
    assert bootstrap_fetches(rdap) == 1
    make_the_cached_bootstrap_a_day_older(rdap)
    assert probe("example.test", rdap).ok and bootstrap_fetches(rdap) == 2


def test_a_stale_bootstrap_file_serves_while_it_cannot_be_fetched(rdap):
    rdap.domains["example.test"] = rdap_domain("example.test", expires_at="2027-01-01T00:00:00Z")
    assert probe("example.test", rdap).ok
    make_the_cached_bootstrap_a_day_older(rdap)
    rdap.bootstrap_failing_with = 503
    result = probe("example.test", rdap)
    assert result.ok and result.details["source"] == "rdap"
    assert bootstrap_fetches(rdap) == 2
