/*
** apply.c — migrate_apply(), migrate_rollback() and migrate_current().
**
**   SELECT migrate_apply('db/migrations');      -- every pending migration
**   SELECT migrate_apply('db/migrations', 20);  -- pending ones up to 20
**   SELECT migrate_rollback();                  -- the newest one
**   SELECT migrate_rollback(3);                 -- the newest three
**   SELECT migrate_rollback_to(20);             -- every one newer than 20
**   SELECT migrate_reset();                     -- every one
**   SELECT migrate_baseline('db/migrations', 20); -- record up to 20, run nothing
**   SELECT migrate_adopt('db/migrations');      -- import another tool's history
**
** One call reads straight down: source -> transaction (write lock) ->
** history -> plan -> backup -> scripts -> history + log -> commit.  With the
** `atomic` setting on (the default) a call commits all of its migrations or
** none; off, each commits on its own.  A transaction:false migration runs
** between two transactions and is not atomic.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* What a call does. */
#define CALL_APPLY    0
#define CALL_ROLLBACK 1
#define CALL_BASELINE 2   /* record as applied, run nothing */
#define CALL_ADOPT    3   /* record what another tool's history lists */
static const char *const azAction[] = {"apply", "rollback", "baseline", "adopt"};

/* State of one call. */
typedef struct Call {
  sqlite3 *db;
  MigrateConn *mc;
  const char *zFunc;   /* "migrate_apply", "migrate_rollback", ... */
  int kind;            /* CALL_APPLY ... */
  Txn t;
  int atomic;          /* commit everything at the end (else per migration) */
  i64 floor;           /* rollback: never below this version */
  int nDone;           /* migrations applied or rolled back so far */
  int backedUp;        /* the automatic backup was taken (or is not wanted) */
  int callerWrote;     /* the caller's transaction had written before us */
  char *zBackup;       /* its path, until a commit has logged it */
  int hasFail;         /* failVersion/failName say which migration failed */
  i64 failVersion;
  char *failName;
  char *zErr;
} Call;

/* Refuse a call that cannot run safely on this connection right now. */
static int callRefused(sqlite3_context *ctx, MigrateConn *mc, const char *zFunc){
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  int indirect = 0;
  if( mc->busy ){
    ctxErrorMsg(ctx, "%s: cannot be called from inside a migration or while "
                "another migrate call is running", zFunc);
    return 1;
  }
  if( refuseIndirect(ctx, zFunc) ) return 1;
  if( runningStatements(db, &indirect)>1 ){
    ctxErrorMsg(ctx, "%s: other statements on this connection are still "
                "running; finish or reset them and call %s in a statement of "
                "its own", zFunc, zFunc);
    return 1;
  }
  return 0;
}

static void failAt(Call *c, i64 v, const char *zName){
  c->hasFail = 1;
  c->failVersion = v;
  sqlite3_free(c->failName);
  c->failName = zName ? sqlite3_mprintf("%s", zName) : 0;
}

/*
** The trace setting: "applying 004_add_tags.sql … " as a step starts, its
** time when it ends, so a slow or hanging step is visible while it runs.
*/
static void traceStart(Call *c, const char *zFmt, ...){
  va_list ap;
  if( !c->mc->trace ) return;
  va_start(ap, zFmt);
  fputs("migrate: ", stderr);
  vfprintf(stderr, zFmt, ap);
  fputs(" \xe2\x80\xa6 ", stderr);
  fflush(stderr);
  va_end(ap);
}

static void traceEnd(Call *c, int rc, double ms){
  if( !c->mc->trace ) return;
  if( rc==SQLITE_OK ) fprintf(stderr, "%.0f ms\n", ms);
  else fprintf(stderr, "failed\n");
  fflush(stderr);
}

