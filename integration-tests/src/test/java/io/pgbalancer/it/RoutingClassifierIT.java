// purpose: the classifier corpus end to end: each runnable case runs through the proxy; the server says where it ran.
package io.pgbalancer.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.pgbalancer.cluster.LocalCluster;
import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every case of the table below is a statement of pgbalancer/src/test/resources/sql/classifier-corpus.tsv that runs on
 * the schema made in {@link #setUp()}, with the server it must run on: {@code replica} for corpus READs (and BEGIN READ
 * ONLY, and the replica hint), {@code primary} for the rest, {@code replica 25006} for writes forced to a replica by a
 * hint, which the replica must refuse. The expectation is checked against the corpus file, so the two cannot drift.
 *
 * <p>How the server is known: a raw wire client sends the statement and, in the same cycle (before the Sync, or in the
 * same simple Query for multi-statement texts), {@code SELECT inet_server_port()}. A cycle is never split, so the port
 * is the server's own account of where the statement ran. Single statements go as an extended-protocol Parse of the
 * exact corpus text (with text parameters where the text has $n); texts of several statements go as one simple Query
 * with the port query appended after a newline and a semicolon, which adds a plain read and so keeps the route.
 */
class RoutingClassifierIT {
    private static final String DB = "routing_classifier_it";
    private static final String POOL = "pool: {mode: transaction, size: 4, checkout_timeout: 5s}\n";
    /** Clients log in without a password (the raw client speaks no SCRAM); the proxy logs in to the servers as app. */
    static final String TRUST_PROXY = POOL + String.join("\n",
            "auth:",
            "  method: trust",
            "  users:",
            "    - {name: app, password: \"${APP_PASSWORD}\"}",
            "");
    private static final String PORT_QUERY = "SELECT inet_server_port()";

    record Case(String expect, String sql, List<String> params) {
    }

    private static Case c(String expect, String sql, String... params) {
        return new Case(expect, sql, List.of(params));
    }

