"""After the start-up warm-up, SQL and InfluxQL queries load no kernel signature of their own.

numba compiles (or loads from its disk cache) one machine-code version per argument-type signature,
the first time a kernel is called with it: ~5-10 ms even from the cache. A signature that only
queries use costs the first query of a shape that much (a fresh server's second single-groupby-1-1-1
took 9 ms instead of 0.4 ms: a strided view of one row group is contiguous to numba, of two not). So
the warm-up calls every kernel with the types queries pass; this test runs the TSBS devops shapes (SQL
and InfluxQL through /query's JSON encoding) on files and memtable after it and checks that no kernel
gained a signature. Twenty hosts: a one-host query then picks its row groups by binary search
(chunkfile._select_runs), as on a real data set, not by a mask over every group.
"""

from __future__ import annotations

import json
import sys

from numba.core.registry import CPUDispatcher

from bench.datagen import DevopsCpu
from bench.queries import QUERY_TYPES, DevopsQueries
from compat.influx.query import QueryService, begin_query
from tests.sql.in_process import sql_engine
from tsgres.config import Config
from tsgres.warmup import _STEPS

_PACKAGES = ("columnar", "sql", "compat")


def _signatures() -> dict[str, int]:
    out = {}
    for name, module in list(sys.modules.items()):
        if module is None or name.split(".")[0] not in _PACKAGES:
            continue
        for attr, value in list(vars(module).items()):
            if isinstance(value, CPUDispatcher):
                out[f"{name}.{attr}"] = len(value.signatures)
    return out


def test_tsbs_shapes_load_no_kernel_signature_after_the_warm_up(tmp_path):
    with sql_engine(tmp_path) as (storage, engine):
        gen = DevopsCpu(20, hours=12, seed=5)
        for i, batch in enumerate(gen.batches(4000)):
            storage.write("postgres", batch).check()
            if i == 2:
                storage.flush()  # a file (series of several row groups) and the memtable hold data
        session = engine.session("postgres")
        queries = DevopsQueries.for_generator(gen, 3)
        for step in _STEPS:
            step()
        service = QueryService(storage, Config())
        before = _signatures()
        sql_rows = influxql_rows = 0
        for qtype in QUERY_TYPES:
            for q in queries.instances(qtype, 6):
                result = session.execute(session.prepare(q.sql, []), [])
                sql_rows += sum(b.num_rows for b in result.batches)
                body, _ = begin_query(service, "GET", {"db": "postgres", "q": q.influxql}, "")._timed()
                doc = json.loads(body)
                assert "error" not in doc["results"][0], doc
                influxql_rows += sum(len(s["values"]) for s in doc["results"][0].get("series", []))
        after = _signatures()
        service.close()
    assert sql_rows > 1000 and influxql_rows > 1000  # (the shapes ran over data)
    added = {k: (before.get(k, 0), v) for k, v in after.items() if v != before.get(k, 0)}
    assert not added, f"kernels given new signatures by queries (before, after): {added}"