/*
** The user_version setting: PRAGMA user_version follows the newest applied
** version, inside the same transaction as the history it mirrors.  It holds
** a 32-bit signed integer, so a timestamp version cannot be mirrored.
*/
static int syncUserVersion(Call *c){
  i64 v = 0, cur;
  int any = 0, rc;
  char *zSql;
  if( !c->mc->userVersion ) return SQLITE_OK;
  rc = historyMax(c->db, &v, &any, &c->zErr);
  if( rc ) return rc;
  if( !any ) v = 0;
  if( v>2147483647 ){
    c->zErr = sqlite3_mprintf("user_version cannot hold version %lld (it holds "
                              "at most 2147483647); turn the user_version "
                              "setting off", v);
    return SQLITE_ERROR;
  }
  cur = pragmaValue(c->db, "PRAGMA main.user_version", 0, 0);
  if( cur==v ) return SQLITE_OK;
  zSql = sqlite3_mprintf("PRAGMA main.user_version=%lld", v);
  rc = zSql ? sqlite3_exec(c->db, zSql, 0, 0, 0) : SQLITE_NOMEM;
  sqlite3_free(zSql);
  if( rc && rc!=SQLITE_NOMEM ) c->zErr = sqlite3_mprintf("%s", sqlite3_errmsg(c->db));
  return rc;
}

/*
** Inside the caller's transaction: take the write lock now, by writing
** user_version back unchanged, so no other connection can commit between
** the copy and our first change.  (In WAL mode this fails if the caller's
** snapshot is already stale, which is the right answer.)
*/
static int lockForBackup(Call *c){
  i64 v = pragmaValue(c->db, "PRAGMA main.user_version", 0, 0);
  char *zSql = sqlite3_mprintf("PRAGMA main.user_version=%lld", v);
  int rc = zSql ? sqlite3_exec(c->db, zSql, 0, 0, 0) : SQLITE_NOMEM;
  sqlite3_free(zSql);
  if( rc && rc!=SQLITE_NOMEM ) c->zErr = sqlite3_mprintf("%s", sqlite3_errmsg(c->db));
  return rc;
}

/*
** A migrate_log row inside the call's transaction: it records the work and
** commits with it, so a row that cannot be written fails the call.
*/
static int logInTxn(Call *c, const char *zAction, const i64 *pVersion,
                    const char *zName, const char *zMsg, double ms){
  int rcLog = logWrite(c->db, zAction, pVersion, zName, "ok", zMsg, ms);
  int rc = txnAlive(&c->t, &c->zErr);
  if( rcLog==SQLITE_NOMEM ) return SQLITE_NOMEM;
  if( rc==SQLITE_OK && rcLog!=SQLITE_OK ){
    rc = rcLog;
    if( rc!=SQLITE_NOMEM && c->zErr==0 ){
      c->zErr = sqlite3_mprintf("cannot write migrate_log: %s", sqlite3_errmsg(c->db));
    }
  }
  return rc;
}

/* The automatic backup, once per call, before the first change. */
static int backupOnce(Call *c){
  char *zPath = 0;
  int rc;
  if( c->backedUp ) return SQLITE_OK;
  c->backedUp = 1;
  if( !connBackupOn(c->mc, c->db) ) return SQLITE_OK;
  /* Work the caller has not committed is invisible to the connection the
  ** copy is read through: there is no state to copy that is both complete
  ** and true, so the call goes on without one (doc/guarantees.md). */
  if( c->callerWrote ) return SQLITE_OK;
  if( !c->t.owned ){
    rc = lockForBackup(c);
    if( rc ) return rc;
  }
  {
    struct timespec t0;
    clockNow(&t0);
    traceStart(c, "backing up");
    rc = backupAuto(c->db, c->mc, &zPath, &c->zErr);
    traceEnd(c, rc, msSince(&t0));
  }
  if( rc==SQLITE_OK && c->mc->trace ){
    fprintf(stderr, "migrate: backup written to %s\n", zPath);
  }
  if( rc ){
    char *z = sqlite3_mprintf("automatic backup failed: %s", c->zErr);
    sqlite3_free(c->zErr);
    c->zErr = z;
    return rc;
  }
  c->zBackup = zPath;
  return logInTxn(c, "backup", 0, 0, zPath, -1);
}

/* Commit, noting that the backup's log row is now safely written. */
static int commit(Call *c){
  int rc = syncUserVersion(c);
  if( rc==SQLITE_OK ) rc = txnCommit(&c->t, &c->zErr);
  if( rc==SQLITE_OK ){
    sqlite3_free(c->zBackup);
    c->zBackup = 0;
  }
  return rc;
}

