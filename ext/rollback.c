/*
** rollback.c — migrate_rollback(), migrate_rollback_to() and migrate_reset().
**
**   SELECT migrate_rollback();                  -- the newest one
**   SELECT migrate_rollback(3);                 -- the newest three
**   SELECT migrate_rollback('add_tags');        -- the newest, if so named
**   SELECT migrate_rollback_to(20);             -- every one newer than 20
**   SELECT migrate_reset();                     -- every one
**
** The down scripts come from migrate_history, as stored when each migration
** was applied: a rollback needs no files.  Nothing runs unless every
** migration to roll back has a down script.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* zDown: the stored down script of version v, or NULL when it has none. */
static int rollbackOne(Call *c, i64 v, const char *zName, const char *zDown){
  char *zShow = 0;
  Script down;
  struct timespec t0;
  int rc = SQLITE_OK;
  double ms = 0;

  callFailAt(c, v, zName);
  zShow = sqlite3_mprintf("%lld_%s (down)", v, zName);
  if( zShow==0 ) return SQLITE_NOMEM;
  if( zDown==0 ){
    c->zErr = sqlite3_mprintf("%lld_%s has no down script; it cannot be rolled "
                              "back", v, zName);
    rc = SQLITE_ERROR;
  }
  if( rc==SQLITE_OK ) rc = formatStoredScript(zDown, 1, zShow, &down, &c->zErr);
  if( rc==SQLITE_OK ) rc = callBackupOnce(c);
  if( rc==SQLITE_OK ){
    utilClockNow(&t0);
    callTraceStart(c, "rolling back %s", zShow);
    rc = callRunScript(c, &down, zShow);
    ms = utilMsSince(&t0);
    callTraceEnd(c, rc, ms);
  }
  if( rc==SQLITE_OK ) rc = historyDelete(c->db, v, &c->zErr);
  if( rc==SQLITE_OK ){
    rc = callLog(c, "rollback", &v, zName, zShow, ms);
  }
  if( rc==SQLITE_OK ){
    c->nDone++;
    if( down.noTxn ) rc = callRecommit(c);
  }
  sqlite3_free(zShow);
  return rc;
}

/* Before anything runs: every one of the newest n above the floor must have
** a down script. */
static int allReversible(Call *c, i64 n){
  i64 v = 0;
  char *zName = 0;
  int found = 0;
  int rc = historyIrreversible(c->db, c->floor, n, &v, &zName, &found, &c->zErr);
  if( rc==SQLITE_OK && found ){
    callFailAt(c, v, zName);
    c->zErr = sqlite3_mprintf("%lld_%s has no down script; it cannot be rolled "
                              "back", v, zName);
    rc = SQLITE_ERROR;
  }
  sqlite3_free(zName);
  return rc;
}

/* Down scripts read from the history by one statement, with atomic on. */
#define ROLLBACK_BATCH 32

static int rollbackAll(Call *c, const char *zDir, i64 n){
  (void)zDir;
  int rc = txnBegin(&c->t, &c->zErr), exists = 0;
  HistoryDown aRow[ROLLBACK_BATCH];
  int nRow = 0, iRow = 0;
  i64 i, below = INT64_MAX;
  if( rc==SQLITE_OK ) rc = historyTableExists(c->db, &exists, &c->zErr);
  if( rc==SQLITE_OK && !exists ) return callCommit(c);
  if( rc==SQLITE_OK ) rc = historyEnsure(c->db, &c->zErr);
  if( rc==SQLITE_OK ) rc = allReversible(c, n);
  for(i=0; rc==SQLITE_OK && i<n; i++){
    const HistoryDown *d;
    if( iRow==nRow ){
      /* With atomic on the call holds the write lock throughout: the next
      ** rows are read together, each below the one rolled back before.
      ** With it off, the newest row each time, read under the lock: another
      ** process may have moved the history between two commits. */
      int want = c->atomic ? (int)(n-i<ROLLBACK_BATCH ? n-i : ROLLBACK_BATCH) : 1;
      historyDownsFree(aRow, nRow);
      nRow = iRow = 0;
      rc = historyNewestDowns(c->db, c->floor, c->atomic ? below : INT64_MAX,
                              want, aRow, &nRow, &c->zErr);
      if( rc || nRow==0 ) break;
    }
    d = &aRow[iRow++];
    below = d->version - 1;   /* > floor >= INT64_MIN: no overflow */
    rc = rollbackOne(c, d->version, d->zName, d->zDown);
    if( rc==SQLITE_OK && !c->atomic && i+1<n ) rc = callRecommit(c);
  }
  historyDownsFree(aRow, nRow);
  if( rc==SQLITE_OK ){
    c->hasFail = 0;
    rc = callCommit(c);
  }
  return rc;
}

