"""One outbox: `delivery` takes every outgoing message. It gains `key`, unique (the message's
idempotency key; a row made before gets its id), and the account mail of `mail_outbox` moves
into it (type `email`, kind `mail`, no channel), keeping ids, status, attempts and times: a
`mail.send` job of the previous release still in the queue finds its row by id, and a pending
one is sent by the new sweep."""
from peewee import PostgresqlDatabase

_COLUMNS = ("id, key, channel_id, type, address, kind, subject, body, payload, status, "
            "attempts, last_error, created_at, last_attempt_at, claimed_until, sent_at")


def _id_as_text(db) -> str:
    """The id as `str(uuid)` writes it: SQLite keeps UUIDs as 32 hex digits, as peewee's
    UUIDField writes them; Postgres has a type of its own."""
    if isinstance(db, PostgresqlDatabase):
        return "id::text"
    return ("lower(substr(id, 1, 8) || '-' || substr(id, 9, 4) || '-' || substr(id, 13, 4) "
            "|| '-' || substr(id, 17, 4) || '-' || substr(id, 21))")


def up(migrator, db):
    # NOT NULL needs a default to add a column to a table with rows; SQLite cannot drop it
    # again short of rebuilding the table, and the model always writes the key
    db.execute_sql("ALTER TABLE delivery ADD COLUMN key VARCHAR(200) NOT NULL DEFAULT ''")
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql("ALTER TABLE delivery ALTER COLUMN key DROP DEFAULT")
    as_text = _id_as_text(db)
    db.execute_sql(f"UPDATE delivery SET key = {as_text}")
    db.execute_sql(
        f"INSERT INTO delivery ({_COLUMNS}) SELECT id, {as_text}, NULL, 'email', to_address, "
        "'mail', subject, body, NULL, status, attempts, last_error, created_at, "
        "last_attempt_at, claimed_until, sent_at FROM mail_outbox")
    db.execute_sql("DROP TABLE mail_outbox")
    db.execute_sql("CREATE UNIQUE INDEX delivery_key ON delivery (key)")


def down(migrator, db):
    raise RuntimeError("0010_one_outbox is one-way: restore a backup taken before it to go "
                       "back (account mail and channel deliveries share one table since)")
