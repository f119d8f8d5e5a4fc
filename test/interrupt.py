"""interrupt.py — sqlite3_interrupt() against migrate's calls, from Python.

    /usr/bin/python3 test/interrupt.py LIB DIR [TRIALS]

LIB is the extension (absolute path), DIR a fresh empty folder. A real
interrupt, conn.interrupt() from a timer thread, lands at a random moment of
migrate_apply and migrate_rollback(8), in rollback-journal and WAL mode,
with atomic on and off; and deterministically, from inside a migration that
calls an application function which interrupts its own connection. After
every call the promises of doc/guarantees.md "Atomic" and "Settings
restored" are checked:

  - the connection is in autocommit, with every setting it had before;
  - no lock is left: another connection can take the write lock at once;
  - atomic on: the database is exactly at the start or at the end, and an
    error means the start; atomic off: it is at one of the states after k
    migrations, and the history says which;
  - success means all of it.

Prints "OK <case> <what it saw>" per case, "FAIL <case> <why>" for each
broken promise, and exits 1 if any failed. test/interrupt.test reads it.
migrate_check and migrate_drift are interrupted too: an endless script must
stop when the caller's connection is interrupted.
"""

import os
import random
import shutil
import sqlite3
import sys
import threading
import time

LIB, DIR = sys.argv[1], sys.argv[2]
TRIALS = int(sys.argv[3]) if len(sys.argv) > 3 else 12
N = 8
ROWS = 3000
random.seed(int(os.environ.get("INTERRUPT_SEED", "20261206")))

failures = []


def fail(case, why):
    failures.append(case)
    print("FAIL %s %s" % (case, why), flush=True)


def migrations(folder, interrupting=None):
    """N migrations with enough work that a call lasts milliseconds: tables,
    a backfill of ROWS rows, an index, a parent-table rebuild under foreign
    keys. interrupting: the version whose up calls interrupt_me()."""
    os.makedirs(folder, exist_ok=True)
    for v in range(1, N + 1):
        up = ["CREATE TABLE t%d(id INTEGER PRIMARY KEY, p INTEGER REFERENCES t1(id), x TEXT);" % v,
              "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i < %d) "
              "INSERT INTO t%d(p, x) SELECT NULL, printf('%%d-%%.40c', i, 'x') FROM n;" % (ROWS, v),
              "CREATE INDEX t%d_x ON t%d(x);" % (v, v)]
        if v == 5:
            # SQLite's rebuild of the parent table t1.
            up += ["CREATE TABLE t1_new(id INTEGER PRIMARY KEY, p INTEGER, x TEXT, y TEXT);",
                   "INSERT INTO t1_new(id, p, x) SELECT id, p, x FROM t1;",
                   "DROP TABLE t1;",
                   "ALTER TABLE t1_new RENAME TO t1;"]
        if interrupting == v:
            up.append("SELECT interrupt_me();")
        down = ["DROP TABLE t%d;" % v]
        if v == 5:
            down = ["ALTER TABLE t1 DROP COLUMN y;"] + down
        with open(os.path.join(folder, "%03d_m%d.sql" % (v, v)), "w") as f:
            f.write("-- migrate:up\n" + "\n".join(up) + "\n-- migrate:down\n" + "\n".join(down) + "\n")


SETTINGS = ["foreign_keys", "recursive_triggers", "cache_size", "synchronous",
            "busy_timeout", "automatic_index", "defer_foreign_keys", "threads"]


def settings(conn):
    return {s: conn.execute("PRAGMA %s" % s).fetchone()[0] for s in SETTINGS}


def connect(path):
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.enable_load_extension(True)
    # The entry point by name: a sanitizer build's file name would not give it.
    conn.execute("SELECT load_extension(?, 'sqlite3_migrate_init')", (LIB,)).fetchall()
    conn.enable_load_extension(False)
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA cache_size = -4000")
    conn.execute("PRAGMA recursive_triggers = ON")
    conn.execute("PRAGMA busy_timeout = 3000")
    conn.execute("SELECT migrate_config('backup', 'off')").fetchall()
    return conn


