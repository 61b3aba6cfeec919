# purpose: asyncpg drives pgbalancer (reads routed to replicas) through one named scenario; run by AsyncpgIT.
"""Usage: /usr/bin/python3 asyncpg_checks.py SCENARIO

Connection details come from the environment: PGB_HOST, PGB_PORT (pgbalancer), PGB_USER, PGB_PASSWORD,
PGB_DATABASE, PGB_PRIMARY_PORT and PGB_REPLICA_PORTS (comma-separated; the servers themselves, used to check where
a statement ran and to wait for replication). Prints "step: ..." before each driver call and "PASS <scenario>" at
the end; any failed check or hang exits non-zero with a traceback.

asyncpg prepares every statement with Parse/Describe/Flush and waits for the answers before it sends Bind/Execute/
Sync, so each call is bounded by asyncio.wait_for: a proxy that holds those answers back fails the step by name
instead of blocking forever.
"""
import asyncio
import csv
import faulthandler
import hashlib
import io
import os
import random
import sys
import traceback

import asyncpg

HOST = os.environ["PGB_HOST"]
PORT = int(os.environ["PGB_PORT"])
USER = os.environ["PGB_USER"]
PASSWORD = os.environ["PGB_PASSWORD"]
DATABASE = os.environ["PGB_DATABASE"]
PRIMARY = int(os.environ["PGB_PRIMARY_PORT"])
REPLICAS = sorted(int(p) for p in os.environ["PGB_REPLICA_PORTS"].split(","))
STEP_TIMEOUT = float(os.environ.get("PGB_STEP_TIMEOUT", "20"))
SCRIPT_TIMEOUT = float(os.environ.get("PGB_SCRIPT_TIMEOUT", "150"))


class Rollback(Exception):
    """Raised inside `async with conn.transaction()` to roll it back on purpose."""


async def step(what, awaitable, timeout=STEP_TIMEOUT):
    """Awaits one driver call; a hang becomes an AssertionError naming the call."""
    print(f"step: {what}", flush=True)
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except asyncio.TimeoutError:
        raise AssertionError(f"{what}: no answer within {timeout:g} s (the connection hangs)") from None


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


async def connect(what="connect"):
    return await step(what, asyncpg.connect(host=HOST, port=PORT, user=USER, password=PASSWORD, database=DATABASE,
                                            timeout=STEP_TIMEOUT))


async def close(conn):
    try:
        await asyncio.wait_for(conn.close(), 5)
    except Exception:
        conn.terminate()


async def wait_for_replicas():
    """Waits (on direct connections, not through pgbalancer) until every replica has replayed the primary's WAL."""
    async def direct(port):
        return await asyncpg.connect(host=HOST, port=port, user=USER, password=PASSWORD, database=DATABASE,
                                     timeout=STEP_TIMEOUT)

    async def wait():
        # The cluster runs with synchronous_commit = off, so a commit may still sit in the WAL buffers, beyond
        # pg_current_wal_lsn(). A message committed with synchronous_commit = on flushes the WAL up to itself.
        primary = await asyncpg.connect(host=HOST, port=PRIMARY, user="postgres", database=DATABASE,
                                        timeout=STEP_TIMEOUT)
        try:
            await primary.execute("set synchronous_commit = on")
            await primary.execute("select pg_logical_emit_message(true, 'pgbalancer-it', 'replicas catch up')")
            lsn = await primary.fetchval("select pg_current_wal_flush_lsn()::text")
        finally:
            await primary.close()
        for port in REPLICAS:
            replica = await direct(port)
            try:
                while not await replica.fetchval("select pg_last_wal_replay_lsn() >= $1::text::pg_lsn", lsn):
                    await asyncio.sleep(0.02)
            finally:
                await replica.close()

    await step("wait for the replicas to replay the primary's WAL (direct connections)", wait())


async def fetch_on_primary(conn, sql, *args):
    """Runs a read inside a read-write transaction: pgbalancer sends it to the primary, which has every write."""
    async def run():
        async with conn.transaction():
            return await conn.fetchrow(sql, *args), await conn.fetchval("select inet_server_port()")

    row, port = await step(f"fetch on the primary: {sql}", run())
    on_primary(port, f"a read in a transaction ({sql})")
    return row


# ------------------------------------------------------------------------------------------------------ scenarios