/* Commit what is done and carry on in a new transaction. */
static int recommit(Call *c){
  int rc = commit(c);
  if( rc==SQLITE_OK ) rc = txnBegin(&c->t, &c->zErr);
  return rc;
}

/*
** Run one script the way its options ask.  transaction:false ends the open
** transaction, runs the script in autocommit mode and opens a new one, so
** what comes after it still shares a transaction.
*/
static int runScript(Call *c, const Script *pScr, const char *zFile){
  int rc;
  if( !pScr->noTxn ){
    /* Foreign keys are checked before the commit of what ran inside; a
    ** transaction:false script has committed on its own (not atomic). */
    int flags = SCRIPT_IN_TXN | (!c->t.owned && c->t.fkOn ? SCRIPT_FK_LIVE : 0);
    rc = txnScriptStarting(&c->t, &c->zErr);
    if( rc==SQLITE_OK ) rc = scriptRun(c->db, pScr, flags, zFile, &c->zErr);
    return rc;
  }
  if( !c->t.owned ){
    c->zErr = sqlite3_mprintf("%s: a transaction:false migration cannot run "
                              "inside a transaction; call %s outside BEGIN ... "
                              "COMMIT", zFile, c->zFunc);
    return SQLITE_ERROR;
  }
  rc = commit(c);
  if( rc==SQLITE_OK ) rc = scriptRun(c->db, pScr, 0, zFile, &c->zErr);
  if( rc==SQLITE_OK ){
    rc = txnSettingsRestore(&c->t);
    if( rc && rc!=SQLITE_NOMEM ){
      c->zErr = sqlite3_mprintf("%s: could not restore connection settings: %s",
                                zFile, sqlite3_errmsg(c->db));
      rc = SQLITE_ERROR;
    }
  }
  if( rc==SQLITE_OK ) rc = txnBegin(&c->t, &c->zErr);
  return rc;
}

/* ------------------------------------------------------------------ apply */

/* The call and the folder it is planned against. */
typedef struct Planning {
  Call *c;
  const Source *pSrc;
} Planning;

/* What apply refuses about one applied migration: no file (m is NULL), or a
** file that changed since it was applied. */
static int checkApplied(void *pArg, const Applied *a, Migration *m){
  Call *c = ((Planning*)pArg)->c;
  Loaded ld;
  int rc;
  if( m==0 ){
    c->zErr = sqlite3_mprintf("migration %lld (%s) is applied but missing from "
                              "'%s': the database is ahead of the code",
                              a->version, a->name, ((Planning*)pArg)->pSrc->origin);
    return SQLITE_ERROR;
  }
  rc = migrationLoad(m, &ld, &c->zErr);
  if( rc ) return rc;
  if( strcmp(ld.checksum, a->checksum)!=0 ){
    c->zErr = sqlite3_mprintf("%s: applied migration has changed since it was "
                              "applied (checksum %.12s..., applied %.12s...)",
                              m->up.label, ld.checksum, a->checksum);
    rc = SQLITE_ERROR;
  }
  loadedFree(&ld);
  return rc;
}

/*
** Check the folder against the history and list what is pending, up to
** target.  Refuses a changed applied file, an applied migration missing from
** the folder and a pending one older than the newest applied.  The history
** is read a row at a time, so memory does not grow with it.
*/
static int plan(Call *c, Source *pSrc, i64 target, int **paIdx, int *pnIdx){
  Planning p;
  int i, rc, nPending = 0, n = 0;
  i64 newest;
  int *aIdx;

  *paIdx = 0;
  *pnIdx = 0;
  aIdx = sqlite3_malloc64(sizeof(int)*(sqlite3_uint64)(pSrc->n+1));
  if( aIdx==0 ) return SQLITE_NOMEM;
  p.c = c;
  p.pSrc = pSrc;
  rc = historyMerge(c->db, pSrc, checkApplied, &p, aIdx, &nPending, &newest,
                    &c->zErr);
  if( rc==SQLITE_OK && nPending>0 && pSrc->a[aIdx[0]].version<newest ){
    Migration *m = &pSrc->a[aIdx[0]];
    c->zErr = sqlite3_mprintf("%s: pending migration %lld is older than the "
                              "newest applied migration %lld; give it a "
                              "higher version", m->up.label, m->version, newest);
    rc = SQLITE_ERROR;
  }
  if( rc ){
    sqlite3_free(aIdx);
    return rc;
  }
  for(i=0; i<nPending && pSrc->a[aIdx[i]].version<=target; i++) n++;
  *paIdx = aIdx;
  *pnIdx = n;
  return SQLITE_OK;
}

