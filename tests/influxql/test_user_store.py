"""sql/influxql/users.py on a real storage catalog: what is stored, what a reload sees, the cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from columnar.catalog import Catalog
from sql.influxql.users import KEY, READ, WRITE, UserError, UserStore, check_password


def test_store_keeps_hashes_and_reloads(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite")
    try:
        store = UserStore(catalog)
        assert not store.admin_exists()
        store.create("alice", "wonderland", admin=True)
        store.create("bob", "builder", admin=False)
        store.set_privilege("bob", "db", READ | WRITE, database_exists=True)
        with pytest.raises(UserError, match="^database not found: nope$"):
            store.set_privilege("bob", "nope", READ, database_exists=False)
        with pytest.raises(UserError, match="^user not found$"):
            store.set_privilege("carol", "nope", READ, database_exists=False)  # (the user is checked first)
        raw = catalog.get_meta(KEY)
        assert raw is not None and "wonderland" not in raw and "builder" not in raw
        reloaded = UserStore(catalog)
        assert [(u.name, u.admin) for u in reloaded.users()] == [("alice", True), ("bob", False)]
        assert reloaded.admin_exists()
        assert reloaded.user("bob").privileges == {"db": READ | WRITE}
        assert check_password("builder", reloaded.user("bob").hash)
        assert not check_password("Builder", reloaded.user("bob").hash)
        reloaded.database_dropped("db")
        assert UserStore(catalog).user("bob").privileges == {}
    finally:
        catalog.close()


def test_verified_credentials_are_cached_until_the_password_changes(tmp_path: Path) -> None:
    catalog = Catalog(tmp_path / "catalog.sqlite")
    try:
        store = UserStore(catalog)
        store.create("bob", "one", admin=False)
        assert store.cached("bob", "one") is None  # (not checked yet)
        assert store.authenticate("bob", "two") is None
        assert store.authenticate("bob", "one") is not None
        assert store.cached("bob", "one") is store.user("bob")
        assert store.cached("bob", "two") is None
        store.set_password("bob", "two")
        assert store.cached("bob", "one") is None and store.authenticate("bob", "one") is None
        assert store.authenticate("bob", "two") is not None
        store.drop("bob")
        assert store.cached("bob", "two") is None and store.authenticate("bob", "two") is None
    finally:
        catalog.close()
