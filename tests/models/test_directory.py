"""The gateway's directory: a copy of the whole table, read again every `ttl` seconds, so a
signal for a heartbeat that signals rarely costs no query; ids not in the copy are looked up."""
from __future__ import annotations

import peewee
import pytest

from models import directory as directories
from models.directory import Directory


class Table:
    """What the directory reads, counting its reads."""

    def __init__(self, rows: dict):
        self.rows, self.loads, self.look_ups = dict(rows), 0, []
        self.failing = False

    def load_all(self):
        self.loads += 1
        if self.failing:
            raise peewee.OperationalError("the database is away")
        return list(self.rows.items())

    def look_up(self, key):
        self.look_ups.append(key)
        return self.rows.get(key)


@pytest.fixture
def now(monkeypatch):
    instant = [1000.0]
    monkeypatch.setattr(directories.time, "monotonic", lambda: instant[0])
    return instant


def test_the_whole_table_is_read_once_and_known_ids_cost_no_look_up(now):
    table = Table({f"id-{n}": {"GET"} for n in range(1000)})
    found = Directory(table.look_up, table.load_all, ttl=60)
    assert all(found.get(f"id-{n}") == {"GET"} for n in range(1000))
    assert (table.loads, table.look_ups) == (1, [])


def test_an_id_made_after_the_copy_is_looked_up_once_and_an_unknown_one_kept_unknown(now):
    table = Table({"old": {"GET"}})
    found = Directory(table.look_up, table.load_all, ttl=60, unknown_ttl=5)
    found.get("old")
    table.rows["new"] = {"POST"}
    assert found.get("new") == {"POST"} and found.get("new") == {"POST"}
    assert found.get("nope") is None and found.get("nope") is None
    assert table.look_ups == ["new", "nope"]
    now[0] += 6                                   # unknown for 5 s: asked again
    table.rows["nope"] = {"GET"}
    assert found.get("nope") == {"GET"}
    assert table.look_ups == ["new", "nope", "nope"]


def test_the_copy_is_read_again_after_ttl_which_drops_what_went(now):
    table = Table({"a": {"GET"}, "b": {"GET"}})
    found = Directory(table.look_up, table.load_all, ttl=60)
    assert found.get("b") == {"GET"}
    del table.rows["b"]
    table.rows["a"] = {"HEAD"}
    now[0] += 59
    assert found.get("b") == {"GET"} and found.get("a") == {"GET"}     # within ttl
    now[0] += 2
    assert found.get("a") == {"HEAD"} and found.get("b") is None
    assert table.loads == 2


def test_forget_has_a_change_looked_up_at_once_in_this_process(now):
    table = Table({"a": {"GET"}})
    found = Directory(table.look_up, table.load_all, ttl=60)
    found.get("a")
    table.rows["a"] = {"POST"}
    directories.forget("a")
    assert found.get("a") == {"POST"}
    del table.rows["a"]
    directories.forget("a")
    assert found.get("a") is None


def test_with_the_database_away_the_copy_read_before_is_kept(now):
    table = Table({"a": {"GET"}})
    found = Directory(table.look_up, table.load_all, ttl=60)
    found.get("a")
    table.failing = True
    now[0] += 61
    assert found.get("a") == {"GET"}
    assert found.get("a") == {"GET"} and table.loads == 2     # tried again after 5 s, not now
    now[0] += 6
    table.failing = False
    table.rows["a"] = {"HEAD"}
    assert found.get("a") == {"HEAD"} and table.loads == 3


def test_the_first_read_failing_is_the_request_failing(now):
    table = Table({"a": {"GET"}})
    table.failing = True
    with pytest.raises(peewee.OperationalError):
        Directory(table.look_up, table.load_all).get("a")
