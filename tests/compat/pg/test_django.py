"""Django 5 (its PostgreSQL backend on psycopg 3) against tsgres and a real PostgreSQL 15, in one
process with two databases: ``migrate`` of contenttypes, auth, sessions, admin and a small app
(tests/compat/pg/django_app), then the ORM's everyday calls (bulk_create, aggregates by
TruncHour, annotate(Count), update, delete, a user's creation and password check) and ``migrate
... zero`` and back. Each call's answer on tsgres is PostgreSQL's.

What this found, fixed: bulk_create's ``UNNEST((%s)::varchar[], ...)`` (the parameter's type through
the parenthesis; the client-side literal), ``"note" text NULL`` made NOT NULL, GROUP BY the primary
key with the table's other columns selected, and auth_user.last_login, the table's time column,
relaxed to NULL by a later migration."""

from __future__ import annotations

import datetime as dt
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.compat.pg.conftest import PgServer
from tests.sql.conftest import PgServer as RealPg
from tests.sql.conftest import running_pg

django = pytest.importorskip("django")

UTC = dt.UTC


@pytest.fixture(scope="module")
def real_pg() -> Iterator[RealPg]:
    yield from running_pg()


def _database(dsn: str) -> dict[str, Any]:
    parts = dict(p.split("=", 1) for p in dsn.split())
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": parts.get("dbname", "postgres"),
        "USER": parts.get("user", "postgres"),
        "HOST": parts.get("host", "127.0.0.1"),
        "PORT": parts.get("port", "5432"),
    }


@pytest.fixture(scope="module")
def configured(pg_server: PgServer, real_pg: RealPg) -> Iterator[None]:
    from django.conf import settings

    if not settings.configured:
        sys.path.insert(0, str(Path(__file__).parent))
        settings.configure(
            SECRET_KEY="tests",
            INSTALLED_APPS=[
                "django.contrib.contenttypes",
                "django.contrib.auth",
                "django.contrib.sessions",
                "django.contrib.admin",
                "django.contrib.messages",
                "django_app",
            ],  # fmt: skip
            DATABASES={
                "default": _database(pg_server.dsn(pg_server.database("django"))),
                "pg": _database(real_pg.conninfo()),
            },
            USE_TZ=True,
            TIME_ZONE="UTC",
            DEFAULT_AUTO_FIELD="django.db.models.BigAutoField",
            PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"],  # (fast)
        )
        django.setup()
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    yield
    from django.db import connections

    connections.close_all()


def _session(db: str) -> list[Any]:
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db.models import Avg, Count, Max
    from django.db.models.functions import TruncHour
    from django_app.models import Reading, Sensor

    seen: list[Any] = []
    call_command("migrate", database=db, verbosity=0)
    s, _ = Sensor.objects.using(db).get_or_create(name="s1", defaults={"location": "lab"})
    Sensor.objects.using(db).create(name="s2")
    t0 = dt.datetime(2024, 1, 1, tzinfo=UTC)
    Reading.objects.using(db).bulk_create(
        [Reading(sensor=s, time=t0 + dt.timedelta(minutes=i), value=i * 0.5, note=None if i % 3 else f"n{i}")
         for i in range(120)]
    )  # fmt: skip
    readings = Reading.objects.using(db)
    seen.append(readings.filter(sensor__name="s1").count())
    seen.append(
        list(
            readings.annotate(h=TruncHour("time")).values("h")
            .annotate(a=Avg("value"), m=Max("value"), n=Count("id")).order_by("h")
        )
    )  # fmt: skip
    seen.append(
        [(x.name, x.n) for x in Sensor.objects.using(db).annotate(n=Count("readings")).order_by("name")]
    )
    last = readings.order_by("-time").first()
    seen.append((last.time, last.value))
    seen.append(readings.filter(value__gt=50).update(ok=False))
    seen.append(readings.filter(ok=False, note__isnull=False).count())
    seen.append(readings.filter(time__lt=t0 + dt.timedelta(minutes=10)).delete()[0])
    seen.append(readings.count())
    User.objects.db_manager(db).create_user("ann", password="pw")
    user = User.objects.using(db).get(username="ann")
    seen.append((user.check_password("pw"), user.last_login))
    call_command("migrate", "django_app", "zero", database=db, verbosity=0)
    call_command("migrate", database=db, verbosity=0)
    seen.append(Reading.objects.using(db).count())
    call_command("flush", database=db, interactive=False, verbosity=0)
    return seen


def test_migrations_and_orm_calls_answer_as_postgresql(configured: None, real_pg: RealPg) -> None:
    with real_pg.connect() as conn:  # (a clean slate on PostgreSQL: the tables of an earlier run)
        conn.autocommit = True
        for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND "
            "(tablename LIKE 'django\\_%' OR tablename LIKE 'auth\\_%')"
        ).fetchall():
            conn.execute(f'DROP TABLE IF EXISTS "{row[0]}" CASCADE')
    want = _session("pg")
    got = _session("default")
    assert got == want
