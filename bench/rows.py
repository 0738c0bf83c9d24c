"""What every benchmark's database starts with: migrated, and one organisation (business
plan) with a team and a service, inserted directly; each benchmark adds its own rows."""
from __future__ import annotations

import datetime as dt
import subprocess
import sys
import uuid


def migrated_with_service(env: dict):
    """Migrates the database of `env`; answers an open psycopg2 connection, the service's id
    and the naive UTC time the rows were made at."""
    subprocess.run([sys.executable, "-m", "pinghome", "migrate"], env=env, check=True,
                   capture_output=True)
    import psycopg2
    connection = psycopg2.connect(env["DATABASE_URL"])
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    organisation, team, service = (str(uuid.uuid4()) for _ in range(3))
    with connection, connection.cursor() as cursor:
        cursor.execute("INSERT INTO organisation (id, name, plan, plan_version, created_at) "
                       "VALUES (%s, 'Bench', 'business', 'v1', %s)", (organisation, now))
        cursor.execute("INSERT INTO team (id, organisation_id, name, created_at) "
                       "VALUES (%s, %s, 'Bench', %s)", (team, organisation, now))
        cursor.execute("INSERT INTO service (id, team_id, name, created_at) "
                       "VALUES (%s, %s, 'Bench', %s)", (service, team, now))
    return connection, service, now
