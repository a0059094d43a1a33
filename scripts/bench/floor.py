#!/usr/bin/env python3
"""The floor of a write: what the service stored for a stretch of one log, written again raw.

The write targets compare the service with raw inserts of the *input* rows (one CSV row, or one
request's fields, into one plain table with one index). The service stores more for each donation:
its entry (the public body in canonical form and its hashes), its private values, its Merkle
nodes, its fact and its lot, with the indexes the rules and the reads use. This script times
writing exactly those stored rows again, with no rules, hashing or HTTP: tables made like the
service's (same columns, keys and indexes), filled with the rows of entries `first..last` of
`org`, chunk by chunk, each chunk one durable transaction. A write path can only approach this
figure; the ratio of the input baseline to it says how far below the input baseline any
implementation of the same schema must stay on this machine.

    floor.py sqlite   <database file> <org> <first seq> <last seq> <chunk> <scratch file>
    floor.py postgres <database url>  <org> <first seq> <last seq> <chunk> <scratch dir>

Prints "<seconds> <rows written>" (the rows of all five tables). On PostgreSQL each table goes by
one `COPY` (binary) per chunk through psql, into `floor_<table>` tables (`LIKE … INCLUDING ALL`)
that are dropped afterwards.
"""
import os
import shutil
import sqlite3
import subprocess
import sys
import time

TABLES = ("entries", "entry_private", "merkle_nodes", "facts", "lots")


def seq_filter(table, first, last):
    """The rows of `table` that entries first..last stored (Merkle nodes: those whose last leaf,
    leaf `seq - 1`, is one of them: the leaves and the inner nodes they completed)."""
    if table == "merkle_nodes":
        return f"((idx + 1) << level) BETWEEN {first} AND {last}"
    return f"seq BETWEEN {first} AND {last}"


def sqlite_floor(db, org, first, last, chunk, scratch):
    src = sqlite3.connect(db)
    ddl = [sql for (sql,) in src.execute(
        "SELECT sql FROM sqlite_master WHERE tbl_name IN (%s) AND type IN ('table', 'index') AND sql IS NOT NULL"
        % ",".join("?" * (len(TABLES) + 1)), (*TABLES, "organizations"))]
    orgrow = src.execute("SELECT * FROM organizations WHERE id = ?", (org,)).fetchone()
    if os.path.exists(scratch):
        os.remove(scratch)
    dst = sqlite3.connect(scratch, isolation_level=None)
    dst.execute("PRAGMA journal_mode=WAL")
    dst.execute("PRAGMA synchronous=FULL")
    dst.execute("PRAGMA foreign_keys=ON")
    for sql in ddl:
        dst.execute(sql)
    dst.execute("INSERT INTO organizations VALUES (%s)" % ",".join("?" * len(orgrow)), orgrow)
    took, total = 0.0, 0
    # One chunk in memory at a time: read (not timed), then written in one timed transaction.
    for lo in range(first, last + 1, chunk):
        hi = min(last, lo + chunk - 1)
        rows = {t: src.execute(f"SELECT * FROM {t} WHERE organization = ? AND {seq_filter(t, lo, hi)}",
                               (org,)).fetchall() for t in TABLES}
        start = time.time()
        dst.execute("BEGIN")
        for t, r in rows.items():
            if r:
                dst.executemany(f"INSERT INTO {t} VALUES ({','.join('?' * len(r[0]))})", r)
        dst.execute("COMMIT")
        took += time.time() - start
        total += sum(len(r) for r in rows.values())
    src.close()
    dst.close()
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(scratch + suffix):
            os.remove(scratch + suffix)
    return took, total


def psql(url, sql):
    subprocess.run(["psql", url, "-qAt", "-v", "ON_ERROR_STOP=1"], input=sql.encode(), check=True,
                   stdout=subprocess.DEVNULL)


def postgres_floor(url, org, first, last, chunk, scratch):
    quoted = "'" + org.replace("'", "''") + "'"
    os.makedirs(scratch, exist_ok=True)
    setup, load, total = ["SET client_min_messages = warning;"], ["BEGIN;"], 0
    ks = range(0, (last - first) // chunk + 1)
    for t in TABLES:
        setup.append(f"DROP TABLE IF EXISTS floor_{t}; CREATE TABLE floor_{t} (LIKE {t} INCLUDING ALL);")
        for k in ks:
            lo, hi = first + k * chunk, min(last, first + (k + 1) * chunk - 1)
            path = os.path.join(scratch, f"{t}-{k}.bin")
            setup.append(f"\\copy (SELECT * FROM {t} WHERE organization = {quoted} AND {seq_filter(t, lo, hi)}) TO '{path}' (FORMAT binary)")
    psql(url, "\n".join(setup) + "\n")
    for t in TABLES:
        total += int(subprocess.run(
            ["psql", url, "-qAt", "-c", f"SELECT count(*) FROM {t} WHERE organization = {quoted} AND {seq_filter(t, first, last)}"],
            check=True, capture_output=True).stdout)
    for k in ks:
        for t in TABLES:
            load.append(f"\\copy floor_{t} FROM '{os.path.join(scratch, f'{t}-{k}.bin')}' (FORMAT binary)")
        load.append("COMMIT;" if k == ks[-1] else "COMMIT; BEGIN;")
    start = time.time()
    psql(url, "\n".join(load) + "\n")
    took = time.time() - start
    psql(url, "".join(f"DROP TABLE floor_{t};" for t in TABLES))
    shutil.rmtree(scratch)
    return took, total


def main():
    kind, where, org, first, last, chunk, scratch = sys.argv[1:8]
    first, last, chunk = int(first), int(last), int(chunk)
    run = sqlite_floor if kind == "sqlite" else postgres_floor
    took, rows = run(where, org, first, last, chunk, scratch)
    print(f"{took:.3f} {rows}")


if __name__ == "__main__":
    main()
