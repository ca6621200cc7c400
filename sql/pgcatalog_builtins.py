"""Built-in types and functions as PostgreSQL 15 lists them in pg_type and pg_proc.

Read from a PostgreSQL 15.20 server: the types sql/types.py supports, their arrays and the pseudo
and catalog types clients meet in catalog queries; the functions of pg_catalog that the executor
answers (or the rewrite rules emulate), restricted to overloads over those types. OIDs are
PostgreSQL's own, so they match what clients have compiled in.

TYPES, one line per type: oid typname typlen typbyval typtype typcategory typispreferred typelem
typarray typinput typmodin typalign typstorage typcollation typsubscript ("-" = none).

PROCS, one line per function: oid proname prokind prorettype proargtypes(comma separated, "-" =
none) flags, where flags hold the volatility (i/s/v), "S" if strict, "R" if it returns a set and
"V<oid>" for the variadic element type.
"""

from __future__ import annotations

TYPES = """
16 bool 1 t b B t 0 1000 boolin - c p 0 -
17 bytea -1 f b U f 0 1001 byteain - i x 0 -
18 char 1 t b Z f 0 1002 charin - c p 0 -
19 name 64 f b S f 18 1003 namein - c p 950 raw_array_subscript_handler
20 int8 8 t b N f 0 1016 int8in - d p 0 -
21 int2 2 t b N f 0 1005 int2in - s p 0 -
22 int2vector -1 f b A f 21 1006 int2vectorin - i p 0 array_subscript_handler
23 int4 4 t b N f 0 1007 int4in - i p 0 -
24 regproc 4 t b N f 0 1008 regprocin - i p 0 -
25 text -1 f b S t 0 1009 textin - i x 100 -
26 oid 4 t b N t 0 1028 oidin - i p 0 -
27 tid 6 f b U f 0 1010 tidin - s p 0 -
28 xid 4 t b U f 0 1011 xidin - i p 0 -
29 cid 4 t b U f 0 1012 cidin - i p 0 -
30 oidvector -1 f b A f 26 1013 oidvectorin - i p 0 array_subscript_handler
114 json -1 f b U f 0 199 json_in - i x 0 -
194 pg_node_tree -1 f b Z f 0 0 pg_node_tree_in - i x 100 -
199 _json -1 f b A f 114 0 array_in - i x 0 array_subscript_handler
700 float4 4 t b N f 0 1021 float4in - i p 0 -
701 float8 8 t b N t 0 1022 float8in - d p 0 -
705 unknown -2 f p X f 0 0 unknownin - c p 0 -
1000 _bool -1 f b A f 16 0 array_in - i x 0 array_subscript_handler
1001 _bytea -1 f b A f 17 0 array_in - i x 0 array_subscript_handler
1002 _char -1 f b A f 18 0 array_in - i x 0 array_subscript_handler
1003 _name -1 f b A f 19 0 array_in - i x 950 array_subscript_handler
1005 _int2 -1 f b A f 21 0 array_in - i x 0 array_subscript_handler
1006 _int2vector -1 f b A f 22 0 array_in - i x 0 array_subscript_handler
1007 _int4 -1 f b A f 23 0 array_in - i x 0 array_subscript_handler
1008 _regproc -1 f b A f 24 0 array_in - i x 0 array_subscript_handler
1009 _text -1 f b A f 25 0 array_in - i x 100 array_subscript_handler
1010 _tid -1 f b A f 27 0 array_in - i x 0 array_subscript_handler
1011 _xid -1 f b A f 28 0 array_in - i x 0 array_subscript_handler
1012 _cid -1 f b A f 29 0 array_in - i x 0 array_subscript_handler
1013 _oidvector -1 f b A f 30 0 array_in - i x 0 array_subscript_handler
1014 _bpchar -1 f b A f 1042 0 array_in bpchartypmodin i x 100 array_subscript_handler
1015 _varchar -1 f b A f 1043 0 array_in varchartypmodin i x 100 array_subscript_handler
1016 _int8 -1 f b A f 20 0 array_in - d x 0 array_subscript_handler
1021 _float4 -1 f b A f 700 0 array_in - i x 0 array_subscript_handler
1022 _float8 -1 f b A f 701 0 array_in - d x 0 array_subscript_handler
1028 _oid -1 f b A f 26 0 array_in - i x 0 array_subscript_handler
1033 aclitem 12 f b U f 0 1034 aclitemin - i p 0 -
1034 _aclitem -1 f b A f 1033 0 array_in - i x 0 array_subscript_handler
1042 bpchar -1 f b S f 0 1014 bpcharin bpchartypmodin i x 100 -
1043 varchar -1 f b S f 0 1015 varcharin varchartypmodin i x 100 -
1082 date 4 t b D f 0 1182 date_in - i p 0 -
1083 time 8 t b D f 0 1183 time_in timetypmodin d p 0 -
1114 timestamp 8 t b D f 0 1115 timestamp_in timestamptypmodin d p 0 -
1115 _timestamp -1 f b A f 1114 0 array_in timestamptypmodin d x 0 array_subscript_handler
1182 _date -1 f b A f 1082 0 array_in - i x 0 array_subscript_handler
1183 _time -1 f b A f 1083 0 array_in timetypmodin d x 0 array_subscript_handler
1184 timestamptz 8 t b D t 0 1185 timestamptz_in timestamptztypmodin d p 0 -
1185 _timestamptz -1 f b A f 1184 0 array_in timestamptztypmodin d x 0 array_subscript_handler
1186 interval 16 f b T t 0 1187 interval_in intervaltypmodin d p 0 -
1187 _interval -1 f b A f 1186 0 array_in intervaltypmodin d x 0 array_subscript_handler
1231 _numeric -1 f b A f 1700 0 array_in numerictypmodin i x 0 array_subscript_handler
1263 _cstring -1 f b A f 2275 0 array_in - i x 0 array_subscript_handler
1266 timetz 12 f b D f 0 1270 timetz_in timetztypmodin d p 0 -
1270 _timetz -1 f b A f 1266 0 array_in timetztypmodin d x 0 array_subscript_handler
1700 numeric -1 f b N f 0 1231 numeric_in numerictypmodin i m 0 -
2202 regprocedure 4 t b N f 0 2207 regprocedurein - i p 0 -
2203 regoper 4 t b N f 0 2208 regoperin - i p 0 -
2204 regoperator 4 t b N f 0 2209 regoperatorin - i p 0 -
2205 regclass 4 t b N f 0 2210 regclassin - i p 0 -
2206 regtype 4 t b N f 0 2211 regtypein - i p 0 -
2207 _regprocedure -1 f b A f 2202 0 array_in - i x 0 array_subscript_handler
2208 _regoper -1 f b A f 2203 0 array_in - i x 0 array_subscript_handler
2209 _regoperator -1 f b A f 2204 0 array_in - i x 0 array_subscript_handler
2210 _regclass -1 f b A f 2205 0 array_in - i x 0 array_subscript_handler
2211 _regtype -1 f b A f 2206 0 array_in - i x 0 array_subscript_handler
2249 record -1 f p P f 0 2287 record_in - d x 0 -
2275 cstring -2 f p P f 0 1263 cstring_in - c p 0 -
2276 any 4 t p P f 0 0 any_in - i p 0 -
2277 anyarray -1 f p P f 0 0 anyarray_in - d x 0 -
2278 void 4 t p P f 0 0 void_in - i p 0 -
2279 trigger 4 t p P f 0 0 trigger_in - i p 0 -
2283 anyelement 4 t p P f 0 0 anyelement_in - i p 0 -
2287 _record -1 f p P f 2249 0 array_in - d x 0 array_subscript_handler
2950 uuid 16 f b U f 0 2951 uuid_in - c p 0 -
2951 _uuid -1 f b A f 2950 0 array_in - i x 0 array_subscript_handler
3802 jsonb -1 f b U f 0 3807 jsonb_in - i x 0 jsonb_subscript_handler
3807 _jsonb -1 f b A f 3802 0 array_in - i x 0 array_subscript_handler
4089 regnamespace 4 t b N f 0 4090 regnamespacein - i p 0 -
4090 _regnamespace -1 f b A f 4089 0 array_in - i x 0 array_subscript_handler
4096 regrole 4 t b N f 0 4097 regrolein - i p 0 -
4097 _regrole -1 f b A f 4096 0 array_in - i x 0 array_subscript_handler
"""