def state(path):
    """What the database holds: user tables and their row counts, the
    history's versions. Read on a connection of its own."""
    c = sqlite3.connect(path)
    tables = [r[0] for r in c.execute(
        "SELECT name FROM sqlite_schema WHERE type='table' AND name NOT LIKE 'migrate%' "
        "AND name NOT LIKE 'sqlite%' ORDER BY name")]
    counts = tuple((t, c.execute("SELECT count(*) FROM \"%s\"" % t).fetchone()[0]) for t in tables)
    cols = tuple(r[1] for r in c.execute("PRAGMA table_info(t1)")) if "t1" in tables else ()
    hist = ()
    if c.execute("SELECT 1 FROM sqlite_schema WHERE name='migrate_history'").fetchone():
        hist = tuple(r[0] for r in c.execute("SELECT version FROM migrate_history ORDER BY version"))
    c.close()
    return (counts, cols, hist)


def can_write(path):
    c = sqlite3.connect(path, isolation_level=None, timeout=0)
    try:
        c.execute("BEGIN IMMEDIATE")
        c.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        c.close()


def make_states(folder, mode):
    """The database file after k migrations, k = 0..N, and its state()."""
    files, states = [], []
    for k in range(N + 1):
        p = os.path.join(DIR, "state-%s-%d.db" % (mode, k))
        conn = connect(p)
        conn.execute("PRAGMA journal_mode = %s" % mode).fetchall()
        if k:
            conn.execute("SELECT migrate_apply(?, ?)", (folder, k)).fetchall()
        conn.close()
        files.append(p)
        states.append(state(p))
    return files, states


# The end of migrate's error in the narrow case of doc/guarantees.md
# "Interrupted", where the caller must roll back.
STILL_OPEN = ("; the transaction is still open, and SQLite runs no ROLLBACK until "
              "this statement ends: roll it back")


def one_call(case, template, folder, op, atomic, delay, states, start_k):
    path = os.path.join(DIR, "trial.db")
    for s in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(path + s):
            os.remove(path + s)
    shutil.copyfile(template, path)
    conn = connect(path)
    conn.execute("SELECT migrate_config('atomic', ?)", (atomic,)).fetchall()
    before = settings(conn)
    timer = threading.Timer(delay, conn.interrupt)
    err = None
    t0 = time.perf_counter()
    timer.start()
    try:
        if op == "apply":
            conn.execute("SELECT migrate_apply(?)", (folder,)).fetchall()
        else:
            conn.execute("SELECT migrate_rollback(?)", (N,)).fetchall()
    except sqlite3.Error as e:
        err = str(e)
    elapsed = time.perf_counter() - t0
    timer.cancel()
    timer.join()
    ok = True
    narrow = False
    if conn.in_transaction and err is not None and err.endswith(STILL_OPEN):
        # The one narrow case doc/guarantees.md "Interrupted" names: an
        # interrupt right after a schema change. The error says so, and the
        # caller's ROLLBACK must put everything back (checked below).
        narrow = True
        conn.execute("ROLLBACK")
    if conn.in_transaction:
        fail(case, "left inside a transaction (error: %s)" % err)
        ok = False
        conn.execute("ROLLBACK")
    after = settings(conn)
    if after != before:
        fail(case, "settings changed: %s -> %s (error: %s)" % (before, after, err))
        ok = False
    conn.close()
    if not can_write(path):
        fail(case, "another connection cannot take the write lock")
        ok = False
    got = state(path)
    end_k = N if op == "apply" else 0
    if got not in states:
        fail(case, "a state that is no k-state: %s (error: %s)" % (got, err))
        return "broken", elapsed
    k = states.index(got)
    if err is None and k != end_k:
        fail(case, "success, but at state %d, not %d" % (k, end_k))
        ok = False
    # An error of migrate's names the function. A bare "interrupted" is
    # SQLite's for the calling statement itself: it came before the call
    # began (nothing done) or after it returned its result (all done).
    ours = err is not None and err.startswith("migrate_")
    if ours and atomic == "on" and k != start_k:
        fail(case, "error %r, but at state %d, not the start %d" % (err, k, start_k))
        ok = False
    if err is not None and not ours and k not in (start_k, end_k):
        fail(case, "statement interrupted (%r), at state %d: neither start nor end" % (err, k))
        ok = False
    if not ok:
        return "broken", elapsed
    if narrow:
        return "narrow", elapsed
    if err is not None and not ours and k == end_k:
        return "done-then-interrupted", elapsed
    return ("done" if err is None else ("start" if k == start_k else "between")), elapsed