    /**
     * The corpus cases that run on this schema, in file order, statements unescaped. Left out: statements that cannot
     * run here or in one cycle (parameters without a value, missing extensions or superuser rights, COPY, VACUUM,
     * cursors and savepoints outside a transaction block, PREPARE TRANSACTION, syntax PostgreSQL 15 rejects, garbage).
     */
    private static final List<Case> CASES = List.of(
            c("replica", "SELECT 1"),
            c("replica", "select 1"),
            c("replica", "SeLeCt * FrOm users"),
            c("replica", "SELECT 1;"),
            c("replica", "  \n\t SELECT 1  \n"),
            c("replica", "SELECT * FROM users WHERE id = $1", "1"),
            c("replica", "SELECT a, b FROM t WHERE a > 10 ORDER BY b DESC LIMIT 5 OFFSET 10"),
            c("replica", "SELECT count(*) FROM orders GROUP BY customer_id HAVING count(*) > 1"),
            c("replica", "SELECT * FROM a JOIN b USING (id) LEFT JOIN c ON c.id = a.cid"),
            c("replica", "SELECT now()"),
            c("replica", "SELECT current_timestamp, current_user, session_user"),
            c("replica", "SELECT version()"),
            c("replica", "SELECT 1 AS one, 'two' AS two"),
            c("replica", "SELECT '2024-01-01'::date + interval '1 day'"),
            c("replica", "SELECT data->>'name', data #> '{a,b}' FROM docs WHERE data @> '{\"k\":1}'"),
            c("replica", "SELECT arr[1:2], arr[3] FROM t"),
            c("replica", "SELECT * FROM generate_series(1, 10) AS s(i)"),
            c("replica", "SELECT DISTINCT ON (a) a, b FROM t ORDER BY a, b"),
            c("replica", "SELECT exists(SELECT 1 FROM t WHERE x = 1)"),
            c("replica", "SELECT * FROM t WHERE x IN (SELECT y FROM u WHERE z = 'a')"),
            c("replica", "SELECT substring('hello' FROM 2 FOR 3)"),
            c("replica", "SELECT overlay('Txxxxas' placing 'hom' from 2 for 4)"),
            c("replica", "SELECT row_number() OVER (PARTITION BY a ORDER BY b) FROM t"),
            c("replica", "SELECT * FROM t FOR READ ONLY"),
            c("replica", "SELECT x FROM t WHERE y=-1"),
            c("replica", "SELECT lower(name) FROM \"Users\""),
            c("replica", "SELECT * FROM t1 UNION SELECT * FROM t2 EXCEPT SELECT * FROM t3"),
            c("replica", "SELECT * FROM t TABLESAMPLE SYSTEM (10)"),
            c("replica", "SELECT * FROM LATERAL (SELECT 1) s"),
            c("replica", "SELECT pg_is_in_recovery()"),
            c("replica", "SELECT pg_last_wal_replay_lsn()"),
            c("replica", "SELECT txid_current_snapshot()"),
            c("replica", "SELECT 1 -- trailing comment with INSERT and FOR UPDATE"),
            c("replica", "SELECT 1 /* block with ; DELETE FROM x; */"),
            c("replica", "SELECT 'semi;colon', 'it''s', 'a -- not a comment'"),
            c("replica", "SELECT \"select\", \"FOR UPDATE\", \"insert\" FROM \"delete\""),
            c("replica", "SELECT 'INSERT INTO t VALUES (1)'"),
            c("replica", "SELECT 'x FOR UPDATE' FROM t"),
            c("replica", "SELECT \"FOR UPDATE\" FROM t"),
            c("replica", "SELECT 1 /* FOR UPDATE */ FROM t"),
            c("replica", "SELECT 1 -- FOR UPDATE\nFROM t"),
            c("replica", "SELECT /* nested /* INTO x */ still comment FOR UPDATE */ 1"),
            c("replica", "SELECT $$ DELETE FROM t; SELECT nextval('s') $$"),
            c("replica", "SELECT $body$ INSERT INTO x $$ nested $$ $body$ AS code"),
            c("replica", "SELECT $a$ FOR UPDATE $a$, $b$ INTO t $b$"),
            c("replica", "SELECT E'it\\'s INTO x' AS s"),
            c("replica", "SELECT E'back\\\\slash', 'plain\\' FROM t"),
            c("replica", "SELECT e'\\'; DELETE FROM t; --' AS s"),
            c("replica", "SELECT U&'d\\0061t\\+000061 INTO' AS u"),
            c("replica", "SELECT B'1010', X'1F', N'national INTO' FROM t"),
            c("replica", "SELECT 'nextval(1)' FROM t"),
            c("replica", "SELECT \"nextval\" FROM sequences_view"),
            c("replica", "SELECT nextval FROM t"),
            c("replica", "SELECT x$y, a$1 FROM t"),
            c("replica", "SELECT 'multi\nline\nstring INSERT' FROM t"),
            c("replica", "SELECT 1 AS \"into\""),
            c("replica", "SELECT 'don''t INSERT INTO'"),
            c("replica", "SELECT 1::\"select\""),
            c("replica", "SELECT my_schema.my_function(1)"),
            c("primary", "SELECT * FROM t FOR UPDATE"),
            c("primary", "select * from t for update skip locked"),
            c("primary", "SELECT * FROM t FOR UPDATE OF t NOWAIT"),
            c("primary", "SELECT * FROM t FOR NO KEY UPDATE"),
            c("primary", "SELECT * FROM t FOR SHARE"),
            c("primary", "SELECT * FROM t FOR KEY SHARE"),
            c("primary", "SELECT * FROM (SELECT * FROM t FOR UPDATE) s"),
            c("primary", "SELECT * FROM t WHERE id IN (SELECT id FROM u FOR UPDATE)"),
            c("primary", "WITH c AS (SELECT * FROM jobs WHERE state = 'new' LIMIT 1 FOR UPDATE SKIP LOCKED) SELECT * FROM c"),
            c("primary", "SELECT * FROM t\nFOR\n  UPDATE"),
            c("primary", "SELECT * FROM t /* lock it */ FOR /* really */ UPDATE"),
            c("primary", "(SELECT * FROM t FOR SHARE)"),
            c("primary", "SELECT * INTO new_table FROM t"),
            c("primary", "SELECT a, b INTO TABLE backup FROM t"),
            c("primary", "SELECT * INTO TEMP tmp FROM t"),
            c("primary", "SELECT * INTO TEMPORARY TABLE tmp FROM t"),
            c("primary", "SELECT * INTO LOCAL TEMP tmp FROM t"),
            c("primary", "SELECT * INTO pg_temp.tmp FROM t"),
            c("primary", "INSERT INTO t VALUES (1)"),
            c("primary", "INSERT INTO t (a, b) SELECT a, b FROM u"),
            c("primary", "INSERT INTO t VALUES (1) ON CONFLICT (id) DO UPDATE SET v = excluded.v"),
            c("replica", "SELECT 'SELECT * INTO x FROM t'"),
            c("replica", "SELECT 1 /* INTO x */ FROM t"),
            c("replica", "SELECT \"into\" FROM t"),
            c("primary", "UPDATE t SET a = 1 WHERE id = 2"),
            c("primary", "DELETE FROM t WHERE id = 1"),
            c("primary", "WITH x AS (INSERT INTO t VALUES (1) RETURNING id) SELECT * FROM x"),
            c("primary", "WITH x AS (UPDATE t SET a = 1 RETURNING *) SELECT count(*) FROM x"),
            c("primary", "WITH a AS (SELECT 1), b AS (DELETE FROM t WHERE id IN (SELECT * FROM a) RETURNING id) SELECT * FROM b"),
            c("primary", "WITH a AS MATERIALIZED (SELECT 1), b AS NOT MATERIALIZED (INSERT INTO t SELECT * FROM a RETURNING *) SELECT 1"),
            c("primary", "WITH x AS (SELECT id FROM t) UPDATE u SET flag = true FROM x WHERE u.id = x.id"),
            c("primary", "WITH x AS (SELECT 1) INSERT INTO t SELECT * FROM x"),
            c("primary", "WITH x AS (SELECT 1) DELETE FROM t WHERE id IN (SELECT * FROM x)"),
            c("primary", "with  x as ( insert into t default values returning id ) select id from x"),
            c("replica", "WITH x AS (SELECT 1 AS a) SELECT a FROM x"),
            c("replica", "WITH RECURSIVE r(n) AS (VALUES (1) UNION ALL SELECT n + 1 FROM r WHERE n < 10) SELECT sum(n) FROM r"),
            c("replica", "WITH x AS (SELECT 'DELETE FROM t' AS q) SELECT q FROM x"),
            c("replica", "WITH x AS (SELECT \"update\" FROM t) SELECT * FROM x"),
            c("replica", "WITH RECURSIVE g(id, path) AS (SELECT 1, ARRAY[1] UNION ALL SELECT e.dst, g.path || e.dst FROM e JOIN g ON e.src = g.id) CYCLE id SET is_cycle USING cpath SELECT * FROM g"),
            c("primary", "SELECT nextval('my_seq')"),
            c("primary", "SELECT NEXTVAL('my_seq')"),
            c("primary", "SELECT pg_catalog.nextval('my_seq')"),
            c("primary", "SELECT \"nextval\"('my_seq')"),
            c("primary", "SELECT pg_catalog.\"nextval\"('s')"),
            c("primary", "SELECT nextval ('my_seq')"),
            c("primary", "SELECT nextval/* c */('my_seq')"),
            c("primary", "SELECT setval('s', 42)"),
            c("primary", "SELECT id, nextval('s') FROM t"),
            c("primary", "SELECT * FROM t WHERE id = (SELECT nextval('s'))"),
            c("primary", "VALUES (nextval('s'))"),
            c("primary", "SELECT pg_advisory_xact_lock(1)"),
            c("primary", "SELECT pg_try_advisory_xact_lock(1, 2)"),
            c("primary", "SELECT pg_advisory_unlock(1)"),
            c("primary", "SELECT pg_advisory_unlock_all()"),
            c("primary", "SELECT pg_advisory_lock(42)"),
            c("primary", "SELECT pg_advisory_lock_shared(42)"),
            c("primary", "SELECT pg_try_advisory_lock(42)"),
            c("primary", "select PG_TRY_ADVISORY_LOCK_SHARED(1, 2)"),
            c("primary", "SELECT pg_catalog.pg_advisory_lock(hashtext('job'))"),
            c("primary", "SELECT lo_create(0)"),
            c("primary", "SELECT pg_notify('chan', 'payload')"),
            c("primary", "SELECT txid_current()"),
            c("primary", "SELECT pg_current_xact_id()"),
            c("primary", "SELECT pg_terminate_backend(123)"),
            c("primary", "SELECT pg_current_wal_lsn()"),
            c("primary", "SELECT set_config('search_path', 'app', false)"),
            c("primary", "SELECT set_config('request.jwt.claims', $1, true)", "{}"),
            c("primary", "SELECT U&\"nextval\"('s')"),
            c("primary", "SELECT * FROM nextval('s')"),
            c("primary", "SELECT x FROM t, LATERAL pg_catalog.nextval('s') n"),
            c("primary", "INSERT INTO pg_advisory_lock (a) VALUES (1)"),
            c("primary", "SELECT pg_catalog.set_config('search_path', '', false);"),
            c("replica", "SELECT nextval_for_reporting FROM t"),
            c("replica", "SELECT my_nextval('s')"),
            c("replica", "SELECT 'pg_advisory_lock(1)'"),
            c("replica", "EXPLAIN SELECT * FROM t"),
            c("replica", "EXPLAIN VERBOSE SELECT * FROM t"),
            c("replica", "EXPLAIN (COSTS OFF) SELECT * FROM t"),
            c("replica", "EXPLAIN (FORMAT JSON, VERBOSE) SELECT * FROM t"),
            c("replica", "EXPLAIN (ANALYZE false) SELECT * FROM t"),
            c("replica", "EXPLAIN (ANALYZE off, COSTS true) SELECT * FROM t"),
            c("replica", "EXPLAIN (ANALYZE 0) SELECT 1"),
            c("replica", "EXPLAIN (analyse 'false') SELECT 1"),
            c("replica", "EXPLAIN INSERT INTO t VALUES (1)"),
            c("replica", "EXPLAIN SELECT nextval('s')"),
            c("primary", "EXPLAIN ANALYZE SELECT * FROM t"),
            c("primary", "explain analyse select 1"),
            c("primary", "EXPLAIN ANALYZE VERBOSE SELECT * FROM t"),
            c("primary", "EXPLAIN (ANALYZE) SELECT * FROM t"),
            c("primary", "EXPLAIN (ANALYZE true, BUFFERS) SELECT * FROM t"),
            c("primary", "EXPLAIN (ANALYZE on) SELECT 1"),
            c("primary", "EXPLAIN (FORMAT JSON, ANALYZE) SELECT 1"),
            c("primary", "EXPLAIN (COSTS off, ANALYZE, TIMING off) SELECT 1"),
            c("primary", "EXPLAIN ( analyze   1 ) SELECT 1"),
            c("replica", "SHOW search_path"),
            c("replica", "SHOW ALL"),
            c("replica", "show transaction isolation level"),
            c("replica", "SHOW TIME ZONE"),
            c("replica", "TABLE users"),
            c("replica", "table public.users"),
            c("replica", "VALUES (1, 'a'), (2, 'b')"),
            c("replica", "VALUES (1) ORDER BY 1"),
            c("replica", "(SELECT 1) UNION (SELECT 2)"),
            c("replica", "((SELECT 1))"),
            c("replica", "(SELECT a FROM t ORDER BY a LIMIT 1) UNION ALL (SELECT b FROM u)"),
            c("replica", "(VALUES (1))"),
            c("replica", "(TABLE t)"),
            c("replica", "(WITH x AS (SELECT 1) SELECT * FROM x)"),
            c("primary", "(SELECT nextval('s'))"),
            c("primary", "/* pgbalancer: primary */ SELECT 1"),
            c("primary", "/*pgbalancer:primary*/SELECT 1"),
            c("primary", "/*   PgBalancer   :   PRIMARY   */ select 1"),
            c("primary", "  \n/* pgbalancer:\n primary */\nSELECT 1"),
            c("replica", "/* pgbalancer: replica */ SELECT 1"),
            c("replica 25006", "/* PGBALANCER: REPLICA */ SELECT nextval('s')"),
            c("replica 25006", "-- leading line comment\n/* pgbalancer: replica */ SELECT * FROM t FOR UPDATE"),
            c("replica", "/* some other comment */ /* pgbalancer: replica */ SELECT 1"),
            c("replica", "SELECT 1 /* pgbalancer: primary */"),
            c("primary", "SELECT nextval('s') /* pgbalancer: replica */"),
            c("replica", "/* pgbalancer: primary please */ SELECT 1"),
            c("replica", "/* pgbalancer primary */ SELECT 1"),
            c("replica", "/* pgbalancer: master */ SELECT 1"),
            c("replica", "-- pgbalancer: primary\nSELECT 1"),
            c("replica", "SELECT '/* pgbalancer: primary */'"),
            c("primary", "/* pgbalancer: primary */ SELECT 1; SELECT 2"),
            c("primary", "BEGIN"),
            c("primary", "begin;"),
            c("primary", "BEGIN WORK"),
            c("primary", "BEGIN TRANSACTION"),
            c("primary", "BEGIN ISOLATION LEVEL READ COMMITTED"),
            c("primary", "BEGIN TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE"),
            c("replica", "BEGIN READ ONLY"),
            c("replica", "begin transaction read only"),
            c("replica", "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"),
            c("primary", "START TRANSACTION"),
            c("replica", "START TRANSACTION READ ONLY, DEFERRABLE"),
            c("primary", "START TRANSACTION ISOLATION LEVEL READ UNCOMMITTED"),
            c("primary", "COMMIT"),
            c("primary", "commit work"),
            c("primary", "COMMIT TRANSACTION"),
            c("primary", "END"),
            c("primary", "end transaction"),
            c("primary", "ROLLBACK"),
            c("primary", "rollback work"),
            c("primary", "ABORT"),
            c("primary", "ABORT TRANSACTION"),
            c("primary", "BEGIN; SELECT 1; COMMIT"),
            c("primary", "COMMIT; BEGIN; SELECT 1"),
            c("replica", "BEGIN READ ONLY; SELECT * FROM t"),
            c("primary", "DO $$ BEGIN PERFORM 1; END $$"),
            c("primary", "SET search_path TO public"),
            c("primary", "SET search_path = public, \"My Schema\""),
            c("primary", "SET SESSION statement_timeout = '5s'"),
            c("primary", "SET TIME ZONE 'UTC'"),
            c("primary", "SET SCHEMA 'app'"),
            c("primary", "SET NAMES 'UTF8'"),
            c("primary", "SET application_name TO DEFAULT"),
            c("primary", "RESET search_path"),
            c("primary", "RESET ALL"),
            c("primary", "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY"),
            c("primary", "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ WRITE"),
            c("primary", "SET myapp.tenant_id = '42'"),
            c("primary", "SET LOCAL search_path TO app"),
            c("primary", "SET LOCAL statement_timeout = 0"),
            c("primary", "SET TRANSACTION ISOLATION LEVEL SERIALIZABLE"),
            c("primary", "SET TRANSACTION READ ONLY"),
            c("primary", "SET CONSTRAINTS ALL DEFERRED"),
            c("primary", "DISCARD PLANS"),
            c("primary", "DISCARD SEQUENCES"),
            c("primary", "SET search_path TO a; SET work_mem = '64MB'"),
            c("primary", "SET statement_timeout = 0; SELECT 1"),
            c("primary", "LISTEN my_channel"),
            c("primary", "listen \"Mixed Case\""),
            c("primary", "UNLISTEN my_channel"),
            c("primary", "UNLISTEN *"),
            c("primary", "NOTIFY my_channel, 'hello'"),
            c("primary", "CREATE TEMP TABLE tmp (id int)"),
            c("primary", "CREATE TEMPORARY TABLE tmp AS SELECT 1"),
            c("primary", "create global temporary table tmp (id int) on commit drop"),
            c("primary", "CREATE LOCAL TEMP TABLE IF NOT EXISTS tmp (id int)"),
            c("primary", "CREATE TABLE pg_temp.tmp (id int)"),
            c("primary", "CREATE TEMP VIEW v AS SELECT 1"),
            c("primary", "CREATE OR REPLACE TEMP VIEW v AS SELECT 1"),
            c("primary", "CREATE TEMP RECURSIVE VIEW v (n) AS VALUES (1)"),
            c("primary", "CREATE TEMPORARY SEQUENCE s"),
            c("primary", "CREATE FUNCTION pg_temp.f() RETURNS int AS 'SELECT 1' LANGUAGE sql"),
            c("primary", "CREATE TABLE temp (id int)"),
            c("primary", "CREATE VIEW v AS SELECT * FROM temp"),
            c("primary", "DECLARE c CURSOR WITH HOLD FOR SELECT * FROM t"),
            c("primary", "declare c no scroll cursor with hold for select 1"),
            c("primary", "PREPARE q AS SELECT 1"),
            c("primary", "PREPARE q (int, text) AS SELECT * FROM t WHERE id = $1 AND name = $2"),
            c("primary", "SET ROLE admin"),
            c("primary", "SET role = 'admin'"),
            c("primary", "SET LOCAL ROLE admin"),
            c("primary", "SELECT 1; LISTEN jobs"),
            c("replica", "SELECT 1; SELECT 2"),
            c("replica", "SELECT 1; SELECT 2; SELECT 3;"),
            c("primary", "SELECT 1; INSERT INTO t VALUES (1)"),
            c("primary", "INSERT INTO t VALUES (1); SELECT 1"),
            c("primary", "SELECT 1; SELECT nextval('s')"),
            c("replica", "SELECT 'a;b'; SELECT $$;$$"),
            c("replica", ";;SELECT 1;;"),
            c("primary", "CREATE FUNCTION f() RETURNS int LANGUAGE sql BEGIN ATOMIC SELECT 1; SELECT CASE WHEN true THEN 1 END; END"),
            c("primary", "CREATE PROCEDURE p() LANGUAGE sql BEGIN ATOMIC INSERT INTO t VALUES (1); END; SELECT 1"),
            c("primary", "ANALYZE t"),
            c("primary", "GRANT SELECT ON t TO bob"),
            c("primary", "CALL my_proc(1)"),
            c("primary", "REFRESH MATERIALIZED VIEW mv"),
            c("primary", "COMMENT ON TABLE t IS 'SELECT only'"),
            c("primary", "UPDATE pgbench_accounts SET abalance = abalance + -4220 WHERE aid = 64553;"),
            c("replica", "SELECT abalance FROM pgbench_accounts WHERE aid = 64553;"),
            c("primary", "UPDATE pgbench_tellers SET tbalance = tbalance + -4220 WHERE tid = 7;"),
            c("primary", "UPDATE pgbench_branches SET bbalance = bbalance + -4220 WHERE bid = 1;"),
            c("primary", "INSERT INTO pgbench_history (tid, bid, aid, delta, mtime) VALUES (7, 1, 64553, -4220, CURRENT_TIMESTAMP);"),
            c("primary", "END;"),
            c("primary", "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2;", "1", "1"),
            c("replica", "SELECT abalance FROM pgbench_accounts WHERE aid = $1;", "1"),
            c("replica", "select count(*) from pgbench_branches"),
            c("replica", "select o.n, p.partstrat, pg_catalog.count(i.inhparent) from pg_catalog.pg_class as c join pg_catalog.pg_namespace as n on (n.oid = c.relnamespace) cross join lateral (select pg_catalog.array_position(pg_catalog.current_schemas(true), n.nspname)) as o(n) left join pg_catalog.pg_partitioned_table as p on (p.partrelid = c.oid) left join pg_catalog.pg_inherits as i on (c.oid = i.inhparent) where c.relname = 'pgbench_accounts' and o.n is not null group by 1, 2 order by 1 asc limit 1"),
            c("primary", "BEGIN; UPDATE pgbench_accounts SET abalance = abalance + 1 WHERE aid = 1; SELECT abalance FROM pgbench_accounts WHERE aid = 1; END;"),
            c("replica", "SELECT typinfo.typtype, typinfo.typname, typinfo.typelem, typinfo.typdelim, typinfo.typrelid FROM pg_catalog.pg_type typinfo WHERE typinfo.oid = $1", "23"),
            c("replica", "SELECT pg_type.oid, typname   FROM pg_catalog.pg_type   LEFT   JOIN (select ns.oid as nspoid, ns.nspname, r.r           from pg_namespace as ns           join ( select s.r, (current_schemas(false))[s.r] as nspname                    from generate_series(1, array_upper(current_schemas(false), 1)) as s(r) ) as r          using ( nspname )        ) as sp     ON sp.nspoid = typnamespace  WHERE typname = $1  ORDER BY sp.r, pg_type.oid DESC LIMIT 1", "23"),
            c("replica", "SELECT n.nspname = ANY(current_schemas(true)), n.nspname, t.typname FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON t.typnamespace = n.oid WHERE t.oid = $1", "23"),
            c("replica", "SELECT e.typdelim FROM pg_catalog.pg_type t, pg_catalog.pg_type e WHERE t.oid = $1 and t.typelem = e.oid", "23"),
            c("replica", "SELECT t.typname,t.oid FROM pg_catalog.pg_type t JOIN pg_catalog.pg_namespace n ON (t.typnamespace = n.oid)  WHERE n.nspname  != 'pg_toast' AND  (t.typrelid = 0 OR (SELECT c.relkind = 'c' FROM pg_catalog.pg_class c WHERE c.oid = t.typrelid))"),
            c("replica", "select current_schema()"),
            c("replica", "SHOW TRANSACTION ISOLATION LEVEL"),
            c("primary", "SET extra_float_digits = 3"),
            c("primary", "SET application_name = 'PostgreSQL JDBC Driver'"),
            c("primary", "SET SESSION CHARACTERISTICS AS TRANSACTION ISOLATION LEVEL READ COMMITTED"),
            c("replica", "SELECT NULL AS TABLE_CAT, n.nspname AS TABLE_SCHEM, c.relname AS TABLE_NAME,  CASE n.nspname ~ '^pg_' OR n.nspname = 'information_schema'  WHEN true THEN CASE  WHEN n.nspname = 'pg_catalog' OR n.nspname = 'information_schema' THEN CASE c.relkind   WHEN 'r' THEN 'SYSTEM TABLE'   WHEN 'v' THEN 'SYSTEM VIEW'   ELSE NULL   END  ELSE NULL  END  ELSE CASE c.relkind  WHEN 'r' THEN 'TABLE'  WHEN 'p' THEN 'PARTITIONED TABLE'  WHEN 'S' THEN 'SEQUENCE'  WHEN 'v' THEN 'VIEW'  WHEN 'c' THEN 'TYPE'  WHEN 'f' THEN 'FOREIGN TABLE'  WHEN 'm' THEN 'MATERIALIZED VIEW'  ELSE NULL  END  END  AS TABLE_TYPE, d.description AS REMARKS,  '' as TYPE_CAT, '' as TYPE_SCHEM, '' as TYPE_NAME, '' AS SELF_REFERENCING_COL_NAME, '' AS REF_GENERATION  FROM pg_catalog.pg_namespace n, pg_catalog.pg_class c  LEFT JOIN pg_catalog.pg_description d ON (c.oid = d.objoid AND d.objsubid = 0  and d.classoid = 'pg_class'::regclass)  WHERE c.relnamespace = n.oid  AND c.relname LIKE 'users' ORDER BY TABLE_TYPE,TABLE_SCHEM,TABLE_NAME"),
            c("primary", "TRUNCATE t"),
            c("primary", "EXPLAIN ANALYZE DELETE FROM t"),
            c("primary", "WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x")
    );