/* The history row of a migration now applied (ms < 0: recorded, not run):
** its checksum and the scripts as stored, so rollback needs no files. */
static int historyRecord(Call *c, const Migration *m, const Loaded *pLd,
                         double ms){
  Script down;
  char *zUp = loadedStoredUp(pLd);
  char *zDown = loadedStoredDown(pLd);
  char *zAt = utcNow();
  int rc = SQLITE_OK;
  if( zUp==0 || zAt==0 || (zDown==0 && loadedDown(pLd, &down)) ) rc = SQLITE_NOMEM;
  if( rc==SQLITE_OK ){
    rc = historyInsert(c->db, m->version, m->name, pLd->checksum, zUp, zDown,
                       zAt, ms, &c->zErr);
  }
  sqlite3_free(zUp);
  sqlite3_free(zDown);
  sqlite3_free(zAt);
  return rc;
}

static int applyOne(Call *c, Migration *m){
  Loaded ld;
  Script up;
  struct timespec t0;
  double ms;
  int rc;

  failAt(c, m->version, m->name);
  rc = migrationLoad(m, &ld, &c->zErr);
  if( rc ) return rc;
  loadedUp(&ld, &up);
  rc = backupOnce(c);
  clockNow(&t0);
  if( rc==SQLITE_OK ){
    traceStart(c, "applying %s", m->up.label);
    rc = runScript(c, &up, m->up.label);
    traceEnd(c, rc, msSince(&t0));
  }
  ms = msSince(&t0);
  if( rc==SQLITE_OK ) rc = historyRecord(c, m, &ld, ms);
  if( rc==SQLITE_OK ){
    rc = logInTxn(c, "apply", &m->version, m->name, m->up.label, ms);
  }
  if( rc==SQLITE_OK ){
    c->nDone++;
    /* Its script has committed already: so must its history row, whatever
    ** happens to the migrations after it. */
    if( up.noTxn ) rc = recommit(c);
  }
  loadedFree(&ld);
  return rc;
}

/*
** main's data version: SQLite changes it whenever the file changes, by this
** connection or any other.  0 if it cannot be read (SQLite before 3.26).
*/
static int dataVersion(Call *c, unsigned int *pV){
  *pV = 0;
  return sqlite3_file_control(c->db, "main", SQLITE_FCNTL_DATA_VERSION, pV)
         ==SQLITE_OK;
}

/*
** With atomic off every migration commits on its own, so between two of them
** another process may have migrated: if the newest version is not the one
** this call just wrote, plan again from the history as it now is.  If the
** data version read after our commit is the same under the new lock, no one
** has committed since: the history is what we wrote, and the two queries
** (a schema scan and max(version): 1.8 % of a commit-per-migration apply's
** instructions) are not needed.
*/
static int stillOurs(Call *c, i64 expect, int known, unsigned int before,
                     int *pOurs){
  i64 mx;
  int any, rc;
  unsigned int now;
  if( known && dataVersion(c, &now) && now==before ){
    *pOurs = 1;
    return SQLITE_OK;
  }
  rc = historyMax(c->db, &mx, &any, &c->zErr);
  *pOurs = rc==SQLITE_OK && any && mx==expect;
  return rc;
}

