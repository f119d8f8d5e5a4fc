/*
** call.c — the frame every call that changes the database runs in:
** migrate_apply, migrate_rollback (and _to, reset), migrate_baseline and
** migrate_adopt.  The verbs themselves are apply.c, rollback.c, record.c.
**
** One call: guard (callGuard) -> remember the connection's PRAGMAs (txn.c)
** -> the verb's body, which uses the helpers here: the one automatic
** backup, trace lines, the log rows, commits that keep user_version in step
** -> roll back on failure -> PRAGMAs put back -> a failure row -> the result.
** With the `atomic` setting on (the default) a call commits all of its
** migrations or none; off, each commits on its own.  A transaction:false
** migration runs between two transactions and is not atomic.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The migrate_log action of a call of this kind. */
const char *callAction(int kind){
  static const char *const az[] = {"apply", "rollback", "baseline", "adopt",
                                   "repair"};
  return az[kind];
}

void callFailAt(Call *c, i64 v, const char *zName){
  c->hasFail = 1;
  c->failNoVersion = 0;
  c->failVersion = v;
  sqlite3_free(c->failName);
  c->failName = zName ? sqlite3_mprintf("%s", zName) : 0;
}

/* A repeatable migration has a name and no version: its failure row too. */
void callFailAtRepeatable(Call *c, const char *zName){
  callFailAt(c, 0, zName);
  c->failNoVersion = 1;
}

/* The lock wait worth a line of the trace, in milliseconds. */
#define TRACE_LOCK_WAIT_MS 100

/* Before the first step of a transaction of ours that waited for the write
** lock (another connection writing, and busy_timeout): how long, on a line
** of its own, so a slow call shows where its time went. */
static void callTraceLockWait(Call *c){
  if( !c->t.owned || c->t.nBegun==c->nWaitTraced ) return;
  c->nWaitTraced = c->t.nBegun;
  if( c->t.lockWaitMs>=TRACE_LOCK_WAIT_MS ){
    fprintf(stderr, "migrate: waited %.0f ms for the write lock\n",
            c->t.lockWaitMs);
  }
}

/*
** The trace setting: "applying 004_add_tags.sql … " as a step starts, its
** time when it ends, so a slow or hanging step is visible while it runs.
*/
void callTraceStart(Call *c, const char *zFmt, ...){
  va_list ap;
  if( !c->mc->trace ) return;
  if( c->quiet ){
    /* Shown already, before the retry (callRetry): kept, to name it if it
    ** fails this time. */
    sqlite3_free(c->zQuietStep);
    va_start(ap, zFmt);
    c->zQuietStep = sqlite3_vmprintf(zFmt, ap);
    va_end(ap);
    return;
  }
  callTraceLockWait(c);
  va_start(ap, zFmt);
  fputs("migrate: ", stderr);
  vfprintf(stderr, zFmt, ap);
  fputs(" \xe2\x80\xa6 ", stderr);
  fflush(stderr);
  va_end(ap);
}

/* The folder's .sql files that are not read, one line each, so a file meant
** as a migration is seen (doc/formats.md "Files that are ignored"). */
void callTraceIgnored(Call *c, const Source *pSrc){
  int i;
  if( !c->mc->trace || c->quiet ) return;
  for(i=0; i<pSrc->nIgnored; i++){
    fprintf(stderr, "migrate: ignored %s: %s\n", pSrc->aIgnored[i].file,
            pSrc->aIgnored[i].why);
  }
}

