#!/usr/bin/env python3
"""Many logged-in PostgreSQL clients from one process (asyncio, standard library only), for memory measurements.

Opens COUNT connections to HOST:PORT (trust, cleartext, MD5 or SCRAM-SHA-256 login, no TLS), then prints
    ready <logged-in> <failed> <first error or ->
and reads commands on stdin, one a line:
    active SECONDS   every connection runs "SELECT 1" in a loop for SECONDS; then prints
                     done <queries> <errors> <connections lost> <first error or ->
    quit (or EOF)    closes every connection and exits
Used by bench/pgbench-compare.sh (MEMORY_TEST=1).

Usage: pg-clients.py --port P [--host 127.0.0.1] [--user app] [--database app] [--count 10000] [--concurrency 100]
       (password from $PGPASSWORD)
"""
import argparse
import asyncio
import base64
import hashlib
import hmac
import os
import struct
import sys
import time


class PgError(Exception):
    pass


def message(kind, payload):
    return kind + struct.pack("!I", len(payload) + 4) + payload


async def read_message(reader):
    header = await reader.readexactly(5)
    length = struct.unpack("!I", header[1:])[0]
    return header[:1], await reader.readexactly(length - 4)


def error_text(payload):
    fields = dict((f[:1], f[1:].decode(errors="replace")) for f in payload.split(b"\0") if f)
    return "%s %s" % (fields.get(b"C", "?"), fields.get(b"M", "?"))


class Scram:
    """The client side of SCRAM-SHA-256 without channel binding. Salted passwords are cached by (salt, iterations)."""
    cache = {}

    def __init__(self, password):
        self.password = password.encode()
        self.nonce = base64.b64encode(os.urandom(18)).decode()
        self.first_bare = "n=,r=" + self.nonce

    def initial(self):
        first = ("n,," + self.first_bare).encode()
        return b"SCRAM-SHA-256\0" + struct.pack("!I", len(first)) + first

    def final(self, server_first):
        server_first = server_first.decode()
        attrs = dict(a.split("=", 1) for a in server_first.split(","))
        if not attrs["r"].startswith(self.nonce):
            raise PgError("SCRAM: server nonce does not extend ours")
        key = (attrs["s"], int(attrs["i"]))
        salted = Scram.cache.get(key)
        if salted is None:
            salted = hashlib.pbkdf2_hmac("sha256", self.password, base64.b64decode(attrs["s"]), int(attrs["i"]))
            Scram.cache[key] = salted
        client_key = hmac.new(salted, b"Client Key", "sha256").digest()
        without_proof = "c=biws,r=" + attrs["r"]
        auth_message = ",".join((self.first_bare, server_first, without_proof)).encode()
        signature = hmac.new(hashlib.sha256(client_key).digest(), auth_message, "sha256").digest()
        proof = bytes(a ^ b for a, b in zip(client_key, signature))
        server_key = hmac.new(salted, b"Server Key", "sha256").digest()
        self.expected = base64.b64encode(hmac.new(server_key, auth_message, "sha256").digest()).decode()
        return (without_proof + ",p=" + base64.b64encode(proof).decode()).encode()

    def check(self, server_final):
        if server_final.decode() != "v=" + self.expected:
            raise PgError("SCRAM: wrong server signature")


async def login(args, password):
    reader, writer = await asyncio.open_connection(args.host, args.port)
    try:
        params = b"user\0" + args.user.encode() + b"\0database\0" + args.database.encode() + b"\0\0"
        writer.write(struct.pack("!II", len(params) + 8, 196608) + params)
        scram = None
        while True:
            kind, payload = await read_message(reader)
            if kind == b"E":
                raise PgError(error_text(payload))
            if kind == b"Z":
                return reader, writer
            if kind != b"R":
                continue  # ParameterStatus, BackendKeyData, NoticeResponse
            code = struct.unpack("!I", payload[:4])[0]
            if code == 3:
                writer.write(message(b"p", password.encode() + b"\0"))
            elif code == 5:
                inner = hashlib.md5((password + args.user).encode()).hexdigest().encode()
                writer.write(message(b"p", b"md5" + hashlib.md5(inner + payload[4:8]).hexdigest().encode() + b"\0"))
            elif code == 10:
                if b"SCRAM-SHA-256\0" not in payload[4:]:
                    raise PgError("no SCRAM-SHA-256 among the offered mechanisms")
                scram = Scram(password)
                writer.write(message(b"p", scram.initial()))
            elif code == 11:
                writer.write(message(b"p", scram.final(payload[4:])))
            elif code == 12:
                scram.check(payload[4:])
            elif code != 0:
                raise PgError("unsupported authentication request %d" % code)
    except BaseException:
        writer.close()
        raise


async def query_loop(conn, deadline, stats):
    reader, writer = conn
    select = message(b"Q", b"SELECT 1\0")
    while time.monotonic() < deadline:
        writer.write(select)
        while True:
            kind, payload = await read_message(reader)
            if kind == b"E":
                stats["errors"] += 1
                stats["first"] = stats["first"] or error_text(payload)
            elif kind == b"Z":
                break
        stats["queries"] += 1


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--user", default="app")
    p.add_argument("--database", default="app")
    p.add_argument("--count", type=int, default=10000)
    p.add_argument("--concurrency", type=int, default=100, help="logins in flight at once")
    args = p.parse_args()
    password = os.environ.get("PGPASSWORD", "")
    gate = asyncio.Semaphore(args.concurrency)
    errors = []

    async def one():
        async with gate:
            try:
                return await asyncio.wait_for(login(args, password), 60)
            except Exception as e:  # noqa: BLE001 - any failure counts as a failed login
                errors.append(str(e) or type(e).__name__)
                return None

    conns = [c for c in await asyncio.gather(*(one() for _ in range(args.count))) if c]
    print("ready %d %d %s" % (len(conns), len(errors), (errors[0] if errors else "-").replace("\n", " ")), flush=True)

    loop = asyncio.get_running_loop()
    while True:
        line = (await loop.run_in_executor(None, sys.stdin.readline)).split()
        if not line or line[0] == "quit":
            break
        if line[0] == "active":
            stats = {"queries": 0, "errors": 0, "first": None}
            deadline = time.monotonic() + float(line[1])
            results = await asyncio.gather(*(query_loop(c, deadline, stats) for c in conns), return_exceptions=True)
            lost = [r for r in results if isinstance(r, BaseException)]
            first = stats["first"] or (str(lost[0]) or type(lost[0]).__name__ if lost else "-")
            conns = [c for c, r in zip(conns, results) if not isinstance(r, BaseException)]
            print("done %d %d %d %s" % (stats["queries"], stats["errors"], len(lost), first.replace("\n", " ")),
                  flush=True)
    for _, writer in conns:
        writer.write(message(b"X", b""))
        writer.close()


if __name__ == "__main__":
    asyncio.run(main())
