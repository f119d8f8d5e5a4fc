/*
** walcommits.c — a host for backup-wal.test that lands commits at chosen
** moments of a backup of a WAL database (doc/guarantees.md "Backed up"):
** between the read transaction the copy is made in and the checkpoint that
** must put every frame in the main file, and while the bytes are copied.
**
**   cc -o walcommits test/walcommits.c -lsqlite3
**   ./walcommits LIB DB DEST N READSQL DURINGSQL
**
** It loads LIB (migrate) into a connection to DB, opens a writer connection
** of its own, and registers with sqlite3_auto_extension() a callback that
** puts a trace on every connection opened afterwards: migrate's private
** ones. Each time the backup's read statement finishes on one of them
** inside a transaction (its read transaction is open, the checkpoint not
** yet run), the writer commits READSQL, with ?1 bound to the read's number,
** for the first N reads (N = -1: every read, up to 1000, so that a loop
** that never gave up would still end, and be seen to have gone on). When
** that connection then runs any statement other than COMMIT inside the
** same read transaction (the checkpoint was complete: the copy begins),
** the writer runs DURINGSQL, once, unless it is empty. Then it runs
** SELECT migrate_backup(DEST) and prints:
**
**   reads=<read transactions the backup began>
**   commits=<commits of READSQL that landed>
**   during=<1 if DURINGSQL ran, else 0>
**   result=<migrate_backup's value>, or error=<its error>
**   autocommit=<the calling connection's state after the call: 1>
**
** and "writer: <error>" for any commit of the writer that failed. Should
** backup.c begin its read with another statement, reads=0 says so.
*/
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The statement backup.c's copy begins its read transaction with, as
** sqlite3_exec() prepares it (after "BEGIN;"). */
#define READ_STATEMENT "SELECT count(*) FROM main.sqlite_schema"
#define MAX_COMMITS 1000

static sqlite3 *pWriter;        /* the host's own connection that commits */
static sqlite3 *pReading;       /* a private connection inside its read */
static const char *zReadSql;    /* committed after each of the first nLimit reads */
static const char *zDuringSql;  /* committed once while the copy is made */
static int nLimit;
static int nRead, nCommit, nDuring;

/* Each statement of zSql in turn, ?1 bound to iRead where there is one. */
static void writerCommit(const char *zSql, int iRead){
  int rc = SQLITE_OK;
  while( rc==SQLITE_OK && zSql[0] ){
    sqlite3_stmt *p = 0;
    rc = sqlite3_prepare_v2(pWriter, zSql, -1, &p, &zSql);
    if( rc==SQLITE_OK && p ){
      if( sqlite3_bind_parameter_count(p)>0 ) sqlite3_bind_int(p, 1, iRead);
      while( (rc = sqlite3_step(p))==SQLITE_ROW ){}
      if( rc==SQLITE_DONE ) rc = SQLITE_OK;
    }
    sqlite3_finalize(p);
  }
  if( rc!=SQLITE_OK ) printf("writer: %s\n", sqlite3_errmsg(pWriter));
}

static int onTrace(unsigned mask, void *pCtx, void *P, void *X){
  sqlite3_stmt *pStmt = P;
  sqlite3 *db;
  const char *zSql;
  (void)pCtx;
  (void)X;
  if( mask==SQLITE_TRACE_CLOSE ){
    if( (sqlite3*)P==pReading ) pReading = 0;
    return 0;
  }
  db = sqlite3_db_handle(pStmt);
  zSql = sqlite3_sql(pStmt);
  if( zSql==0 ) return 0;
  if( mask==SQLITE_TRACE_PROFILE ){
    /* The read statement done, its transaction still open: the checkpoint
    ** comes next. */
    if( strcmp(zSql, READ_STATEMENT)==0 && !sqlite3_get_autocommit(db) ){
      pReading = db;
      nRead++;
      if( (nLimit<0 || nRead<=nLimit) && nCommit<MAX_COMMITS ){
        writerCommit(zReadSql, nRead);
        nCommit++;
      }
    }
  }else if( mask==SQLITE_TRACE_STMT && db==pReading ){
    if( strcmp(zSql, "COMMIT")==0 ){
      pReading = 0;        /* the read ended: another try, or none */
    }else if( zDuringSql[0] && nDuring==0 && !sqlite3_get_autocommit(db) ){
      writerCommit(zDuringSql, nRead);
      nDuring++;
    }
  }
  return 0;
}

/* The auto-extension: every connection opened from now on is traced. */
static int traceConnection(sqlite3 *db, char **pzErr,
                           const struct sqlite3_api_routines *pApi){
  (void)pzErr;
  (void)pApi;
  return sqlite3_trace_v2(db, SQLITE_TRACE_STMT|SQLITE_TRACE_PROFILE|SQLITE_TRACE_CLOSE,
                          onTrace, 0);
}

int main(int argc, char **argv){
  sqlite3 *db = 0;
  sqlite3_stmt *p = 0;
  char *zErr = 0;
  int rc;
  if( argc!=7 ){
    fprintf(stderr, "usage: %s LIB DB DEST N READSQL DURINGSQL\n", argv[0]);
    return 2;
  }
  nLimit = atoi(argv[4]);
  zReadSql = argv[5];
  zDuringSql = argv[6];
  if( sqlite3_open(argv[2], &db)!=SQLITE_OK
   || sqlite3_enable_load_extension(db, 1)!=SQLITE_OK
   || sqlite3_load_extension(db, argv[1], "sqlite3_migrate_init", &zErr)!=SQLITE_OK ){
    fprintf(stderr, "%s\n", zErr ? zErr : sqlite3_errmsg(db));
    sqlite3_free(zErr);
    sqlite3_close(db);
    return 2;
  }
  /* The writer checkpoints after each of its commits, as eagerly as a
  ** writer can: no page newer than a read's snapshot may reach the file. */
  if( sqlite3_open(argv[2], &pWriter)!=SQLITE_OK
   || sqlite3_exec(pWriter, "PRAGMA wal_autocheckpoint=1", 0, 0, 0)!=SQLITE_OK ){
    fprintf(stderr, "%s\n", sqlite3_errmsg(pWriter));
    sqlite3_close(pWriter);
    sqlite3_close(db);
    return 2;
  }
  sqlite3_auto_extension((void(*)(void))traceConnection);
  rc = sqlite3_prepare_v2(db, "SELECT migrate_backup(?1)", -1, &p, 0);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(p, 1, argv[3], -1, SQLITE_STATIC);
    rc = sqlite3_step(p);
  }
  printf("reads=%d\ncommits=%d\nduring=%d\n", nRead, nCommit, nDuring);
  if( rc==SQLITE_ROW ){
    printf("result=%s\n", (const char*)sqlite3_column_text(p, 0));
  }else{
    printf("error=%s\n", sqlite3_errmsg(db));
  }
  sqlite3_finalize(p);
  printf("autocommit=%d\n", sqlite3_get_autocommit(db));
  sqlite3_reset_auto_extension();
  sqlite3_close(pWriter);
  sqlite3_close(db);
  return 0;
}
