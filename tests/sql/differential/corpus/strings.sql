-- String functions and pattern matching.

-- name: lower_upper
SELECT lower(location) AS l, upper(location) AS u, initcap(location) AS i FROM sensors WHERE time < '2024-01-01 00:15:00+00';

-- name: length_family
SELECT hostname, length(hostname) AS l, char_length(hostname) AS c, octet_length(hostname) AS o,
       bit_length(hostname) AS b FROM hosts;

-- name: substr_forms
SELECT substr(hostname, 6) AS a, substr(hostname, 1, 4) AS b, substring(hostname from 2 for 3) AS c,
       substring(hostname, 0, 3) AS d, substr(hostname, -1, 3) AS e FROM hosts;

-- name: position_strpos
SELECT position('_' in hostname) AS p, strpos(hostname, 'st') AS s, position('zz' in hostname) AS z FROM hosts;

-- name: replace_translate
SELECT replace(hostname, 'host', 'node') AS r, translate(hostname, 'ho', 'HO') AS t FROM hosts;

-- name: concat_operator_types
SELECT hostname || '/' || rack AS a, rack || '' AS b FROM hosts;

-- name: concat_ws
SELECT concat_ws(',', hostname, team, rack) FROM hosts;

-- name: split_part
SELECT split_part(hostname, '_', 1) AS a, split_part(hostname, '_', 2) AS b, split_part(hostname, '_', 3) AS c,
       split_part('a,b,c', ',', -1) AS d FROM hosts;

-- name: regexp_replace
SELECT regexp_replace(hostname, '[aeiou]', '*') AS first_only, regexp_replace(hostname, '[aeiou]', '*', 'g') AS all_
FROM hosts;

-- name: regexp_replace_backref
SELECT regexp_replace('2024-01-05', '(\d+)-(\d+)-(\d+)', '\3/\2/\1') AS d;

-- name: regexp_match_op
SELECT hostname, hostname ~ '^host_[a-c]$' AS m, hostname ~* 'HOST_E' AS mi, hostname !~ 'a' AS nm FROM hosts;

-- name: regexp_partial_match
SELECT count(*) FROM sensors WHERE location ~ 'oo';

-- name: regexp_match_fn
SELECT regexp_match('host_42', '(\w+)_(\d+)') AS m;

-- name: like_patterns
SELECT hostname FROM hosts WHERE hostname LIKE 'host\_%' AND hostname NOT LIKE '%e' ORDER BY 1;

-- name: like_underscore
SELECT label FROM labels WHERE label LIKE '_eta';

-- name: ilike
SELECT DISTINCT location FROM sensors WHERE location ILIKE 'lab%' ORDER BY 1;

-- name: like_case_sensitive
SELECT DISTINCT location FROM sensors WHERE location LIKE 'lab%';

-- name: not_ilike
SELECT count(*) FROM sensors WHERE note NOT ILIKE 'ok';

-- name: similar_to
SELECT hostname FROM hosts WHERE hostname SIMILAR TO 'host_(a|b)' ORDER BY 1;

-- name: trim_family
SELECT '[' || trim(label) || ']' AS t, '[' || ltrim(label) || ']' AS l, '[' || rtrim(label) || ']' AS r,
       btrim('xxhixx', 'x') AS b FROM labels WHERE id = 5;

-- name: lpad_rpad
SELECT lpad(rack::text, 4, '0') AS l, rpad(hostname, 8, '.') AS r, lpad('abcdef', 3) AS cut FROM hosts;

-- name: left_right_reverse_repeat
SELECT left(hostname, 3) AS l, right(hostname, 2) AS r, reverse(hostname) AS rev, repeat('ab', 3) AS rep,
       left(hostname, -2) AS lneg FROM hosts;

-- name: starts_with
SELECT hostname FROM hosts WHERE starts_with(hostname, 'host_') ORDER BY 1 LIMIT 2;

-- name: md5_ascii_chr
SELECT md5('tsgres') AS m, ascii('A') AS a, chr(66) AS c;

-- name: string_compare
SELECT 'a' < 'b' AS a, 'B' < 'a' AS b, 'abc' = 'abc ' AS c, 'x' > '' AS d;

-- name: format_function
SELECT format('%s has %s cores', hostname, cores) FROM cpu WHERE time = '2024-01-01 00:00:00+00' ORDER BY 1;

