"""Every corpus query runs on PostgreSQL 15 and on tsgres; the answers must be the same.

One test per query (id ``<file>/<name>``). An entry marked ``-- xfail: <gap>`` is a known difference
of tsgres, named by its reason, and runs as a strict xfail: when tsgres gets it right the mark must go.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.sql.differential.harness import Entry, differences, load_corpus, run_pg, run_tsgres

CORPUS = Path(__file__).resolve().parent / "corpus"
ENTRIES = load_corpus(CORPUS)


def _param(e: Entry):  # -> pytest.ParameterSet
    marks = [pytest.mark.xfail(reason=e.xfail, strict=True)] if e.xfail else []
    return pytest.param(e, id=e.id, marks=marks)


@pytest.mark.parametrize("entry", [_param(e) for e in ENTRIES])
def test_query(pair, entry: Entry) -> None:
    if entry.session is None:
        _check(pair, entry)
        return
    setting = entry.session.split()[1] if entry.session.upper().startswith("SET ") else None
    run_pg(pair.pg, entry.session)
    run_tsgres(pair.ts, entry.session)
    try:
        _check(pair, entry)
    finally:
        reset = f"RESET {setting}" if setting and setting.upper() != "TIME" else "RESET TIME ZONE"
        run_pg(pair.pg, reset)
        run_tsgres(pair.ts, reset)


def _check(pair, entry: Entry) -> None:
    pg = run_pg(pair.pg, entry.sql, entry.params)
    if entry.error is not None:
        assert pg.sqlstate == entry.error, (
            f"the corpus expects PostgreSQL to raise {entry.error}, it gave "
            f"{pg.sqlstate or 'a result'} {pg.message}"
        )
    else:
        assert not pg.failed, (
            f"PostgreSQL raised {pg.sqlstate} ({pg.message}) for a query not marked '-- error:'"
        )
    ts = run_tsgres(pair.ts, entry.sql, entry.params)
    diff = differences(entry.sql, pg, ts)
    assert not diff, f"{entry.file}:{entry.line}\n{entry.sql}\n" + "\n".join(diff)


def test_corpus_size() -> None:
    assert len(ENTRIES) >= 300, f"the corpus has {len(ENTRIES)} queries; the suite promises 300+"
