// node-postgres (npm pg) against a running tsgres: connect, parameterised queries, typed results.
// Usage: node check.js HOST PORT DATABASE. Prints one JSON object with what the driver returned;
// tests/compat/pg/test_node.py asserts on it. Dates are printed as ISO strings, and every value comes
// with its JavaScript type, so "1" (string) and 1 (number) differ.
"use strict";

const { Client, Pool } = require("pg");

function typed(row) {
  const out = {};
  for (const [k, v] of Object.entries(row)) {
    const type = v === null ? "null" : v instanceof Date ? "Date" : typeof v;
    out[k] = [type, v instanceof Date ? v.toISOString() : v];
  }
  return out;
}

async function main() {
  const [host, port, database] = process.argv.slice(2);
  const config = { host, port: Number(port), user: "postgres", database, connectionTimeoutMillis: 10000 };
  const client = new Client(config);
  await client.connect();
  const out = { server_version: client.connection.parameterStatus, tz: Intl.DateTimeFormat().resolvedOptions().timeZone };
  out.server_version = (await client.query("SHOW server_version")).rows[0].server_version;

  // simple protocol (no parameters), every common type
  const simple = await client.query(
    "SELECT 1::int4 AS i4, 2::int2 AS i2, 9007199254740993::int8 AS i8, 1.5::float8 AS f8, 0.25::float4 AS f4," +
      " 12.345::numeric(10,3) AS num, true AS t, false AS f, 'héllo'::text AS s, 'v'::varchar(3) AS vc," +
      " TIMESTAMPTZ '2024-02-29 23:59:59.123+00' AS tstz, DATE '2024-02-29' AS d, NULL::text AS n"
  );
  out.simple = typed(simple.rows[0]);
  out.simple_fields = simple.fields.map((f) => [f.name, f.dataTypeID]);

  // a table written and read through parameters (extended protocol)
  await client.query(
    "CREATE TABLE events (time timestamptz NOT NULL, host text, value double precision, n bigint, ok boolean)"
  );
  const ins = "INSERT INTO events (time, host, value, n, ok) VALUES ($1, $2, $3, $4, $5)";
  const rows = [
    [new Date(Date.UTC(2024, 0, 1, 0, 0, 0, 5)), "alpha", 0.1, 1, true],
    [new Date(Date.UTC(2024, 0, 1, 0, 1, 0, 0)), "beta", -2.75, "9007199254740993", false],
    [new Date(Date.UTC(2024, 0, 1, 0, 2, 0, 0)), "alpha", 1e-300, -7, null],
  ];
  let inserted = 0;
  for (const r of rows) inserted += (await client.query(ins, r)).rowCount;
  out.inserted = inserted;

  const sel = "SELECT time, host, value, n, ok FROM events WHERE time >= $1 AND host = $2 ORDER BY time";
  const res = await client.query(sel, [new Date(Date.UTC(2024, 0, 1)), "alpha"]);
  out.param_rows = res.rows.map(typed);
  out.param_command = [res.command, res.rowCount];

  // a named prepared statement, reused
  const reused = [];
  for (let i = 0; i < 6; i++) {
    const r = await client.query({ name: "by_n", text: "SELECT host, n * $1::int8 AS m FROM events WHERE n = $2", values: [i, 1] });
    reused.push(r.rows.map(typed));
  }
  out.reused = reused;

  // array row mode and an aggregate
  const agg = await client.query({ text: "SELECT count(*), sum(value), min(time) FROM events WHERE ok IS NOT NULL", rowMode: "array" });
  out.agg = agg.rows[0].map((v) => (v instanceof Date ? v.toISOString() : v));

  // an error leaves the connection usable
  try {
    await client.query("SELECT * FROM no_such_table WHERE x = $1", [1]);
    out.error = null;
  } catch (e) {
    out.error = [e.code, e.message];
  }
  out.after_error = (await client.query("SELECT $1::text || '!' AS x", ["ok"])).rows[0].x;
  await client.end();

  // a pool: concurrent queries on several connections
  const pool = new Pool({ ...config, max: 5 });
  const results = await Promise.all(
    Array.from({ length: 20 }, (_, i) => pool.query("SELECT $1::int4 * 2 AS v", [i]).then((r) => r.rows[0].v))
  );
  out.pool = results;
  await pool.end();
  console.log(JSON.stringify(out));
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