/* migrate_rollback('<name>'): the applied migration it names (rollname.c),
** if it is the newest applied one; never one below a newer one. */
static int rollbackNamed(Call *c, const char *zArg, i64 n){
  i64 v = 0;
  char *zName = 0;
  HistoryDown newest;
  int any = 0;
  int rc = txnBegin(&c->t, &c->zErr);
  (void)n;
  memset(&newest, 0, sizeof(newest));
  if( rc==SQLITE_OK ) rc = rollnameFind(c->db, zArg, &v, &zName, &c->zErr);
  if( rc==SQLITE_OK ){
    rc = historyNewestDowns(c->db, INT64_MIN, INT64_MAX, 1, &newest, &any,
                            &c->zErr);
  }
  if( rc==SQLITE_OK && any && newest.version!=v ){
    callFailAt(c, v, zName);
    c->zErr = sqlite3_mprintf("%lld_%s is not the newest applied migration "
                              "(%lld_%s is); roll back the newer ones first",
                              v, zName, newest.version, newest.zName);
    rc = c->zErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  if( rc==SQLITE_OK ) rc = rollbackOne(c, v, zName, newest.zDown);
  if( rc==SQLITE_OK ){
    c->hasFail = 0;
    rc = callCommit(c);
  }
  sqlite3_free(zName);
  historyDownsFree(&newest, any);
  return rc;
}

static void rollbackNamedFunc(sqlite3_context *ctx, sqlite3_value *pArg){
  const char *zArg = utilArgText(ctx, pArg, "migrate_rollback", "the name");
  if( zArg ){
    callRun(ctx, "migrate_rollback", CALL_ROLLBACK, rollbackNamed, zArg, 1,
            INT64_MIN);
  }
}

void rollbackFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  i64 n = 1;
  /* Text that is not a number names a migration; '2' is still a count.
  ** (Asked of a copy: the question converts the value it is asked of,
  ** and a refusal shows the value as given.) */
  if( argc>0 && sqlite3_value_type(argv[0])==SQLITE_TEXT
   && sqlite3_value_bytes(argv[0])>0 ){
    sqlite3_value *pCopy = sqlite3_value_dup(argv[0]);
    int isName;
    if( pCopy==0 ){
      sqlite3_result_error_nomem(ctx);
      return;
    }
    isName = sqlite3_value_numeric_type(pCopy)==SQLITE_TEXT;
    sqlite3_value_free(pCopy);
    if( isName ){
      rollbackNamedFunc(ctx, argv[0]);
      return;
    }
  }
  if( argc>0 && utilArgInteger(ctx, argv[0], "migrate_rollback",
                     "the count must be a whole number >= 0", 0, INT64_MAX, &n) ){
    return;
  }
  if( n==0 ){
    sqlite3_result_int(ctx, 0);
    return;
  }
  callRun(ctx, "migrate_rollback", CALL_ROLLBACK, rollbackAll, 0, n, INT64_MIN);
}

/* migrate_rollback_to(version): roll back every migration newer than it. */
void rollbackToFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  i64 v = 0;
  (void)argc;
  if( utilArgInteger(ctx, argv[0], "migrate_rollback_to",
                     "the version must be an integer", INT64_MIN, INT64_MAX, &v) ){
    return;
  }
  callRun(ctx, "migrate_rollback_to", CALL_ROLLBACK, rollbackAll, 0, INT64_MAX, v);
}

/* migrate_reset(): roll back every applied migration. */
void resetFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc; (void)argv;
  callRun(ctx, "migrate_reset", CALL_ROLLBACK, rollbackAll, 0, INT64_MAX,
          INT64_MIN);
}

/* The folder argument every call that reads migrations takes. */