    @BeforeAll
    static void setUp() throws Exception {
        LocalCluster cl = TestCluster.get();
        try (Connection c = TestCluster.directSuperuser("postgres"); Statement st = c.createStatement()) {
            st.execute("drop database if exists " + DB + " with (force)");
            st.execute("create database " + DB + " owner app");
            st.execute("do $$ begin"
                    + " if not exists (select from pg_roles where rolname = 'bob') then create role bob; end if;"
                    + " if not exists (select from pg_roles where rolname = 'admin') then create role admin; end if;"
                    + " end $$");
            st.execute("grant admin to app");
        }
        try (Connection c = DriverManager.getConnection(cl.jdbcUrl(cl.primaryPort(), DB), "app",
                TestCluster.APP_PASSWORD); Statement st = c.createStatement()) {
            st.execute(String.join(";\n",
                    "CREATE TABLE t (id int, a int, b int, x int, y int, v int, note text, name text, arr int[],"
                            + " data jsonb, nextval int, nextval_for_reporting int, \"update\" int, \"into\" int,"
                            + " \"FOR UPDATE\" int, flag boolean, x$y int, a$1 int)",
                    "CREATE UNIQUE INDEX t_id_key ON t (id)",
                    "INSERT INTO t (id, a, b, x, y, v, arr) SELECT g, g, g, g, g, g, ARRAY[g, g, g]"
                            + " FROM generate_series(2, 10) g",
                    "CREATE TABLE u (id int, a int, b int, y int, z text, flag boolean)",
                    "INSERT INTO u VALUES (2, 2, 2, 2, 'a', false)",
                    "CREATE TABLE users (id int, name text)",
                    "CREATE TABLE \"Users\" (id int, name text)",
                    "CREATE TABLE orders (id int, customer_id int)",
                    "CREATE TABLE a (id int, cid int)",
                    "CREATE TABLE b (id int)",
                    "CREATE TABLE c (id int)",
                    "CREATE TABLE docs (data jsonb)",
                    "CREATE TABLE t1 (x int)",
                    "CREATE TABLE t2 (x int)",
                    "CREATE TABLE t3 (x int)",
                    "CREATE TABLE e (src int, dst int)",
                    "INSERT INTO e VALUES (1, 2), (2, 1)",
                    "CREATE TABLE jobs (id int, state text)",
                    "CREATE TABLE pg_advisory_lock (a int)",
                    "CREATE TABLE \"delete\" (\"select\" int, \"FOR UPDATE\" int, \"insert\" int)",
                    "CREATE SEQUENCE s",
                    "CREATE SEQUENCE my_seq",
                    "CREATE VIEW sequences_view AS SELECT 1 AS \"nextval\"",
                    "CREATE DOMAIN \"select\" AS int",
                    "CREATE FUNCTION my_nextval(text) RETURNS text LANGUAGE sql STABLE AS 'SELECT $1'",
                    "CREATE SCHEMA my_schema",
                    "CREATE FUNCTION my_schema.my_function(int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT $1'",
                    "CREATE PROCEDURE my_proc(int) LANGUAGE sql AS 'SELECT 1'",
                    "CREATE MATERIALIZED VIEW mv AS SELECT 1 AS one",
                    "CREATE TABLE pgbench_accounts (aid int, bid int, abalance int, filler text)",
                    "INSERT INTO pgbench_accounts VALUES (1, 1, 0, ''), (64553, 1, 0, '')",
                    "CREATE TABLE pgbench_tellers (tid int, bid int, tbalance int, filler text)",
                    "CREATE TABLE pgbench_branches (bid int, bbalance int, filler text)",
                    "CREATE TABLE pgbench_history (tid int, bid int, aid int, delta int, mtime timestamp,"
                            + " filler char(22))"));
        }
        Replication.awaitReplicasCaughtUp(Duration.ofSeconds(30));
    }

