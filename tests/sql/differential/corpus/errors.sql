-- Statements PostgreSQL rejects: tsgres must reject them with the same SQLSTATE.

-- name: unknown_table
-- error: 42P01
SELECT * FROM no_such_table;

-- name: unknown_table_in_join
-- error: 42P01
SELECT * FROM cpu JOIN nope ON true;

-- name: unknown_column
-- error: 42703
SELECT no_such_column FROM cpu;

-- name: unknown_column_where
-- error: 42703
SELECT count(*) FROM cpu WHERE bogus > 1;

-- name: unknown_qualified_column
-- error: 42703
SELECT c.nope FROM cpu c;

-- name: syntax_error
-- error: 42601
SELECT FROM WHERE;

-- name: syntax_error_trailing
-- error: 42601
SELECT * FROM cpu WHERE;

-- name: syntax_error_keyword
-- error: 42601
SELEC 1;

-- name: unknown_function
-- error: 42883
SELECT no_such_function(1);

-- name: wrong_argument_types
-- error: 42883
SELECT sqrt('abc'::text);

-- name: bad_cast_int
-- error: 22P02
SELECT 'abc'::int;

-- name: bad_cast_float
-- error: 22P02
SELECT 'x1.5'::float8;

-- name: bad_cast_bool
-- error: 22P02
SELECT 'maybe'::boolean;

-- name: bad_cast_timestamp
-- error: 22007
SELECT 'not a time'::timestamptz;

-- name: bad_cast_column
-- error: 22P02
SELECT hostname::int FROM hosts;

-- name: int4_overflow
-- error: 22003
SELECT 2147483647::int4 + 1;

-- name: int8_overflow
-- error: 22003
SELECT 9223372036854775807 + 1;

-- name: int2_cast_out_of_range
-- error: 22003
SELECT 70000::smallint;

-- name: int4_cast_out_of_range
-- error: 22003
SELECT 3000000000::int4;

-- name: float_to_int_out_of_range
-- error: 22003
SELECT 1e20::float8::int8;

-- name: int4_multiply_overflow
-- error: 22003
SELECT reading_count * 100000000 FROM sensors WHERE reading_count > 100;

-- name: sum_column_overflow_int4_expression
-- error: 22003
SELECT total::int4 FROM sensors;

-- name: division_by_zero_int
-- error: 22012
SELECT 1 / 0;

-- name: division_by_zero_float
-- error: 22012
SELECT 1.0::float8 / 0;

-- name: division_by_zero_numeric
-- error: 22012
SELECT 1.5 / 0;

-- name: division_by_zero_column
-- error: 22012
SELECT usage_user / (cores - cores) FROM cpu;

-- name: modulo_by_zero
-- error: 22012
SELECT 5 % 0;

-- name: sqrt_negative
-- error: 2201F
SELECT sqrt(-1);

-- name: ln_zero
-- error: 2201E
SELECT ln(0);

-- name: group_by_missing
-- error: 42803
SELECT hostname, count(*) FROM cpu;

-- name: aggregate_in_where
-- error: 42803
SELECT hostname FROM cpu WHERE count(*) > 1;

-- name: ambiguous_column
-- error: 42702
SELECT hostname FROM cpu JOIN hosts ON cpu.hostname = hosts.hostname;

-- name: type_mismatch_compare
-- error: 42883
SELECT count(*) FROM cpu WHERE time > 5;

-- name: union_column_count
-- error: 42601
SELECT 1, 2 UNION SELECT 1;

-- name: union_type_mismatch
-- error: 42804
SELECT 1 UNION SELECT 'a'::text;

-- name: case_type_mismatch
-- error: 42804
SELECT CASE WHEN true THEN 1 ELSE 'x'::text END;

-- name: invalid_regex
-- error: 2201B
SELECT 'a' ~ '(';

-- name: text_eq_bool
-- error: 42883
SELECT 'a' || 1 = true;

-- name: bad_date_field
-- error: 22023
SELECT date_trunc('fortnight', now());

-- name: too_few_args
-- error: 42883
SELECT substr();

-- name: limit_negative
-- error: 2201W
SELECT * FROM cpu LIMIT -1;

-- name: distinct_on_order_mismatch
-- error: 42P10
SELECT DISTINCT ON (hostname) hostname, time FROM cpu ORDER BY time;

-- name: order_by_unknown_ordinal
-- error: 42P10
SELECT hostname FROM hosts ORDER BY 3;

-- name: column_of_non_joined_table
-- error: 42P01
SELECT hosts.team FROM cpu;

-- name: scalar_subquery_multiple_columns
-- error: 42601
SELECT (SELECT 1, 2);

-- name: window_in_where
-- error: 42P20
SELECT * FROM cpu WHERE row_number() OVER () > 1;