PROCS = """
1394 abs f 700 700 iS
1395 abs f 701 701 iS
1396 abs f 20 20 iS
1397 abs f 23 23 iS
1398 abs f 21 21 iS
1705 abs f 1700 1700 iS
1601 acos f 701 701 iS
1181 age f 23 28 sS
1199 age f 1186 1184,1184 iS
1386 age f 1186 1184 sS
2058 age f 1186 1114,1114 iS
2059 age f 1186 1114 sS
4053 array_agg a 2277 2277 i
750 array_in f 2277 2275,26,23 sS
2176 array_length f 23 2277,23 iS
2091 array_lower f 23 2277,23 iS
384 array_to_string f 25 2277,25,25 s
395 array_to_string f 25 2277,25 sS
2092 array_upper f 23 2277,23 iS
1620 ascii f 23 25 iS
1600 asin f 701 701 iS
1602 atan f 701 701 iS
1603 atan2 f 701 701,701 iS
2100 avg a 1700 20 i
2101 avg a 1700 23 i
2102 avg a 1700 21 i
2103 avg a 1700 1700 i
2104 avg a 701 700 i
2105 avg a 701 701 i
2106 avg a 1186 1186 i
2517 bool_and a 16 16 i
2518 bool_or a 16 16 i
884 btrim f 25 25,25 iS
885 btrim f 25 25 iS
2015 btrim f 17 17,17 iS
3179 cardinality f 23 2277 iS
1345 cbrt f 701 701 iS
1711 ceil f 1700 1700 iS
2308 ceil f 701 701 iS
2167 ceiling f 1700 1700 iS
2320 ceiling f 701 701 iS
1372 char_length f 23 1042 iS
1381 char_length f 23 25 iS
1621 chr f 25 23 iS
2649 clock_timestamp f 1184 - vS
1216 col_description f 25 26,23 sS
3058 concat f 25 2276 sV2276
3059 concat_ws f 25 25,2276 sV2276
2829 corr a 701 701,701 i
1605 cos f 701 701 iS
2147 count a 20 2276 i
2803 count a 20 - i
2827 covar_pop a 701 701,701 i
2828 covar_samp a 701 701,701 i
3104 cume_dist w 701 - i
3990 cume_dist a 701 2276 iV2276
861 current_database f 19 - sS
1402 current_schema f 19 - sS
1403 current_schemas f 1003 16 sS
2077 current_setting f 25 25 sS
3294 current_setting f 25 25,16 sS
6177 date_bin f 1114 1186,1114,1114 iS
6178 date_bin f 1184 1186,1184,1184 iS
1171 date_part f 701 25,1184 sS
1172 date_part f 701 25,1186 iS
1273 date_part f 701 25,1266 iS
1384 date_part f 701 25,1082 iS
1385 date_part f 701 25,1083 iS
2021 date_part f 701 25,1114 iS
1217 date_trunc f 1184 25,1184 sS
1218 date_trunc f 1186 25,1186 iS
1284 date_trunc f 1184 25,1184,25 sS
2020 date_trunc f 1114 25,1114 iS
1947 decode f 17 25,25 iS
1608 degrees f 701 701 iS
3102 dense_rank w 20 - i
3992 dense_rank a 20 2276 iV2276
1946 encode f 25 17,25 iS
2519 every a 16 16 i
1347 exp f 701 701 iS
1732 exp f 1700 1700 iS
3112 first_value w 2283 2283 iS
1712 floor f 1700 1700 iS
2309 floor f 701 701 iS
3539 format f 25 25,2276 sV2276
3540 format f 25 25 s
1081 format_type f 25 26,23 s
3432 gen_random_uuid f 2950 - vS
938 generate_series f 1114 1114,1114,1186 iSR
939 generate_series f 1184 1184,1184,1186 sSR
1066 generate_series f 23 23,23,23 iSR
1067 generate_series f 23 23,23 iSR
1068 generate_series f 20 20,20,20 iSR
1069 generate_series f 20 20,20 iSR
3259 generate_series f 1700 1700,1700,1700 iSR
3260 generate_series f 1700 1700,1700 iSR
1191 generate_subscripts f 23 2277,23,16 iSR
1192 generate_subscripts f 23 2277,23 iSR
3012 has_column_privilege f 16 19,25,25,25 sS
3013 has_column_privilege f 16 19,25,21,25 sS
3014 has_column_privilege f 16 19,26,25,25 sS
3015 has_column_privilege f 16 19,26,21,25 sS
3016 has_column_privilege f 16 26,25,25,25 sS
3017 has_column_privilege f 16 26,25,21,25 sS
3018 has_column_privilege f 16 26,26,25,25 sS
3019 has_column_privilege f 16 26,26,21,25 sS
3020 has_column_privilege f 16 25,25,25 sS
3021 has_column_privilege f 16 25,21,25 sS
3022 has_column_privilege f 16 26,25,25 sS
3023 has_column_privilege f 16 26,21,25 sS
2250 has_database_privilege f 16 19,25,25 sS
2251 has_database_privilege f 16 19,26,25 sS
2252 has_database_privilege f 16 26,25,25 sS
2253 has_database_privilege f 16 26,26,25 sS
2254 has_database_privilege f 16 25,25 sS
2255 has_database_privilege f 16 26,25 sS
2268 has_schema_privilege f 16 19,25,25 sS
2269 has_schema_privilege f 16 19,26,25 sS
2270 has_schema_privilege f 16 26,25,25 sS
2271 has_schema_privilege f 16 26,26,25 sS
2272 has_schema_privilege f 16 25,25 sS
2273 has_schema_privilege f 16 26,25 sS
1922 has_table_privilege f 16 19,25,25 sS
1923 has_table_privilege f 16 19,26,25 sS
1924 has_table_privilege f 16 26,25,25 sS
1925 has_table_privilege f 16 26,26,25 sS
1926 has_table_privilege f 16 25,25 sS
1927 has_table_privilege f 16 26,25 sS
872 initcap f 25 25 iS
1373 isfinite f 16 1082 iS
1389 isfinite f 16 1184 iS
1390 isfinite f 16 1186 iS
2048 isfinite f 16 1114 iS
3175 json_agg a 114 2283 s
3956 json_array_length f 23 114 iS
3200 json_build_object f 114 2276 sV2276
3201 json_build_object f 114 - s
3951 json_extract_path f 114 114,1009 iSV25
3953 json_extract_path_text f 25 114,1009 iSV25
3968 json_typeof f 25 114 iS
3267 jsonb_agg a 3802 2283 s
3207 jsonb_array_length f 23 3802 iS
3273 jsonb_build_object f 3802 2276 sV2276
3274 jsonb_build_object f 3802 - s
3217 jsonb_extract_path f 3802 3802,1009 iSV25
3940 jsonb_extract_path_text f 25 3802,1009 iSV25
3210 jsonb_typeof f 25 3802 iS
1295 justify_days f 1186 1186 iS
1175 justify_hours f 1186 1186 iS
3106 lag w 2283 2283 iS
3107 lag w 2283 2283,23 iS
3113 last_value w 2283 2283 iS
3109 lead w 2283 2283 iS
3110 lead w 2283 2283,23 iS
3060 left f 25 25,23 iS
1317 length f 23 25 iS
1318 length f 23 1042 iS
1713 length f 23 17,19 sS
2010 length f 23 17 iS
1341 ln f 701 701 iS
1734 ln f 1700 1700 iS
1340 log f 701 701 iS
1736 log f 1700 1700,1700 iS
1741 log f 1700 1700 iS
1194 log10 f 701 701 iS
1481 log10 f 1700 1700 iS
870 lower f 25 25 iS
873 lpad f 25 25,23,25 iS
879 lpad f 25 25,23 iS
875 ltrim f 25 25,25 iS
881 ltrim f 25 25 iS
6195 ltrim f 17 17,17 iS
3846 make_date f 1082 23,23,23 iS
3464 make_interval f 1186 23,23,23,23,23,23,701 iS
3461 make_timestamp f 1114 23,23,23,23,23,701 iS
3462 make_timestamptz f 1184 23,23,23,23,23,701 sS
3463 make_timestamptz f 1184 23,23,23,23,23,701,25 sS
2050 max a 2277 2277 i
2115 max a 20 20 i
2116 max a 23 23 i
2117 max a 21 21 i
2118 max a 26 26 i
2119 max a 700 700 i
2120 max a 701 701 i
2122 max a 1082 1082 i
2123 max a 1083 1083 i
2124 max a 1266 1266 i
2126 max a 1114 1114 i
2127 max a 1184 1184 i
2128 max a 1186 1186 i
2129 max a 25 25 i
2130 max a 1700 1700 i
2244 max a 1042 1042 i
2797 max a 27 27 i
2311 md5 f 25 25 iS
2321 md5 f 25 17 iS
2051 min a 2277 2277 i
2131 min a 20 20 i
2132 min a 23 23 i
2133 min a 21 21 i
2134 min a 26 26 i
2135 min a 700 700 i
2136 min a 701 701 i
2138 min a 1082 1082 i
2139 min a 1083 1083 i
2140 min a 1266 1266 i
2142 min a 1114 1114 i
2143 min a 1184 1184 i
2144 min a 1186 1186 i
2145 min a 25 25 i
2146 min a 1700 1700 i
2245 min a 1042 1042 i
2798 min a 27 27 i
940 mod f 21 21,21 iS
941 mod f 23 23,23 iS
947 mod f 20 20,20 iS
1728 mod f 1700 1700,1700 iS
3984 mode a 2283 2283 i
1299 now f 1184 - sS
3114 nth_value w 2283 2283,23 iS
3105 ntile w 23 23 iS
1215 obj_description f 25 26,19 sS
1348 obj_description f 25 26 sS
720 octet_length f 23 17 iS
1374 octet_length f 23 25 iS
1375 octet_length f 23 1042 iS
1268 parse_ident f 1009 25,16 iS
3103 percent_rank w 701 - i
3988 percent_rank a 701 2276 iV2276
3974 percentile_cont a 701 701,701 i
3976 percentile_cont a 1186 701,1186 i
3980 percentile_cont a 1022 1022,701 i
3982 percentile_cont a 1187 1022,1186 i
3972 percentile_disc a 2283 701,2283 i
3978 percentile_disc a 2277 1022,2283 i
2880 pg_advisory_lock f 2278 20 vS
2886 pg_advisory_lock f 2278 23,23 vS
2884 pg_advisory_unlock f 16 20 vS
2890 pg_advisory_unlock f 16 23,23 vS
2892 pg_advisory_unlock_all f 2278 - vS
2026 pg_backend_pid f 23 - sS
2171 pg_cancel_backend f 16 23 vS
3815 pg_collation_is_visible f 16 26 sS
2168 pg_database_size f 20 19 vS
2324 pg_database_size f 20 26 vS
1597 pg_encoding_to_char f 19 23 sS
2081 pg_function_is_visible f 16 26 sS
1387 pg_get_constraintdef f 25 26 sS
2508 pg_get_constraintdef f 25 26,16 sS
1716 pg_get_expr f 25 194,26 sS
2509 pg_get_expr f 25 194,26,16 sS
2162 pg_get_function_arguments f 25 26 sS
2232 pg_get_function_identity_arguments f 25 26 sS
2165 pg_get_function_result f 25 26 sS
1643 pg_get_indexdef f 25 26 sS
2507 pg_get_indexdef f 25 26,23,16 sS
1686 pg_get_keywords f 2249 - sSR
3352 pg_get_partkeydef f 25 26 sS
1665 pg_get_serial_sequence f 25 25,25 sS
6174 pg_get_statisticsobjdef_columns f 25 26 sS
1642 pg_get_userbyid f 19 26 sS
1640 pg_get_viewdef f 25 25 sS
1641 pg_get_viewdef f 25 26 sS
2505 pg_get_viewdef f 25 25,16 sS
2506 pg_get_viewdef f 25 26,16 sS
3159 pg_get_viewdef f 25 26,23 sS
2998 pg_indexes_size f 20 2205 vS
3810 pg_is_in_recovery f 16 - vS
2560 pg_postmaster_start_time f 1184 - sS
6121 pg_relation_is_publishable f 16 2205 sS
2325 pg_relation_size f 20 2205 vS
2332 pg_relation_size f 20 2205,25 vS
2288 pg_size_pretty f 25 20 iS
3166 pg_size_pretty f 25 1700 iS
2626 pg_sleep f 2278 701 vS
2079 pg_table_is_visible f 16 26 sS
2997 pg_table_size f 20 2205 vS
2096 pg_terminate_backend f 16 23,20 vS
2286 pg_total_relation_size f 20 2205 vS
2882 pg_try_advisory_lock f 16 20 vS
2888 pg_try_advisory_lock f 16 23,23 vS
2080 pg_type_is_visible f 16 26 sS
1619 pg_typeof f 2206 2276 s
1610 pi f 701 - iS
849 position f 23 25,25 iS
2014 position f 23 17,17 iS
1368 power f 701 701,701 iS
2169 power f 1700 1700,1700 iS
1282 quote_ident f 25 25 iS
1283 quote_literal f 25 25 iS
1285 quote_literal f 25 2283 sS
1289 quote_nullable f 25 25 i
1290 quote_nullable f 25 2283 s
1609 radians f 701 701 iS
1598 random f 701 - vS
3101 rank w 20 - i
3986 rank a 20 2276 iV2276
3396 regexp_match f 1009 25,25 iS
3397 regexp_match f 1009 25,25,25 iS
2284 regexp_replace f 25 25,25,25 iS
2285 regexp_replace f 25 25,25,25,25 iS
6251 regexp_replace f 25 25,25,25,23,23,25 iS
6252 regexp_replace f 25 25,25,25,23,23 iS
6253 regexp_replace f 25 25,25,25,23 iS
2826 regr_intercept a 701 701,701 i
2825 regr_slope a 701 701,701 i
1622 repeat f 25 25,23 iS
2087 replace f 25 25,25,25 iS
3062 reverse f 25 25 iS
3061 right f 25 25,23 iS
1342 round f 701 701 iS
1707 round f 1700 1700,23 iS
1708 round f 1700 1700 iS
3100 row_number w 20 - i
3155 row_to_json f 114 2249 sS
3156 row_to_json f 114 2249,16 sS
874 rpad f 25 25,23,25 iS
880 rpad f 25 25,23 iS
876 rtrim f 25 25,25 iS
882 rtrim f 25 25 iS
6196 rtrim f 17 17,17 iS
2078 set_config f 25 25,25,16 v
1993 shobj_description f 25 26,19 sS
1706 sign f 1700 1700 iS
2310 sign f 701 701 iS
1604 sin f 701 701 iS
2088 split_part f 25 25,25,23 iS
1344 sqrt f 701 701 iS
1730 sqrt f 1700 1700 iS
3696 starts_with f 16 25,25 iS
2648 statement_timestamp f 1184 - sS
2154 stddev a 1700 20 i
2155 stddev a 1700 23 i
2156 stddev a 1700 21 i
2157 stddev a 701 700 i
2158 stddev a 701 701 i
2159 stddev a 1700 1700 i
2724 stddev_pop a 1700 20 i
2725 stddev_pop a 1700 23 i
2726 stddev_pop a 1700 21 i
2727 stddev_pop a 701 700 i
2728 stddev_pop a 701 701 i
2729 stddev_pop a 1700 1700 i
2712 stddev_samp a 1700 20 i
2713 stddev_samp a 1700 23 i
2714 stddev_samp a 1700 21 i
2715 stddev_samp a 701 700 i
2716 stddev_samp a 701 701 i
2717 stddev_samp a 1700 1700 i
3538 string_agg a 25 25,25 i
3545 string_agg a 17 17,17 i
376 string_to_array f 1009 25,25,25 i
394 string_to_array f 1009 25,25 i
868 strpos f 23 25,25 iS
877 substr f 25 25,23,23 iS
883 substr f 25 25,23 iS
2085 substr f 17 17,23,23 iS
2086 substr f 17 17,23 iS
936 substring f 25 25,23,23 iS
937 substring f 25 25,23 iS
2012 substring f 17 17,23,23 iS
2013 substring f 17 17,23 iS
2073 substring f 25 25,25 iS
2074 substring f 25 25,25,25 iS
2107 sum a 1700 20 i
2108 sum a 20 23 i
2109 sum a 20 21 i
2110 sum a 700 700 i
2111 sum a 701 701 i
2113 sum a 1186 1186 i
2114 sum a 1700 1700 i
1606 tan f 701 701 iS
1768 to_char f 25 1186,25 sS
1770 to_char f 25 1184,25 sS
1772 to_char f 25 1700,25 sS
1773 to_char f 25 23,25 sS
1774 to_char f 25 20,25 sS
1775 to_char f 25 700,25 sS
1776 to_char f 25 701,25 sS
2049 to_char f 25 1114,25 sS
1780 to_date f 1082 25,25 sS
2089 to_hex f 25 23 iS
2090 to_hex f 25 20 iS
3176 to_json f 114 2283 sS
3787 to_jsonb f 3802 2283 sS
1777 to_number f 1700 25,25 sS
3495 to_regclass f 2205 25 sS
3493 to_regtype f 2206 25 sS
1158 to_timestamp f 1184 701 iS
1778 to_timestamp f 1184 25,25 sS
2647 transaction_timestamp f 1184 - sS
878 translate f 25 25,25,25 iS
1343 trunc f 701 701 iS
1709 trunc f 1700 1700,23 iS
1710 trunc f 1700 1700 iS
2943 txid_current f 20 - sS
2331 unnest f 2283 2277 iSR
871 upper f 25 25 iS
2718 var_pop a 1700 20 i
2719 var_pop a 1700 23 i
2720 var_pop a 1700 21 i
2721 var_pop a 701 700 i
2722 var_pop a 701 701 i
2723 var_pop a 1700 1700 i
2641 var_samp a 1700 20 i
2642 var_samp a 1700 23 i
2643 var_samp a 1700 21 i
2644 var_samp a 701 700 i
2645 var_samp a 701 701 i
2646 var_samp a 1700 1700 i
2148 variance a 1700 20 i
2149 variance a 1700 23 i
2150 variance a 1700 21 i
2151 variance a 701 700 i
2152 variance a 701 701 i
2153 variance a 1700 1700 i
89 version f 25 - sS
320 width_bucket f 23 701,701,701,23 iS
2170 width_bucket f 23 1700,1700,1700,23 iS
"""