def random_trials(mode):
    folder = os.path.join(DIR, "mig")
    if not os.path.isdir(folder):
        migrations(folder)
    files, states = make_states(folder, mode)
    for op in ("apply", "rollback"):
        template, start_k = (files[0], 0) if op == "apply" else (files[N], N)
        for atomic in ("on", "off"):
            case = "%s/%s/atomic-%s" % (mode, op, atomic)
            # The length of an uninterrupted call: the window to aim at.
            _, span = one_call(case + "/calibrate", template, folder, op, atomic, 3600,
                               states, start_k)
            seen = {"start": 0, "between": 0, "done": 0, "done-then-interrupted": 0,
                    "narrow": 0, "broken": 0}
            for i in range(TRIALS):
                what, _ = one_call("%s/%d" % (case, i), template, folder, op, atomic,
                                   random.uniform(0, span * 1.1), states, start_k)
                seen[what] += 1
            print("OK %s %d trials: start %d, between %d, done %d (then the statement "
                  "interrupted: %d), rolled back by the caller %d, broken %d" % (
                      case, TRIALS, seen["start"], seen["between"],
                      seen["done"] + seen["done-then-interrupted"],
                      seen["done-then-interrupted"], seen["narrow"], seen["broken"]),
                  flush=True)


def apply_interrupted(conn, folder):
    """migrate_apply on conn; its error (or None), whether the connection
    was left inside a transaction (rolled back here, so the checks after
    can read), and the settings after."""
    try:
        conn.execute("SELECT migrate_apply(?)", (folder,)).fetchall()
        err = None
    except sqlite3.Error as e:
        err = str(e)
    intx = conn.in_transaction
    if intx:
        conn.execute("ROLLBACK")
    return err, intx, settings(conn)


def from_inside(mode):
    """A migration that calls an application function which interrupts its
    own connection: the interrupt lands inside the call, every time."""
    folder = os.path.join(DIR, "mig-self-%s" % mode)
    migrations(folder, interrupting=6)
    path = os.path.join(DIR, "self-%s.db" % mode)
    for atomic in ("on", "off"):
        case = "%s/self/atomic-%s" % (mode, atomic)
        for s in ("", "-wal", "-shm", "-journal"):
            if os.path.exists(path + s):
                os.remove(path + s)
        conn = connect(path)
        conn.execute("PRAGMA journal_mode = %s" % mode).fetchall()
        conn.execute("SELECT migrate_config('atomic', ?)", (atomic,)).fetchall()
        conn.create_function("interrupt_me", 0, lambda: conn.interrupt() or 0)
        before = settings(conn)
        err, intx, after = apply_interrupted(conn, folder)
        conn.close()
        hist = state(path)[2]
        want = () if atomic == "on" else (1, 2, 3, 4, 5)
        if intx:
            fail(case, "left inside a transaction")
        elif after != before:
            fail(case, "settings changed: %s -> %s" % (before, after))
        elif hist != want:
            fail(case, "history %s, not %s (error %s)" % (hist, want, err))
        elif not can_write(path):
            fail(case, "a lock is left")
        else:
            print("OK %s %s | history %s" % (case, err, list(hist)), flush=True)


