#!/usr/bin/python3
# diffgen.py SEED COUNT OUTDIR — random schema pairs for test/diff.test
# (doc/diff.md): OUTDIR/<n>/a.sql (a schema), rows.sql (rows for it that
# every edit keeps valid) and b.sql (the schema after random edits).
#
# Rows are made to satisfy both schemas: every plain value is distinct and
# not NULL (so UNIQUE, NOT NULL and CHECK added later hold), and foreign-key
# values name rows that exist. Edits keep B valid on its own: a table that
# others reference is not dropped, views, triggers and indexes follow the
# columns they use. The same SEED always gives the same pairs.
import os
import random
import sys

TYPES = ["INTEGER", "TEXT", "", "BLOB", "INT", "VARCHAR(20)", "ANY"]
NAMES = ["name", "note", "qty", "title", "code", "my col", 'we"ird', "kind",
         "label", "flag", "size", "tag"]


def q(name):
    return '"' + name.replace('"', '""') + '"'


class Col:
    def __init__(self, name, typ="", notnull=False, default=None, unique=False,
                 check=False, fk=None, gen=None):
        self.name, self.typ, self.notnull, self.default = name, typ, notnull, default
        self.unique, self.check, self.fk, self.gen = unique, check, fk, gen
        self.orig = None     # its name in schema A, when it is one of A's

    def copy(self):
        c = Col(self.name, self.typ, self.notnull, self.default, self.unique,
                self.check, self.fk, self.gen)
        c.orig = self.orig
        return c

    def sql(self):
        s = q(self.name) + (" " + self.typ if self.typ else "")
        if self.gen is not None:
            return s + " GENERATED ALWAYS AS (%s || 'x') VIRTUAL" % q(self.gen)
        if self.notnull:
            s += " NOT NULL"
        if self.default is not None:
            s += " DEFAULT " + self.default
        if self.unique:
            s += " UNIQUE"
        if self.check:
            s += " CHECK (length(%s) < 100)" % q(self.name)
        if self.fk:
            s += " REFERENCES %s(id)%s" % (q(self.fk[0]), self.fk[1])
        return s


class Table:
    def __init__(self, name):
        self.name, self.cols, self.norowid, self.autoinc = name, [], False, False
        self.orig = None

    def copy(self):
        t = Table(self.name)
        t.cols = [c.copy() for c in self.cols]
        t.norowid, t.autoinc, t.orig = self.norowid, self.autoinc, self.orig
        return t

    def sql(self):
        pk = "id INTEGER PRIMARY KEY" + (" AUTOINCREMENT" if self.autoinc else "")
        if self.norowid:
            pk = "id INTEGER NOT NULL PRIMARY KEY"
        parts = [pk] + [c.sql() for c in self.cols]
        return "CREATE TABLE %s(%s)%s;" % (q(self.name), ", ".join(parts),
                                            " WITHOUT ROWID" if self.norowid else "")

    def col(self, name):
        for c in self.cols:
            if c.name == name:
                return c
        return None


class Schema:
    def __init__(self):
        self.tables, self.indexes, self.views, self.triggers = [], [], [], []

    def copy(self):
        s = Schema()
        s.tables = [t.copy() for t in self.tables]
        s.indexes = [dict(i) for i in self.indexes]
        s.views = [dict(v) for v in self.views]
        s.triggers = [dict(t) for t in self.triggers]
        return s

    def table(self, name):
        for t in self.tables:
            if t.name == name:
                return t
        return None

    def in_unique(self, t, c):
        return c.unique or any(i["unique"] and i["table"] == t.name and c.name in i["cols"]
                               for i in self.indexes)

    def plain(self, t):
        return [c for c in t.cols if c.gen is None and not c.fk]

    def tidy(self):
        """Drop what no longer stands: indexes, views, triggers, generated
        columns and foreign keys whose table or column is gone."""
        for t in self.tables:
            for c in t.cols:
                if c.fk and not self.table(c.fk[0]):
                    c.fk = None
            t.cols = [c for c in t.cols if c.gen is None or t.col(c.gen)
                      and t.col(c.gen).gen is None]
        def ok(tname, cols):
            t = self.table(tname)
            return t is not None and all(c == "id" or t.col(c) for c in cols)
        self.indexes = [i for i in self.indexes if ok(i["table"], i["cols"])]
        self.views = [v for v in self.views if all(ok(*s) for s in v["src"])]
        self.triggers = [g for g in self.triggers if ok(g["on"], []) and ok(*g["touch"])]

    def sql(self):
        out = [t.sql() for t in self.tables]
        for i in self.indexes:
            out.append("CREATE %sINDEX %s ON %s(%s);" % (
                "UNIQUE " if i["unique"] else "", q(i["name"]), q(i["table"]),
                ", ".join(q(c) for c in i["cols"])))
        for v in self.views:
            (t1, c1), rest = v["src"][0], v["src"][1:]
            if rest:
                (t2, c2), = rest
                out.append("CREATE VIEW %s AS SELECT a.%s AS x, b.%s AS y FROM %s a JOIN %s b ON a.id = b.id;" % (
                    q(v["name"]), q(c1[0]), q(c2[0]), q(t1), q(t2)))
            else:
                out.append("CREATE VIEW %s AS SELECT %s FROM %s;" % (
                    q(v["name"]), ", ".join(q(c) for c in c1), q(t1)))
        for g in self.triggers:
            t2, cols = g["touch"]
            out.append("CREATE TRIGGER %s AFTER INSERT ON %s BEGIN UPDATE %s SET %s = %s WHERE 0; END;" % (
                q(g["name"]), q(g["on"]), q(t2), q(cols[0]), q(cols[0])))
        return "\n".join(out) + "\n"