static int applyAll(Call *c, const char *zDir, i64 target){
  Source src;
  int rc = sourceOpen(c->db, zDir, &src, &c->zErr);
  int replan = 1;
  if( rc ) return rc;
  rc = txnBegin(&c->t, &c->zErr);
  if( rc==SQLITE_OK ) rc = historyEnsure(c->db, &c->zErr);
  while( rc==SQLITE_OK && replan ){
    int *aIdx = 0, nIdx = 0, i;
    replan = 0;
    rc = plan(c, &src, target, &aIdx, &nIdx);
    for(i=0; rc==SQLITE_OK && i<nIdx; i++){
      Migration *m = &src.a[aIdx[i]];
      rc = applyOne(c, m);
      if( rc==SQLITE_OK && !c->atomic && i+1<nIdx ){
        int ours = 0, known = 0;
        unsigned int before = 0;
        rc = commit(c);
        if( rc==SQLITE_OK ) known = dataVersion(c, &before);
        if( rc==SQLITE_OK ) rc = txnBegin(&c->t, &c->zErr);
        if( rc==SQLITE_OK ) rc = stillOurs(c, m->version, known, before, &ours);
        if( rc==SQLITE_OK && !ours ){ replan = 1; break; }
      }
    }
    sqlite3_free(aIdx);
  }
  if( rc==SQLITE_OK ){
    c->hasFail = 0;
    rc = commit(c);
  }
  sourceFree(&src);
  return rc;
}

/* ------------------------------------------------------- baseline, adopt */

/* Record one migration as applied without running it: the checksum and the
** scripts are stored as if it had run, so status, rollback and the "changed"
** refusal treat it like any other. */
static int recordOne(Call *c, Migration *m, const char *zWhy){
  Loaded ld;
  int rc;
  failAt(c, m->version, m->name);
  rc = migrationLoad(m, &ld, &c->zErr);
  if( rc ) return rc;
  rc = historyRecord(c, m, &ld, -1);
  if( rc==SQLITE_OK ) rc = logInTxn(c, azAction[c->kind], &m->version, m->name, zWhy, -1);
  if( rc==SQLITE_OK ) c->nDone++;
  loadedFree(&ld);
  return rc;
}

/* How many migrations the history records. */
static int appliedCount(Call *c, int *pn){
  HistoryCursor hc;
  int rc = historyOpen(c->db, &hc, &c->zErr);
  *pn = 0;
  while( rc==SQLITE_OK && !hc.eof ){
    (*pn)++;
    rc = historyNext(&hc, &c->zErr);
  }
  historyClose(&hc);
  return rc;
}

/* The migrations to record: up to target (baseline), or what the other
** tool's history lists (adopt).  aIdx gets their indexes in pSrc. */
static int toRecord(Call *c, Source *pSrc, i64 target,
                    int **paIdx, int *pnIdx, const char **pzTool){
  int *aFlag, i, rc, nApplied = 0;
  if( c->kind==CALL_BASELINE ){
    if( sourceFind(pSrc, target)==0 ){
      c->zErr = sqlite3_mprintf("no migration has version %lld in '%s'",
                                target, pSrc->origin);
      return SQLITE_ERROR;
    }
    return plan(c, pSrc, target, paIdx, pnIdx);
  }
  rc = appliedCount(c, &nApplied);
  if( rc ) return rc;
  if( nApplied>0 ){
    c->zErr = sqlite3_mprintf("migrate_history already records %d migration%s; "
                              "adopt imports into an empty history (add more "
                              "with migrate_baseline)", nApplied,
                              nApplied==1 ? "" : "s");
    return SQLITE_ERROR;
  }
  aFlag = sqlite3_malloc64(sizeof(int)*(sqlite3_uint64)(pSrc->n+1));
  if( aFlag==0 ) return SQLITE_NOMEM;
  rc = adoptForeign(c->db, pSrc, aFlag, pzTool, &c->zErr);
  *pnIdx = 0;
  for(i=0; rc==SQLITE_OK && i<pSrc->n; i++){
    if( aFlag[i] ) aFlag[(*pnIdx)++] = i;
  }
  if( rc ){
    sqlite3_free(aFlag);
    aFlag = 0;
  }
  *paIdx = aFlag;
  return rc;
}