    // ------------------------------------------------------------------------------------------------ the corpus

    /**
     * Since the proxy re-runs on the primary a statement a replica refused as a write (25006), a primary port alone
     * does not prove the statement was routed there first: every case is also looked up in the replicas' logs, which
     * must show no refusal of it (only the two hinted writes are refused, once each).
     */
    @Test
    void runnableCorpusCasesRunWhereTheClassifierSays() throws Exception {
        assertTableMatchesCorpus();
        LocalCluster cl = TestCluster.get();
        List<String> wrong = new ArrayList<>();
        Map<String, Integer> tally = new LinkedHashMap<>();
        Map<Case, String> sent = new LinkedHashMap<>();
        for (Case k : CASES) {
            sent.put(k, isMultiStatement(k) ? k.sql() + "\n;" + PORT_QUERY : k.sql());
        }
        Map<Case, Integer> refusedBefore = new HashMap<>();
        String logsBefore = String.join("\n", replicaLogs());
        sent.forEach((k, text) -> refusedBefore.put(k, occurrences(logsBefore, logged(text))));
        try (TestProxy proxy = TestProxy.startWithReplicas(TRUST_PROXY);
             Connection direct = DriverManager.getConnection(cl.jdbcUrl(cl.primaryPort(), DB), "postgres", "");
             Statement directSt = direct.createStatement()) {
            for (Case k : CASES) {
                directSt.execute("DELETE FROM t WHERE id = 1"); // INSERT ... VALUES (1) must not hit the unique key
                RawClient.Cycle r;
                try (RawClient raw = RawClient.connect(proxy.port(), "app", DB)) {
                    r = isMultiStatement(k) ? raw.simpleQuery(sent.get(k))
                            : raw.extended(List.of(k.sql(), PORT_QUERY), k.params());
                    raw.endTransaction(r.status());
                }
                String where = where(r);
                if (k.expect().equals("replica 25006") && where.equals("primary")) {
                    // refused by the replica, then replayed on the primary: the replica's own log must say so
                    where = refusalsSince(sent.get(k), refusedBefore.get(k)) == 1
                            ? "replica 25006, replayed on the primary" : "primary, never refused by a replica";
                }
                tally.merge(k.expect() + " -> " + where, 1, Integer::sum);
                boolean ok = k.expect().equals("replica 25006") ? where.startsWith("replica 25006")
                        : k.expect().equals(where);
                if (!ok) {
                    wrong.add("expected " + k.expect() + ", ran on " + where + ": " + k.sql().replace("\n", "\\n"));
                }
            }
        }
        // every answer is in, so every refusal is already in the replicas' logs (see refusalsSince)
        String logsAfter = String.join("\n", replicaLogs());
        for (Case k : CASES) {
            int refusals = occurrences(logsAfter, logged(sent.get(k))) - refusedBefore.get(k);
            int allowed = k.expect().equals("replica 25006") ? 1 : 0;
            if (refusals != allowed) {
                wrong.add("refused " + refusals + " time(s) by a replica (expected " + allowed + "), then replayed: "
                        + k.sql().replace("\n", "\\n"));
            }
        }
        System.out.println("[routing-classifier] " + CASES.size() + " corpus cases: " + tally);
        assertTrue(wrong.isEmpty(), wrong.size() + " of " + CASES.size() + " corpus cases ran on the wrong server:\n  "
                + String.join("\n  ", wrong));
    }

