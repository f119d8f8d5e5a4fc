/*
** smoke.c — one pass through the main calls, in any process that can run
** them: migrate loaded as a library (migrate.so, .dylib or .dll), or
** compiled into the program (cc -DSQLITE_CORE ... -DSMOKE_EMBEDDED, as
** doc/embedding.md shows) and registered with sqlite3_auto_extension().
** platform.test runs it against the Linux build, the static build and, under
** wine, the Windows DLL; every build prints the same lines.
**
**   smoke LIB      load LIB into each connection (sqlite3_load_extension)
**   smoke          the embedded build: registered for every connection
**
** It works in the current folder: writes migrations/, app.db, then
** applies, lists, backs up, rolls back and restores, one line per step:
** "<step>=<result>", or "<step>: error: <message>" and exit status 1.
*/
#include <stdio.h>
#include <string.h>
#include "sqlite3.h"
#ifdef SMOKE_EMBEDDED
# include "sqlite3_migrate.h"
#endif

static sqlite3 *db;

/* Run zSql; print "<zStep>=" and its rows' first columns, space-separated. */
static int step(const char *zStep, const char *zSql){
  sqlite3_stmt *p = 0;
  int rc = sqlite3_prepare_v2(db, zSql, -1, &p, 0);
  int n = 0;
  if( rc==SQLITE_OK ){
    printf("%s=", zStep);
    while( (rc = sqlite3_step(p))==SQLITE_ROW ){
      const unsigned char *z = sqlite3_column_text(p, 0);
      printf("%s%s", n++ ? " " : "", z ? (const char*)z : "NULL");
    }
    printf("\n");
  }
  sqlite3_finalize(p);
  if( rc!=SQLITE_DONE && rc!=SQLITE_OK ){
    printf("%s: error: %s\n", zStep, sqlite3_errmsg(db));
    return 1;
  }
  return 0;
}

/* Run zSql, which must fail: print "<zStep>: refused: <message>". */
static int refused(const char *zStep, const char *zSql){
  int rc = sqlite3_exec(db, zSql, 0, 0, 0);
  if( rc==SQLITE_OK ){
    printf("%s: error: not refused\n", zStep);
    return 1;
  }
  printf("%s: refused: %s\n", zStep, sqlite3_errmsg(db));
  return 0;
}

static int writeFile(const char *zPath, const char *zText){
  FILE *f = fopen(zPath, "wb");
  if( f==0 ) return 1;
  fputs(zText, f);
  return fclose(f)!=0;
}

/* The automatic backups the log names: each a file that exists, in a
** folder named "backups" (beside the database), whatever separator the
** system writes. */
static int autoBackups(void){
  sqlite3_stmt *p = 0;
  int nOk = 0, nBad = 0;
  if( sqlite3_prepare_v2(db, "SELECT message FROM migrate_log WHERE action='backup'",
                         -1, &p, 0) ) return 1;
  while( sqlite3_step(p)==SQLITE_ROW ){
    const char *z = (const char*)sqlite3_column_text(p, 0);
    const char *zSep = 0, *zPrev = 0, *c;
    FILE *f = z ? fopen(z, "rb") : 0;
    for(c=z; c && *c; c++){
      if( *c=='/' || *c=='\\' ){ zPrev = zSep; zSep = c; }
    }
    if( f && zPrev && zSep-zPrev==8 && strncmp(zPrev+1, "backups", 7)==0 ) nOk++;
    else nBad++;
    if( f ) fclose(f);
  }
  sqlite3_finalize(p);
  printf("autobackups=%d in backups/, %d elsewhere or missing\n", nOk, nBad);
  return nBad!=0;
}

int main(int argc, char **argv){
#ifdef SMOKE_EMBEDDED
  (void)argv;
  if( argc!=1 ){ fprintf(stderr, "usage: smoke\n"); return 2; }
  sqlite3_auto_extension((void(*)(void))sqlite3_migrate_init);
#else
  if( argc!=2 ){ fprintf(stderr, "usage: smoke LIB\n"); return 2; }
#endif
  if( sqlite3_open("app.db", &db) ){
    printf("open: error: %s\n", sqlite3_errmsg(db));
    return 1;
  }
#ifndef SMOKE_EMBEDDED
  char *zErr = 0;
  sqlite3_enable_load_extension(db, 1);
  /* Named: a build under another file name (migrate-asan.so) would make
  ** SQLite guess sqlite3_migrateasan_init. */
  if( sqlite3_load_extension(db, argv[1], "sqlite3_migrate_init", &zErr) ){
    printf("load: error: %s\n", zErr);
    sqlite3_free(zErr);
    sqlite3_close(db);
    return 1;
  }
#endif
  if( writeFile("migrations/001_users.sql",
        "-- migrate:up\nCREATE TABLE users(id INTEGER PRIMARY KEY, email TEXT);\n"
        "-- migrate:down\nDROP TABLE users;\n")
   || writeFile("migrations/002_tags.sql",
        "-- migrate:up\nCREATE TABLE tags(name TEXT);\nINSERT INTO tags VALUES('a');\n"
        "-- migrate:down\nDROP TABLE tags;\n") ){
    printf("write: error: cannot write migrations/ (does the folder exist?)\n");
    return 1;
  }
  if( step("version", "SELECT migrate_version() GLOB '[0-9]*.[0-9]*.[0-9]*'")
   || step("apply", "SELECT migrate_apply('migrations')")
   || step("status", "SELECT version||':'||status FROM migrations('migrations')")
   || step("backup", "SELECT migrate_backup('copy.db')")
   || refused("backup again", "SELECT migrate_backup('copy.db')")
   || step("rollback", "SELECT migrate_rollback()")
   || step("status", "SELECT version||':'||status FROM migrations('migrations')")
   || step("tables", "SELECT name FROM sqlite_schema WHERE type='table' "
                     "AND name NOT LIKE 'migrate%' ORDER BY name")
   || step("restore", "SELECT migrate_restore('copy.db')")
   || step("current", "SELECT migrate_current()")
   || step("rows", "SELECT name FROM tags")
   || step("log", "SELECT action||':'||outcome FROM migrate_log ORDER BY rowid")
   || autoBackups() ){
    sqlite3_close(db);
    return 1;
  }
  sqlite3_close(db);
  return 0;
}