static int recordAll(Call *c, const char *zDir, i64 target){
  Source src;
  int *aIdx = 0, nIdx = 0, i;
  const char *zTool = 0;
  char *zWhy = 0;
  int rc = sourceOpen(c->db, zDir, &src, &c->zErr);
  if( rc ) return rc;
  rc = txnBegin(&c->t, &c->zErr);
  if( rc==SQLITE_OK ) rc = historyEnsure(c->db, &c->zErr);
  if( rc==SQLITE_OK ) rc = toRecord(c, &src, target, &aIdx, &nIdx, &zTool);
  if( rc==SQLITE_OK ){
    zWhy = zTool ? sqlite3_mprintf("recorded from %s's history", zTool)
                 : sqlite3_mprintf("recorded as applied, not run");
    if( zWhy==0 ) rc = SQLITE_NOMEM;
  }
  for(i=0; rc==SQLITE_OK && i<nIdx; i++){
    rc = recordOne(c, &src.a[aIdx[i]], zWhy);
  }
  if( rc==SQLITE_OK ){
    c->hasFail = 0;
    rc = commit(c);
  }
  sqlite3_free(zWhy);
  sqlite3_free(aIdx);
  sourceFree(&src);
  return rc;
}

/* --------------------------------------------------------------- rollback */

/* zDown: the stored down script of version v, or NULL when it has none. */
static int rollbackOne(Call *c, i64 v, const char *zName, const char *zDown){
  char *zShow = 0, *zMsg = 0;
  Sections sec;
  Script down;
  struct timespec t0;
  int line = 0, rc = SQLITE_OK;
  double ms = 0;

  failAt(c, v, zName);
  zShow = sqlite3_mprintf("%lld_%s (down)", v, zName);
  if( zShow==0 ) return SQLITE_NOMEM;
  if( zDown==0 ){
    c->zErr = sqlite3_mprintf("%lld_%s has no down script; it cannot be rolled "
                              "back", v, zName);
    rc = SQLITE_ERROR;
  }
  if( rc==SQLITE_OK ){
    /* The stored text may lead with its marker line, to keep its options. */
    rc = formatSplit(zDown, strlen(zDown), FMT_WHOLE_DOWN, &sec, &line, &zMsg);
    if( rc ){
      c->zErr = zMsg ? sqlite3_mprintf("%s:%d: %s", zShow, line, zMsg) : 0;
      if( c->zErr==0 ) rc = SQLITE_NOMEM;
    }
  }
  if( rc==SQLITE_OK ) rc = backupOnce(c);
  if( rc==SQLITE_OK ){
    down.z = zDown + sec.down.off;
    down.n = sec.down.len;
    down.line = sec.down.line;
    down.noTxn = sec.down.noTxn;
    clockNow(&t0);
    traceStart(c, "rolling back %s", zShow);
    rc = runScript(c, &down, zShow);
    ms = msSince(&t0);
    traceEnd(c, rc, ms);
  }
  if( rc==SQLITE_OK ) rc = historyDelete(c->db, v, &c->zErr);
  if( rc==SQLITE_OK ){
    rc = logInTxn(c, "rollback", &v, zName, zShow, ms);
  }
  if( rc==SQLITE_OK ){
    c->nDone++;
    if( down.noTxn ) rc = recommit(c);
  }
  sqlite3_free(zMsg);
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
    failAt(c, v, zName);
    c->zErr = sqlite3_mprintf("%lld_%s has no down script; it cannot be rolled "
                              "back", v, zName);
    rc = SQLITE_ERROR;
  }
  sqlite3_free(zName);
  return rc;
}

static int rollbackAll(Call *c, i64 n){
  int rc = txnBegin(&c->t, &c->zErr), exists = 0;
  i64 i;
  if( rc==SQLITE_OK ) rc = historyTableExists(c->db, &exists, &c->zErr);
  if( rc==SQLITE_OK && !exists ) return commit(c);
  if( rc==SQLITE_OK ) rc = historyEnsure(c->db, &c->zErr);
  if( rc==SQLITE_OK ) rc = allReversible(c, n);
  for(i=0; rc==SQLITE_OK && i<n; i++){
    i64 v = 0;
    char *zName = 0, *zDown = 0;
    int any = 0;
    /* The newest row each time, read under the lock: with atomic off
    ** another process may have moved the history between two commits. */
    rc = historyNewest(c->db, c->floor, &v, &zName, &zDown, &any, &c->zErr);
    if( rc==SQLITE_OK && any ) rc = rollbackOne(c, v, zName, zDown);
    sqlite3_free(zName);
    sqlite3_free(zDown);
    if( !any ) break;
    if( rc==SQLITE_OK && !c->atomic && i+1<n ) rc = recommit(c);
  }
  if( rc==SQLITE_OK ){
    c->hasFail = 0;
    rc = commit(c);
  }
  return rc;
}