-- name: nested_aggregate
-- error: 42803
SELECT max(count(*)) FROM cpu;

-- name: invalid_interval
-- error: 22007
SELECT interval 'five minutes';

-- name: bad_timezone
-- error: 22023
SELECT now() AT TIME ZONE 'Mars/Olympus';

-- name: string_to_numeric_compare_bad
-- error: 22P02
SELECT count(*) FROM hosts WHERE rack = 'one';

-- name: alias_in_where
-- error: 42703
SELECT usage_user * 2 AS doubled FROM cpu WHERE doubled > 100;

-- name: alias_in_having
-- error: 42703
SELECT hostname, count(*) AS n FROM cpu GROUP BY hostname HAVING n > 5;

-- name: distinct_order_by_not_selected
-- error: 42P10
SELECT DISTINCT hostname FROM cpu ORDER BY time;

-- name: count_distinct_window
-- error: 0A000
SELECT count(DISTINCT hostname) OVER () FROM cpu;

-- name: insert_unknown_table
-- error: 42P01
INSERT INTO nope VALUES (1);

-- name: text_plus_int
-- error: 42883
SELECT hostname + 1 FROM hosts;

-- name: sum_of_text
-- error: 42883
SELECT sum(hostname) FROM hosts;

-- name: wrong_cast_type_name
-- error: 42704
SELECT 1::nosuchtype;

-- name: text_column_eq_int
-- error: 42883
SELECT count(*) FROM hosts WHERE hostname = 1;

-- name: int_column_eq_text_column
-- error: 42883
SELECT count(*) FROM hosts WHERE rack = team;

-- name: explain_unknown_option
-- error: 42601
EXPLAIN (FOO) SELECT count(*) FROM cpu;

-- name: explain_option_not_boolean
-- error: 42601
EXPLAIN (ANALYZE maybe) SELECT count(*) FROM cpu;

-- name: explain_unknown_format
-- error: 22023
EXPLAIN (FORMAT html) SELECT count(*) FROM cpu;

-- name: explain_timing_without_analyze
-- error: 22023
EXPLAIN (TIMING, COSTS OFF) SELECT count(*) FROM cpu;

-- name: explain_wal_without_analyze
-- error: 22023
EXPLAIN (WAL true) SELECT count(*) FROM cpu;

-- name: explain_option_yes_is_not_boolean
-- error: 42601
EXPLAIN (ANALYZE yes) SELECT count(*) FROM cpu;

-- name: comment_on_unknown_table
-- error: 42P01
COMMENT ON TABLE no_such_table IS 'x';

-- name: comment_on_unknown_column
-- error: 42703
COMMENT ON COLUMN cpu.no_such_column IS 'x';

-- name: comment_on_column_of_unknown_table
-- error: 42P01
COMMENT ON COLUMN no_such_table.c IS 'x';

-- name: comment_on_unqualified_column
-- error: 42601
COMMENT ON COLUMN hostname IS 'x';

-- name: comment_on_table_in_unknown_schema
-- error: 3F000
COMMENT ON TABLE no_such_schema.cpu IS 'x';

-- name: comment_on_unknown_schema
-- error: 3F000
COMMENT ON SCHEMA no_such_schema IS 'x';

-- name: comment_on_table_as_view
-- error: 42809
COMMENT ON VIEW cpu IS 'x';

-- name: comment_on_table_as_materialized_view
-- error: 42809
COMMENT ON MATERIALIZED VIEW cpu IS 'x';

-- name: comment_on_table_as_index
-- error: 42809
COMMENT ON INDEX cpu IS 'x';

-- name: comment_on_unknown_index
-- error: 42P01
COMMENT ON INDEX no_such_index IS 'x';

-- name: comment_on_unknown_extension
-- error: 42704
COMMENT ON EXTENSION no_such_extension IS 'x';

-- name: comment_on_unknown_function
-- error: 42883
COMMENT ON FUNCTION no_such_function(int) IS 'x';

-- name: regexp_matches_bad_flag
-- error: 22023
SELECT regexp_matches('ab', 'a', 'z');

-- name: regexp_split_to_table_global
-- error: 22023
SELECT * FROM regexp_split_to_table('a,b', ',', 'g');

-- name: from_function_too_many_column_names
-- error: 42P10
SELECT * FROM string_to_table('a,b', ',') AS t(x, y);

-- name: similar_to_bad_escape
-- error: 22025
SELECT 'a' SIMILAR TO 'a' ESCAPE '##';

-- name: date_field_out_of_range
-- error: 22008
SELECT '2024-02-30'::date;

-- name: timestamp_month_out_of_range
-- error: 22008
SELECT '2024-13-01 00:00:00'::timestamp;