-- name: format_identifiers
SELECT id, format('SELECT %I FROM %I.%I', label, 'public', 'My Table') AS q FROM labels WHERE label IS NOT NULL ORDER BY id;

-- name: format_identifier_rules
SELECT format('%I|%I|%I|%I|%I|%I|%I|%I', 'foo', 'Foo', 'select', 'a b', 'a"b', '_x1$', '1x', 'time') AS q;

-- name: format_literals
SELECT id, format('WHERE label = %L', label) AS q, format('%L', 'it''s a\b') AS e FROM labels ORDER BY id;

-- name: format_values_as_output_text
SELECT item, format('%s x %s at %s on %s (%s) shipped=%s, %L', qty, item, price, day, time, shipped, shipped) AS line
FROM orders ORDER BY time LIMIT 6;

-- name: format_null_arguments
SELECT id, format('[%s] [%L]', label, label) AS q FROM labels ORDER BY id;

-- name: format_positions
SELECT format('%1$s %1$s %2$s', 'a', 'b') AS a, format('%2$s %s', 'a', 'b', 'c') AS b, format('%% %s %%', 'x') AS c,
       format('%3$s %1$s %s', 'x', 'y', 'z') AS d;

-- name: format_widths
SELECT format('|%-8s|%8s|', hostname, rack) AS a, format('|%*s|%-*s|', 6, rack, -6, team) AS b,
       format('|%2$*1$s|', 5, rack) AS c, format('|%3s|', hostname) AS d
FROM hosts ORDER BY hostname;

-- name: format_null_identifier
-- error: 22004
SELECT format('%I', label) FROM labels;

-- name: format_too_few_arguments
-- (after %2$s the next argument is the third)
-- error: 22023
SELECT format('%2$s and %s', hostname, rack) FROM hosts;

-- name: format_unknown_specifier
-- error: 22023
SELECT format('%d', rack) FROM hosts;

-- name: format_argument_zero
-- error: 22023
SELECT format('%0$s', hostname) FROM hosts;

-- name: format_unterminated
-- error: 22023
SELECT format('100%', hostname) FROM hosts;