/* ------------------------------------------------------------- the calls */

/*
** Common frame of apply and rollback: refuse unsafe calls, remember the
** connection's settings, run, roll back on failure, restore, log, report.
*/
static void runCall(sqlite3_context *ctx, const char *zFunc, int kind,
                    const char *zDir, i64 arg, i64 floor){
  MigrateConn *mc = (MigrateConn*)sqlite3_user_data(ctx);
  Call c;
  struct timespec t0;
  int rc;
  if( callRefused(ctx, mc, zFunc) ) return;
  memset(&c, 0, sizeof(c));
  c.db = sqlite3_context_db_handle(ctx);
  c.mc = mc;
  c.zFunc = zFunc;
  c.floor = floor;
  c.kind = kind;
  clockNow(&t0);
  rc = txnStart(&c.t, c.db);
  if( rc ){
    /* Settings that cannot be read could not be put back: stop while
    ** nothing has changed. */
    if( rc==SQLITE_NOMEM ) sqlite3_result_error_nomem(ctx);
    else ctxErrorMsg(ctx, "%s: %s", zFunc, sqlite3_errmsg(c.db));
    return;
  }
  c.callerWrote = !c.t.owned && sqlite3_txn_state(c.db, "main")==SQLITE_TXN_WRITE;
  c.atomic = mc->atomic || !c.t.owned;
  mc->busy = 1;
  switch( kind ){
    case CALL_APPLY:    rc = applyAll(&c, zDir, arg);   break;
    case CALL_ROLLBACK: rc = rollbackAll(&c, arg);      break;
    default:            rc = recordAll(&c, zDir, arg);  break;
  }
  mc->busy = 0;
  if( rc ) txnRollback(&c.t);
  {
    /* Settings not put back fail a call that did its work: out of memory
    ** is reported as such. */
    int rcFinish = txnFinish(&c.t, rc ? 0 : &c.zErr);
    if( rcFinish && rc==SQLITE_OK ) rc = rcFinish;
  }
  if( rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
  }else if( rc ){
    const char *zMsg = c.zErr ? c.zErr : sqlite3_errstr(rc);
    int busy = (rc&0xff)==SQLITE_BUSY || (rc&0xff)==SQLITE_LOCKED
            || (rc&0xff)==SQLITE_READONLY;
    /* No failure row when the database could not be written at all: trying
    ** would only wait out the busy timeout a second time. */
    if( c.t.owned && !busy ){
      /* The backup's row went with the rolled-back work: the file is there. */
      if( c.zBackup ) logWrite(c.db, "backup", 0, 0, "ok", c.zBackup, -1);
      logWrite(c.db, azAction[kind], c.hasFail ? &c.failVersion : 0,
               c.hasFail ? c.failName : 0, "failed", zMsg, -1);
    }
    ctxErrorMsg(ctx, "%s: %s", zFunc, zMsg);
  }else{
    sqlite3_result_int(ctx, c.nDone);
  }
  if( mc->trace ){
    if( rc ){
      fprintf(stderr, "migrate: %s: failed, %.0f ms\n", zFunc, msSince(&t0));
    }else{
      fprintf(stderr, "migrate: %s: done, %d migration%s, %.0f ms\n", zFunc,
              c.nDone, c.nDone==1 ? "" : "s", msSince(&t0));
    }
    fflush(stderr);
  }
  sqlite3_free(c.failName);
  sqlite3_free(c.zBackup);
  sqlite3_free(c.zErr);
}

void applyFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const char *zDir = (const char*)sqlite3_value_text(argv[0]);
  i64 target = INT64_MAX;
  if( zDir==0 || zDir[0]==0 ){
    ctxErrorMsg(ctx, "migrate_apply: the directory argument is %s",
                zDir ? "empty" : "NULL");
    return;
  }
  if( argc>1 ){
    if( sqlite3_value_numeric_type(argv[1])!=SQLITE_INTEGER ){
      ctxErrorMsg(ctx, "migrate_apply: the target version must be an integer, "
                  "not '%s'", sqlite3_value_text(argv[1]) ?
                  (const char*)sqlite3_value_text(argv[1]) : "NULL");
      return;
    }
    target = sqlite3_value_int64(argv[1]);
  }
  runCall(ctx, "migrate_apply", CALL_APPLY, zDir, target, 0);
}

void rollbackFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  i64 n = 1;
  if( argc>0 ){
    if( sqlite3_value_numeric_type(argv[0])!=SQLITE_INTEGER
     || sqlite3_value_int64(argv[0])<0 ){
      ctxErrorMsg(ctx, "migrate_rollback: the count must be a whole number >= 0,"
                  " not '%s'", sqlite3_value_text(argv[0]) ?
                  (const char*)sqlite3_value_text(argv[0]) : "NULL");
      return;
    }
    n = sqlite3_value_int64(argv[0]);
  }
  if( n==0 ){
    sqlite3_result_int(ctx, 0);
    return;
  }
  runCall(ctx, "migrate_rollback", CALL_ROLLBACK, 0, n, INT64_MIN);
}

/* migrate_rollback_to(version): roll back every migration newer than it. */
void rollbackToFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc;
  if( sqlite3_value_numeric_type(argv[0])!=SQLITE_INTEGER ){
    ctxErrorMsg(ctx, "migrate_rollback_to: the version must be an integer, "
                "not '%s'", sqlite3_value_text(argv[0]) ?
                (const char*)sqlite3_value_text(argv[0]) : "NULL");
    return;
  }
  runCall(ctx, "migrate_rollback_to", CALL_ROLLBACK, 0, INT64_MAX,
          sqlite3_value_int64(argv[0]));
}

/* migrate_reset(): roll back every applied migration. */
void resetFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  (void)argc; (void)argv;
  runCall(ctx, "migrate_reset", CALL_ROLLBACK, 0, INT64_MAX, INT64_MIN);
}

/* The folder argument every call that reads migrations takes. */
static const char *dirArg(sqlite3_context *ctx, const char *zFunc,
                          sqlite3_value *v){
  const char *zDir = (const char*)sqlite3_value_text(v);
  if( zDir==0 || zDir[0]==0 ){
    ctxErrorMsg(ctx, "%s: the directory argument is %s", zFunc,
                zDir ? "empty" : "NULL");
    return 0;
  }
  return zDir;
}

/* migrate_baseline(dir, version): record every migration up to version as
** applied, running none of them: for a database that already has them. */
void baselineFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const char *zDir = dirArg(ctx, "migrate_baseline", argv[0]);
  (void)argc;
  if( zDir==0 ) return;
  if( sqlite3_value_numeric_type(argv[1])!=SQLITE_INTEGER ){
    ctxErrorMsg(ctx, "migrate_baseline: the version must be an integer, "
                "not '%s'", sqlite3_value_text(argv[1]) ?
                (const char*)sqlite3_value_text(argv[1]) : "NULL");
    return;
  }
  runCall(ctx, "migrate_baseline", CALL_BASELINE, zDir,
          sqlite3_value_int64(argv[1]), 0);
}

/* migrate_adopt(dir): record what another tool's history says is applied. */
void adoptFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const char *zDir = dirArg(ctx, "migrate_adopt", argv[0]);
  (void)argc;
  if( zDir ) runCall(ctx, "migrate_adopt", CALL_ADOPT, zDir, 0, 0);
}

void currentFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  char *zErr = 0;
  i64 v;
  int any;
  (void)argc; (void)argv;
  if( historyMax(db, &v, &any, &zErr) ){
    ctxErrorMsg(ctx, "migrate_current: %s", zErr ? zErr : "out of memory");
    sqlite3_free(zErr);
  }else if( any ){
    sqlite3_result_int64(ctx, v);
  }
}