async def scenario_fetchval():
    conn = await connect()
    try:
        # simple protocol (no arguments): no Flush involved
        eq(await step("execute('select 1') (simple query)", conn.execute("select 1")), "SELECT 1", "status")
        eq(await step("fetchval('select 1')", conn.fetchval("select 1")), 1, "select 1")
        eq(await step("fetchval('select $1::int + 1', 41)", conn.fetchval("select $1::int + 1", 41)), 42,
           "select $1 + 1")
        row = await step("fetchrow(where am I)", conn.fetchrow(
            "select inet_server_port() as port, current_user as who, current_database() as db,"
            " pg_is_in_recovery() as standby"))
        on_replica(row["port"], "an autocommit select")
        eq((row["who"], row["db"], row["standby"]), (USER, DATABASE, True), "user, database, in recovery")
        ports = set()
        for i in range(12):
            port = await step(f"fetchval(inet_server_port()) #{i}", conn.fetchval("select inet_server_port()"))
            on_replica(port, f"autocommit select #{i}")
            ports.add(port)
        check(len(ports) >= 2, f"12 reads from one connection used only the replicas {sorted(ports)}")
        rows = await step("fetch(generate_series)", conn.fetch("select g from generate_series(1, 100) g"))
        eq([r["g"] for r in rows], list(range(1, 101)), "generate_series rows")
    finally:
        await close(conn)


async def scenario_prepared():
    conn = await connect()
    try:
        stmt = await step("prepare(doubled/shout/port)", conn.prepare(
            "select $1::int * 2 as doubled, upper($2::text) as shout, inet_server_port() as port"))
        eq([a.name for a in stmt.get_attributes()], ["doubled", "shout", "port"], "prepared statement's columns")
        eq([t.name for t in stmt.get_parameters()], ["int4", "text"], "prepared statement's parameter types")
        ports = set()
        for i in range(25):
            rows = await step(f"prepared fetch({i}, 'tag{i}')", stmt.fetch(i, f"tag{i}"))
            eq(len(rows), 1, f"rows of execution {i}")
            eq((rows[0]["doubled"], rows[0]["shout"]), (2 * i, f"TAG{i}"), f"answer to execution {i}")
            on_replica(rows[0]["port"], f"prepared read #{i}")
            ports.add(rows[0]["port"])
        check(len(ports) >= 2, f"25 executions of a prepared read used only the replicas {sorted(ports)}")
        eq(await step("prepared fetchval(7, 'x')", stmt.fetchval(7, "x")), 14, "fetchval column 0")
        eq(await step("prepared fetchval(column=1)", stmt.fetchval(3, "abc", column=1)), "ABC", "fetchval column 1")
        row = await step("prepared fetchrow", stmt.fetchrow(-5, "row"))
        eq((row["doubled"], row["shout"]), (-10, "ROW"), "fetchrow")

        series = await step("prepare(generate_series)", conn.prepare(
            "select g, g * g as sq from generate_series(1, $1::int) g"))
        for n in (1, 10, 1000, 0, 10):
            rows = await step(f"series fetch({n})", series.fetch(n))
            eq([(r["g"], r["sq"]) for r in rows], [(g, g * g) for g in range(1, n + 1)], f"series of {n}")

        # the same text prepared on a second connection, executions interleaved with the first's
        other = await connect("connect (second connection)")
        try:
            stmt2 = await step("prepare on the second connection", other.prepare(
                "select $1::int * 2 as doubled, upper($2::text) as shout, inet_server_port() as port"))
            for i in range(10):
                a = await step(f"first connection fetchrow({i})", stmt.fetchrow(i, "first"))
                b = await step(f"second connection fetchrow({100 + i})", stmt2.fetchrow(100 + i, "second"))
                eq((a["doubled"], a["shout"]), (2 * i, "FIRST"), f"first connection, round {i}")
                eq((b["doubled"], b["shout"]), (200 + 2 * i, "SECOND"), f"second connection, round {i}")
        finally:
            await close(other)
        # statement cache: the same text through fetch() again reuses asyncpg's named statement
        for i in range(5):
            eq(await step(f"cached fetchval #{i}", conn.fetchval("select $1::int * 2 as doubled, upper($2::text)"
                                                               " as shout, inet_server_port() as port", i, "c")),
               2 * i, f"cached statement, round {i}")
    finally:
        await close(conn)


