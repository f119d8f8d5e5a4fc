// node.go — a three-node dqlite cluster in one process, on loopback, with
// migrate loaded into every connection the nodes open (as an application
// embedding dqlite would: sqlite3_auto_extension before the nodes start).
// dqlite.test builds it and reads what it prints: "OK <step> <what it saw>"
// for each step, in order (doc/replicated.md "dqlite").
//
//	node LIB WORKDIR PORT exec    the ways that work, and the refusals
//	node LIB WORKDIR PORT query   a call sent as a query (it cannot work)
package main

/*
#cgo LDFLAGS: -lsqlite3 -ldl
#include <sqlite3.h>
#include <dlfcn.h>

static int autoLoad(const char *zLib){
  void *h = dlopen(zLib, RTLD_NOW);
  void *xInit = h ? dlsym(h, "sqlite3_migrate_init") : 0;
  if( xInit==0 ) return SQLITE_ERROR;
  return sqlite3_auto_extension((void(*)(void))xInit);
}
*/
import "C"

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/canonical/go-dqlite/app"
)

var work string

func step(name string, v interface{}) { fmt.Printf("OK %s %v\n", name, v) }

func fail(name string, err error) {
	fmt.Printf("FAIL %s %v\n", name, err)
	os.Exit(1)
}

// errText: "" for no error, else its message.
func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// mig writes a migration file into work/DIR.
func mig(dir, file, text string) string {
	d := filepath.Join(work, dir)
	os.MkdirAll(d, 0755)
	if err := os.WriteFile(filepath.Join(d, file), []byte(text), 0644); err != nil {
		fail("write "+file, err)
	}
	return d
}

func one(db interface {
	QueryRowContext(context.Context, string, ...interface{}) *sql.Row
}, ctx context.Context, q string, args ...interface{}) string {
	var s sql.NullString
	if err := db.QueryRowContext(ctx, q, args...).Scan(&s); err != nil {
		return "error: " + err.Error()
	}
	if !s.Valid {
		return "NULL"
	}
	return s.String
}

// The form of a call that dqlite runs as one exec and that returns no row:
// the exec path reports a statement that returns one as an error.
const applyNoRow = "WITH r AS MATERIALIZED (SELECT migrate_apply(?) AS n) SELECT n FROM r WHERE n < 0"