-- name: quote_backslashes
SELECT id, quote_ident(label) AS i, quote_literal(label || '\') AS l, quote_nullable('\' || label) AS n
FROM labels ORDER BY id;

-- name: quote_backslash_constants
SELECT quote_literal('a\b') AS a, quote_nullable('it''s \ here') AS b, quote_literal(42) AS c, quote_nullable(NULL::text) AS d;

-- name: text_length_empty
SELECT id, length(label), length(''), length(' ') FROM labels WHERE id <> 2 ORDER BY id;

-- name: varchar_functions
SELECT upper(note), length(note), note || '!' FROM sensors WHERE note IS NOT NULL ORDER BY time LIMIT 5;

-- name: string_to_array
SELECT string_to_array('a,b,,c', ',') AS a, array_to_string(ARRAY['x', NULL, 'z'], '-') AS b,
       array_to_string(ARRAY['x', NULL, 'z'], '-', '?') AS c;

-- name: quote_escape
SELECT 'it''s' AS a, E'tab\there' AS b, $$dollar 'quoted'$$ AS c;

-- name: unicode_lengths
-- (upper/lower of non-ASCII letters depend on the reference server's locale, C here: not compared)
SELECT upper('abc') AS a, lower('ABC') AS b, length('日本語') AS c, octet_length('日本語') AS d, left('日本語', 2) AS e;

-- name: regexp_split
SELECT regexp_split_to_array('a1b22c333', '\d+') AS parts;

-- name: regexp_matches_groups
SELECT regexp_matches('foobarbequebaz', '(bar)(beque)') AS m;

-- name: regexp_matches_global
SELECT regexp_matches('b1-2 c3-4 d5', '([a-z])(\d)-(\d)', 'g') AS m;

-- name: regexp_matches_whole_match_and_flags
SELECT regexp_matches('a1B22c', '[a-z]\d+', 'gi') AS m;

-- name: regexp_matches_no_match_drops_row
SELECT hostname, regexp_matches(hostname, 'host_([a-b])') AS m FROM hosts ORDER BY hostname;

-- name: regexp_matches_optional_group_is_null
SELECT regexp_matches('a', '(x)?a') AS m;

-- name: regexp_matches_from_with_ordinality
SELECT * FROM regexp_matches('abab', 'a(b)', 'g') WITH ORDINALITY AS m(g, n);

-- name: regexp_matches_lateral
SELECT h.hostname, m FROM hosts AS h, LATERAL regexp_matches(h.hostname, '([a-c])', 'g') AS m ORDER BY 1, 2;

-- name: string_to_array_edges
SELECT string_to_array('a,b,,c', ',', '') AS a, string_to_array('abc', NULL) AS b, string_to_array('', ',') AS c,
       string_to_array('abc', '') AS d, string_to_array(NULL, ',') AS e, string_to_array('a-x-b', '-', 'x') AS f;

-- name: string_to_table
SELECT string_to_table('a,b,,c', ',', '') AS v;

-- name: string_to_table_from_alias_names_column
SELECT t, length(t) AS n FROM string_to_table('xx yyy z', ' ') AS t ORDER BY 2;

-- name: regexp_split_to_table_from
SELECT * FROM regexp_split_to_table('a1b22c', '\d+') WITH ORDINALITY AS p(part, n);

-- name: to_hex_chr
SELECT to_hex(255) AS h, to_hex(4096::bigint) AS h2;

-- name: overlay
SELECT overlay('Txxxxas' placing 'hom' from 2 for 4) AS o;

-- name: regexp_replace_flags
SELECT regexp_replace('aAaA', 'a', 'x', 'gi') AS a, regexp_replace('aAaA', 'a', 'x') AS b, regexp_replace('abc', 'B', 'x', 'i') AS c;

-- name: substring_regex
SELECT substring('foobar' from 'o+b') AS a, substring('foobar' from 'z') AS b, substring('x12y' from '(\d+)') AS c;

-- name: regexp_split_flags
SELECT regexp_split_to_array('aXbxc', 'x', 'i') AS a;

-- name: regexp_count_instr_substr
SELECT regexp_count('abcabc', 'b') AS a, regexp_instr('abcabc', 'c') AS b, regexp_instr('abc', 'z') AS c,
       regexp_substr('abc123', '\d+') AS d, regexp_substr('abc', '\d+') AS e;

-- name: regexp_like_flags
SELECT regexp_like('Abc', 'a', 'i') AS a, regexp_like('Abc', 'a') AS b;

-- name: encode_decode
SELECT encode('abc'::bytea, 'hex') AS a, encode('abc'::bytea, 'base64') AS b, decode('616263', 'hex') AS c,
       decode('YWJj', 'base64') AS d, encode(decode(repeat('ab', 60), 'hex'), 'base64') AS e;

-- name: pad_repeat_reverse
SELECT lpad('ab', 5, 'xy') AS a, rpad('ab', 5) AS b, repeat('ab', 3) AS c, reverse('abc') AS d, md5('abc') AS e,
       starts_with('abc', 'ab') AS f;

-- name: trim_initcap_ascii_chr
SELECT btrim('xxaxx', 'x') AS a, ltrim('  a') AS b, rtrim('a  ') AS c, initcap('hello world-foo') AS d, ascii('A') AS e,
       chr(66) AS f;

-- name: left_right_negative
SELECT left('abcdef', -2) AS a, right('abcdef', -2) AS b;

-- name: quote_functions
SELECT quote_ident('a b') AS a, quote_literal('it''s') AS b, quote_nullable(NULL) AS c;

-- name: concat_with_nulls
SELECT concat('a', NULL, 'b') AS a, concat_ws('-', 'a', NULL, 'b') AS b, 'a' || NULL AS c;

-- name: similar_to_wildcards_and_regex
SELECT 'abc' SIMILAR TO '(a|b)%' AS a, 'abc' SIMILAR TO 'a_c' AS b, 'a.c' SIMILAR TO 'a.c' AS c, 'abc' SIMILAR TO 'a.c' AS d,
       'a%' SIMILAR TO 'a#%' ESCAPE '#' AS e, 'ab' SIMILAR TO 'a\%' AS f, 'aaa' SIMILAR TO 'a{2,}' AS g, 'x' NOT SIMILAR TO '[a-c]' AS h,
       'a$' SIMILAR TO 'a$' AS i, 'b' SIMILAR TO '[^a]' AS j;

-- name: similar_to_rows
SELECT hostname FROM hosts WHERE hostname SIMILAR TO 'host\_(a|c)' ORDER BY 1;

-- name: similar_to_trailing_escape
SELECT 'a#' SIMILAR TO 'a#' ESCAPE '#' AS a, 'a' SIMILAR TO 'a#' ESCAPE '#' AS b;