async def scenario_executemany():
    conn = await connect()
    try:
        await step("create table", conn.execute(
            "drop table if exists asyncpg_it_many;"
            " create table asyncpg_it_many (id int primary key, name text not null, n int not null)"))
        rows = [(i, f"name {i}", i * 3) for i in range(1, 201)]
        await step("executemany(insert 200 rows)", conn.executemany(
            "insert into asyncpg_it_many (id, name, n) values ($1, $2, $3)", rows))
        row = await fetch_on_primary(conn, "select count(*) as c, sum(n) as s, count(distinct name) as d"
                                           " from asyncpg_it_many")
        eq((row["c"], row["s"], row["d"]), (200, sum(r[2] for r in rows), 200), "rows after executemany")

        async def updates():
            async with conn.transaction():
                await conn.executemany("update asyncpg_it_many set n = n + $2 where id = $1",
                                       [(i, 1000) for i in range(1, 51)])
                return await conn.fetchrow("select sum(n) as s, inet_server_port() as port from asyncpg_it_many")

        row = await step("executemany(update) in a transaction, then a read in it", updates())
        on_primary(row["port"], "a transaction with executemany")
        eq(row["s"], sum(r[2] for r in rows) + 50 * 1000, "sum after the updates, inside the transaction")

        # a batch that fails half way (duplicate key) raises and inserts nothing; the connection goes on
        bad = [(1000 + i, f"dup {i}", i) for i in range(10)] + [(5, "duplicate of 5", 0)]
        try:
            await step("executemany with a duplicate key", conn.executemany(
                "insert into asyncpg_it_many (id, name, n) values ($1, $2, $3)", bad))
            raise AssertionError("executemany with a duplicate key did not raise")
        except asyncpg.UniqueViolationError:
            pass
        row = await fetch_on_primary(conn, "select count(*) as c, count(*) filter (where id >= 1000) as bad"
                                           " from asyncpg_it_many")
        eq((row["c"], row["bad"]), (200, 0), "rows after the failed batch (count, rows of the batch)")
        await wait_for_replicas()
        row = await step("read on a replica", conn.fetchrow(
            "select count(*) as c, sum(n) as s, inet_server_port() as port from asyncpg_it_many"))
        on_replica(row["port"], "an autocommit count")
        eq((row["c"], row["s"]), (200, sum(r[2] for r in rows) + 50 * 1000), "rows seen on a replica")
    finally:
        await close(conn)


