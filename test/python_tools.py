"""python_tools.py — create, targets, settings and row sources from Python.

    /usr/bin/python3 test/python_tools.py LIB DIR

LIB is the extension (absolute path), DIR a fresh empty folder.  Prints one
"OK <step> <what it saw>" line per step; test/python-tools.test checks them.
The migrations handed over as rows call app_upper(), a function defined
here: an app that bundles its migrations can use its own SQL functions.
"""

import os
import sqlite3
import subprocess
import sys

lib, base = sys.argv[1], sys.argv[2]
folder = os.path.join(base, "migrations")


def ok(step, what):
    print("OK", step, what, flush=True)


conn = sqlite3.connect(os.path.join(base, "app.db"), isolation_level=None)
conn.enable_load_extension(True)
# SQL's load_extension() names the entry point on every Python version.
conn.execute("SELECT load_extension(?, 'sqlite3_migrate_init')", (lib,))
conn.enable_load_extension(False)
conn.execute("SELECT migrate_config('backup', 'off')")
conn.create_function("app_upper", 1, lambda s: s.upper(), deterministic=True)

# migrate_create: the first migration of a new folder, then the next.
first = conn.execute("SELECT migrate_create(?, 'users')", (folder,)).fetchone()[0]
with open(first, "w") as f:
    f.write("-- migrate:up\nCREATE TABLE users(name TEXT);\n"
            "-- migrate:down\nDROP TABLE users;\n")
second = conn.execute("SELECT migrate_create(?, 'items')", (folder,)).fetchone()[0]
with open(second, "w") as f:
    f.write("-- migrate:up\nCREATE TABLE items(name TEXT);\n"
            "-- migrate:down\nDROP TABLE items;\n")
ok("create", ",".join(os.path.basename(p) for p in (first, second)))
try:
    conn.execute("SELECT migrate_create(?, 'bad name')", (folder,))
except sqlite3.Error as e:
    ok("create_refused", e)

# user_version follows the newest version; rollback_to and reset.
conn.execute("SELECT migrate_config('user_version', 'on')")
applied = conn.execute("SELECT migrate_apply(?)", (folder,)).fetchone()[0]
ok("apply", "%d uv=%d" % (applied, conn.execute("PRAGMA user_version").fetchone()[0]))
back = conn.execute("SELECT migrate_rollback_to(1)").fetchone()[0]
ok("rollback_to", "%d uv=%d" % (back, conn.execute("PRAGMA user_version").fetchone()[0]))
back = conn.execute("SELECT migrate_reset()").fetchone()[0]
ok("reset", "%d uv=%d" % (back, conn.execute("PRAGMA user_version").fetchone()[0]))

# Migrations as rows: a list in the app, handed over through a temp table.
bundle = [
    (1, "words", "CREATE TABLE words(w TEXT); INSERT INTO words VALUES(app_upper('hi'));",
     "DROP TABLE words;"),
    (2, "more", "INSERT INTO words VALUES(app_upper('there'));",
     "DELETE FROM words WHERE w = 'THERE';"),
]
conn.execute("CREATE TEMP TABLE bundle(version, name, up, down)")
conn.executemany("INSERT INTO bundle VALUES (?, ?, ?, ?)", bundle)
q = "SELECT version, name, up, down FROM temp.bundle"
status = conn.execute("SELECT group_concat(version || ':' || status) FROM migrations(?)",
                      (q,)).fetchone()[0]
ok("rows_status", status)
n = conn.execute("SELECT migrate_apply(?)", (q,)).fetchone()[0]
words = conn.execute("SELECT group_concat(w) FROM words").fetchone()[0]
ok("rows_apply", "%d %s uv=%d" % (n, words, conn.execute("PRAGMA user_version").fetchone()[0]))
try:
    conn.execute("SELECT migrate_apply('SELECT 1, NULL, ''x''')")
except sqlite3.Error as e:
    ok("rows_refused", e)
ok("rows_reset", conn.execute("SELECT migrate_reset()").fetchone()[0])

# Adopting a database another tool migrated: dbmate's history, then baseline.
legacy = sqlite3.connect(os.path.join(base, "legacy.db"), isolation_level=None)
legacy.enable_load_extension(True)
legacy.execute("SELECT load_extension(?, 'sqlite3_migrate_init')", (lib,))
legacy.execute("SELECT migrate_config('backup', 'off')")
legacy.executescript("CREATE TABLE users(name TEXT);"
                     "CREATE TABLE schema_migrations(version varchar(128) primary key);"
                     "INSERT INTO schema_migrations VALUES ('001');")
n = legacy.execute("SELECT migrate_adopt(?)", (folder,)).fetchone()[0]
ok("adopt", "%d %s" % (n, legacy.execute(
    "SELECT group_concat(version || ':' || status) FROM migrations(?)", (folder,)).fetchone()[0]))
legacy.execute("DELETE FROM migrate_history")
n = legacy.execute("SELECT migrate_baseline(?, 2)", (folder,)).fetchone()[0]
ok("baseline", "%d %s" % (n, legacy.execute("SELECT migrate_current()").fetchone()[0]))
legacy.close()

# Real-world folders: golang-migrate files that wrap themselves, diesel
# folders with irregular timestamps.
gm = os.path.join(base, "gm")
os.makedirs(gm)
with open(os.path.join(gm, "000001_t.up.sql"), "w") as f:
    f.write("PRAGMA foreign_keys=OFF;\nBEGIN;\nCREATE TABLE t(x);\nCOMMIT;\nPRAGMA foreign_keys=ON;\n")
with open(os.path.join(gm, "000001_t.down.sql"), "w") as f:
    f.write("BEGIN;\nDROP TABLE t;\nCOMMIT;\n")
for d in ("2020-1-5-93000_b", "2020-01-01-000000_a"):
    os.makedirs(os.path.join(base, "diesel", d))
    with open(os.path.join(base, "diesel", d, "up.sql"), "w") as f:
        f.write("SELECT 1;\n")
conn.execute("PRAGMA foreign_keys=ON")
n = conn.execute("SELECT migrate_apply(?)", (gm,)).fetchone()[0]
fk = conn.execute("PRAGMA foreign_keys").fetchone()[0]
order = conn.execute("SELECT group_concat(version) FROM migrations(?) WHERE status = 'pending'",
                     (os.path.join(base, "diesel"),)).fetchone()[0]
ok("realworld", "%d fk=%d %s" % (n, fk, order))
conn.execute("SELECT migrate_rollback()")

# trace: a child process, so its stderr can be read.
child = subprocess.run(
    [sys.executable, "-c",
     "import sqlite3,sys\n"
     "c=sqlite3.connect(sys.argv[2], isolation_level=None)\n"
     "c.enable_load_extension(True)\n"
     "c.execute(\"SELECT load_extension(?, 'sqlite3_migrate_init')\", (sys.argv[1],))\n"
     "c.execute(\"SELECT migrate_config('backup','off'), migrate_config('trace','on')\")\n"
     "c.execute('SELECT migrate_apply(?)', (sys.argv[3],)).fetchone()\n",
     lib, os.path.join(base, "trace.db"), folder],
    capture_output=True, text=True)
lines = [l.split(" \u2026 ")[0] for l in child.stderr.splitlines()]
ok("trace", "|".join(lines[:2]))