def inside_caller_txn(mode):
    """Inside the application's own transaction: an interrupt that stops the
    call rolls the application's whole transaction back, its earlier work
    included (SQLite does the same when an interrupt stops a statement that
    writes); the connection is in autocommit, with its settings."""
    folder = os.path.join(DIR, "mig-self-%s" % mode)
    path = os.path.join(DIR, "caller-%s.db" % mode)
    case = "%s/caller-transaction" % mode
    for s in ("", "-wal", "-shm", "-journal"):
        if os.path.exists(path + s):
            os.remove(path + s)
    conn = connect(path)
    conn.execute("PRAGMA journal_mode = %s" % mode).fetchall()
    conn.execute("CREATE TABLE app(x)")
    conn.create_function("interrupt_me", 0, lambda: conn.interrupt() or 0)
    # Foreign keys stay enforced inside a caller's transaction, and 005
    # rebuilds a parent table: off here, so the call reaches 006.
    conn.execute("PRAGMA foreign_keys = OFF")
    before = settings(conn)
    conn.execute("BEGIN")
    conn.execute("INSERT INTO app VALUES ('the application wrote this')")
    err, intx, after = apply_interrupted(conn, folder)
    rows = conn.execute("SELECT count(*) FROM app").fetchone()[0]
    conn.close()
    hist = state(path)[2]
    if err is None or not err.startswith("migrate_apply:"):
        fail(case, "expected migrate's error, got %r" % err)
    elif intx:
        fail(case, "left inside a transaction")
    elif after != before:
        fail(case, "settings changed: %s -> %s" % (before, after))
    elif rows != 0 or hist != ():
        fail(case, "rows %d, history %s: the transaction was not rolled back whole" % (rows, hist))
    elif not can_write(path):
        fail(case, "a lock is left")
    else:
        print("OK %s %s | application's rows %d, history %s" % (case, err, rows, list(hist)),
              flush=True)


def endless(func):
    """migrate_check / migrate_drift run scripts on a private scratch
    connection: an interrupt of the caller's connection must stop them."""
    path = os.path.join(DIR, "endless-%s.db" % func)
    folder = os.path.join(DIR, "mig-endless")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, "001_forever.sql"), "w") as f:
        f.write("-- migrate:up\nCREATE TABLE f(x);\n"
                "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) "
                "INSERT INTO f SELECT count(*) FROM c;\n-- migrate:down\nDROP TABLE f;\n")
    conn = connect(path)
    if func == "drift":
        conn.execute("CREATE TABLE migrate_history(version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
                     " checksum TEXT NOT NULL, up TEXT NOT NULL, down TEXT, applied_at TEXT NOT NULL,"
                     " duration_ms REAL)")
        conn.execute("INSERT INTO migrate_history VALUES(1, 'forever', '', "
                     "'WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x+1 FROM c) "
                     "SELECT count(*) FROM c;', NULL, '2026-01-01T00:00:00.000Z', 0)")
        sql = "SELECT * FROM migrate_drift()"
    else:
        sql = "SELECT * FROM migrate_check('%s')" % folder
    timer = threading.Timer(0.3, conn.interrupt)
    timer.start()
    t0 = time.perf_counter()
    err = None
    try:
        conn.execute(sql).fetchall()
    except sqlite3.Error as e:
        err = str(e)
    elapsed = time.perf_counter() - t0
    timer.cancel()
    conn.close()
    if elapsed > 2.0:
        fail("endless/" + func, "still running %.1f s after the interrupt (error %s)" % (elapsed - 0.3, err))
    else:
        print("OK endless/%s stopped: %s" % (func, err), flush=True)


for mode in ("delete", "wal"):
    random_trials(mode)
    from_inside(mode)
    inside_caller_txn(mode)

def run_endless(func):
    # A call that never ends would hang this script: the check runs in a
    # thread, and a thread still running after 5 s is a failure.
    t = threading.Thread(target=endless, args=(func,), daemon=True)
    t.start()
    t.join(5)
    if t.is_alive():
        fail("endless/" + func, "did not stop within 5 s of the interrupt")


run_endless("check")
run_endless("drift")
if failures:
    print("%d failed" % len(failures), flush=True)
    os._exit(1)
os._exit(0)