    private static int occurrences(String text, String needle) {
        int n = 0;
        for (int at = text.indexOf(needle); at >= 0; at = text.indexOf(needle, at + 1)) {
            n++;
        }
        return n;
    }

    /** "primary", "replica", "replica 25006" (refused as a write by a replica), or what went wrong. */
    private static String where(RawClient.Cycle r) {
        LocalCluster cl = TestCluster.get();
        if (r.error() != null) {
            String code = r.error().get('C');
            if ("25006".equals(code)) {
                return "replica 25006"; // only a read-only server (a replica, here) refuses a write like this
            }
            return "error " + code + " " + r.error().get('M');
        }
        if (r.rows().isEmpty()) {
            return "no result";
        }
        int port = Integer.parseInt(r.rows().get(r.rows().size() - 1).get(0));
        if (port == cl.primaryPort()) {
            return "primary";
        }
        return cl.replicaPorts().contains(port) ? "replica" : "unknown port " + port;
    }

    private static boolean isMultiStatement(Case k) {
        return corpus().get(k.sql()).stream().anyMatch(attrs -> attrs.matches(".*\\bcount=([2-9]|\\d\\d).*"));
    }

    /** Each case is in the corpus, and the table's server is the one its corpus classification leads to. */
    private static void assertTableMatchesCorpus() {
        Map<String, Set<String>> corpus = corpus();
        Set<String> seen = new HashSet<>();
        for (Case k : CASES) {
            assertTrue(seen.add(k.sql()), "listed twice: " + k.sql());
            Set<String> attrs = corpus.get(k.sql());
            assertNotNull(attrs, "not in the corpus: " + k.sql());
            for (String a : attrs) {
                String expected = routeOf(a);
                assertEquals(expected, k.expect().split(" ")[0], "corpus says '" + a + "' for: " + k.sql());
            }
        }
        assertTrue(CASES.size() >= 60, "at least 60 corpus cases: " + CASES.size());
    }

