# migrations.tcl — the long migration set the crash test applies and rolls
# back (test/crash.test, `make crashtest`).
#
#   crash_write_migrations DIR ROWS   -> the number of migrations written
#
# 60 migrations in the single-file format, each with a down script that
# undoes it exactly. ROWS sets the size of the big tables: books and events
# hold ROWS rows, authors ROWS/10. Among them:
#
#   - bulk inserts and backfills of every row (UPDATE, ADD COLUMN + UPDATE,
#     DELETE of a tenth of the rows and its exact re-insertion on the way down);
#   - table rebuilds under foreign keys (SQLite's 12-step procedure): the
#     parent table authors, referenced by books with ON DELETE CASCADE, and
#     the child books, itself referenced by events. Were foreign keys enforced
#     during the rebuild, dropping authors would delete every book: the
#     content check would see it;
#   - indexes, views, triggers, PRAGMA user_version, and small tables.
#
# Every value is computed from row numbers (no random(), no clock), so the
# state after k migrations is the same whoever reaches it and however.

# The big migrations, in order; @R@ is ROWS, @A@ the number of authors.
set crash_big {
  create_authors {
    CREATE TABLE authors(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
  } {
    DROP TABLE authors;
  }
  create_books {
    CREATE TABLE books(
      id INTEGER PRIMARY KEY,
      author_id INTEGER NOT NULL REFERENCES authors(id) ON DELETE CASCADE,
      title TEXT NOT NULL
    );
  } {
    DROP TABLE books;
  }
  seed_authors {
    WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<@A@)
    INSERT INTO authors(id, name) SELECT i, 'author ' || i FROM c;
  } {
    DELETE FROM authors;
  }
  seed_books {
    WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<@R@)
    INSERT INTO books(id, author_id, title)
      SELECT i, i % @A@ + 1, 'book ' || i FROM c;
  } {
    DELETE FROM books;
  }
  backfill_price {
    ALTER TABLE books ADD COLUMN price INTEGER;
    UPDATE books SET price = (id * 37) % 1000;
  } {
    ALTER TABLE books DROP COLUMN price;
  }
  index_books_author {
    CREATE INDEX books_author ON books(author_id);
  } {
    DROP INDEX books_author;
  }
  rebuild_authors {
    CREATE TABLE authors_new(
      id INTEGER PRIMARY KEY,
      name TEXT NOT NULL,
      country TEXT NOT NULL DEFAULT 'xx'
    );
    INSERT INTO authors_new(id, name, country)
      SELECT id, name, CASE id % 3 WHEN 0 THEN 'fr' WHEN 1 THEN 'de' ELSE 'jp' END
      FROM authors;
    DROP TABLE authors;
    ALTER TABLE authors_new RENAME TO authors;
  } {
    CREATE TABLE authors_old(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
    INSERT INTO authors_old(id, name) SELECT id, name FROM authors;
    DROP TABLE authors;
    ALTER TABLE authors_old RENAME TO authors;
  }
  create_events {
    CREATE TABLE events(
      id INTEGER PRIMARY KEY,
      book_id INTEGER NOT NULL REFERENCES books(id),
      kind TEXT NOT NULL,
      n INTEGER NOT NULL
    );
    WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM c WHERE i<@R@)
    INSERT INTO events(id, book_id, kind, n)
      SELECT i, (i * 7) % @R@ + 1,
             CASE i % 4 WHEN 0 THEN 'view' WHEN 1 THEN 'buy' WHEN 2 THEN 'rate'
                        ELSE 'share' END,
             i FROM c;
  } {
    DROP TABLE events;
  }
  backfill_score {
    ALTER TABLE events ADD COLUMN score INTEGER NOT NULL DEFAULT 0;
    UPDATE events SET score = (n * 13) % 101;
  } {
    ALTER TABLE events DROP COLUMN score;
  }
  rebuild_books {
    CREATE TABLE books_new(
      id INTEGER PRIMARY KEY,
      author_id INTEGER NOT NULL REFERENCES authors(id) ON DELETE CASCADE,
      title TEXT NOT NULL,
      price INTEGER NOT NULL DEFAULT 0,
      isbn TEXT NOT NULL
    );
    INSERT INTO books_new(id, author_id, title, price, isbn)
      SELECT id, author_id, title, price, printf('978-%09d', id) FROM books;
    DROP TABLE books;
    ALTER TABLE books_new RENAME TO books;
    CREATE INDEX books_author ON books(author_id);
  } {
    CREATE TABLE books_old(
      id INTEGER PRIMARY KEY,
      author_id INTEGER NOT NULL REFERENCES authors(id) ON DELETE CASCADE,
      title TEXT NOT NULL,
      price INTEGER
    );
    INSERT INTO books_old(id, author_id, title, price)
      SELECT id, author_id, title, price FROM books;
    DROP TABLE books;
    ALTER TABLE books_old RENAME TO books;
    CREATE INDEX books_author ON books(author_id);
  }
  index_events_kind {
    CREATE INDEX events_kind ON events(kind, score);
  } {
    DROP INDEX events_kind;
  }
  backfill_titles {
    UPDATE books SET title = upper(title) || ' (' || (price % 7) || ')';
  } {
    UPDATE books SET title = lower(substr(title, 1, instr(title, ' (') - 1));
  }
  prune_events {
    DELETE FROM events WHERE n % 10 = 0;
  } {
    WITH RECURSIVE c(i) AS (SELECT 10 UNION ALL SELECT i+10 FROM c WHERE i+10<=@R@)
    INSERT INTO events(id, book_id, kind, n, score)
      SELECT i, (i * 7) % @R@ + 1,
             CASE i % 4 WHEN 0 THEN 'view' WHEN 1 THEN 'buy' WHEN 2 THEN 'rate'
                        ELSE 'share' END,
             i, (i * 13) % 101 FROM c;
  }
  author_totals {
    CREATE TABLE author_totals(author_id INTEGER PRIMARY KEY
                                 REFERENCES authors(id),
                               books INTEGER NOT NULL, revenue INTEGER NOT NULL);
    INSERT INTO author_totals
      SELECT author_id, count(*), sum(price) FROM books GROUP BY author_id;
  } {
    DROP TABLE author_totals;
  }
}