void callTraceEnd(Call *c, int rc, double ms){
  if( !c->mc->trace ) return;
  if( c->t.retry || (c->quiet && rc==SQLITE_OK) ){
    /* A step that ends in a retry, or one shown before it: its line is
    ** the one the retry completes (or already did). */
    c->figTrace = 0;
    sqlite3_free(c->zNotes);
    c->zNotes = 0;
    return;
  }
  if( c->quiet ){
    fprintf(stderr, "migrate: %s \xe2\x80\xa6 ", c->zQuietStep ? c->zQuietStep : "");
  }
  if( rc==SQLITE_OK && c->figTrace ){
    /* A script's step: the rows it changed too (callRunScript). */
    fprintf(stderr, "%.0f ms, %lld row%s\n", ms, c->fig.rows,
            c->fig.rows==1 ? "" : "s");
  }else if( rc==SQLITE_OK ){
    fprintf(stderr, "%.0f ms\n", ms);
  }else{
    fprintf(stderr, "failed\n");
  }
  c->figTrace = 0;
  if( c->zNotes ){
    /* Statements the script skipped (script.c), one line each, under it. */
    const char *z = c->zNotes;
    while( *z ){
      const char *zNl = strchr(z, '\n');
      int n = zNl ? (int)(zNl - z) : (int)strlen(z);
      fprintf(stderr, "migrate:   %.*s\n", n, z);
      z += n + (zNl!=0);
    }
    sqlite3_free(c->zNotes);
    c->zNotes = 0;
  }
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
  /* It mirrors the default set: another set's versions are its own. */
  if( !c->mc->userVersion || setsName(c->db) ) return SQLITE_OK;
  rc = historyMax(c->db, &v, &any, &c->zErr);
  if( rc ) return rc;
  if( !any ) v = 0;
  if( v>2147483647 ){
    c->zErr = sqlite3_mprintf("user_version cannot hold version %lld (it holds "
                              "at most 2147483647); turn the user_version "
                              "setting off", v);
    return SQLITE_ERROR;
  }
  rc = utilPragmaRead(c->db, "PRAGMA main.user_version", &cur);
  if( rc==SQLITE_OK && cur==v ) return SQLITE_OK;
  zSql = rc ? 0 : sqlite3_mprintf("PRAGMA main.user_version=%lld", v);
  if( rc==SQLITE_OK ) rc = zSql ? sqlite3_exec(c->db, zSql, 0, 0, 0) : SQLITE_NOMEM;
  sqlite3_free(zSql);
  if( rc && rc!=SQLITE_NOMEM ) c->zErr = utilDbErr(c->db);
  return rc;
}

