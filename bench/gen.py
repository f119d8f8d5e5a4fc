#!/usr/bin/python3
"""gen.py — a deterministic workload of N realistic migrations, each with a down.

    gen.py N OUTDIR

writes
    OUTDIR/m/NNNNNN_name.sql   the migrations (-- migrate:up / -- migrate:down;
                               dbmate reads the same files)
    OUTDIR/floor-atomic.sql    the same up scripts for the sqlite3 shell, in one
                               transaction, plus one history insert each
    OUTDIR/floor-each.sql      the same, one transaction per migration
    OUTDIR/floor-down.sql      every down script, newest first, in one
                               transaction, plus one history delete each

The migrations come in groups, one per table: create the table and an index,
seed a few hundred rows (one INSERT per row), ADD COLUMN with an UPDATE
backfill, more indexes, an audit table with a trigger, a view, status and
e-mail backfills, a second ADD COLUMN with a multi-row insert.  Every table
references a permanent `accounts` table.

Once WINDOW groups exist, each new group also retires (drops) the oldest live
one, whose down script recreates it.  The live schema therefore stays the same
size whatever N is: SQLite's ALTER TABLE ADD/DROP COLUMN re-reads the whole
schema, so a schema that grows without bound makes SQLite itself quadratic in
N, and that would hide the runner's own growth (doc/performance.md).
"""
import hashlib
import os
import random
import sys

WINDOW = 10                     # live table groups at most
ENTITIES = ["customers", "orders", "invoices", "products", "shipments",
            "payments", "tickets", "sessions", "events", "documents",
            "contracts", "suppliers"]

HISTORY_SCHEMA = """CREATE TABLE IF NOT EXISTS main.migrate_history(
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  checksum TEXT NOT NULL,
  up TEXT NOT NULL,
  down TEXT,
  applied_at TEXT NOT NULL,
  duration_ms REAL
);
"""


def q(s):
    """SQL string literal."""
    return "'" + s.replace("'", "''") + "'"


class Group:
    """One table and everything the migrations hang on it."""

    def __init__(self, g):
        self.g = g
        self.t = "%s_%d" % (ENTITIES[g % len(ENTITIES)], g)
        self.rows = 0          # ids 1..rows exist after the seeds

    def create_sql(self, final):
        """CREATE TABLE (+ the columns later migrations add, when final)."""
        cols = ["id INTEGER PRIMARY KEY",
                "account_id INTEGER NOT NULL REFERENCES accounts(id)",
                "name TEXT NOT NULL",
                "email TEXT",
                "status TEXT NOT NULL DEFAULT 'new'",
                "created_at TEXT NOT NULL DEFAULT '2024-01-01T00:00:00Z'"]
        if final:
            cols += ["score INTEGER NOT NULL DEFAULT 0", "tier TEXT"]
        return ("CREATE TABLE %s (\n  %s\n);\n" % (self.t, ",\n  ".join(cols))
                + "CREATE INDEX %s_account ON %s(account_id);\n" % (self.t, self.t))

    def indexes_sql(self):
        t = self.t
        return ("CREATE INDEX %s_status ON %s(status, created_at);\n"
                "CREATE UNIQUE INDEX %s_email ON %s(email);\n" % (t, t, t, t))

    def audit_sql(self):
        t = self.t
        return ("CREATE TABLE %s_audit (\n"
                "  id INTEGER PRIMARY KEY,\n"
                "  row_id INTEGER NOT NULL,\n"
                "  old_status TEXT,\n"
                "  new_status TEXT,\n"
                "  at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP\n"
                ");\n"
                "CREATE TRIGGER %s_status_audit AFTER UPDATE OF status ON %s\n"
                "BEGIN\n"
                "  INSERT INTO %s_audit(row_id, old_status, new_status)\n"
                "  VALUES (old.id, old.status, new.status);\n"
                "END;\n" % (t, t, t, t))

    def view_sql(self):
        t = self.t
        return ("CREATE VIEW %s_active AS\n"
                "  SELECT id, name, email, score FROM %s WHERE status = 'active';\n"
                % (t, t))


def row_values(rnd, i):
    first = rnd.choice(["Ada", "Grace", "Alan", "Edsger", "Barbara", "Ken",
                        "Dennis", "Margaret", "Donald", "Frances", "John", "Radia"])
    last = rnd.choice(["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov",
                       "Thompson", "Ritchie", "Hamilton", "Knuth", "Allen",
                       "Backus", "Perlman", "O'Neil"])
    name = "%s %s" % (first, last)
    email = "%s.%s.%d@example.com" % (first.lower(), last.lower().replace("'", ""), i)
    return "(%d, %d, %s, %s)" % (i, 1 + i % 100, q(name), q(email))


