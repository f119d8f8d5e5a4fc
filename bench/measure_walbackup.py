"""measure_walbackup.py — backups of a WAL database (BENCH_ONLY=walbackup).

The database: bench/run.py's big database (a table of ~4 KiB rows with an
index), 200 MiB (64 MiB with BENCH_QUICK; BENCH_WAL_MIB sets it), in WAL mode,
in two states:

  frames      as an application leaves it between two automatic checkpoints:
              150 commits of 4 updated rows each after the last checkpoint,
              about 900 frames (SQLite checkpoints at 1,000), all of them
              only in the -wal;
  checkpointed  the same database with every frame in the main file and an
              empty -wal.

Before every run of every side the files are put back from a template and
synced (so no side pays for another's dirty pages), and an idle sqlite3
shell opens the database and stays connected, as the application would:
the process measured is never the last connection, whose close would
checkpoint the -wal and delete it.

The baseline, "cp + sync": `cp` of the files that hold the database as it
is on disk — the main file and, in the "frames" state, the -wal — to new
files, then `sync` of those files (fsync).  Neither of those copies is a
backup (the pair is one only if nothing wrote in between, and needs SQLite
to replay the -wal); it is the cost of moving the database's bytes to disk.
Beside it, `sqlite3 db '.backup x'` (SQLite's backup API, no sync).

And the automatic backup's share of a one-table migration on the same
database, in WAL mode (frames state) and in rollback-journal mode: the
same migrate_apply with backup off and on, share = (on - off) / on,
median of the rounds.
"""
import os
import shutil
import sqlite3
import subprocess

QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
MIB = int(os.environ.get("BENCH_WAL_MIB", "64" if QUICK else "200"))


def fsync_file(path):
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Live:
    """The live database: put back from a template before each run, with
    an idle connection of another process held open on it."""

    def __init__(self, R, path, tmpl_db, tmpl_wal):
        self.R, self.path, self.db, self.wal = R, path, tmpl_db, tmpl_wal
        self.holder = None

    def stop(self):
        if self.holder:
            self.holder.stdin.close()
            self.holder.wait()
            self.holder = None

    def restore(self):
        self.stop()
        self.R.rm_db(self.path)
        shutil.copyfile(self.db, self.path)
        fsync_file(self.path)
        if self.wal:
            shutil.copyfile(self.wal, self.path + "-wal")
            fsync_file(self.path + "-wal")
        self.holder = subprocess.Popen([self.R.SQLITE3, self.path], stdin=subprocess.PIPE,
                                       stdout=subprocess.PIPE, text=True)
        self.holder.stdin.write("SELECT count(*) > 0 FROM sqlite_schema;\n")
        self.holder.stdin.flush()
        if self.holder.stdout.readline().strip() != "1":
            raise SystemExit("bench: the idle connection could not read %s" % self.path)


def templates(R):
    """(rollback-journal db, WAL db + its -wal with frames, checkpointed WAL db)."""
    big = R.make_big_db(MIB)
    t_db = os.path.join(R.TMP, "walbk-frames-%d.db" % MIB)
    t_wal = t_db + "-wal.tmpl"
    t_ck = os.path.join(R.TMP, "walbk-ckpt-%d.db" % MIB)
    if all(os.path.exists(p) for p in (t_db, t_wal, t_ck)):
        return big, t_db, t_wal, t_ck
    work = os.path.join(R.TMP, "walbk-make.db")
    R.rm_db(work)
    shutil.copyfile(big, work)
    c = sqlite3.connect(work, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(work, t_ck)
    c.execute("PRAGMA wal_autocheckpoint=0")
    n = c.execute("SELECT max(id) FROM doc").fetchone()[0]
    for i in range(150):
        c.execute("BEGIN")
        for k in range(4):
            c.execute("UPDATE doc SET title = title || '.', body = randomblob(3900)"
                      " WHERE id = ?", ((i * 7919 + k * 104729) % n + 1,))
        c.execute("COMMIT")
    # Copied while the connection is open: its close would checkpoint.
    shutil.copyfile(work, t_db)
    shutil.copyfile(work + "-wal", t_wal)
    c.close()
    R.rm_db(work)
    return big, t_db, t_wal, t_ck


def measure(R):
    big, t_db, t_wal, t_ck = templates(R)
    live_path = os.path.join(R.TMP, "walbk-live.db")
    out = os.path.join(R.TMP, "walbk-out.db")
    reps = R.REPS_BIG
    frames = os.path.getsize(t_wal) // (4096 + 24)

    def clean():
        for p in (out, out + "-wal"):
            if os.path.exists(p):
                os.remove(p)

    for state, wal in (("frames", t_wal), ("checkpointed", None)):
        live = Live(R, live_path, t_db if wal else t_ck, wal)

        def setup():
            clean()
            live.restore()
        if wal:
            cp = "cp '%s' '%s' && cp '%s' '%s' && sync '%s' '%s'" % (
                live_path, out, live_path + "-wal", out + "-wal", out, out + "-wal")
        else:
            cp = "cp '%s' '%s' && sync '%s'" % (live_path, out, out)
        r_cp, r_mig, r_dot = R.compare(
            (setup, lambda: R.timed(cp)),
            (setup, lambda: R.timed(R.shell(live_path, "SELECT migrate_backup('%s')" % out))),
            reps,
            (setup, lambda: R.timed([R.SQLITE3, live_path, ".backup '%s'" % out])))
        live.stop()
        sect = "backup of a %d MiB WAL database, %s" % (
            MIB, "%d frames only in the -wal" % frames if wal else "every frame checkpointed")
        R.ratio_row(sect, "migrate_backup vs cp + sync", r_cp, r_mig, 1.2, "wall")
        R.ratio_row(sect, "migrate_backup vs sqlite3 '.backup'", r_dot, r_mig, 1.0, "wall")
    clean()

    # The automatic backup's share of a one-table migration.
    one = os.path.join(R.TMP, "walbk-one")
    os.makedirs(one, exist_ok=True)
    with open(os.path.join(one, "001_add_tags.sql"), "w") as f:
        f.write("-- migrate:up\nCREATE TABLE tags(id INTEGER PRIMARY KEY, doc INTEGER,"
                " tag TEXT);\nCREATE INDEX tags_doc ON tags(doc);\n"
                "-- migrate:down\nDROP TABLE tags;\n")
    bdir = os.path.join(R.TMP, "walbk-backups")
    sect = "automatic backup: share of one migrate_apply call on %d MiB (off / on)" % MIB
    for mode, live in (("WAL, %d frames in the -wal" % frames, Live(R, live_path, t_db, t_wal)),
                       ("rollback journal", None)):
        def setup(live=live):
            shutil.rmtree(bdir, ignore_errors=True)
            if live:
                live.restore()
            else:
                R.rm_db(live_path)
                shutil.copyfile(big, live_path)
                fsync_file(live_path)

        def apply_with(backup):
            return lambda: R.timed(R.shell(
                live_path, "SELECT migrate_config('backup','%s')" % backup,
                "SELECT migrate_config('backup_dir','%s')" % bdir,
                "SELECT migrate_apply('%s')" % one))
        r_off, r_on = R.compare((setup, apply_with("off")), (setup, apply_with("on")), reps)
        if live:
            live.stop()
        on, off = R.med(r_on, "wall"), R.med(r_off, "wall")
        share = R.statistics.median((b.wall - a.wall) / b.wall for a, b in zip(r_off, r_on))
        R.row(sect, mode, R.secs(off), R.secs(on), "%.0f%%" % (100 * share), "", "reported")
    shutil.rmtree(bdir, ignore_errors=True)
    R.rm_db(live_path)
