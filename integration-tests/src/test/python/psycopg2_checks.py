# purpose: psycopg2 (libpq, simple query protocol) drives pgbalancer through one named scenario; run by Psycopg2IT.
"""Usage: /usr/bin/python3 psycopg2_checks.py SCENARIO

Connection details come from the environment: PGB_HOST, PGB_PORT (pgbalancer), PGB_USER, PGB_PASSWORD,
PGB_DATABASE, PGB_PRIMARY_PORT and PGB_REPLICA_PORTS (comma-separated; the servers themselves, used to check where
a statement ran and to wait for replication). Prints "step: ..." before each driver call and "PASS <scenario>" at
the end; any failed check exits non-zero with a traceback.

psycopg2 blocks inside libpq, so a hang cannot be interrupted from Python: each step arms faulthandler, which dumps
the stack ("Timeout (0:00:20)!") and exits the process if the step has not returned in time.

psycopg2 without autocommit starts every transaction with BEGIN, so pgbalancer sends all of it to the primary;
with autocommit, each read goes to a replica.
"""
import contextlib
import csv
import datetime
import decimal
import faulthandler
import hashlib
import io
import os
import sys
import time
import traceback

import psycopg2
import psycopg2.errors
import psycopg2.extensions

HOST = os.environ["PGB_HOST"]
PORT = int(os.environ["PGB_PORT"])
USER = os.environ["PGB_USER"]
PASSWORD = os.environ["PGB_PASSWORD"]
DATABASE = os.environ["PGB_DATABASE"]
PRIMARY = int(os.environ["PGB_PRIMARY_PORT"])
REPLICAS = sorted(int(p) for p in os.environ["PGB_REPLICA_PORTS"].split(","))
STEP_TIMEOUT = float(os.environ.get("PGB_STEP_TIMEOUT", "20"))


