"""Vouchers (endpoint 125) with billing off: an operator's single-use codes put an
organisation on a plan for some months, then back on the one it had; a used, expired,
unknown or malformed code is a clear 4xx; of two owners applying one at once, one wins."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import threading

import pytest

from models import clock, vouchers
from models.organisations import Organisation
from tests.factories.accounts import bearer
from tests.factories.organisations import make_cast
from tests.processes import ROOT

CODE = "AAACCCBBDD-CSSSS1"


@pytest.fixture
def cast(settings):
    return make_cast(settings, bob_role="manager")


def apply(client, token, code=CODE):
    return client.simulate_post("/v1/customer/applied-voucher", json={"code": code},
                                headers=bearer(token))


def organisation_of(cast) -> Organisation:
    return Organisation.get_by_id(cast.team.organisation_id)


def test_a_voucher_grants_its_plan_for_its_months_then_the_old_plan_returns(client, cast):
    vouchers.create_vouchers(plan=("team", "v1"), months=12, code=CODE, now=clock.now())
    answer = apply(client, cast.alice_token, CODE.lower())        # codes are not case-bound
    assert answer.status_code == 200, answer.json
    assert (answer.json["plan"], answer.json["plan_version"]) == ("team", "v1")
    until = dt.datetime.fromisoformat(answer.json["plan_until"].replace("Z", "+00:00"))
    assert 364 <= (until - clock.now()).days <= 366
    profile = client.simulate_get(f"/v1/customer/{cast.alice.id}",
                                  headers=bearer(cast.alice_token)).json
    assert profile["organisation"]["plan"] == "team"
    assert profile["limits"]["monitoring"]["uptime_monitors"] == 500

    assert vouchers.end_expired(now=until - dt.timedelta(seconds=1)) == 0
    assert vouchers.end_expired(now=until) == 1
    organisation = organisation_of(cast)
    assert (organisation.plan, organisation.plan_until) == ("self-hosted", None)


def test_a_second_voucher_for_the_same_plan_extends_it(client, cast):
    first, second = vouchers.create_vouchers(plan=("team", "v1"), months=1, count=2,
                                             now=clock.now())
    apply(client, cast.alice_token, first)
    once = organisation_of(cast).plan_until
    apply(client, cast.alice_token, second)
    assert organisation_of(cast).plan_until == vouchers.add_months(once, 1)
    vouchers.end_expired(now=organisation_of(cast).plan_until)
    assert organisation_of(cast).plan == "self-hosted"


def test_used_expired_unknown_and_malformed_codes_are_refused(client, cast, settings):
    now = clock.now()
    vouchers.create_vouchers(plan=("team", "v1"), months=1, code=CODE, now=now)
    stale = vouchers.create_vouchers(plan=("team", "v1"), months=1, valid_days=1,
                                     now=now - dt.timedelta(days=2))[0]
    assert apply(client, cast.alice_token).status_code == 200
    used = apply(client, cast.alice_token)
    assert (used.status_code, used.json["error"]["code"]) == (409, "voucher_used")
    expired = apply(client, cast.alice_token, stale)
    assert (expired.status_code, expired.json["error"]["code"]) == (410, "voucher_expired")
    unknown = apply(client, cast.alice_token, "ZZZZZZZZZZ-ZZZZZZ")
    assert (unknown.status_code, unknown.json["error"]["code"]) == (404, "unknown_voucher")
    for bad in ("25OFF", "AAACCCBBDD-CSSSS", "AAACCCBBDD_CSSSS1", "x" * 300, 17):
        answer = apply(client, cast.alice_token, bad)
        assert answer.status_code == 422 and "code" in answer.json["error"]["fields"], bad


def test_only_an_owner_applies_a_voucher(client, cast):
    vouchers.create_vouchers(plan=("team", "v1"), months=1, code=CODE, now=clock.now())
    refused = apply(client, cast.bob_token)                       # a manager
    assert (refused.status_code, refused.json["error"]["code"]) == (403, "role_required")
    assert client.simulate_post("/v1/customer/applied-voucher",
                                json={"code": CODE}).status_code == 401
    assert organisation_of(cast).plan == "self-hosted"


def test_of_two_organisations_applying_one_voucher_at_once_exactly_one_wins(client, settings):
    casts = [make_cast(settings) for _ in range(2)]
    vouchers.create_vouchers(plan=("business", "v1"), months=1, code=CODE, now=clock.now())
    start, answers = threading.Barrier(2), []

    def race(cast):
        start.wait()
        answers.append(apply(client, cast.alice_token).status_code)

    threads = [threading.Thread(target=race, args=(cast,)) for cast in casts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(answers) == [200, 409]
    assert sorted(organisation_of(cast).plan for cast in casts) == ["business", "self-hosted"]


def test_the_operator_makes_vouchers_with_the_command(settings, tmp_path):
    import os
    env = {**os.environ, "DATABASE_URL": settings.database_url,
           "PINGHOME_DATA_DIR": settings.data_dir, "PINGHOME_SECRET_KEY": settings.secret_key}
    made = subprocess.run([sys.executable, "-m", "pinghome", "voucher", "create", "--plan",
                           "team", "--months", "12", "--count", "3"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=60)
    assert made.returncode == 0, made.stderr
    codes = made.stdout.split()
    assert len(codes) == 3 and all(vouchers.PATTERN.match(code) for code in codes)
    assert {v.plan for v in vouchers.Voucher.select().where(vouchers.Voucher.code.in_(codes))} \
        == {"team"}
    again = subprocess.run([sys.executable, "-m", "pinghome", "voucher", "create", "--plan",
                            "gold", "--months", "1"], cwd=ROOT, env=env, capture_output=True,
                           text=True, timeout=60)
    assert again.returncode == 2 and "gold" in again.stderr