class Gen:
    def __init__(self, rnd):
        self.r = rnd
        self.n = 0
        self.a_names = set()

    def fresh(self, prefix):
        self.n += 1
        return "%s%d" % (prefix, self.n)

    def column(self, s, t, new):
        r = self.r
        name = r.choice(NAMES)
        # A column added by an edit never takes the name of one of A's: that
        # would be a new column holding the old one's values.
        while t.col(name) or name == "id" or (not new and name in self.a_names):
            name = r.choice(NAMES) + str(r.randint(1, 99))
        c = Col(name, r.choice(TYPES))
        k = r.random()
        if k < 0.15 and any(c2.gen is None and not c2.fk for c2 in t.cols):
            c.gen = r.choice([c2.name for c2 in t.cols if c2.gen is None and not c2.fk])
            c.typ = "TEXT"
            return c
        if k < 0.3:
            others = [x.name for x in s.tables]
            if others:
                c.fk = (r.choice(others), r.choice(["", " ON DELETE CASCADE"]))
                c.typ = "INTEGER"
                return c
        if r.random() < 0.3:
            c.notnull = True
            c.default = r.choice(["0", "'none'", "''"])
        elif r.random() < 0.3:
            c.default = r.choice(["1", "'x'", "NULL", "CURRENT_TIMESTAMP", "(1 + 2)"])
        elif r.random() < 0.2 and new:
            c.unique = True
        if r.random() < 0.15:
            c.check = True
        return c

    def table(self, s):
        t = Table(self.fresh(self.r.choice(["t", "item ", "Tab"])))
        t.norowid = self.r.random() < 0.15
        t.autoinc = not t.norowid and self.r.random() < 0.2
        for _ in range(self.r.randint(1, 5)):
            t.cols.append(self.column(s, t, True))
        return t

    def extras(self, s):
        r = self.r
        t = r.choice(s.tables)
        cols = [c.name for c in s.plain(t)]
        k = r.random()
        if k < 0.4 and cols:
            pick = r.sample(cols, min(len(cols), r.randint(1, 2)))
            unique = r.random() < 0.3 and all(t.col(c).default is None for c in pick)
            s.indexes.append({"name": self.fresh("idx"), "table": t.name,
                              "cols": pick, "unique": unique})
        elif k < 0.7 and cols:
            src = [(t.name, r.sample(cols, min(len(cols), r.randint(1, 3))))]
            t2 = r.choice(s.tables)
            c2 = [c.name for c in s.plain(t2)]
            if r.random() < 0.4 and c2:
                src = [(t.name, src[0][1][:1]), (t2.name, [r.choice(c2)])]
            s.views.append({"name": self.fresh("v"), "src": src})
        else:
            t2 = r.choice(s.tables)
            c2 = [c.name for c in s.plain(t2)]
            if c2:
                s.triggers.append({"name": self.fresh("tr"), "on": t.name,
                                   "touch": (t2.name, [r.choice(c2)])})

    def schema(self):
        s = Schema()
        for _ in range(self.r.randint(1, 4)):
            s.tables.append(self.table(s))
        for _ in range(self.r.randint(0, 4)):
            self.extras(s)
        s.tidy()
        for t in s.tables:
            t.orig = t.name
            for c in t.cols:
                c.orig = c.name
                self.a_names.add(c.name)
        return s

    def rename(self, b):
        """At most one rename of a column and one of a table of A, each
        asked for by a hint; every reference follows the new name."""
        r = self.r
        out = []
        cands = [(t, c) for t in b.tables for c in t.cols
                 if c.orig == c.name and t.orig is not None and c.gen is None]
        if cands and r.random() < 0.3:
            t, c = r.choice(cands)
            new = c.name + "_r"
            if not t.col(new):
                old = c.name
                c.name = new
                for g in t.cols:
                    if g.gen == old:
                        g.gen = new
                for i in b.indexes:
                    if i["table"] == t.name:
                        i["cols"] = [new if x == old else x for x in i["cols"]]
                for v in b.views:
                    v["src"] = [(tn, [new if tn == t.name and x == old else x for x in cs])
                                for tn, cs in v["src"]]
                for g in b.triggers:
                    tn, cs = g["touch"]
                    if tn == t.name:
                        g["touch"] = (tn, [new if x == old else x for x in cs])
                out.append(["column", t, old, new])
        tabs = [t for t in b.tables if t.orig == t.name]
        if tabs and r.random() < 0.2:
            t = r.choice(tabs)
            old, new = t.name, t.name + " r"
            if not b.table(new):
                t.name = new
                for x in b.tables:
                    for c in x.cols:
                        if c.fk and c.fk[0] == old:
                            c.fk = (new, c.fk[1])
                for i in b.indexes:
                    if i["table"] == old:
                        i["table"] = new
                for v in b.views:
                    v["src"] = [(new if tn == old else tn, cs) for tn, cs in v["src"]]
                for g in b.triggers:
                    if g["on"] == old:
                        g["on"] = new
                    if g["touch"][0] == old:
                        g["touch"] = (new, g["touch"][1])
                out.append(["table", t, old, new])
        return out

    def edit(self, a):
        r = self.r
        b = a.copy()
        for _ in range(r.randint(1, 4)):
            k = r.random()
            t = r.choice(b.tables)
            if k < 0.2:
                t.cols.append(self.column(b, t, False))
            elif k < 0.32 and t.cols:
                t.cols.remove(r.choice(t.cols))
            elif k < 0.42 and t.cols:
                c = r.choice(t.cols)
                if c.gen is None and not c.fk:
                    c.typ = r.choice(TYPES)
            elif k < 0.52 and t.cols:
                c = r.choice(t.cols)
                if c.gen is None and not c.fk and not b.in_unique(t, c):
                    c.notnull = not c.notnull
                    if c.notnull and c.default in (None, "NULL"):
                        c.default = "0"
                    c.unique = c.default is None and r.random() < 0.2
                    c.check = not c.check if r.random() < 0.3 else c.check
            elif k < 0.58 and len(t.cols) > 1:
                c = t.cols.pop(r.randrange(len(t.cols)))
                t.cols.insert(r.randrange(len(t.cols) + 1), c)
            elif k < 0.63:
                t.norowid = not t.norowid
                t.autoinc = t.autoinc and not t.norowid
            elif k < 0.72:
                b.tables.append(self.table(b))
            elif k < 0.8:
                refd = {c.fk[0] for x in b.tables for c in x.cols if c.fk}
                if len(b.tables) > 1 and t.name not in refd:
                    b.tables.remove(t)
            elif k < 0.9:
                self.extras(b)
            else:
                pool = b.indexes + b.views + b.triggers
                if pool:
                    x = r.choice(pool)
                    for lst in (b.indexes, b.views, b.triggers):
                        if x in lst:
                            lst.remove(x)
            b.tidy()
        return b, self.rename(b)

    def rows(self, s):
        out = []
        for t in s.tables:
            cols = [c for c in t.cols if c.gen is None]
            for i in range(1, self.r.randint(0, 4) + 1):
                vals = ["%d" % i]
                for c in cols:
                    if c.fk:
                        parent = s.table(c.fk[0])
                        vals.append("1" if parent is t else "NULL")
                    else:
                        vals.append(self.r.choice(["'r%d%s'" % (i, c.name.replace("'", "''")
                                                                  .replace(" ", "_").replace('"', "q")),
                                                   "%d" % (i * 100 + len(c.name))]))
                out.append("INSERT INTO %s(id%s) VALUES(%s);" % (
                    q(t.name), "".join(", " + q(c.name) for c in cols), ", ".join(vals)))
        return "\n".join(out) + "\n"