# One small migration, number K among the small ones: a table with a few
# rows, and now and then a view, a trigger or a user_version change.
proc crash_small {k} {
  set up "CREATE TABLE small_$k (id INTEGER PRIMARY KEY, v TEXT NOT NULL);\n"
  append up "INSERT INTO small_$k VALUES (1, 'a$k'), (2, 'b$k'), (3, 'c$k');\n"
  set down ""
  if {$k % 5 == 0} {
    append up "CREATE VIEW small_view_$k AS SELECT id, v FROM small_$k WHERE id > 1;\n"
    append down "DROP VIEW small_view_$k;\n"
  }
  if {$k % 7 == 0} {
    append up "CREATE TRIGGER small_trig_$k AFTER INSERT ON small_$k\n"
    append up "BEGIN UPDATE small_$k SET v = upper(v) WHERE id = new.id; END;\n"
    append up "INSERT INTO small_$k VALUES (4, 'd$k');\n"
  }
  if {$k % 9 == 0} {
    append up "PRAGMA user_version = $k;\n"
    append down "PRAGMA user_version = [expr {$k - 9}];\n"
  }
  if {$k % 4 == 0} {
    append up "INSERT INTO notes(body) VALUES ('small $k');\n"
    append down "DELETE FROM notes WHERE body = 'small $k';\n"
  }
  append down "DROP TABLE small_$k;\n"
  return [list small_$k $up $down]
}

# crash_write_migrations DIR ROWS: write the set into DIR (which must be
# empty or absent); returns how many migrations it holds. The database they
# run on must have the table notes(id INTEGER PRIMARY KEY, body TEXT).
proc crash_write_migrations {dir rows} {
  global crash_big
  set map [list @R@ $rows @A@ [expr {max(1, $rows / 10)}]]
  set list [list]
  set nBig [expr {[llength $crash_big] / 3}]
  set nSmall [expr {60 - $nBig}]
  # A big one, then three small ones, until the big ones run out.
  set b 0
  set s 0
  while {$b < $nBig || $s < $nSmall} {
    if {$b < $nBig} {
      lappend list [lrange $crash_big [expr {$b * 3}] [expr {$b * 3 + 2}]]
      incr b
    }
    for {set j 0} {$j < 3 && $s < $nSmall} {incr j} {
      incr s
      lappend list [crash_small $s]
    }
  }
  file mkdir $dir
  set v 0
  foreach m $list {
    lassign $m name up down
    incr v
    set text "-- migrate:up\n[string trim [string map $map $up]]\n\n"
    append text "-- migrate:down\n[string trim [string map $map $down]]\n"
    set fd [open [file join $dir [format %03d_%s.sql $v $name]] wb]
    puts -nonewline $fd $text
    close $fd
  }
  return $v
}