    /** Where TransactionRouter sends a corpus classification, outside a read-only session. */
    private static String routeOf(String attrs) {
        if (attrs.contains("hint=REPLICA")) {
            return "replica";
        }
        if (attrs.contains("hint=PRIMARY")) {
            return "primary";
        }
        if (attrs.contains("txn=BEGIN_READ_ONLY")) {
            return "replica";
        }
        boolean read = attrs.startsWith("READ");
        boolean plain = !attrs.contains("pin=") && !attrs.matches(".*\\bsets=[1-9].*");
        return read && plain ? "replica" : "primary";
    }

    private static Map<String, Set<String>> corpusCache;

    /** statement (unescaped) → the attribute columns it has in the corpus file. */
    static synchronized Map<String, Set<String>> corpus() {
        if (corpusCache != null) {
            return corpusCache;
        }
        Path file = Path.of("..", "pgbalancer", "src", "test", "resources", "sql", "classifier-corpus.tsv");
        if (!Files.exists(file)) {
            file = Path.of("pgbalancer", "src", "test", "resources", "sql", "classifier-corpus.tsv");
        }
        Map<String, Set<String>> out = new HashMap<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (line.startsWith("#") || line.isBlank()) {
                    continue;
                }
                int tab = line.indexOf('\t');
                out.computeIfAbsent(unescape(line.substring(tab + 1)), x -> new HashSet<>())
                        .add(line.substring(0, tab));
            }
        } catch (IOException e) {
            throw new IllegalStateException("cannot read the classifier corpus at " + file.toAbsolutePath(), e);
        }
        corpusCache = out;
        return out;
    }

    private static String unescape(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char ch = s.charAt(i);
            if (ch == '\\' && i + 1 < s.length()) {
                char n = s.charAt(++i);
                b.append(n == 'n' ? '\n' : n == 't' ? '\t' : n);
            } else {
                b.append(ch);
            }
        }
        return b.toString();
    }

    // ------------------------------------------------------------------------------------------------ through pgjdbc

    /**
     * A read hinted to the primary runs there. A write hinted to a replica goes to a replica, which refuses it with
     * 25006: measured in the replica's own log (PostgreSQL logs the statement of every error). What the client sees
     * then depends on the proxy's 25006 replay: either the error (SQLSTATE 25006 and nothing written), or the write
     * re-run on the primary (the primary's port and exactly one row). Both are checked for consistency.
     */
    @Test
    void hintsOverrideTheClassifier() throws Exception {
        LocalCluster cl = TestCluster.get();
        List<String> outcomes = new ArrayList<>();
        try (TestProxy proxy = TestProxy.startWithReplicas(POOL)) {
            for (String mode : List.of("extended", "simple")) {
                try (Connection c = connect(proxy, "preferQueryMode", mode); Statement st = c.createStatement()) {
                    int id = mode.equals("extended") ? 1001 : 1002;
                    String write = "/* pgbalancer: replica */ INSERT INTO t (id) VALUES (" + id
                            + ") RETURNING inet_server_port()";
                    outcomes.add(mode + " INSERT: " + refusedByAReplica(st, write, "INSERT",
                            "SELECT count(*) FROM t WHERE id = " + id));
                    String lock = "/* pgbalancer: replica */ SELECT inet_server_port() FROM e LIMIT 1 FOR UPDATE"
                            + " -- " + mode;
                    outcomes.add(mode + " FOR UPDATE: " + refusedByAReplica(st, lock, "SELECT FOR UPDATE", null));
                    for (int i = 0; i < 6; i++) {
                        assertEquals(cl.primaryPort(), port(st, "/* pgbalancer: primary */ SELECT inet_server_port()"),
                                mode + ": a read hinted to the primary");
                        assertTrue(cl.replicaPorts().contains(port(st, "SELECT inet_server_port()")),
                                mode + ": the same read without the hint");
                        assertTrue(cl.replicaPorts().contains(port(st,
                                "/* pgbalancer: replica */ SELECT inet_server_port()")), mode + ": hinted to a replica");
                    }
                }
            }
        }
        System.out.println("[routing-classifier] writes hinted to a replica: " + outcomes);
    }

    /**
     * Runs a write hinted to a replica; asserts a replica refused it as a write in a read-only transaction, and that
     * the client saw either that error or the write done once on the primary. Returns which.
     */
    private static String refusedByAReplica(Statement st, String sql, String command, String rowsOnPrimary)
            throws Exception {
        LocalCluster cl = TestCluster.get();
        int before = refusalCount(sql);
        String outcome;
        try (ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next(), sql);
            assertEquals(cl.primaryPort(), rs.getInt(1), "succeeded, so it must have run on the primary: " + sql);
            outcome = "replayed on the primary";
            if (rowsOnPrimary != null) {
                assertEquals(1, countOnPrimary(rowsOnPrimary), "written once on the primary: " + sql);
            }
        } catch (SQLException e) {
            assertEquals("25006", e.getSQLState(), sql + ": " + e);
            outcome = "client got 25006";
            if (rowsOnPrimary != null) {
                assertEquals(0, countOnPrimary(rowsOnPrimary), "refused, so nothing written: " + sql);
            }
        }
        assertEquals(1, refusalsSince(sql, before), "a replica logged the refusal of: " + sql);
        String logged = lastRefusalMessage(sql);
        assertTrue(logged.contains("cannot execute " + command + " in a read-only transaction"),
                "the replica's error for " + sql + ": " + logged);
        return outcome;
    }

    /** How often the replicas' logs show {@code sql} as the STATEMENT of an error. */
    private static int refusalCount(String sql) throws IOException {
        int n = 0;
        for (String log : replicaLogs()) {
            n += occurrences(log, logged(sql));
        }
        return n;
    }

    /**
     * New refusals of {@code sql} in the replicas' logs since the count was {@code before}. Read once, after the
     * client has its answer: without a logging collector a backend writes an ERROR with its STATEMENT line to the
     * log (stderr, which pg_ctl -l sends to the file) in one write() before it sends the ErrorResponse, so a replica's
     * refusal is in the file before the proxy can have retried the statement or passed the error on.
     */
    private static int refusalsSince(String sql, int before) throws IOException {
        return refusalCount(sql) - before;
    }

    /** The ERROR line logged just before the last STATEMENT line for {@code sql} on any replica. */
    private static String lastRefusalMessage(String sql) throws IOException {
        for (String log : replicaLogs()) {
            int at = log.lastIndexOf(logged(sql));
            if (at >= 0) {
                int lineStart = log.lastIndexOf('\n', at - 1);
                int prevStart = log.lastIndexOf('\n', lineStart - 1);
                return log.substring(prevStart + 1, lineStart);
            }
        }
        return "(no log line)";
    }

    /** How PostgreSQL logs {@code sql} as an error's statement (continuation lines start with a tab). */
    private static String logged(String sql) {
        return "STATEMENT:  " + sql.replace("\n", "\n\t") + "\n";
    }

    private static List<String> replicaLogs() throws IOException {
        List<String> logs = new ArrayList<>();
        LocalCluster cl = TestCluster.get();
        for (int i = 0; i < cl.replicaPorts().size(); i++) {
            logs.add(Files.readString(cl.serverLog(i), StandardCharsets.UTF_8));
        }
        return logs;
    }

    @Test
    void lockingReadsAndSequenceCallsRunOnThePrimary() throws Exception {
        LocalCluster cl = TestCluster.get();
        executeOnPrimary("INSERT INTO t (id) VALUES (1003) ON CONFLICT DO NOTHING");
        Replication.awaitReplicasCaughtUp(Duration.ofSeconds(30));
        long before = countOnPrimary("SELECT last_value FROM my_seq");
        try (TestProxy proxy = TestProxy.startWithReplicas(POOL); Connection c = connect(proxy);
             Statement st = c.createStatement()) {
            for (String lock : List.of("FOR UPDATE", "FOR NO KEY UPDATE", "FOR SHARE", "FOR KEY SHARE")) {
                assertEquals(cl.primaryPort(), port(st, "SELECT inet_server_port() FROM t WHERE id = 1003 " + lock),
                        lock);
            }
            for (int i = 0; i < 5; i++) {
                assertEquals(cl.primaryPort(), port(st, "SELECT inet_server_port(), nextval('my_seq')"), "nextval");
            }
            assertEquals(cl.primaryPort(), port(st, "SELECT inet_server_port(), setval('my_seq', 1000)"), "setval");
            assertEquals(cl.primaryPort(), port(st, "SELECT inet_server_port(), currval('my_seq')"), "currval");
        }
        long after = countOnPrimary("SELECT last_value FROM my_seq");
        assertEquals(1000, after, "setval ran on the primary (last_value before: " + before + ")");
    }

    @Test
    void dataModifyingCtesRunOnThePrimary() throws Exception {
        LocalCluster cl = TestCluster.get();
        try (TestProxy proxy = TestProxy.startWithReplicas(POOL); Connection c = connect(proxy);
             Statement st = c.createStatement()) {
            assertEquals(cl.primaryPort(), port(st,
                    "WITH x AS (INSERT INTO t (id, v) VALUES (1004, 1) RETURNING id) SELECT inet_server_port() FROM x"));
            assertEquals(1, countOnPrimary("SELECT v FROM t WHERE id = 1004"));
            assertEquals(cl.primaryPort(), port(st,
                    "WITH x AS (UPDATE t SET v = 2 WHERE id = 1004 RETURNING id) SELECT inet_server_port() FROM x"));
            assertEquals(2, countOnPrimary("SELECT v FROM t WHERE id = 1004"));
            assertEquals(cl.primaryPort(), port(st, "WITH r AS (SELECT 1004 AS id),"
                    + " x AS (DELETE FROM t WHERE id IN (SELECT id FROM r) RETURNING id)"
                    + " SELECT inet_server_port() FROM x"));
            assertEquals(0, countOnPrimary("SELECT count(*) FROM t WHERE id = 1004"));
            // a read-only CTE is a read
            assertTrue(cl.replicaPorts().contains(port(st,
                    "WITH x AS (SELECT id FROM t) SELECT inet_server_port() FROM (SELECT 1) one")));
        }
    }

    /** pgjdbc names a statement after its first use; Binds of it are routed by the classification of its Parse. */
    @Test
    void namedPreparedStatementsFollowTheirClassification() throws Exception {
        LocalCluster cl = TestCluster.get();
        try (TestProxy proxy = TestProxy.startWithReplicas(POOL);
             Connection c = connect(proxy, "prepareThreshold", "1");
             PreparedStatement read = c.prepareStatement("SELECT inet_server_port() WHERE ? > 0");
             PreparedStatement write = c.prepareStatement("INSERT INTO t (id) VALUES (?) RETURNING inet_server_port()")) {
            Set<Integer> readPorts = new HashSet<>();
            for (int i = 1; i <= 30; i++) {
                read.setInt(1, i);
                try (ResultSet rs = read.executeQuery()) {
                    assertTrue(rs.next());
                    readPorts.add(rs.getInt(1));
                }
                if (i <= 10) {
                    write.setInt(1, 2000 + i);
                    try (ResultSet rs = write.executeQuery()) {
                        assertTrue(rs.next());
                        assertEquals(cl.primaryPort(), rs.getInt(1), "prepared INSERT, execution " + i);
                    }
                }
            }
            assertTrue(cl.replicaPorts().containsAll(readPorts), "prepared reads ran on " + readPorts);
            assertEquals(cl.replicaPorts().size(), readPorts.size(),
                    "30 prepared reads used every replica (re-prepared where needed): " + readPorts);
        }
        assertEquals(10, countOnPrimary("SELECT count(*) FROM t WHERE id BETWEEN 2001 AND 2010"));
    }

    // ------------------------------------------------------------------------------------------------ helpers

    private static Connection connect(TestProxy proxy, String... keyValues) throws SQLException {
        Properties p = new Properties();
        p.setProperty("user", "app");
        p.setProperty("password", TestCluster.APP_PASSWORD);
        for (int i = 0; i + 1 < keyValues.length; i += 2) {
            p.setProperty(keyValues[i], keyValues[i + 1]);
        }
        return DriverManager.getConnection(proxy.jdbcUrl(DB), p);
    }

    private static int port(Statement st, String sql) throws SQLException {
        try (ResultSet rs = st.executeQuery(sql)) {
            assertTrue(rs.next(), "no row from: " + sql);
            return rs.getInt(1);
        }
    }

    private static long countOnPrimary(String sql) throws SQLException {
        LocalCluster cl = TestCluster.get();
        try (Connection c = DriverManager.getConnection(cl.jdbcUrl(cl.primaryPort(), DB), "postgres", "");
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            return rs.next() ? rs.getLong(1) : 0;
        }
    }

    private static void executeOnPrimary(String sql) throws SQLException {
        LocalCluster cl = TestCluster.get();
        try (Connection c = DriverManager.getConnection(cl.jdbcUrl(cl.primaryPort(), DB), "postgres", "");
             Statement st = c.createStatement()) {
            st.execute(sql);
        }
    }

    /** A bare PostgreSQL wire client for a trust-auth proxy: sends exactly the messages a test asks for. */
    static final class RawClient implements AutoCloseable {
        /** What one cycle (up to its ReadyForQuery) returned: every DataRow as text, the first error, the status. */
        record Cycle(List<List<String>> rows, Map<Character, String> error, char status) {
        }

        private final Socket socket;
        private final DataInputStream in;
        private final OutputStream out;

        private RawClient(int port) throws IOException {
            socket = new Socket();
            socket.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5_000);
            socket.setSoTimeout(10_000);
            in = new DataInputStream(new BufferedInputStream(socket.getInputStream()));
            out = socket.getOutputStream();
        }

        static RawClient connect(int port, String user, String database) throws IOException {
            RawClient c = new RawClient(port);
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            body.writeBytes(ByteBuffer.allocate(4).putInt(196608).array());
            for (String s : List.of("user", user, "database", database, "")) {
                cstring(body, s);
            }
            byte[] b = body.toByteArray();
            c.out.write(ByteBuffer.allocate(4).putInt(4 + b.length).array());
            c.out.write(b);
            c.out.flush();
            Cycle login = c.readCycle();
            if (login.error() != null) {
                throw new IOException("login failed: " + login.error());
            }
            return c;
        }

        /** One simple Query. */
        Cycle simpleQuery(String sql) throws IOException {
            ByteArrayOutputStream m = new ByteArrayOutputStream();
            query(m, sql);
            out.write(m.toByteArray());
            out.flush();
            return readCycle();
        }

        /** Parse/Bind/Execute for each statement (the first with {@code params} as text), then one Sync. */
        Cycle extended(List<String> statements, List<String> params) throws IOException {
            ByteArrayOutputStream m = new ByteArrayOutputStream();
            for (int i = 0; i < statements.size(); i++) {
                extendedMessages(m, statements.get(i), i == 0 ? params : List.of());
            }
            message(m, 'S', new byte[0]);
            out.write(m.toByteArray());
            out.flush();
            return readCycle();
        }

        /** Sends several ready-made cycles in one write (a pipeline) and reads one answer per cycle. */
        List<Cycle> pipeline(List<byte[]> cycles) throws IOException {
            ByteArrayOutputStream m = new ByteArrayOutputStream();
            cycles.forEach(m::writeBytes);
            out.write(m.toByteArray());
            out.flush();
            List<Cycle> answers = new ArrayList<>();
            for (int i = 0; i < cycles.size(); i++) {
                answers.add(readCycle());
            }
            return answers;
        }

        static byte[] queryCycle(String sql) {
            ByteArrayOutputStream m = new ByteArrayOutputStream();
            query(m, sql);
            return m.toByteArray();
        }

        static byte[] extendedCycle(String sql) {
            ByteArrayOutputStream m = new ByteArrayOutputStream();
            extendedMessages(m, sql, List.of());
            message(m, 'S', new byte[0]);
            return m.toByteArray();
        }

        /** Leaves no transaction open behind a case that began one. */
        void endTransaction(char status) throws IOException {
            if (status == 'T') {
                simpleQuery("COMMIT");
            } else if (status == 'E') {
                simpleQuery("ROLLBACK");
            }
        }

        private static void query(ByteArrayOutputStream m, String sql) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            cstring(b, sql);
            message(m, 'Q', b.toByteArray());
        }

        private static void extendedMessages(ByteArrayOutputStream m, String sql, List<String> params) {
            ByteArrayOutputStream p = new ByteArrayOutputStream();
            cstring(p, "");
            cstring(p, sql);
            p.writeBytes(new byte[] {0, 0});
            message(m, 'P', p.toByteArray());
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            cstring(b, "");
            cstring(b, "");
            b.writeBytes(new byte[] {0, 0});
            b.writeBytes(ByteBuffer.allocate(2).putShort((short) params.size()).array());
            for (String v : params) {
                byte[] bytes = v.getBytes(StandardCharsets.UTF_8);
                b.writeBytes(ByteBuffer.allocate(4).putInt(bytes.length).array());
                b.writeBytes(bytes);
            }
            b.writeBytes(new byte[] {0, 0});
            message(m, 'B', b.toByteArray());
            ByteArrayOutputStream e = new ByteArrayOutputStream();
            cstring(e, "");
            e.writeBytes(new byte[] {0, 0, 0, 0});
            message(m, 'E', e.toByteArray());
        }

        private static void message(ByteArrayOutputStream m, char type, byte[] body) {
            m.write(type);
            m.writeBytes(ByteBuffer.allocate(4).putInt(4 + body.length).array());
            m.writeBytes(body);
        }

        private static void cstring(ByteArrayOutputStream b, String s) {
            b.writeBytes(s.getBytes(StandardCharsets.UTF_8));
            b.write(0);
        }

        /** Reads up to and including the next ReadyForQuery. */
        Cycle readCycle() throws IOException {
            List<List<String>> rows = new ArrayList<>();
            Map<Character, String> error = null;
            while (true) {
                int type = in.read();
                if (type < 0) {
                    throw new IOException("connection closed by pgbalancer" + (error != null ? ": " + error : ""));
                }
                byte[] body = new byte[in.readInt() - 4];
                in.readFully(body);
                switch (type) {
                    case 'D' -> {
                        ByteBuffer buf = ByteBuffer.wrap(body);
                        int n = buf.getShort();
                        List<String> row = new ArrayList<>(n);
                        for (int i = 0; i < n; i++) {
                            int len = buf.getInt();
                            if (len < 0) {
                                row.add(null);
                            } else {
                                row.add(new String(body, buf.position(), len, StandardCharsets.UTF_8));
                                buf.position(buf.position() + len);
                            }
                        }
                        rows.add(row);
                    }
                    case 'E' -> {
                        if (error == null) {
                            error = fields(body);
                        }
                    }
                    case 'R' -> {
                        int code = ByteBuffer.wrap(body).getInt();
                        if (code != 0) {
                            throw new IOException("the proxy asked for authentication " + code + "; expected trust");
                        }
                    }
                    case 'Z' -> {
                        return new Cycle(rows, error, (char) body[0]);
                    }
                    default -> {
                        // ParseComplete, BindComplete, CommandComplete, notices, parameter status…: not needed
                    }
                }
            }
        }

        private static Map<Character, String> fields(byte[] body) {
            Map<Character, String> f = new HashMap<>();
            int at = 0;
            while (at < body.length && body[at] != 0) {
                int end = at + 1;
                while (body[end] != 0) {
                    end++;
                }
                f.put((char) body[at], new String(body, at + 1, end - at - 1, StandardCharsets.UTF_8));
                at = end + 1;
            }
            return f;
        }

        @Override
        public void close() throws IOException {
            try {
                out.write(new byte[] {'X', 0, 0, 0, 4});
                out.flush();
            } catch (IOException ignored) {
                // already gone
            }
            socket.close();
        }
    }
}
