"""measure_startup.py — the call every application makes at start-up.

    BENCH_ONLY=startup make bench

migrate_apply(dir) with nothing pending, and the status query
SELECT count(*) FROM migrations(dir), against

    floor   the sqlite3 shell opening the same database and running
            SELECT max(version) FROM migrate_history
    stat    `find` listing the folder with a stat of every entry (the least
            any check that a file did not change must do: one system call
            per file), printing nothing
    dbmate  `dbmate up` with nothing pending, on the same migrations

at N = 100, 1,000 and 10,000, for the single-file format (gen.py's folder) and
the up/down pair format (the same migrations split into NNN_x.up.sql and
NNN_x.down.sql; dbmate reads the single files, its only format).  Two cases:

    warm  the history records every file's stat: the common case, an
          application started again on the files it last started on
    cold  the first call after a copy of the folder (new inodes, as a deploy
          makes): every applied file is read and hashed

With repeatables: at N = 100 and 1,000, the single-file folder plus 50
repeatable migrations (R__view_k.sql, about 1 KB each), all applied and their
stats recorded; on copies of that one database, the start-up call on that
folder against the same call on a twin of the folder without the R__ files
(the same versioned files, hard-linked), whose rows it then reads as missing
files: what checking 50 repeatables costs when they are not read.

Each figure is the median of per-round ratios, floor and subject run in turn
(R.compare).  Peak memory at 10,000: the shell's peak RSS alone (the floor
query) and with the start-up call.
"""
import os
import shutil
import subprocess
import time


def pair_folder(R, w):
    """The pair-format twin of gen.py's folder w/m, made once: w/pair."""
    src = os.path.join(w, "m")
    dst = os.path.join(w, "pair")
    stamp = os.path.join(dst, ".from")
    if os.path.exists(stamp):
        return dst
    shutil.rmtree(dst, ignore_errors=True)
    os.makedirs(dst)
    for name in sorted(os.listdir(src)):
        if not name.endswith(".sql"):
            continue
        text = open(os.path.join(src, name), encoding="utf-8").read()
        up, _, down = text.partition("-- migrate:down\n")
        up = up.replace("-- migrate:up\n", "", 1)
        base = name[:-4]
        with open(os.path.join(dst, base + ".up.sql"), "w", encoding="utf-8") as f:
            f.write(up)
        with open(os.path.join(dst, base + ".down.sql"), "w", encoding="utf-8") as f:
            f.write(down)
    open(stamp, "w").close()
    return dst


REPEATABLES = 50


def rep_folder(R, w):
    """gen.py's folder w/m plus REPEATABLES repeatable migrations, w/rep,
    and w/rep-none: the same versioned files (hard links: the same inodes
    and times, so the stats recorded from one vouch for the other) without
    the repeatables.  Made once."""
    src = os.path.join(w, "m")
    dst = os.path.join(w, "rep")
    none = os.path.join(w, "rep-none")
    stamp = os.path.join(none, ".from")
    if os.path.exists(stamp):
        return dst, none
    shutil.rmtree(dst, ignore_errors=True)
    shutil.rmtree(none, ignore_errors=True)
    shutil.copytree(src, dst)
    os.makedirs(none)
    for name in os.listdir(dst):
        os.link(os.path.join(dst, name), os.path.join(none, name))
    note = "x" * 900
    for k in range(REPEATABLES):
        with open(os.path.join(dst, "R__view_%02d.sql" % k), "w", encoding="utf-8") as f:
            f.write("DROP VIEW IF EXISTS rv_%d;\nCREATE VIEW rv_%d AS SELECT %d AS n, "
                    "'%s' AS note;\n" % (k, k, k, note))
    open(stamp, "w").close()
    return dst, none


def settle(paths):
    """Stats are recorded only for files whose times are 2 s in the past
    (stamp.c): a folder made this second waits for that."""
    newest = 0
    for d in paths:
        newest = max(newest, os.stat(d).st_ctime)
        for name in os.listdir(d):
            newest = max(newest, os.stat(os.path.join(d, name)).st_ctime)
    wait = newest + 3.2 - time.time()
    if wait > 0:
        time.sleep(wait)


def applied_db(R, n, folder, tag):
    """A database with every migration of folder applied, and the stats
    recorded (a second call), copied from for each run."""
    db = os.path.join(R.TMP, "startup-%d-%s.db" % (n, tag))
    R.rm_db(db)
    R.timed(R.shell(db, "SELECT migrate_config('backup','off')",
                    "SELECT migrate_apply('%s')" % folder))
    R.timed(R.shell(db, "SELECT migrate_apply('%s')" % folder))
    return db


