"""Alembic migrations against tsgres: a TimescaleDB-style schema built, changed and taken back by
`alembic upgrade` / `downgrade`, the way an application's migrations run.

What Alembic sends besides the migrations' own DDL: the alembic_version table (a varchar PRIMARY
KEY, no time column), ``INSERT ... RETURNING alembic_version.version_num`` and ``UPDATE
alembic_version SET version_num=...`` at every step, and reflection of the schema.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from tests.compat.pg.conftest import PgServer, require

try:
    import sqlalchemy as sa
    from alembic import command
    from alembic.config import Config
except ImportError:  # CI installs both (.ci/run)
    sa = command = Config = None  # type: ignore[assignment]

UTC = dt.UTC

REVISIONS = {
    "a1": (
        None,
        """
        op.create_table(
            "conditions",
            sa.Column("time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
            sa.Column("location", sa.Text, nullable=False),
            sa.Column("temperature", sa.Float),
        )
        op.execute("SELECT create_hypertable('conditions', 'time')")
        op.create_index("ix_conditions_location_time", "conditions", ["location", "time"])
        """,
        """
        op.drop_index("ix_conditions_location_time", table_name="conditions")
        op.drop_table("conditions")
        """,
    ),
    "b2": (
        "a1",
        """
        op.add_column("conditions", sa.Column("humidity", sa.Float, server_default=sa.text("50")))
        op.alter_column("conditions", "temperature", nullable=False)
        op.alter_column("conditions", "location", server_default="lab")
        """,
        """
        op.alter_column("conditions", "location", server_default=None)
        op.alter_column("conditions", "temperature", nullable=True)
        op.drop_column("conditions", "humidity")
        """,
    ),
    "c3": (
        "b2",
        """
        op.alter_column("conditions", "humidity", new_column_name="rel_humidity")
        op.alter_column("conditions", "location", type_=sa.String(40))
        """,
        """
        op.alter_column("conditions", "location", type_=sa.Text)
        op.alter_column("conditions", "rel_humidity", new_column_name="humidity")
        """,
    ),
}


def _project(root: Path, url: str) -> Config:
    (root / "versions").mkdir(parents=True)
    (root / "env.py").write_text(
        textwrap.dedent(
            """
            from alembic import context
            import sqlalchemy as sa

            def run():
                engine = sa.create_engine(context.config.get_main_option("sqlalchemy.url"))
                with engine.connect() as conn:
                    context.configure(connection=conn)
                    with context.begin_transaction():
                        context.run_migrations()
                engine.dispose()

            run()
            """
        )
    )
    (root / "script.py.mako").write_text("")
    for rev, (down, up, back) in REVISIONS.items():
        (root / "versions" / f"{rev}.py").write_text(
            f"from alembic import op\nimport sqlalchemy as sa\n\nrevision = {rev!r}\n"
            f"down_revision = {down!r}\nbranch_labels = None\ndepends_on = None\n\n\n"
            f"def upgrade():\n{textwrap.indent(textwrap.dedent(up).strip(), '    ')}\n\n\n"
            f"def downgrade():\n{textwrap.indent(textwrap.dedent(back).strip(), '    ')}\n"
        )
    cfg = Config()
    cfg.set_main_option("script_location", str(root))
    cfg.set_main_option("sqlalchemy.url", url)
    return cfg


def _version(eng) -> list[str]:
    with eng.connect() as conn:
        return [r[0] for r in conn.execute(sa.text("SELECT version_num FROM alembic_version"))]


def _columns(eng) -> dict[str, tuple[str, bool, str | None]]:
    return {
        c["name"]: (repr(c["type"]), c["nullable"], c["default"])
        for c in sa.inspect(eng).get_columns("conditions")
    }


def _index_changes(eng) -> list:
    """What Alembic's autogenerate finds between the head revision's tables and the database, for
    indexes (the head's metadata declares both indexes, as an application's models would)."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    meta = sa.MetaData()
    sa.Table(
        "conditions",
        meta,
        sa.Column("time", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("location", sa.String(40), nullable=False, server_default="lab"),
        sa.Column("temperature", sa.Float, nullable=False),
        sa.Column("rel_humidity", sa.Float, server_default=sa.text("50")),
        sa.Index("ix_conditions_location_time", "location", "time"),
        sa.Index("conditions_time_idx", sa.text("time DESC")),
    )
    with eng.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), meta)
    return [d for d in diffs if isinstance(d, tuple) and d[0] in ("add_index", "remove_index")]


def test_upgrade_and_downgrade(pg_server: PgServer, tmp_path: Path) -> None:
    require(command is not None and sa is not None, "alembic and sqlalchemy")
    db = pg_server.database("alembic")
    url = f"postgresql+psycopg://postgres@{pg_server.host}:{pg_server.port}/{db}"
    cfg = _project(tmp_path / "migrations", url)
    eng = sa.create_engine(url)
    try:
        command.upgrade(cfg, "a1")
        assert _version(eng) == ["a1"]
        with eng.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO conditions (time, location, temperature) VALUES (:t, 'x', 21.5)"),
                {"t": dt.datetime(2024, 1, 1, tzinfo=UTC)},
            )
        command.upgrade(cfg, "head")
        assert _version(eng) == ["c3"]
        assert _columns(eng) == {
            "time": ("TIMESTAMP(timezone=True)", False, "now()"),
            "location": ("VARCHAR(length=40)", False, "'lab'::text"),
            "temperature": ("DOUBLE_PRECISION(precision=53)", False, None),
            "rel_humidity": ("DOUBLE_PRECISION(precision=53)", True, "50"),
        }
        with eng.begin() as conn:
            conn.execute(
                sa.text("INSERT INTO conditions (time, temperature) VALUES ('2024-01-01 01:00:00+00', 19)")
            )
            rows = conn.execute(
                sa.text("SELECT location, temperature, rel_humidity FROM conditions ORDER BY time")
            ).all()
        # the row from before humidity existed took its default when the column was added
        assert [tuple(r) for r in rows] == [("x", 21.5, 50.0), ("lab", 19.0, 50.0)]
        # the migration's index and create_hypertable's, as reflection (and so autogenerate) reads them
        indexes = {i["name"]: i["column_names"] for i in sa.inspect(eng).get_indexes("conditions")}
        assert indexes == {
            "ix_conditions_location_time": ["location", "time"],
            "conditions_time_idx": ["time"],
        }
        assert _index_changes(eng) == []  # autogenerate would make no index migration
        with eng.begin() as conn, pytest.raises(sa.exc.IntegrityError):
            conn.execute(
                sa.text("INSERT INTO conditions (time, location) VALUES ('2024-01-01 02:00:00+00', 'y')")
            )
        command.downgrade(cfg, "a1")
        assert _version(eng) == ["a1"]
        assert set(_columns(eng)) == {"time", "location", "temperature"}
        assert _columns(eng)["temperature"][1] is True
        command.downgrade(cfg, "base")
        assert _version(eng) == []
        assert not sa.inspect(eng).has_table("conditions")
    finally:
        eng.dispose()