def main():
    seed, count, outdir = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    rnd = random.Random(seed)
    for n in range(count):
        g = Gen(rnd)
        a = g.schema()
        b, renames = g.edit(a)
        d = os.path.join(outdir, str(n))
        os.makedirs(d, exist_ok=True)
        # The hints: forward in B, backward in A (for diff(B -> A)); the
        # list for the test, tab-separated, a column's table by B's name.
        fwd, back, lst = [], [], []
        for kind, t, old, new in renames:
            if kind == "table":
                fwd.append("-- migrate:rename table %s -> %s" % (q(old), q(new)))
                back.append("-- migrate:rename table %s -> %s" % (q(new), q(old)))
                lst.append("table\t%s\t%s" % (old, new))
        for kind, t, old, new in renames:
            if kind == "column":
                fwd.append("-- migrate:rename column %s.%s -> %s" % (q(t.name), q(old), q(new)))
                back.append("-- migrate:rename column %s.%s -> %s" % (q(t.orig), q(new), q(old)))
                lst.append("column\t%s\t%s\t%s" % (t.name, old, new))
        atext = "".join(x + "\n" for x in back) + a.sql()
        btext = "".join(x + "\n" for x in fwd) + b.sql()
        for name, text in (("a.sql", atext), ("rows.sql", g.rows(a)), ("b.sql", btext),
                           ("renames.txt", "".join(x + "\n" for x in lst))):
            with open(os.path.join(d, name), "w") as f:
                f.write(text)


main()