def measure(R):
    sizes = R.SIZES
    sect = "start-up: migrate_apply(dir), nothing pending, vs the floor (open + max(version))"
    sect_s = "start-up: SELECT count(*) FROM migrations(dir) vs the floor"
    sect_d = "start-up: migrate_apply(dir) vs dbmate up, nothing pending"
    sect_c = "start-up, cold: first call after a copy of the folder (new inodes) vs the floor"
    sect_f = "start-up: the stat floor (find, a stat per file) vs the floor, and the call vs it"
    sect_r = ("start-up with %d repeatables, stats recorded, vs the same database and "
              "folder without their files" % REPEATABLES)
    db = os.path.join(R.TMP, "startup.db")
    floor_sql = "SELECT max(version) FROM migrate_history"
    for n in sizes:
        w = R.workload(n)
        reps = R.REPS_BIG if n >= 10000 else R.REPS
        folders = {"single": os.path.join(w, "m"), "pair": pair_folder(R, w)}
        rep, rep_none = rep_folder(R, w) if n < 10000 else (None, None)
        settle(list(folders.values()) + ([rep, rep_none] if rep else []))
        if rep:
            rep_db = applied_db(R, n, rep, "rep")
            copy = R.copier(rep_db, db)
            base = (copy, lambda: R.timed(R.shell(db, "SELECT migrate_apply('%s')" % rep_none)))
            subj = (copy, lambda: R.timed(R.shell(db, "SELECT migrate_apply('%s')" % rep)))
            rb, rs = R.compare(base, subj, reps)
            R.ratio_row(sect_r, "N = %s" % "{:,}".format(n), rb, rs, None, "wall")
        for fmt, folder in folders.items():
            tmpl = applied_db(R, n, folder, fmt)
            label = "%s, N = %s" % (fmt, "{:,}".format(n))
            copy = R.copier(tmpl, db)
            base = (copy, lambda: R.timed([R.SQLITE3, "-bail", db, floor_sql]))
            subj = (copy, lambda: R.timed(R.shell(db, "SELECT migrate_apply('%s')" % folder)))
            stat = (copy, lambda: R.timed(R.shell(
                db, "SELECT count(*) FROM migrations('%s')" % folder)))
            rb, rs, rst = R.compare(base, subj, reps, stat)
            R.ratio_row(sect, label, rb, rs, 2.0 if n == 10000 else None, "wall")
            R.ratio_row(sect_s, label, rb, rst, 2.0 if n == 10000 else None, "wall")
            # -size needs each entry's stat: find makes one fstatat per file.
            find = (None, lambda: R.timed(["find", folder, "-maxdepth", "1",
                                            "-size", "-2G", "-printf", ""]))
            rb2, rf, rs2 = R.compare(base, find, reps, subj)
            R.ratio_row(sect_f, label + ": find / floor", rb2, rf, None, "wall")
            R.ratio_row(sect_f, label + ": call / find", rf, rs2, None, "wall")
            if os.path.exists(R.DBMATE):
                dbm_db = os.path.join(R.TMP, "startup-dbmate.db")
                single = folders["single"]
                R.rm_db(dbm_db)
                dbm = [R.DBMATE, "--url", "sqlite:" + dbm_db, "--migrations-dir", single,
                       "--no-dump-schema", "up"]
                R.timed(dbm)
                d_runs, s_runs = R.compare(
                    (None, lambda: R.timed(dbm)),
                    (copy, lambda: R.timed(R.shell(db, "SELECT migrate_apply('%s')" % folder))),
                    R.REPS_PEER if n >= 10000 else reps)
                R.ratio_row(sect_d, label, d_runs, s_runs, 1.0, "wall")
            # Cold: a copy of the folder made fresh for each run, so no
            # recorded stat matches (new inodes); the copy is not timed.
            cold_dir = os.path.join(R.TMP, "startup-cold")
            moved = os.path.join(R.TMP, "startup-cold-%s" % fmt)

            def fresh_copy(folder=folder):
                R.rm_db(db)
                shutil.copyfile(tmpl, db)
                shutil.rmtree(moved, ignore_errors=True)
                shutil.copytree(folder, moved)
                shutil.rmtree(cold_dir, ignore_errors=True)
                os.rename(moved, cold_dir)
            # The template records stats of `folder`; point it at the copy.
            cb = (fresh_copy, lambda: R.timed([R.SQLITE3, "-bail", db, floor_sql]))
            cs = (fresh_copy, lambda: R.timed(R.shell(db, "SELECT migrate_apply('%s')" % cold_dir)))
            rb, rs = R.compare(cb, cs, R.REPS_BIG if n >= 10000 else R.REPS_PEER)
            R.ratio_row(sect_c, label, rb, rs, None, "wall")
        if n == 10000:
            for fmt, folder in folders.items():
                tmpl = os.path.join(R.TMP, "startup-%d-%s.db" % (n, fmt))
                copy = R.copier(tmpl, db)
                base = max(R.peak_rss([R.SQLITE3, "-bail", db, floor_sql], setup=copy)
                           for _ in range(2))
                subj = max(R.peak_rss(R.shell(db, "SELECT migrate_apply('%s')" % folder),
                                      setup=copy) for _ in range(2))
                d = (subj - base) / 1024
                R.row("start-up: peak RSS, N = 10,000 (floor / start-up call)", fmt,
                      "%.1f MiB" % (base / 1024), "%.1f MiB" % (subj / 1024),
                      "%+.2f MiB" % d, "", "<= +2.5 MiB", d <= 2.5)
    R.rm_db(db)