def migrations(n):
    """Yield (name, up, down) for n migrations."""
    rnd = random.Random(20241122)
    out = []
    accounts = ",\n".join("  (%d, %s, %s)" % (i, q("Account %d" % i),
                                              q(rnd.choice(["free", "team", "enterprise"])))
                          for i in range(1, 101))
    out.append(("create_accounts",
                "CREATE TABLE accounts (\n  id INTEGER PRIMARY KEY,\n"
                "  name TEXT NOT NULL,\n  plan TEXT NOT NULL\n);\n"
                "INSERT INTO accounts(id, name, plan) VALUES\n" + accounts + ";\n",
                "DROP TABLE accounts;\n"))
    live = []
    g = 0
    while len(out) < n:
        grp = Group(g)
        g += 1
        t = grp.t
        steps = []
        steps.append(("create_" + t, grp.create_sql(False), "DROP TABLE %s;\n" % t))
        k = rnd.randint(150, 350)
        seed = "".join("INSERT INTO %s(id, account_id, name, email) VALUES %s;\n"
                       % (t, row_values(rnd, i)) for i in range(1, k + 1))
        steps.append(("seed_" + t, seed, "DELETE FROM %s WHERE id BETWEEN 1 AND %d;\n" % (t, k)))
        steps.append(("add_score_to_" + t,
                      "ALTER TABLE %s ADD COLUMN score INTEGER NOT NULL DEFAULT 0;\n"
                      "UPDATE %s SET score = (id * 37 + length(name)) %% 101;\n" % (t, t),
                      "ALTER TABLE %s DROP COLUMN score;\n" % t))
        steps.append(("index_" + t, grp.indexes_sql(),
                      "DROP INDEX %s_email;\nDROP INDEX %s_status;\n" % (t, t)))
        steps.append(("audit_" + t, grp.audit_sql(),
                      "DROP TRIGGER %s_status_audit;\nDROP TABLE %s_audit;\n" % (t, t)))
        steps.append(("view_" + t, grp.view_sql(), "DROP VIEW %s_active;\n" % t))
        steps.append(("backfill_" + t,
                      "UPDATE %s SET status = 'active' WHERE id %% 3 = 0;\n"
                      "UPDATE %s SET email = lower(email) WHERE email IS NOT NULL;\n" % (t, t),
                      "UPDATE %s SET status = 'new' WHERE status = 'active';\n"
                      "DELETE FROM %s_audit;\n" % (t, t)))
        k2 = rnd.randint(100, 300)
        more = ",\n".join("  " + row_values(rnd, i) for i in range(k + 1, k + k2 + 1))
        steps.append(("add_tier_to_" + t,
                      "ALTER TABLE %s ADD COLUMN tier TEXT;\n"
                      "UPDATE %s SET tier = CASE WHEN score >= 50 THEN 'gold' ELSE 'basic' END;\n"
                      "INSERT INTO %s(id, account_id, name, email) VALUES\n%s;\n"
                      % (t, t, t, more),
                      "DELETE FROM %s WHERE id > %d;\nALTER TABLE %s DROP COLUMN tier;\n"
                      % (t, k, t)))
        live.append(grp)
        if len(live) > WINDOW:
            old = live.pop(0)
            o = old.t
            steps.append(("retire_" + o,
                          "DROP VIEW %s_active;\nDROP TRIGGER %s_status_audit;\n"
                          "DROP TABLE %s_audit;\nDROP TABLE %s;\n" % (o, o, o, o),
                          old.create_sql(True) + old.indexes_sql() + old.audit_sql()
                          + old.view_sql()))
        out.extend(steps)
    return out[:n]


def main():
    n = int(sys.argv[1])
    outdir = sys.argv[2]
    mdir = os.path.join(outdir, "m")
    os.makedirs(mdir, exist_ok=True)
    width = max(6, len(str(n)))
    ms = migrations(n)
    hist = []
    for v, (name, up, down) in enumerate(ms, 1):
        text = "-- migrate:up\n" + up + "\n-- migrate:down\n" + down
        data = text.encode()
        fname = "%0*d_%s.sql" % (width, v, name)
        with open(os.path.join(mdir, fname), "wb") as f:
            f.write(data)
        # The extension stores each section's body as it is in the file.
        hist.append("INSERT INTO main.migrate_history(version, name, checksum, up,"
                    " down, applied_at, duration_ms) VALUES(%d, %s, '%s', %s, %s,"
                    " strftime('%%Y-%%m-%%dT%%H:%%M:%%fZ', 'now'), 0.0);\n"
                    % (v, q(name), hashlib.sha256(data).hexdigest(), q(up + "\n"), q(down)))
    with open(os.path.join(outdir, "floor-atomic.sql"), "w") as f:
        f.write("BEGIN IMMEDIATE;\n" + HISTORY_SCHEMA)
        for (name, up, down), h in zip(ms, hist):
            f.write(up)
            f.write(h)
        f.write("COMMIT;\n")
    with open(os.path.join(outdir, "floor-each.sql"), "w") as f:
        f.write("BEGIN IMMEDIATE;\n" + HISTORY_SCHEMA + "COMMIT;\n")
        for (name, up, down), h in zip(ms, hist):
            f.write("BEGIN IMMEDIATE;\n" + up + h + "COMMIT;\n")
    with open(os.path.join(outdir, "floor-down.sql"), "w") as f:
        f.write("BEGIN IMMEDIATE;\n")
        for v in range(len(ms), 0, -1):
            f.write(ms[v - 1][2])
            f.write("DELETE FROM main.migrate_history WHERE version=%d;\n" % v)
        f.write("COMMIT;\n")


if __name__ == "__main__":
    main()