async def scenario_cursor():
    conn = await connect()
    try:
        async def cursors(readonly):
            where = "read-only transaction" if readonly else "transaction"
            async with conn.transaction(readonly=readonly):
                port = await conn.fetchval("select inet_server_port()")
                count, total = 0, 0
                async for rec in conn.cursor("select g, md5(g::text) as h from generate_series(1, $1::int) g",
                                             2000, prefetch=64):
                    count += 1
                    total += rec["g"]
                    if rec["h"] != hashlib.md5(str(rec["g"]).encode()).hexdigest():
                        raise AssertionError(f"{where}: row {rec['g']} has md5 {rec['h']}")
                eq((count, total), (2000, 2000 * 2001 // 2), f"{where}: rows and sum through the prefetch cursor")
                cur = await conn.cursor("select g, inet_server_port() as port from generate_series(1, 500) g"
                                        " order by g")
                first = await cur.fetch(10)
                eq([r["g"] for r in first], list(range(1, 11)), f"{where}: cursor.fetch(10)")
                eq(await cur.forward(90), 90, f"{where}: cursor.forward(90)")
                eq((await cur.fetchrow())["g"], 101, f"{where}: cursor.fetchrow() after forward")
                rest = await cur.fetch(1000)
                eq([r["g"] for r in rest], list(range(102, 501)), f"{where}: cursor.fetch(1000) to the end")
                eq(await cur.fetch(5), [], f"{where}: fetch past the end")
                ports = {port} | {r["port"] for r in first} | {r["port"] for r in rest}
                eq(len(ports), 1, f"{where}: statements ran on several servers {sorted(ports)}")
                return port

        port = await step("cursors in a transaction", cursors(False))
        on_primary(port, "a transaction started with BEGIN")
        port = await step("cursors in a read-only transaction", cursors(True))
        on_replica(port, "a transaction started with BEGIN READ ONLY")
        eq(await step("fetchval after the cursors", conn.fetchval("select 5")), 5, "a query after the cursors")
    finally:
        await close(conn)


async def scenario_copy():
    conn = await connect()
    try:
        await step("create tables", conn.execute(
            "drop table if exists asyncpg_it_copy, asyncpg_it_copy2;"
            " create table asyncpg_it_copy (id int primary key, label text not null, n int not null);"
            " create table asyncpg_it_copy2 (id int primary key, label text not null, n int not null)"))
        # copy_records_to_table first reads the table's columns with a SELECT, which may go to a replica
        await wait_for_replicas()
        records = [(i, f'label {i}, "q"\t{i % 7}', i * 7) for i in range(1, 2001)]
        eq(await step("copy_records_to_table(2000 records)", conn.copy_records_to_table(
            "asyncpg_it_copy", records=records, columns=["id", "label", "n"])), "COPY 2000", "copy in status")
        row = await fetch_on_primary(conn, "select count(*) as c, sum(n) as s from asyncpg_it_copy")
        eq((row["c"], row["s"]), (2000, sum(r[2] for r in records)), "rows after copy_records_to_table")

        await wait_for_replicas()
        buf = io.BytesIO()
        eq(await step("copy_from_query(... to a buffer, csv)", conn.copy_from_query(
            "select id, label, n from asyncpg_it_copy order by id", output=buf, format="csv")),
           "COPY 2000", "copy out status")
        parsed = [(int(a), b, int(c)) for a, b, c in csv.reader(io.StringIO(buf.getvalue().decode()))]
        eq(parsed, records, "rows copied out")

        eq(await step("copy_to_table(from the buffer, csv)", conn.copy_to_table(
            "asyncpg_it_copy2", source=io.BytesIO(buf.getvalue()), format="csv", columns=["id", "label", "n"])),
           "COPY 2000", "copy in (copy_to_table) status")
        row = await fetch_on_primary(conn, "select count(*) as c, count(*) filter (where a.label = b.label"
                                           " and a.n = b.n) as same from asyncpg_it_copy a"
                                           " join asyncpg_it_copy2 b using (id)")
        eq((row["c"], row["same"]), (2000, 2000), "rows of the second table equal to the first")

        await wait_for_replicas()
        out = io.BytesIO()
        eq(await step("copy_from_table(asyncpg_it_copy2, text format)", conn.copy_from_table(
            "asyncpg_it_copy2", output=out)), "COPY 2000", "copy_from_table status")
        lines = sorted(out.getvalue().decode().splitlines(), key=lambda l: int(l.split("\t", 1)[0]))
        eq(len(lines), 2000, "lines copied out of the second table")
        eq(lines[0], '1\tlabel 1, "q"\\t1\t7', "first line in text format")

        # a COPY that fails (bad data) raises and the connection goes on
        try:
            await step("copy_to_table with bad data", conn.copy_to_table(
                "asyncpg_it_copy2", source=io.BytesIO(b"9001,ok,1\nnot-a-number,x,2\n"), format="csv"))
            raise AssertionError("COPY with bad data did not raise")
        except asyncpg.InvalidTextRepresentationError:
            pass
        eq(await step("fetchval after the failed COPY", conn.fetchval("select 6")), 6, "a query after a failed COPY")
        row = await fetch_on_primary(conn, "select count(*) as c from asyncpg_it_copy2")
        eq(row["c"], 2000, "rows after the failed COPY")
    finally:
        await close(conn)


async def scenario_transaction():
    conn = await connect()
    try:
        await step("create table", conn.execute(
            "drop table if exists asyncpg_it_tx;"
            " create table asyncpg_it_tx (id serial primary key, who text not null, n int not null)"))

        async def write_then_read():
            async with conn.transaction():
                seen = []
                row = await conn.fetchrow("insert into asyncpg_it_tx (who, n) values ($1, $2)"
                                          " returning id, inet_server_port() as port, pg_backend_pid() as pid",
                                          "committed", 1)
                seen.append((row["port"], row["pid"]))
                row = await conn.fetchrow("select count(*) as c, sum(n) as s, inet_server_port() as port,"
                                          " pg_backend_pid() as pid from asyncpg_it_tx where who = $1", "committed")
                seen.append((row["port"], row["pid"]))
                eq((row["c"], row["s"]), (1, 1), "the transaction reads its own write")
                await conn.execute("insert into asyncpg_it_tx (who, n) values ($1, $2)", "committed", 2)
                row = await conn.fetchrow("select count(*) as c, sum(n) as s, inet_server_port() as port,"
                                          " pg_backend_pid() as pid from asyncpg_it_tx where who = $1", "committed")
                seen.append((row["port"], row["pid"]))
                eq((row["c"], row["s"]), (2, 3), "the transaction reads its second write")
                return seen

        seen = await step("transaction: write, read, write, read", write_then_read())
        eq(len(set(seen)), 1, f"one transaction ran on several backends {seen}")
        on_primary(seen[0][0], "a transaction that writes")

        async def rolled_back():
            try:
                async with conn.transaction():
                    await conn.execute("insert into asyncpg_it_tx (who, n) values ($1, $2)", "rolled back", 10)
                    eq(await conn.fetchval("select count(*) from asyncpg_it_tx where who = $1", "rolled back"), 1,
                       "the rolled-back transaction reads its own write")
                    raise Rollback()
            except Rollback:
                pass

        await step("transaction rolled back", rolled_back())

        async def savepoint():
            async with conn.transaction():
                await conn.execute("insert into asyncpg_it_tx (who, n) values ($1, $2)", "outer", 100)
                try:
                    async with conn.transaction():
                        await conn.execute("insert into asyncpg_it_tx (who, n) values ($1, $2)", "inner", 1000)
                        raise Rollback()
                except Rollback:
                    pass
                return await conn.fetchval("select string_agg(who, ',' order by id) from asyncpg_it_tx"
                                           " where who in ('outer', 'inner')")

        eq(await step("savepoint rolled back inside a transaction", savepoint()), "outer",
           "rows inside the transaction after its savepoint rolled back")

        row = await fetch_on_primary(conn, "select string_agg(who || ':' || n, ',' order by id) as rows"
                                           " from asyncpg_it_tx")
        eq(row["rows"], "committed:1,committed:2,outer:100", "committed rows")

        # the committed rows, read back on a replica in a read-only transaction
        await wait_for_replicas()

        async def read_only():
            async with conn.transaction(readonly=True):
                return await conn.fetchrow("select count(*) as c, sum(n) as s, inet_server_port() as port"
                                           " from asyncpg_it_tx")

        row = await step("read-only transaction", read_only())
        on_replica(row["port"], "a read-only transaction")
        eq((row["c"], row["s"]), (3, 103), "committed rows seen on a replica")
    finally:
        await close(conn)


async def scenario_error():
    conn = await connect()
    try:
        await step("create table", conn.execute(
            "drop table if exists asyncpg_it_err; create table asyncpg_it_err (id int primary key)"))
        try:
            await step("fetchval('select 1/0')", conn.fetchval("select 1/0"))
            raise AssertionError("select 1/0 did not raise")
        except asyncpg.DivisionByZeroError as e:
            eq(e.sqlstate, "22012", "SQLSTATE of the division by zero")
        eq(await step("fetchval('select 2') after the error", conn.fetchval("select 2")), 2, "query after an error")
        port = await step("fetchval(inet_server_port()) after the error", conn.fetchval("select inet_server_port()"))
        on_replica(port, "a read after an error")

        stmt = await step("prepare('select 100 / $1::int')", conn.prepare("select 100 / $1::int"))
        eq(await step("prepared fetchval(4)", stmt.fetchval(4)), 25, "100 / 4")
        try:
            await step("prepared fetchval(0)", stmt.fetchval(0))
            raise AssertionError("100 / 0 did not raise")
        except asyncpg.DivisionByZeroError:
            pass
        eq(await step("prepared fetchval(5) after its error", stmt.fetchval(5)), 20, "100 / 5 after an error")

        try:
            await step("select from a missing table", conn.fetch("select * from asyncpg_it_missing_table"))
            raise AssertionError("a missing table did not raise")
        except asyncpg.UndefinedTableError:
            pass
        eq(await step("fetchval('select 3')", conn.fetchval("select 3")), 3, "query after a missing table")

        async def failing_transaction():
            try:
                async with conn.transaction():
                    await conn.execute("insert into asyncpg_it_err values (1)")
                    await conn.fetchval("select 1/0")
                raise AssertionError("the transaction's division by zero did not raise")
            except asyncpg.DivisionByZeroError:
                pass

        await step("a transaction with an error", failing_transaction())
        eq(await step("fetchval after the failed transaction", conn.fetchval("select 4")), 4,
           "query after a failed transaction")
        row = await fetch_on_primary(conn, "select count(*) as c from asyncpg_it_err")
        eq(row["c"], 0, "rows of the failed transaction")
        try:
            await step("insert twice (duplicate key)", conn.execute(
                "insert into asyncpg_it_err values (7); insert into asyncpg_it_err values (7)"))
            raise AssertionError("the duplicate key did not raise")
        except asyncpg.UniqueViolationError:
            pass
        eq(await step("fetchval after the duplicate key", conn.fetchval("select $1::int", 8)), 8,
           "query after a duplicate key")
    finally:
        await close(conn)


async def scenario_concurrent():
    clients, rounds = 8, 25
    rnd = random.Random(20240605)
    sleeps = [[rnd.randint(0, 4) for _ in range(rounds)] for _ in range(clients)]

    async def client(k):
        conn = await connect(f"connect client {k}")
        try:
            await step(f"client {k}: set application_name", conn.execute(f"set application_name = 'asyncpg-{k}'"))
            ports = set()
            for r in range(rounds):
                tag = f"client-{k}-round-{r}"
                row = await step(f"client {k} round {r}", conn.fetchrow(
                    "select $1::text as tag, $2::int * 1000 + $3::int as code,"
                    " current_setting('application_name') as app, pg_sleep($4::float8 / 1000) is not null as slept,"
                    " inet_server_port() as port", tag, k, r, sleeps[k][r]))
                eq((row["tag"], row["code"], row["app"]), (tag, k * 1000 + r, f"asyncpg-{k}"),
                   f"client {k} round {r}: its own answer")
                on_replica(row["port"], f"client {k} round {r}")
                ports.add(row["port"])
                # a statement text only this client uses
                own = await step(f"client {k} round {r} (own text)", conn.fetchval(
                    f"select 'only client {k}: ' || $1::text", tag))
                eq(own, f"only client {k}: {tag}", f"client {k} round {r}: its own statement")
            return ports
        finally:
            await close(conn)

    results = await asyncio.gather(*(client(k) for k in range(clients)))
    used = set().union(*results)
    check(len(used) >= 2, f"{clients} concurrent clients used only the replicas {sorted(used)}")


async def scenario_causal():
    """10,000 times: insert a row, then read it back at once on the same connection (routed to a replica)."""
    n = int(os.environ.get("PGB_CAUSAL_ITERATIONS", "10000"))
    conn = await connect()
    try:
        await step("create table", conn.execute(
            "drop table if exists asyncpg_it_causal; create table asyncpg_it_causal (id int primary key)"))

        async def loop():
            stale = on_replicas = 0
            for i in range(n):
                await conn.execute("insert into asyncpg_it_causal values ($1)", i)
                row = await conn.fetchrow("select count(*) as c, inet_server_port() as port"
                                          " from asyncpg_it_causal where id = $1", i)
                stale += row["c"] != 1
                on_replicas += row["port"] in REPLICAS
            return stale, on_replicas

        stale, on_replicas = await step(f"{n} x (insert, read it back)", loop(), timeout=SCRIPT_TIMEOUT)
        print(f"causal: {n} iterations, {stale} stale reads, {on_replicas} reads on replicas", flush=True)
        eq(stale, 0, "reads that missed the connection's own committed row")
        check(on_replicas > n // 2, f"only {on_replicas} of {n} reads ran on replicas")
    finally:
        await close(conn)


SCENARIOS = {
    "causal": scenario_causal,
    "fetchval": scenario_fetchval,
    "prepared": scenario_prepared,
    "executemany": scenario_executemany,
    "cursor": scenario_cursor,
    "copy": scenario_copy,
    "transaction": scenario_transaction,
    "error": scenario_error,
    "concurrent": scenario_concurrent,
}


def main():
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        print(f"usage: {sys.argv[0]} {{{'|'.join(SCENARIOS)}}}", file=sys.stderr)
        return 2
    name = sys.argv[1]
    # last resort if a wait_for itself cannot return: dump every stack and exit
    faulthandler.dump_traceback_later(SCRIPT_TIMEOUT, exit=True)
    try:
        asyncio.run(SCENARIOS[name]())
    except BaseException:
        traceback.print_exc()
        print(f"FAIL {name}", flush=True)
        return 1
    print(f"PASS {name}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