/*
** Inside the caller's transaction: take the write lock now, by writing
** user_version back unchanged, so no other connection can commit between
** the copy and our first change.  (In WAL mode this fails if the caller's
** snapshot is already stale, which is the right answer.)
*/
static int lockForBackup(Call *c){
  i64 v = 0;
  char *zSql = 0;
  /* Unread, the value is not known: writing a guess back would change it. */
  int rc = utilPragmaRead(c->db, "PRAGMA main.user_version", &v);
  if( rc==SQLITE_OK ){
    zSql = sqlite3_mprintf("PRAGMA main.user_version=%lld", v);
    rc = zSql ? sqlite3_exec(c->db, zSql, 0, 0, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
  }
  if( rc && rc!=SQLITE_NOMEM ) c->zErr = utilDbErr(c->db);
  return rc;
}

/* The kept rows dropped: their work was rolled back, or they are written. */
static void logQueueClear(Call *c){
  int i;
  for(i=0; i<c->nLogQ; i++){
    sqlite3_free(c->aLogQ[i].zAt);
    sqlite3_free(c->aLogQ[i].zName);
    sqlite3_free(c->aLogQ[i].zMsg);
  }
  c->nLogQ = 0;
}

/*
** The kept rows written, in the call's transaction: they record its work
** and commit with it, so a row that cannot be written fails the call.
*/
int callLogFlush(Call *c){
  int rcLog, rc;
  if( c->nLogQ==0 ) return SQLITE_OK;
  rcLog = historyLogRows(c->db, c->aLogQ, c->nLogQ);
  logQueueClear(c);
  rc = txnAlive(&c->t, &c->zErr);
  if( rcLog==SQLITE_NOMEM ) return SQLITE_NOMEM;
  if( rc==SQLITE_OK && rcLog!=SQLITE_OK ){
    rc = rcLog;
    if( c->zErr==0 ){
      c->zErr = sqlite3_mprintf("cannot write migrate_log: %s", sqlite3_errmsg(c->db));
    }
  }
  return rc;
}

/*
** A migrate_log row of the call's work.  It is kept, and written with the
** others in one statement, before the commit (callCommit), the foreign-key
** mark (callRunScript) or when CALL_LOG_BATCH are kept: a statement prepared
** for each row would be prepared again after every script that changes the
** schema, which costs as much as a small migration's own statements
** (doc/performance.md).
*/
int callLog(Call *c, const char *zAction, const i64 *pVersion,
                    const char *zName, const char *zMsg, double ms){
  LogRow *r;
  int rc;
  if( !c->logReady ){
    /* An older migrate_log gains its later columns with the call's first
    ** row, in the call's transaction (logcols.c). */
    rc = logColumnsAdd(c->db, &c->zErr);
    if( rc==SQLITE_OK ) rc = utilForceArm(c->db, &c->t.force);
    if( rc ) return rc;
    c->logReady = 1;
  }
  if( c->nLogQ==CALL_LOG_BATCH && (rc = callLogFlush(c))!=SQLITE_OK ) return rc;
  r = &c->aLogQ[c->nLogQ];
  memset(r, 0, sizeof(*r));
  r->zAction = zAction;
  r->zAt = utilUtcNow();
  r->zName = zName ? sqlite3_mprintf("%s", zName) : 0;
  r->zMsg = zMsg ? sqlite3_mprintf("%s", zMsg) : 0;
  r->hasVersion = pVersion!=0;
  r->version = pVersion ? *pVersion : 0;
  r->ms = ms;
  r->x = c->fig;
  r->x.zSet = setsName(c->db);
  r->x.cols = LOGCOL_ALL;   /* made so above, in this transaction */
  c->nLogQ++;
  memset(&c->fig, 0, sizeof(c->fig));
  if( r->zAt==0 || (zName && r->zName==0) || (zMsg && r->zMsg==0) ){
    return SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

/*
** The automatic backup of an encrypted database is written through this
** connection, which alone has the key, in a transaction of its own
** (keycopy.c): it cannot be taken inside the call's.  So the call's
** transaction (which holds nothing yet but the history table it made) is
** rolled back, the backup taken, and the transaction begun again.  PRAGMA
** data_version, read before the copy and after BEGIN IMMEDIATE, tells
** whether another connection committed in between: then the backup is not
** of the state the call would run against, and the call fails, the backup
** file removed, nothing applied (doc/guarantees.md "Backed up").
*/
static int backupKeyed(Call *c, char **pzPath){
  i64 before = 0, after = 0;
  int rc;
  if( !c->t.owned || !c->idleAtStart ){
    c->zErr = sqlite3_mprintf("the database is encrypted, and its backup is "
        "written through this connection in a transaction of its own, which "
        "cannot be done inside another transaction, nor while a statement "
        "reads: call it outside a transaction, from a statement that reads "
        "no table (SELECT %s(...)), or take a backup with migrate_backup() "
        "first and set migrate_config('backup', 'off')", c->zFunc);
    return c->zErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  txnRollback(&c->t);
  rc = utilPragmaRead(c->db, "PRAGMA main.data_version", &before);
  if( rc==SQLITE_OK ) rc = backupAuto(c->db, c->mc, 1, pzPath, &c->zErr);
  if( rc==SQLITE_OK ) rc = txnBegin(&c->t, &c->zErr);
  if( rc==SQLITE_OK ) rc = utilPragmaRead(c->db, "PRAGMA main.data_version", &after);
  if( rc==SQLITE_OK && before!=after ){
    c->zErr = sqlite3_mprintf("another connection changed the database while "
        "its backup was taken, so the backup is not of the state the "
        "migrations would run against; nothing was applied: run the call again");
    rc = c->zErr ? SQLITE_BUSY : SQLITE_NOMEM;
  }
  /* Rolled back with the rest: made again. */
  if( rc==SQLITE_OK ) rc = historyEnsure(c->db, &c->zErr);
  if( rc && *pzPath ){
    /* Nothing is applied: a backup the log will not record goes. */
    migrateFileOps.xUnlink(*pzPath);
    sqlite3_free(*pzPath);
    *pzPath = 0;
  }
  if( rc && rc!=SQLITE_NOMEM && c->zErr==0 ) c->zErr = utilDbErr(c->db);
  return rc;
}

/* The automatic backup, once per call, before the first change. */
int callBackupOnce(Call *c){
  char *zPath = 0;
  int rc, keyed = 0;
  if( c->backedUp ) return SQLITE_OK;
  c->backedUp = 1;
  /* A call that cannot write changes nothing anywhere (doc/guarantees.md
  ** "Backed up"): a database file, or a rollback-journal database's folder,
  ** that is read-only fails here, on a write of the value user_version
  ** already has, with SQLite's own error, before a backup is written (or
  ** older backups pruned to make room for it). */
  rc = txnWriteProbe(&c->t, &c->zErr);
  if( rc ){
    c->hasFail = 0;
    return rc;
  }
  if( !connBackupOn(c->mc, c->db) ) return SQLITE_OK;
  /* Work the caller has not committed is invisible to the connection the
  ** copy is read through: there is no state to copy that is both complete
  ** and true, so the call goes on without one (doc/guarantees.md). */
  if( c->callerWrote ) return SQLITE_OK;
  rc = utilDbKeyed(c->db, &keyed);
  if( rc ) return rc;
  if( !c->t.owned && !keyed ){
    rc = lockForBackup(c);
    if( rc ) return rc;
  }
  {
    struct timespec t0;
    utilClockNow(&t0);
    callTraceStart(c, "backing up");
    rc = keyed ? backupKeyed(c, &zPath)
               : backupAuto(c->db, c->mc, 0, &zPath, &c->zErr);
    callTraceEnd(c, rc, utilMsSince(&t0));
  }
  if( rc==SQLITE_OK && c->mc->trace ){
    fprintf(stderr, "migrate: backup written to %s\n", zPath);
  }
  if( rc ){
    char *z = sqlite3_mprintf("automatic backup failed: %s", c->zErr);
    sqlite3_free(c->zErr);
    c->zErr = z;
    /* No migration's script ran: the failure is the call's, not one's. */
    c->hasFail = 0;
    return rc;
  }
  c->zBackup = zPath;
  return callLog(c, "backup", 0, 0, zPath, -1);
}

/* Commit, noting that the backup's log row is now safely written. */
int callCommit(Call *c){
  /* The kept log rows first: before the foreign-key check, whose retry
  ** rolls them back with the work they record (callRetry). */
  int rc = callLogFlush(c);
  if( rc==SQLITE_OK ) rc = syncUserVersion(c);
  /* Only a transaction a script ran in: a call with nothing to do reads
  ** no more than it did. */
  if( rc==SQLITE_OK && c->t.changed ){
    rc = integrityCheck(c->db, c->mc->integrityCheck, &c->zErr);
  }
  if( rc==SQLITE_OK ) rc = txnCommit(&c->t, &c->zErr);
  if( rc==SQLITE_OK ){
    sqlite3_free(c->zBackup);
    c->zBackup = 0;
    c->quiet = 0;   /* past where the first run stopped (callRetry) */
  }
  return rc;
}

/* Commit what is done and carry on in a new transaction. */
int callRecommit(Call *c){
  int rc;
  /* Running a transaction's migrations again (callRetry): the commit that
  ** began it is made already. */
  if( c->t.replay ) return SQLITE_OK;
  rc = callCommit(c);
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
  unsigned mentions = scriptMentions(pScr);
  int clear = (mentions & SCRIPT_MENTIONS_REFUSED) ? 0 : SCRIPT_CLEAR;
  txnScriptSets(&c->t, mentions);
  if( !pScr->noTxn ){
    /* Foreign keys are checked before the commit of what ran inside; a
    ** transaction:false script has committed on its own (not atomic). */
    int flags = SCRIPT_IN_TXN | clear
              | (!c->t.owned && c->t.fkOn ? SCRIPT_FK_LIVE : 0);
    if( !c->t.changed ){
      /* The foreign-key mark: where a retry starts again (callRetry). */
      c->mark.nDone = c->nDone;
      c->mark.logReady = c->logReady;
      c->mark.nWaitLogged = c->nWaitLogged;
    }
    rc = txnScriptStarting(&c->t, &c->zErr);
    if( rc==SQLITE_OK ) rc = scriptRun(c->db, pScr, flags, zFile, &c->zErr, &c->t.force,
                                     c->mc->trace ? &c->zNotes : 0);
    return rc;
  }
  if( !c->t.owned ){
    c->zErr = sqlite3_mprintf("%s: a transaction:false migration cannot run "
                              "inside a transaction; call %s outside BEGIN ... "
                              "COMMIT", zFile, c->zFunc);
    return SQLITE_ERROR;
  }
  if( hostIsDqlite(c->db) ){
    /* It would commit what ran before it, then itself: two transactions in
    ** one statement, which dqlite's VFS does not survive. */
    c->zErr = sqlite3_mprintf("%s: a transaction:false migration cannot run on "
                              "dqlite, which replicates one transaction per "
                              "statement", zFile);
    return SQLITE_ERROR;
  }
  rc = callCommit(c);
  if( rc==SQLITE_OK ) rc = scriptRun(c->db, pScr, clear, zFile, &c->zErr, 0, 0);
  if( rc==SQLITE_OK ){
    rc = txnPragmasRestore(&c->t);
    if( rc && rc!=SQLITE_NOMEM ){
      c->zErr = sqlite3_mprintf("%s: could not restore connection settings: %s",
                                zFile, sqlite3_errmsg(c->db));
      rc = SQLITE_ERROR;
    }
  }
  if( rc==SQLITE_OK ) rc = txnBegin(&c->t, &c->zErr);
  return rc;
}

/*
** A migration's script, run and measured for its migrate_log row and trace
** line: the rows it inserted, updated or deleted (triggers' included), and
** the wait for the write lock of the transaction it runs in, on the row of
** the first migration of that transaction (0 on the others').  The wait is
** NULL when the transaction is the caller's or the script runs outside one.
*/
int callRunScript(Call *c, const Script *pScr, const char *zFile){
  i64 nBefore;
  int rc = SQLITE_OK;
  if( pScr->noTxn || !c->t.changed ){
    /* The kept log rows are written before the script commits what came
    ** before it, or sets the foreign-key mark (so a retry keeps them), and
    ** outside its count of rows. */
    rc = callLogFlush(c);
    if( rc ) return rc;
  }
  nBefore = sqlite3_total_changes64(c->db);
  rc = runScript(c, pScr, zFile);
  memset(&c->fig, 0, sizeof(c->fig));
  c->fig.hasRows = 1;
  c->fig.rows = sqlite3_total_changes64(c->db) - nBefore;
  if( c->t.owned && !pScr->noTxn ){
    c->fig.hasWait = 1;
    c->fig.waitMs = c->t.nBegun!=c->nWaitLogged ? c->t.lockWaitMs : 0;
    c->nWaitLogged = c->t.nBegun;
  }
  c->figTrace = 1;
  return rc;
}

/* One up script as a step of the call: the automatic backup first (once a
** call), then the script, traced and timed (*pMs). */
int callApplyStep(Call *c, const Script *pUp, const char *zLabel, double *pMs){
  struct timespec t0;
  int rc = callBackupOnce(c);
  utilClockNow(&t0);
  if( rc==SQLITE_OK ){
    callTraceStart(c, "applying %s", zLabel);
    rc = callRunScript(c, pUp, zLabel);
    callTraceEnd(c, rc, utilMsSince(&t0));
  }
  *pMs = utilMsSince(&t0);
  return rc;
}


/* The history row of a migration now applied (pMs NULL: recorded, not run):
** its checksum and the scripts as stored, so rollback needs no files. */
int callRecord(Call *c, const Migration *m, const Loaded *pLd,
               const double *pMs){
  Script down;
  char *zUp = loadedStoredUp(pLd);
  char *zDown = loadedStoredDown(pLd);
  char *zAt = utilUtcNow();
  int rc = SQLITE_OK;
  if( zUp==0 || zAt==0 || (zDown==0 && loadedDown(pLd, &down)) ) rc = SQLITE_NOMEM;
  if( rc==SQLITE_OK ){
    rc = historyInsert(c->db, m->version, m->name, pLd->checksum, zUp, zDown,
                       zAt, pMs, &c->zErr);
  }
  sqlite3_free(zUp);
  sqlite3_free(zDown);
  sqlite3_free(zAt);
  return rc;
}


/*
** What the engine the connection lives in does not allow, refused before
** anything is read or written (doc/replicated.md): any change on a libSQL
** replica, and on dqlite a call that would commit more than once in one
** statement.
*/
static int callHostRefuses(sqlite3_context *ctx, const char *zFunc,
                           MigrateConn *mc){
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  int isReplica = 0;
  if( hostIsReplica(db, &isReplica) ){
    sqlite3_result_error_nomem(ctx);
    return 1;
  }
  if( isReplica ){
    ctxErrorMsg(ctx, "%s: this database is a libSQL replica, which only its "
                "primary writes; run %s on the primary", zFunc, zFunc);
    return 1;
  }
  if( !mc->atomic && sqlite3_get_autocommit(db) && hostIsDqlite(db) ){
    ctxErrorMsg(ctx, "%s: dqlite replicates one transaction per statement; "
                "turn the atomic setting back on", zFunc);
    return 1;
  }
  return 0;
}

/*
** The foreign-key check before a commit found only violations that were
** there at the mark, in tables not noted before (txn.c txnFkCheck): the
** transaction is back at its mark, with the write lock held, and those
** tables noted.  The call's verb runs again from its start: what it did
** before the mark is done or committed (the backup taken, its log row
** written, history read), so it plans the same migrations, skips the
** commits it made before the mark (callRecommit), and runs the
** transaction's scripts again from the mark.  Nothing shows but the time:
** the call's figures are those at the mark, and the trace stays quiet
** until the commit that asked for the retry.  (doc/guarantees.md
** "Foreign keys")
*/
static void callRetry(Call *c){
  c->t.retry = 0;
  c->nDone = c->mark.nDone;
  c->logReady = c->mark.logReady;
  c->nWaitLogged = c->mark.nWaitLogged;
  c->hasFail = 0;
  sqlite3_free(c->zErr);
  c->zErr = 0;
  sqlite3_free(c->zNotes);
  c->zNotes = 0;
  memset(&c->fig, 0, sizeof(c->fig));
  c->figTrace = 0;
  c->quiet = 1;
}

/*
** Common frame of apply and rollback: refuse unsafe calls, remember the
** connection's settings, run, roll back on failure, restore, log, report.
*/
void callRun(sqlite3_context *ctx, const char *zFunc, int kind, CallBody xBody,
             const char *zDir, i64 arg, i64 floor){
  MigrateConn *mc = (MigrateConn*)sqlite3_user_data(ctx);
  Call c;
  struct timespec t0;
  int rc, threadsPrev;
  if( callGuard(ctx, zFunc, GUARD_NOT_BUSY|GUARD_ALONE) ) return;
  if( callHostRefuses(ctx, zFunc, mc) ) return;
  memset(&c, 0, sizeof(c));
  c.db = sqlite3_context_db_handle(ctx);
  c.mc = mc;
  c.zFunc = zFunc;
  c.floor = floor;
  c.kind = kind;
  utilClockNow(&t0);
  /* Raised first, so the settings txn.c puts back mid-call keep it. */
  threadsPrev = threadsRaise(c.db, mc->threads);
  rc = txnStart(&c.t, c.db);
  if( rc ){
    threadsRestore(c.db, threadsPrev);
    /* Settings that cannot be read could not be put back: stop while
    ** nothing has changed. */
    if( rc==SQLITE_NOMEM ) sqlite3_result_error_nomem(ctx);
    else ctxErrorMsg(ctx, "%s: %s", zFunc, sqlite3_errmsg(c.db));
    return;
  }
  c.callerWrote = !c.t.owned && sqlite3_txn_state(c.db, "main")==SQLITE_TXN_WRITE;
  c.idleAtStart = sqlite3_get_autocommit(c.db) && sqlite3_txn_state(c.db, 0)==SQLITE_TXN_NONE;
  c.atomic = mc->atomic || !c.t.owned;
  mc->busy = 1;
  c.t.ppHint = &mc->pFkHint;
  rc = xBody(&c, zDir, arg);
  while( rc && c.t.retry ){
    callRetry(&c);
    /* A count of rollbacks counts those committed before the mark. */
    rc = xBody(&c, zDir, kind==CALL_ROLLBACK && arg!=INT64_MAX ? arg - c.nDone : arg);
  }
  mc->busy = 0;
  logQueueClear(&c);   /* written by the commit, or rolled back with the work */
  if( rc ) txnRollback(&c.t);
  {
    /* Settings not put back fail a call that did its work: out of memory
    ** is reported as such. */
    int rcFinish = txnFinish(&c.t, rc ? 0 : &c.zErr);
    if( rcFinish && rc==SQLITE_OK ) rc = rcFinish;
  }
  threadsRestore(c.db, threadsPrev);
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
      LogExtra x;
      memset(&x, 0, sizeof(x));
      x.zSet = setsName(c.db);
      if( c.zBackup ) historyLogExtra(c.db, "backup", 0, 0, "ok", c.zBackup, -1, &x);
      historyLogExtra(c.db, callAction(kind),
               c.hasFail && !c.failNoVersion ? &c.failVersion : 0,
               c.hasFail ? c.failName : 0, "failed", zMsg, -1, &x);
    }
    if( c.t.stuck ){
      /* Interrupted in the moment after a schema change expired the
      ** statement kept for that (doc/guarantees.md "Interrupted"): say so,
      ** so the application rolls back instead of committing half. */
      ctxErrorMsg(ctx, "%s: %s; the transaction is still open, and SQLite "
                  "runs no ROLLBACK until this statement ends: roll it back",
                  zFunc, zMsg);
    }else{
      ctxErrorMsg(ctx, "%s: %s", zFunc, zMsg);
    }
  }else{
    sqlite3_result_int(ctx, c.nDone);
  }
  if( mc->trace ){
    if( rc ){
      fprintf(stderr, "migrate: %s: failed, %.0f ms\n", zFunc, utilMsSince(&t0));
    }else{
      fprintf(stderr, "migrate: %s: done, %d migration%s, %.0f ms\n", zFunc,
              c.nDone, c.nDone==1 ? "" : "s", utilMsSince(&t0));
    }
    fflush(stderr);
  }
  sqlite3_free(c.failName);
  sqlite3_free(c.zBackup);
  sqlite3_free(c.zNotes);
  sqlite3_free(c.zQuietStep);
  sqlite3_free(c.zErr);
}


/* The folder argument every call that reads migrations takes. */
const char *callDirArg(sqlite3_context *ctx, const char *zFunc,
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