func main() {
	lib, mode := os.Args[1], os.Args[4]
	work = os.Args[2]
	port, _ := strconv.Atoi(os.Args[3])
	if C.autoLoad(C.CString(lib)) != 0 {
		fail("load", fmt.Errorf("cannot load %s", lib))
	}
	var addrs []string
	for i := 0; i < 3; i++ {
		addrs = append(addrs, fmt.Sprintf("127.0.0.1:%d", port+i))
	}
	var nodes []*app.App
	for i, a := range addrs {
		d := filepath.Join(work, fmt.Sprintf("node%d", i+1))
		os.MkdirAll(d, 0755)
		opts := []app.Option{app.WithAddress(a)}
		if i > 0 {
			opts = append(opts, app.WithCluster(addrs[:1]))
		}
		n, err := app.New(d, opts...)
		if err != nil {
			fail("node", err)
		}
		nodes = append(nodes, n)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	for _, n := range nodes {
		if err := n.Ready(ctx); err != nil {
			fail("ready", err)
		}
	}
	db, err := nodes[0].Open(ctx, "app")
	if err != nil {
		fail("open", err)
	}
	m1 := mig("mig", "001_users.sql",
		"-- migrate:up\nCREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);\n"+
			"-- migrate:down\nDROP TABLE users;\n")
	mig("mig", "002_ann.sql",
		"-- migrate:up\nINSERT INTO users(name) VALUES ('ann');\n"+
			"-- migrate:down\nDELETE FROM users;\n")
	step("main_file", one(db, ctx, "SELECT file FROM pragma_database_list WHERE name = 'main'"))

	if mode == "query" {
		// The query path: the statement runs on the leader, and nothing
		// collects what it committed for the cluster.
		step("query_apply", one(db, ctx, "SELECT migrate_apply(?)", m1))
		step("query_history", one(db, ctx,
			"SELECT count(*) FROM sqlite_schema WHERE name = 'migrate_history'"))
		// The node's next write finds that transaction still pending.
		_, err := db.ExecContext(ctx, "CREATE TABLE t(x)")
		step("next_write", errText(err))
		return
	}

	conn, err := db.Conn(ctx)
	if err != nil {
		fail("conn", err)
	}
	step("backup_default", one(conn, ctx, "SELECT migrate_config('backup')"))
	// Sent as an exec, a SELECT that returns a row is reported as an error
	// by dqlite, after it has replicated what the statement wrote.
	_, err = conn.ExecContext(ctx, "SELECT migrate_apply(?)", m1)
	step("exec_row", errText(err))
	step("history_1", one(conn, ctx, "SELECT group_concat(version, ' ') FROM migrate_history"))
	_, err = conn.ExecContext(ctx, "SELECT migrate_rollback()")
	step("exec_row_rollback", errText(err))
	_, err = conn.ExecContext(ctx, applyNoRow, m1)
	step("exec_norow", errText(err))
	step("history_2", one(conn, ctx, "SELECT group_concat(version, ' ') FROM migrate_history"))
	step("log", one(conn, ctx, "SELECT group_concat(action || ' ' || ifnull(version, '-'), ', ') FROM migrate_log"))
	step("no_backups", fmt.Sprint(exists(filepath.Join(work, "backups"))))

	// atomic off: each migration would commit on its own, in one statement.
	mig("mig", "003_bob.sql",
		"-- migrate:up\nINSERT INTO users(name) VALUES ('bob');\n"+
			"-- migrate:down\nDELETE FROM users WHERE name = 'bob';\n")
	step("atomic_off", one(conn, ctx, "SELECT migrate_config('atomic', 0)"))
	_, err = conn.ExecContext(ctx, applyNoRow, m1)
	step("atomic_off_apply", errText(err))
	step("atomic_on", one(conn, ctx, "SELECT migrate_config('atomic', 1)"))

	// transaction:false: it would commit what ran before it, then itself.
	for _, f := range []string{"001_users.sql", "002_ann.sql", "003_bob.sql"} {
		b, _ := os.ReadFile(filepath.Join(m1, f))
		mig("mig2", f, string(b))
	}
	m2 := mig("mig2", "004_notes.sql", "-- migrate:up transaction:false\nCREATE TABLE notes(x);\n")
	_, err = conn.ExecContext(ctx, applyNoRow, m2)
	step("txn_false", errText(err))
	step("history_3", one(conn, ctx, "SELECT group_concat(version, ' ') FROM migrate_history"))
	step("users_3", one(conn, ctx, "SELECT group_concat(name, ' ') FROM users"))

	// Backups asked for: copied through a second connection that only
	// reads; the node goes on.
	bdir := filepath.Join(work, "backups")
	step("backup_on", one(conn, ctx, "SELECT migrate_config('backup', 1)"))
	step("backup_dir", one(conn, ctx, "SELECT migrate_config('backup_dir', ?)", bdir))
	_, err = conn.ExecContext(ctx, applyNoRow, m1)
	step("apply_backup", errText(err))
	files, _ := filepath.Glob(filepath.Join(bdir, "*.auto.db"))
	step("backups", len(files))
	_, err = conn.ExecContext(ctx, "CREATE TABLE after(x)")
	step("next_write", errText(err))
	step("history_4", one(conn, ctx, "SELECT group_concat(version, ' ') FROM migrate_history"))
	conn.Close()
	db.Close()

	// Another node's copy: the leader hands over, and what the calls
	// committed is read from the new leader's own database.
	if err := nodes[0].Handover(ctx); err != nil {
		fail("handover", err)
	}
	db2, err := nodes[1].Open(ctx, "app")
	if err != nil {
		fail("open2", err)
	}
	cli, err := nodes[1].Leader(ctx)
	if err != nil {
		fail("leader", err)
	}
	info, err := cli.Leader(ctx)
	if err != nil {
		fail("leader", err)
	}
	step("new_leader", fmt.Sprint(info.Address != addrs[0]))
	step("replicated", one(db2, ctx, "SELECT group_concat(version, ' ') FROM migrate_history"))
	step("replicated_users", one(db2, ctx, "SELECT group_concat(name, ' ') FROM users"))
	_, err = db2.ExecContext(ctx,
		"WITH r AS MATERIALIZED (SELECT migrate_rollback() AS n) SELECT n FROM r WHERE n < 0")
	step("rollback_new_leader", errText(err))
	step("history_5", one(db2, ctx, "SELECT group_concat(version, ' ') FROM migrate_history"))
	step("integrity", one(db2, ctx, "PRAGMA integrity_check"))
	db2.Close()
	cli.Close()
	for i := len(nodes) - 1; i >= 0; i-- {
		nodes[i].Close()
	}
	step("done", "closed")
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