@contextlib.contextmanager
def step(what, timeout=STEP_TIMEOUT):
    """Bounds one driver call: past the timeout the process dumps its stacks and exits with code 1."""
    print(f"step: {what}", flush=True)
    faulthandler.dump_traceback_later(timeout, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def eq(actual, expected, what):
    if actual != expected:
        raise AssertionError(f"{what}: expected {expected!r}, got {actual!r}")


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def on_replica(port, what):
    check(port in REPLICAS, f"{what} ran on port {port}, expected one of the replicas {REPLICAS}")


def on_primary(port, what):
    check(port == PRIMARY, f"{what} ran on port {port}, expected the primary {PRIMARY}")


def connect(what="connect", autocommit=True, **kwargs):
    with step(what):
        conn = psycopg2.connect(host=HOST, port=PORT, user=USER, password=PASSWORD, dbname=DATABASE,
                                connect_timeout=10, **kwargs)
    conn.autocommit = autocommit
    return conn


def one(conn, sql, params=None, what=None):
    """Runs a statement and returns its single row."""
    with step(what or sql), conn.cursor() as cur:
        cur.execute(sql, params)
        rows = cur.fetchall()
    eq(len(rows), 1, f"rows of {sql}")
    return rows[0]


def run(conn, sql, params=None, what=None):
    with step(what or sql), conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.statusmessage


def on_primary_row(conn, sql, params=None):
    """A read in a transaction of its own on an autocommit connection: BEGIN sends it to the primary."""
    conn.autocommit = False
    try:
        row = one(conn, sql, params, f"on the primary: {sql}")
        port = one(conn, "select inet_server_port()")[0]
        with step("commit"):
            conn.commit()
    finally:
        conn.autocommit = True
    on_primary(port, f"a read in a transaction ({sql})")
    return row


def wait_for_replicas():
    """Waits (on direct connections, not through pgbalancer) until every replica has replayed the primary's WAL."""
    def direct(port):
        c = psycopg2.connect(host=HOST, port=port, user=USER, password=PASSWORD, dbname=DATABASE, connect_timeout=10)
        c.autocommit = True
        return c

    with step("wait for the replicas to replay the primary's WAL (direct connections)"):
        # synchronous_commit is off in the test cluster: a commit may sit in the WAL buffers beyond
        # pg_current_wal_lsn(); a message committed with synchronous_commit = on flushes the WAL up to itself
        superuser = psycopg2.connect(host=HOST, port=PRIMARY, user="postgres", dbname=DATABASE, connect_timeout=10)
        superuser.autocommit = True
        with contextlib.closing(superuser) as p, p.cursor() as cur:
            cur.execute("set synchronous_commit = on")
            cur.execute("select pg_logical_emit_message(true, 'pgbalancer-it', 'replicas catch up')")
            cur.execute("select pg_current_wal_flush_lsn()::text")
            lsn = cur.fetchone()[0]
        for port in REPLICAS:
            with contextlib.closing(direct(port)) as r, r.cursor() as cur:
                while True:
                    cur.execute("select pg_last_wal_replay_lsn() >= %s::pg_lsn", (lsn,))
                    if cur.fetchone()[0]:
                        break
                    time.sleep(0.02)


# ------------------------------------------------------------------------------------------------------ scenarios

def scenario_simple():
    conn = connect()
    try:
        eq(one(conn, "select 1")[0], 1, "select 1")
        eq(one(conn, "select current_user, current_database(), pg_is_in_recovery()"), (USER, DATABASE, True),
           "user, database, in recovery (an autocommit read runs on a replica)")
        ports = set()
        for i in range(12):
            port = one(conn, "select inet_server_port()", what=f"select inet_server_port() #{i}")[0]
            on_replica(port, f"autocommit read #{i}")
            ports.add(port)
        check(len(ports) >= 2, f"12 autocommit reads used only the replicas {sorted(ports)}")
        # several statements in one Query message: psycopg2 returns the last result
        with step("two statements in one execute"), conn.cursor() as cur:
            cur.execute("select 1; select 'second', inet_server_port()")
            row = cur.fetchone()
        eq(row[0], "second", "last result of a multi-statement query")
        with step("100 rows"), conn.cursor() as cur:
            cur.execute("select g from generate_series(1, 100) g")
            eq([r[0] for r in cur.fetchall()], list(range(1, 101)), "generate_series rows")
            eq(cur.rowcount, 100, "rowcount")
        eq(run(conn, "set application_name = 'psycopg2-it'"), "SET", "SET status")
        for i in range(4):
            row = one(conn, "select current_setting('application_name'), inet_server_port()",
                      what=f"application_name #{i}")
            eq(row[0], "psycopg2-it", f"application_name after SET, read #{i}")
            on_replica(row[1], f"read after SET #{i}")
        eq(conn.get_parameter_status("application_name"), "psycopg2-it", "ParameterStatus application_name")
    finally:
        conn.close()
    # without autocommit, psycopg2 sends BEGIN first: the whole transaction, reads too, is on the primary
    conn = connect("connect (no autocommit)", autocommit=False)
    try:
        row = one(conn, "select inet_server_port(), pg_backend_pid()")
        on_primary(row[0], "a read after psycopg2's implicit BEGIN")
        eq(one(conn, "select inet_server_port(), pg_backend_pid()"), row, "second read of the same transaction")
        with step("rollback"):
            conn.rollback()
        # a read-only session: psycopg2 sends BEGIN READ ONLY
        conn.set_session(readonly=True)
        row = one(conn, "select inet_server_port(), current_setting('transaction_read_only')")
        on_replica(row[0], "a read in psycopg2's read-only transaction")
        eq(row[1], "on", "transaction_read_only")
        with step("commit"):
            conn.commit()
    finally:
        conn.close()
    # autocommit + readonly: psycopg2 sets default_transaction_read_only for the session
    conn = connect("connect (autocommit, readonly)")
    try:
        conn.set_session(readonly=True, autocommit=True)
        for i in range(3):
            row = one(conn, "select inet_server_port(), current_setting('default_transaction_read_only')",
                      what=f"read in a read-only autocommit session #{i}")
            on_replica(row[0], "a read in a read-only autocommit session")
            eq(row[1], "on", "default_transaction_read_only")
    finally:
        conn.close()


def scenario_parameters():
    conn = connect()
    try:
        row = one(conn, "select %s::int + %s::int, %s::text, %s, %s is null, inet_server_port()",
                  (1, 2, "o'quote; drop table x; --", None, None))
        eq(row[:4], (3, "o'quote; drop table x; --", None, True), "positional parameters")
        on_replica(row[4], "a parameterised read")
        row = one(conn, "select %(a)s::int * %(b)s::int, %(name)s || %(name)s", {"a": 6, "b": 7, "name": "ab"})
        eq(row, (42, "abab"), "named parameters")
        row = one(conn, "select %s, %s, %s, %s, %s::bytea, %s",
                  (decimal.Decimal("12345.678"), datetime.date(2024, 2, 29), 1.5, True, b"\x00\x01\xff",
                   "é ü ✓ 日本"))
        eq((row[0], row[1], row[2], row[3], bytes(row[4]), row[5]),
           (decimal.Decimal("12345.678"), datetime.date(2024, 2, 29), 1.5, True, b"\x00\x01\xff", "é ü ✓ 日本"),
           "typed parameters")
        row = one(conn, "select count(*) from generate_series(1, 10) g where g = any(%s)", ([2, 3, 5, 7, 11],))
        eq(row[0], 4, "a list parameter")
        for i in range(10):
            row = one(conn, "select %s::int * 3, inet_server_port()", (i,), f"repeated parameterised read #{i}")
            eq(row[0], 3 * i, f"repeated read #{i}")
            on_replica(row[1], f"repeated read #{i}")

        run(conn, "drop table if exists psycopg2_it_params;"
                  " create table psycopg2_it_params (id int primary key, name text, at date)")
        with step("executemany(insert 100 rows)"), conn.cursor() as cur:
            cur.executemany("insert into psycopg2_it_params values (%s, %s, %s)",
                            [(i, f"name {i}'s", datetime.date(2024, 1, 1) + datetime.timedelta(days=i))
                             for i in range(1, 101)])
        row = on_primary_row(conn, "select count(*), count(distinct name), max(at) from psycopg2_it_params")
        eq(row, (100, 100, datetime.date(2024, 4, 10)), "rows inserted with executemany")
        row = one(conn, "insert into psycopg2_it_params values (%s, %s, %s) returning id, inet_server_port()",
                  (1000, "returning", None))
        eq(row[0], 1000, "insert ... returning")
        on_primary(row[1], "an autocommit insert")
    finally:
        conn.close()


def scenario_transaction():
    conn = connect(autocommit=False)
    try:
        with step("create table"), conn.cursor() as cur:
            cur.execute("drop table if exists psycopg2_it_tx;"
                        " create table psycopg2_it_tx (id serial primary key, who text not null, n int not null)")
        with step("commit"):
            conn.commit()
        seen = []
        row = one(conn, "insert into psycopg2_it_tx (who, n) values (%s, %s)"
                        " returning id, inet_server_port(), pg_backend_pid()", ("committed", 1))
        seen.append(row[1:])
        row = one(conn, "select count(*), sum(n), inet_server_port(), pg_backend_pid() from psycopg2_it_tx"
                        " where who = %s", ("committed",))
        eq(row[:2], (1, 1), "the transaction reads its own write")
        seen.append(row[2:])
        run(conn, "insert into psycopg2_it_tx (who, n) values (%s, %s)", ("committed", 2))
        row = one(conn, "select count(*), sum(n), inet_server_port(), pg_backend_pid() from psycopg2_it_tx"
                        " where who = %s", ("committed",))
        eq(row[:2], (2, 3), "the transaction reads its second write")
        seen.append(row[2:])
        with step("commit"):
            conn.commit()
        eq(len(set(seen)), 1, f"one transaction ran on several backends {seen}")
        on_primary(seen[0][0], "a transaction that writes")

        run(conn, "insert into psycopg2_it_tx (who, n) values (%s, %s)", ("rolled back", 10))
        eq(one(conn, "select count(*) from psycopg2_it_tx where who = 'rolled back'")[0], 1,
           "the transaction to roll back reads its own write")
        with step("rollback"):
            conn.rollback()

        # `with conn:` commits on success and rolls back on an exception
        with conn:
            run(conn, "insert into psycopg2_it_tx (who, n) values (%s, %s)", ("with block", 100))
        try:
            with conn:
                run(conn, "insert into psycopg2_it_tx (who, n) values (%s, %s)", ("with block failed", 1000))
                raise KeyError("roll back")
        except KeyError:
            pass
        # savepoint
        run(conn, "insert into psycopg2_it_tx (who, n) values (%s, %s)", ("outer", 10000))
        run(conn, "savepoint s1")
        run(conn, "insert into psycopg2_it_tx (who, n) values (%s, %s)", ("inner", 100000))
        run(conn, "rollback to savepoint s1")
        with step("commit"):
            conn.commit()
        row = one(conn, "select string_agg(who || ':' || n, ',' order by id), inet_server_port() from psycopg2_it_tx")
        with step("commit"):
            conn.commit()
        eq(row[0], "committed:1,committed:2,with block:100,outer:10000", "committed rows")
        on_primary(row[1], "a read after psycopg2's implicit BEGIN")
    finally:
        conn.close()
    # the committed rows, read back on a replica
    wait_for_replicas()
    conn = connect("connect (autocommit)")
    try:
        row = one(conn, "select count(*), sum(n), inet_server_port() from psycopg2_it_tx")
        eq(row[:2], (4, 10103), "committed rows seen on a replica")
        on_replica(row[2], "an autocommit read")
    finally:
        conn.close()


def scenario_error():
    conn = connect()
    try:
        run(conn, "drop table if exists psycopg2_it_err; create table psycopg2_it_err (id int primary key)")
        try:
            one(conn, "select 1/0")
            raise AssertionError("select 1/0 did not raise")
        except psycopg2.errors.DivisionByZero as e:
            eq(e.pgcode, "22012", "SQLSTATE of the division by zero")
        row = one(conn, "select 2, inet_server_port()", what="select 2 after the error")
        eq(row[0], 2, "a query after an error")
        on_replica(row[1], "a read after an error")
        try:
            one(conn, "select * from psycopg2_it_missing_table")
            raise AssertionError("a missing table did not raise")
        except psycopg2.errors.UndefinedTable:
            pass
        eq(one(conn, "select %s::int", (3,))[0], 3, "a query after a missing table")
        run(conn, "insert into psycopg2_it_err values (7)")
        try:
            run(conn, "insert into psycopg2_it_err values (7)")
            raise AssertionError("the duplicate key did not raise")
        except psycopg2.errors.UniqueViolation:
            pass
        eq(one(conn, "select 4")[0], 4, "a query after a duplicate key")
    finally:
        conn.close()
    # an error inside a transaction: the rest fails until ROLLBACK, then everything works again
    conn = connect("connect (no autocommit)", autocommit=False)
    try:
        run(conn, "insert into psycopg2_it_err values (1)")
        try:
            one(conn, "select 1/0")
            raise AssertionError("select 1/0 in a transaction did not raise")
        except psycopg2.errors.DivisionByZero:
            pass
        eq(conn.get_transaction_status(), psycopg2.extensions.TRANSACTION_STATUS_INERROR, "transaction status")
        try:
            one(conn, "select 5")
            raise AssertionError("a query in an aborted transaction did not raise")
        except psycopg2.errors.InFailedSqlTransaction:
            pass
        with step("rollback"):
            conn.rollback()
        row = one(conn, "select string_agg(id::text, ',' order by id), inet_server_port() from psycopg2_it_err")
        eq(row[0], "7", "rows after the rolled-back transaction")
        on_primary(row[1], "a read after psycopg2's implicit BEGIN")
        with step("commit"):
            conn.commit()
        eq(conn.get_transaction_status(), psycopg2.extensions.TRANSACTION_STATUS_IDLE, "transaction status")
    finally:
        conn.close()


def scenario_named_cursor():
    conn = connect(autocommit=False)
    try:
        # a server-side cursor: DECLARE ... CURSOR WITHOUT HOLD, then FETCH FORWARD n, inside psycopg2's transaction
        with step("declare a named cursor"):
            cur = conn.cursor("psycopg2_it_cursor")
            cur.itersize = 100
            cur.execute("select g, md5(g::text), inet_server_port() from generate_series(1, 5000) g order by g")
        got, ports = [], set()
        while True:
            with step(f"fetchmany(300) after {len(got)} rows"):
                batch = cur.fetchmany(300)
            if not batch:
                break
            check(len(batch) <= 300, f"fetchmany(300) returned {len(batch)} rows")
            got.extend(batch)
            ports.update(r[2] for r in batch)
        eq([r[0] for r in got], list(range(1, 5001)), "rows read through fetchmany")
        for g, h, _ in got[:50]:
            eq(h, hashlib.md5(str(g).encode()).hexdigest(), f"md5 of row {g}")
        eq(len(ports), 1, f"one cursor's rows came from several servers {sorted(ports)}")
        on_primary(next(iter(ports)), "a named cursor in a read-write transaction")
        with step("close the cursor"):
            cur.close()
        with step("commit"):
            conn.commit()

        # in a read-only transaction (BEGIN READ ONLY): a replica
        conn.set_session(readonly=True)
        with step("declare a named cursor in a read-only transaction"):
            cur = conn.cursor("psycopg2_it_ro_cursor")
            cur.execute("select g, inet_server_port() from generate_series(1, 1000) g order by g")
        first = cur.fetchmany(10)
        with step("scroll(500) then fetchone"):
            cur.scroll(500)
            row = cur.fetchone()
        eq([r[0] for r in first], list(range(1, 11)), "first fetchmany(10)")
        eq(row[0], 511, "row after scroll(500)")
        rest = cur.fetchall()
        eq([r[0] for r in rest], list(range(512, 1001)), "fetchall to the end")
        on_replica(row[1], "a named cursor in a read-only transaction")
        cur.close()
        with step("commit"):
            conn.commit()
        conn.set_session(readonly=False)

        # WITH HOLD: the cursor outlives its transaction (pgbalancer pins the session for it)
        with step("declare a WITH HOLD cursor"):
            cur = conn.cursor("psycopg2_it_hold", withhold=True)
            cur.execute("select g from generate_series(1, 3000) g order by g")
        with step("commit the declaring transaction"):
            conn.commit()
        got = []
        for i in range(4):
            with step(f"fetchmany(500) after commit #{i}"):
                got.extend(r[0] for r in cur.fetchmany(500))
            with step("commit"):
                conn.commit()
        with step("fetchall"):
            got.extend(r[0] for r in cur.fetchall())
        eq(got, list(range(1, 3001)), "rows of the WITH HOLD cursor")
        with step("close the WITH HOLD cursor"):
            cur.close()
        with step("commit"):
            conn.commit()
        eq(one(conn, "select 6")[0], 6, "a query after the cursors")
        with step("commit"):
            conn.commit()
    finally:
        conn.close()


def scenario_copy():
    conn = connect()
    try:
        run(conn, "drop table if exists psycopg2_it_copy, psycopg2_it_copy2;"
                  " create table psycopg2_it_copy (id int primary key, label text not null, n int not null);"
                  " create table psycopg2_it_copy2 (id int primary key, label text not null, n int not null)")
        rows = [(i, f'label {i}, "q"', i * 7) for i in range(1, 5001)]
        data = io.StringIO()
        csv.writer(data, lineterminator="\n").writerows(rows)
        with step("copy_expert COPY ... FROM STDIN csv"), conn.cursor() as cur:
            cur.copy_expert("COPY psycopg2_it_copy (id, label, n) FROM STDIN WITH (FORMAT csv)",
                            io.StringIO(data.getvalue()))
            eq(cur.rowcount, 5000, "rows copied in")
        row = on_primary_row(conn, "select count(*), sum(n) from psycopg2_it_copy")
        eq(row, (5000, sum(r[2] for r in rows)), "rows after COPY FROM STDIN")

        wait_for_replicas()
        out = io.StringIO()
        with step("copy_expert COPY (select ...) TO STDOUT csv"), conn.cursor() as cur:
            cur.copy_expert("COPY (select id, label, n from psycopg2_it_copy order by id) TO STDOUT WITH (FORMAT csv)",
                            out)
            eq(cur.rowcount, 5000, "rows copied out")
        eq(out.getvalue(), data.getvalue(), "CSV copied out")

        with step("copy_expert COPY table FROM STDIN (the copied-out CSV)"), conn.cursor() as cur:
            cur.copy_expert("COPY psycopg2_it_copy2 FROM STDIN WITH (FORMAT csv)", io.StringIO(out.getvalue()))
        row = on_primary_row(conn, "select count(*), count(*) filter (where a.label = b.label and a.n = b.n)"
                                   " from psycopg2_it_copy a join psycopg2_it_copy2 b using (id)")
        eq(row, (5000, 5000), "rows of the second table equal to the first")

        # COPY inside a transaction, read back in it
        conn.autocommit = False
        with step("COPY in a transaction"), conn.cursor() as cur:
            cur.copy_expert("COPY psycopg2_it_copy2 FROM STDIN", io.StringIO("9001\tin a transaction\t1\n"))
            cur.execute("select label, inet_server_port() from psycopg2_it_copy2 where id = 9001")
            row = cur.fetchone()
        eq(row[0], "in a transaction", "row copied in inside a transaction")
        on_primary(row[1], "a transaction with COPY")
        with step("commit"):
            conn.commit()
        conn.autocommit = True

        # a COPY that fails (bad data) raises and the connection goes on
        try:
            with step("COPY with bad data"), conn.cursor() as cur:
                cur.copy_expert("COPY psycopg2_it_copy2 FROM STDIN WITH (FORMAT csv)",
                                io.StringIO("9100,ok,1\nnot-a-number,x,2\n"))
            raise AssertionError("COPY with bad data did not raise")
        except psycopg2.errors.InvalidTextRepresentation:
            pass
        eq(one(conn, "select 7")[0], 7, "a query after a failed COPY")
        row = on_primary_row(conn, "select count(*), count(*) filter (where id = 9100) from psycopg2_it_copy2")
        eq(row, (5001, 0), "rows after the failed COPY")
        wait_for_replicas()
        out = io.StringIO()
        with step("copy_expert COPY table TO STDOUT"), conn.cursor() as cur:
            cur.copy_expert("COPY psycopg2_it_copy2 TO STDOUT", out)
            eq(cur.rowcount, 5001, "rows copied out of the second table")
    finally:
        conn.close()


def scenario_datestyle():
    # psycopg2 itself sends SET DATESTYLE TO 'ISO' when the server does not report an ISO DateStyle, which keeps
    # the field order (MDY/DMY) that the startup packet asked for: the order is what shows the option arrived.
    conn = connect("connect with options='-c DateStyle=Postgres,MDY -c IntervalStyle=postgres_verbose'",
                   options="-c DateStyle=Postgres,MDY -c IntervalStyle=postgres_verbose")
    try:
        ports = set()
        for i in range(6):
            row = one(conn, "select current_setting('DateStyle'), current_setting('IntervalStyle'),"
                            " '1 day 2 hours'::interval::text, '03/04/2024'::date, inet_server_port()",
                      what=f"settings #{i}")
            eq(row[:4], ("ISO, MDY", "postgres_verbose", "@ 1 day 2 hours", datetime.date(2024, 3, 4)),
               f"DateStyle, IntervalStyle and how they format, read #{i}")
            on_replica(row[4], f"read #{i}")
            ports.add(row[4])
        eq(one(conn, "show datestyle")[0], "ISO, MDY", "SHOW datestyle")
        eq(one(conn, "show intervalstyle")[0], "postgres_verbose", "SHOW intervalstyle")
        check(len(ports) >= 2, f"6 reads used only the replicas {sorted(ports)}")
        # the startup option's style, set by the client itself, follows it to every server
        eq(run(conn, "set datestyle = 'Postgres, MDY'"), "SET", "SET datestyle")
        for i in range(4):
            row = one(conn, "select '2024-03-05'::date::text, inet_server_port()", what=f"date as text #{i}")
            eq(row[0], "03-05-2024", f"a date in Postgres, MDY style, read #{i}")
        eq(one(conn, "show datestyle")[0], "Postgres, MDY", "SHOW datestyle after SET")
        eq(conn.get_parameter_status("DateStyle"), "Postgres, MDY", "ParameterStatus DateStyle")
        conn.autocommit = False
        row = one(conn, "select current_setting('DateStyle'), inet_server_port()")
        on_primary(row[1], "a read after psycopg2's implicit BEGIN")
        eq(row[0], "Postgres, MDY", "DateStyle on the primary")
        with step("commit"):
            conn.commit()
    finally:
        conn.close()

    # PGDATESTYLE: libpq sends it as the datestyle startup parameter
    os.environ["PGDATESTYLE"] = "Postgres, DMY"
    try:
        conn = connect("connect with PGDATESTYLE='Postgres, DMY'")
    finally:
        del os.environ["PGDATESTYLE"]
    try:
        for i in range(4):
            row = one(conn, "select current_setting('DateStyle'), '05/03/2024'::date::text, inet_server_port()",
                      what=f"PGDATESTYLE read #{i}")
            eq(row[:2], ("ISO, DMY", "2024-03-05"), f"DateStyle from PGDATESTYLE and a DMY date, read #{i}")
            on_replica(row[2], f"PGDATESTYLE read #{i}")
        eq(one(conn, "show datestyle")[0], "ISO, DMY", "SHOW datestyle (PGDATESTYLE)")
    finally:
        conn.close()

    # a connection without either gets the server's default, even on backends the others used
    conn = connect("connect without options")
    try:
        for i in range(4):
            eq(one(conn, "show datestyle", what=f"default SHOW datestyle #{i}")[0], "ISO, MDY",
               f"default DateStyle, read #{i}")
            eq(one(conn, "show intervalstyle", what=f"default SHOW intervalstyle #{i}")[0], "postgres",
               f"default IntervalStyle, read #{i}")
    finally:
        conn.close()


def scenario_causal():
    """10,000 times: insert a row, then read it back at once on the same connection (routed to a replica)."""
    n = int(os.environ.get("PGB_CAUSAL_ITERATIONS", "10000"))
    conn = connect()
    try:
        run(conn, "drop table if exists psycopg2_it_causal; create table psycopg2_it_causal (id int primary key)")
        stale = on_replicas = 0
        with step(f"{n} x (insert, read it back)", timeout=150):
            cur = conn.cursor()
            for i in range(n):
                cur.execute("insert into psycopg2_it_causal values (%s)", (i,))
                cur.execute("select count(*), inet_server_port() from psycopg2_it_causal where id = %s", (i,))
                count, port = cur.fetchone()
                stale += count != 1
                on_replicas += port in REPLICAS
        print(f"causal: {n} iterations, {stale} stale reads, {on_replicas} reads on replicas", flush=True)
        eq(stale, 0, "reads that missed the connection's own committed row")
        check(on_replicas > n // 2, f"only {on_replicas} of {n} reads ran on replicas")
    finally:
        conn.close()


SCENARIOS = {
    "causal": scenario_causal,
    "simple": scenario_simple,
    "parameters": scenario_parameters,
    "transaction": scenario_transaction,
    "error": scenario_error,
    "named_cursor": scenario_named_cursor,
    "copy": scenario_copy,
    "datestyle": scenario_datestyle,
}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        print(f"usage: {sys.argv[0]} {{{'|'.join(SCENARIOS)}}}", file=sys.stderr)
        return 2
    name = sys.argv[1]
    try:
        SCENARIOS[name]()
    except BaseException:
        traceback.print_exc()
        print(f"FAIL {name}", flush=True)
        return 1
    print(f"PASS {name}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
