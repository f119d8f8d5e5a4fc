#!/bin/sh
# sql/demo.sh — a guided tour of migrate. Run it from the project root with `make demo`.
#
# Every step opens the scratch database demo.tmp/app.db in a fresh sqlite3
# shell, loads ./migrate.so and turns foreign keys on, as an application
# would; it prints the SQL it runs and then the result, the way you would
# type it yourself. The migrations are sql/example (see its README.md).
# A step that fails stops the tour with a non-zero exit status.
set -u

MIGRATIONS=sql/example
TMP=demo.tmp
DB=$TMP/app.db                  # automatic backups go beside it, in $TMP/backups

[ -f migrate.so ] || { echo "demo: ./migrate.so not found; run make first" >&2; exit 1; }
command -v sqlite3 >/dev/null 2>&1 || { echo "demo: the sqlite3 shell is not installed" >&2; exit 1; }
rm -rf "$TMP" && mkdir "$TMP" || exit 1

n=0

# step TITLE SQL — print a heading, then each line of SQL (one statement or
# dot-command a line) as if typed at the sqlite3 prompt, followed by its output.
# -bail makes sqlite3 exit non-zero on an error, which stops the tour.
step() {
	n=$((n + 1))
	printf '\n== %d. %s ==\n' "$n" "$1"
	while IFS= read -r sql; do
		printf '\nsqlite> %s\n' "$sql"
		sqlite3 -bail -cmd '.load ./migrate' -cmd 'PRAGMA foreign_keys = ON' \
			-cmd '.mode box' "$DB" "$sql" </dev/null ||
			{ echo "demo: step $n ($1) failed" >&2; exit 1; }
	done <<EOF
$2
EOF
}

# shell COMMAND — print a shell command, then run it.
shell() {
	printf '\n$ %s\n' "$1"
	sh -c "$1" || { echo "demo: step $n: '$1' failed" >&2; exit 1; }
}

step "Status before anything is applied" \
"SELECT version, name, status FROM migrations('$MIGRATIONS');"

step "Check before shipping: each pending migration applied, rolled back and re-applied on a scratch copy (the database is not touched)" \
"SELECT version, name, sum(ok) || '/' || count(*) AS passed, group_concat(iif(ok, NULL, \"check\")) AS findings FROM migrate_check('$MIGRATIONS') GROUP BY version;"

step "Apply the migrations up to version 3 (returns how many ran)" \
"SELECT migrate_apply('$MIGRATIONS', 3) AS applied;"

step "Status: 1-3 applied, the rest pending" \
"SELECT version, name, status FROM migrations('$MIGRATIONS');
SELECT migrate_current() AS current_version;"

step "Apply the rest, in one transaction (007 rebuilds the tasks table)" \
"SELECT migrate_apply('$MIGRATIONS') AS applied;"

step "Status: everything applied" \
"SELECT version, name, status, round(duration_ms, 2) AS ms FROM migrations('$MIGRATIONS');"

step "Drift: the live schema against the stored up scripts replayed (no rows: none)" \
"SELECT count(*) AS drifted_objects FROM migrate_drift();"

step "Dump the schema as canonical SQL, for a committed schema.sql" \
"SELECT migrate_schema('$TMP/schema.sql') AS written;"
shell "head -4 $TMP/schema.sql"

step "The rebuilt tasks table; the sample rows through the new view (the tag survived the rebuild)" \
".schema tasks
SELECT id, title, status, tags FROM open_tasks;"

step "Take a backup by hand, into the folder the automatic ones use" \
"SELECT migrate_backup('$TMP/backups/') AS written;"
shell "ls -1 $TMP/backups"

step "Roll back the most recently applied migration (008, from its stored down script)" \
"SELECT migrate_rollback() AS rolled_back;"

step "Status: 008 is pending again, and open_tasks is gone" \
"SELECT version, name, status FROM migrations('$MIGRATIONS');
SELECT count(*) AS open_tasks_views FROM sqlite_schema WHERE name = 'open_tasks';"

step "The audit log: every apply, rollback and backup" \
"SELECT action, version, outcome, message FROM migrate_log ORDER BY id;"

step "Apply again: only 008 is pending" \
"SELECT migrate_apply('$MIGRATIONS') AS applied;
SELECT migrate_current() AS current_version;"


step "Roll back everything newer than version 3, in one call" \
"SELECT migrate_rollback_to(3) AS rolled_back;
SELECT migrate_current() AS current_version;"

shell "cp -r $MIGRATIONS $TMP/migrations"
step "Start the next migration, in the folder's own convention" \
"SELECT migrate_create('$TMP/migrations', 'add_due_date') AS new_file;"
shell "cat $TMP/migrations/009_add_due_date.sql"

printf '\nDone. Explore it yourself:\n  sqlite3 -cmd %s %s\n' "'.load ./migrate'" "$DB"
