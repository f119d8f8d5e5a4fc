/*
** check.c — migrate_check('dir'): try every pending migration before it
** ships, on a scratch copy of the database.  The database itself is only
** read.
**
**   SELECT * FROM migrate_check('db/migrations');
**   SELECT * FROM migrate_check('db/migrations') WHERE NOT ok;   -- in CI
**
** Each pending migration, in version order, is applied to the copy, rolled
** back with its down script, checked to leave the schema exactly as it was
** before, and applied again.  One row per finding:
**
**   version, name   the migration
**   check           what was checked (below)
**   ok              1 passed, 0 failed
**   detail          what is wrong, with file and line; NULL when ok
**
** Checks run on the copy (a row each time, ok or not):
**   up         the up script runs, and its verify section finds nothing
**   down       the down script runs after it
**   roundtrip  after the down, the schema (and user_version) is what it was
**              before the up; one row per object that differs
**   reapply    the up script runs again after the down, and makes the same
**              schema as the first time
** Findings on the copy, rows only when something is found (dataloss.c):
**   data_loss       the up drops a table that holds rows, or a column that
**                   holds values
**   roundtrip_rows  after the down, a table does not hold the rows it held
**                   before the up
** Findings without running anything (rows only when something is found):
**   no_down, refused, transaction, not_null   (see lint.c)
**   file       the migration's files cannot be read or split
**   changed, missing, order   migrate_apply would refuse the folder: an
**              applied file changed, an applied migration has no file, a
**              pending one is older than the newest applied one
**
** Once a migration fails on the copy, the ones after it cannot be tried (they
** build on it): each gets an up row saying so.
**
** Then each repeatable migration migrate_apply would run (never run, or
** changed since it last ran) is tried on the copy after them, in order of
** name: its rows have a NULL version and come last.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <stdlib.h>
#include <string.h>

#define CHECK_SCHEMA \
  "CREATE TABLE x(version INTEGER, name TEXT, \"check\" TEXT, ok INTEGER," \
  " detail TEXT, dir TEXT HIDDEN)"
#define CHECK_NCOL 5

typedef struct CheckRow {
  int isRep;           /* a repeatable migration's: no version */
  i64 version;
  char *zName;         /* a copy of the migration's name */
  const char *zCheck;
  int ok;
  char *zDetail;
  int seq;             /* order of finding, within one version */
} CheckRow;

typedef struct Checker {
  sqlite3 *db;         /* the caller's connection: only read */
  sqlite3 *s;          /* the scratch copy */
  CheckRow *a;
  int n, nAlloc;
  int isRep;           /* the rows are a repeatable migration's */
  i64 version;         /* the migration rows are being added for */
  const char *zName;
  const char *zDir;    /* the folder (or query) checked */
  char *zStopped;      /* the file whose failure stopped the tries, or NULL */
  DataLoss *pData;     /* the rows of the copy's tables (dataloss.c) */
} Checker;

/* A row for the current migration; takes zDetail. */
static int addRow(Checker *k, const char *zCheck, int ok, char *zDetail){
  CheckRow *r;
  if( utilArrayReserve((void**)&k->a, &k->nAlloc, k->n, sizeof(CheckRow)) ){
    sqlite3_free(zDetail);
    return SQLITE_NOMEM;
  }
  r = &k->a[k->n];
  r->version = k->version;
  r->isRep = k->isRep;
  /* A copy: a history row's name lives only until the next row is read. */
  r->zName = k->zName ? sqlite3_mprintf("%s", k->zName) : 0;
  if( k->zName && r->zName==0 ){
    sqlite3_free(zDetail);
    return SQLITE_NOMEM;
  }
  r->zCheck = zCheck;
  r->ok = ok;
  r->zDetail = zDetail;
  r->seq = k->n++;
  return SQLITE_OK;
}

/* A failed check; zDetail NULL means there was no memory to say why. */
static int addFailure(Checker *k, const char *zCheck, char *zDetail){
  if( zDetail==0 ) return SQLITE_NOMEM;
  return addRow(k, zCheck, 0, zDetail);
}

static int lintFound(void *pArg, const char *zCheck, char *zDetail){
  return addFailure((Checker*)pArg, zCheck, zDetail);
}

/* ------------------------------------------------ against the history */

/* What migrate_apply would refuse about one applied migration (m: its
** file, NULL when there is none): a row, and the pass goes on. */
static int planVerifyApplied(void *pArg, const Applied *a, Migration *m){
  Checker *k = (Checker*)pArg;
  Loaded ld;
  char *zErr = 0;
  int rc;
  k->version = a->version;
  k->zName = a->name;
  if( m==0 ){
    return addFailure(k, "missing", sqlite3_mprintf("applied, but has no file "
                      "in '%s': the database is ahead of the code", k->zDir));
  }
  rc = migrationLoad(m, &ld, &zErr);
  if( rc==SQLITE_NOMEM ) return rc;
  if( rc ) return addFailure(k, "file", zErr);
  if( strcmp(ld.checksum, a->checksum)!=0 ){
    rc = addFailure(k, "changed", sqlite3_mprintf("%s: applied migration has "
                    "changed since it was applied (checksum %.12s..., applied "
                    "%.12s...)", m->up.label, ld.checksum, a->checksum));
  }
  loadedFree(&ld);
  return rc;
}

/* -------------------------------------------------- on the scratch copy */

/* Run one script on the copy; a row when it fails, or when it passes and
** okRow asks for one.  *pOk says how it went. */
static int tryScript(Checker *k, const char *zCheck, const Script *pScr,
                     const char *zFile, int okRow, int *pOk){
  char *zErr = 0;
  int rc = scratchRun(k->s, pScr, zFile, &zErr);
  *pOk = rc==SQLITE_OK;
  if( rc==SQLITE_NOMEM && zErr==0 ) return rc;
  if( rc ) return addFailure(k, zCheck, zErr ? zErr : sqlite3_mprintf("%s: %s",
                             zFile, sqlite3_errstr(rc)));
  return okRow ? addRow(k, zCheck, 1, 0) : SQLITE_OK;
}

static int readCopy(Checker *k, Schema *p){
  char *zErr = 0;
  int rc = schemaRead(k->s, p, &zErr);
  if( rc && rc!=SQLITE_NOMEM ){
    /* The copy's schema cannot be read: nothing more can be checked. */
    rc = addFailure(k, "schema", sqlite3_mprintf("cannot read the schema of "
                    "the scratch copy: %s", zErr ? zErr : sqlite3_errstr(rc)));
    if( rc==SQLITE_OK ) rc = SQLITE_ABORT;
  }
  sqlite3_free(zErr);
  return rc;
}

/*
** One row per object that differs between two schemas of the copy, worded
** for the check: roundtrip compares before the up with after the down,
** reapply the first up with the second.
*/
static int addDifferences(Checker *k, const char *zCheck, const Schema *pOld,
                          const Schema *pNew){
  SchemaChange *a = 0;
  int i, n = 0, rc = schemaDiff(pOld, pNew, &a, &n);
  int roundtrip = strcmp(zCheck, "roundtrip")==0;
  for(i=0; rc==SQLITE_OK && i<n; i++){
    const SchemaObj *o = a[i].pNew ? a[i].pNew : a[i].pOld;
    const char *zType = schemaTypeName(o);
    char *z;
    if( a[i].pOld==0 ){
      z = roundtrip
        ? sqlite3_mprintf("down leaves %s %s behind", zType, o->name)
        : sqlite3_mprintf("up after down makes %s %s, which the first up did "
                          "not", zType, o->name);
    }else if( a[i].pNew==0 ){
      z = roundtrip
        ? sqlite3_mprintf("down does not restore %s %s, which was there before "
                          "the up", zType, o->name)
        : sqlite3_mprintf("up after down does not make %s %s, which the first "
                          "up made", zType, o->name);
    }else{
      z = roundtrip
        ? sqlite3_mprintf("down leaves %s %s changed: before the up %s; after "
                          "the down %s", zType, o->name, a[i].pOld->sql,
                          a[i].pNew->sql)
        : sqlite3_mprintf("up after down makes %s %s differently: first %s; "
                          "again %s", zType, o->name, a[i].pOld->sql,
                          a[i].pNew->sql);
    }
    rc = addFailure(k, zCheck, z);
  }
  if( rc==SQLITE_OK && pOld->userVersion!=pNew->userVersion ){
    rc = addFailure(k, zCheck, roundtrip
      ? sqlite3_mprintf("down leaves user_version %lld; it was %lld before the "
                        "up", pNew->userVersion, pOld->userVersion)
      : sqlite3_mprintf("up after down sets user_version %lld; the first up set "
                        "%lld", pNew->userVersion, pOld->userVersion));
    n++;
  }
  if( rc==SQLITE_OK && n==0 ) rc = addRow(k, zCheck, 1, 0);
  sqlite3_free(a);
  return rc;
}

/* The up row: its verify section, if it has one, run on the copy after it
** (read-only, so that the up has committed first changes nothing it sees). */
static int tryVerify(Checker *k, Migration *m, const Loaded *pLd, int *pOk){
  char *zErr = 0;
  int rc = verifyLoaded(k->s, m, pLd, &zErr);
  *pOk = rc==SQLITE_OK;
  if( rc==SQLITE_NOMEM && zErr==0 ) return rc;
  if( rc ) return addFailure(k, "up", zErr ? zErr : sqlite3_mprintf("%s: %s",
                             m->up.label, sqlite3_errstr(rc)));
  return addRow(k, "up", 1, 0);
}

/* A step of dataloss.c: what stopped it is a row, and the tries go on. */
static int dataStep(Checker *k, int rc, char **pzErr){
  char *zErr = *pzErr;
  *pzErr = 0;
  if( rc==SQLITE_OK || (rc==SQLITE_NOMEM && zErr==0) ) return rc;
  return addFailure(k, "data_loss", zErr ? zErr : sqlite3_mprintf("%s",
                    sqlite3_errstr(rc)));
}

static int stop(Checker *k, const char *zFile){
  sqlite3_free(k->zStopped);
  k->zStopped = sqlite3_mprintf("%s", zFile);
  return k->zStopped ? SQLITE_OK : SQLITE_NOMEM;
}

/*
** up, down, roundtrip, reapply on the copy.  A failure that leaves the copy
** in a state the next migrations cannot build on stops the tries.
*/
static int tryMigration(Checker *k, Migration *m, const Loaded *pLd){
  Schema before, afterUp, afterDown, again;
  Script up, down;
  const char *zDownFile = m->down.label ? m->down.label : m->up.label;
  int ok = 0, hasDown = loadedDown(pLd, &down), rc;
  char *zErr = 0;
  memset(&afterUp, 0, sizeof(afterUp));
  memset(&afterDown, 0, sizeof(afterDown));
  memset(&again, 0, sizeof(again));
  loadedUp(pLd, &up);
  rc = readCopy(k, &before);
  if( rc==SQLITE_OK ) rc = dataStep(k, datalossBefore(k->pData, lintFound, k, &zErr), &zErr);
  if( rc==SQLITE_OK ) rc = tryScript(k, "up", &up, m->up.label, 0, &ok);
  if( rc==SQLITE_OK && ok ) rc = tryVerify(k, m, pLd, &ok);
  if( rc==SQLITE_OK && !ok ) rc = stop(k, m->up.label);
  if( rc==SQLITE_OK && ok ){
    rc = dataStep(k, datalossAfterUp(k->pData, m->up.label, lintFound, k, &zErr),
                  &zErr);
  }
  if( rc==SQLITE_OK && ok && hasDown ){
    rc = readCopy(k, &afterUp);
    if( rc==SQLITE_OK ) rc = tryScript(k, "down", &down, zDownFile, 1, &ok);
    /* A failed down rolled back to after the up, unless it ran outside a
    ** transaction: then what it left is unknown. */
    if( rc==SQLITE_OK && !ok && down.noTxn ) rc = stop(k, zDownFile);
    if( rc==SQLITE_OK && ok ){
      rc = readCopy(k, &afterDown);
      if( rc==SQLITE_OK ) rc = addDifferences(k, "roundtrip", &before, &afterDown);
      if( rc==SQLITE_OK ){
        rc = dataStep(k, datalossAfterDown(k->pData, lintFound, k, &zErr), &zErr);
      }
      /* Its ok row comes with the comparison below. */
      if( rc==SQLITE_OK ) rc = tryScript(k, "reapply", &up, m->up.label, 0, &ok);
      if( rc==SQLITE_OK && !ok ) rc = stop(k, m->up.label);
      if( rc==SQLITE_OK && ok ) rc = readCopy(k, &again);
      if( rc==SQLITE_OK && ok ) rc = addDifferences(k, "reapply", &afterUp, &again);
    }
  }
  schemaFree(&before);
  schemaFree(&afterUp);
  schemaFree(&afterDown);
  schemaFree(&again);
  return rc;
}

/* Everything about one pending migration. */
static int checkPending(Checker *k, Migration *m, i64 newest){
  Loaded ld;
  Script up, down;
  char *zErr = 0;
  int rc;
  k->version = m->version;
  k->zName = m->name;
  if( m->version<newest ){
    rc = addFailure(k, "order", sqlite3_mprintf("%s: pending migration %lld is "
                    "older than the newest applied migration %lld; give it a "
                    "higher version", m->up.label, m->version, newest));
    if( rc ) return rc;
  }
  rc = migrationLoad(m, &ld, &zErr);
  if( rc==SQLITE_NOMEM ) return rc;
  if( rc ){
    rc = addFailure(k, "file", zErr);
    return rc==SQLITE_OK && !k->zStopped ? stop(k, m->up.label) : rc;
  }
  loadedUp(&ld, &up);
  rc = lintScript(k->s, &up, m->up.label, lintFound, k);
  if( rc==SQLITE_OK ){
    if( loadedDown(&ld, &down) ){
      rc = lintScript(k->s, &down, m->down.label ? m->down.label : m->up.label,
                      lintFound, k);
    }else{
      rc = addFailure(k, "no_down", sqlite3_mprintf("%s: no down script: the "
                      "migration cannot be rolled back", m->up.label));
    }
  }
  if( rc==SQLITE_OK ){
    if( k->zStopped ){
      rc = addFailure(k, "up", sqlite3_mprintf("not tried: %s, before it, failed "
                      "on the scratch copy", k->zStopped));
    }else{
      rc = tryMigration(k, m, &ld);
    }
  }
  loadedFree(&ld);
  return rc;
}

/* ----------------------------------------------------------- the rows */

/* One repeatable migration that is due, after the pending ones. */
static int checkRepeatable(Checker *k, Migration *m, const RepeatRecords *pRec){
  const RepeatRecord *r = repeatFind(pRec, m->name);
  Loaded ld;
  Script up;
  char *zErr = 0;
  int rc, ok = 0;
  k->isRep = 1;
  k->version = 0;
  k->zName = m->name;
  rc = migrationLoad(m, &ld, &zErr);
  if( rc==SQLITE_NOMEM ) return rc;
  if( rc ) return addFailure(k, "file", zErr);
  if( r && strcmp(r->checksum, ld.checksum)==0 ){
    loadedFree(&ld);
    return SQLITE_OK;
  }
  loadedUp(&ld, &up);
  rc = lintScript(k->s, &up, m->up.label, lintFound, k);
  if( rc==SQLITE_OK ){
    if( k->zStopped ){
      rc = addFailure(k, "up", sqlite3_mprintf("not tried: %s, before it, failed "
                      "on the scratch copy", k->zStopped));
    }else{
      /* A repeatable that fails stops none after it: they do not build on
      ** one another the way versions do. */
      rc = tryScript(k, "up", &up, m->up.label, 1, &ok);
    }
  }
  loadedFree(&ld);
  return rc;
}

static int checkRepeatables(Checker *k, Source *pSrc, char **pzErr){
  RepeatRecords rec;
  int i, rc;
  if( pSrc->nRep==0 ) return SQLITE_OK;
  rc = repeatRead(k->db, 0, &rec, pzErr);
  for(i=0; rc==SQLITE_OK && i<pSrc->nRep; i++){
    rc = checkRepeatable(k, &pSrc->aRep[i], &rec);
  }
  repeatRecordsFree(&rec);
  return rc;
}

static int rowCmp(const void *a, const void *b){
  const CheckRow *x = (const CheckRow*)a, *y = (const CheckRow*)b;
  if( x->isRep!=y->isRep ) return x->isRep - y->isRep;
  if( x->version!=y->version ) return x->version<y->version ? -1 : 1;
  return x->seq - y->seq;
}

static int emitRows(Checker *k, RowSet *pOut){
  int i, rc = SQLITE_OK;
  if( k->n>1 ) qsort(k->a, (size_t)k->n, sizeof(CheckRow), rowCmp);
  for(i=0; rc==SQLITE_OK && i<k->n; i++){
    CheckRow *r = &k->a[i];
    rc = r->isRep ? rowsAddText(pOut, 0) : rowsAddInt(pOut, r->version);
    if( rc==SQLITE_OK ) rc = rowsAddText(pOut, r->zName);
    if( rc==SQLITE_OK ) rc = rowsAddText(pOut, r->zCheck);
    if( rc==SQLITE_OK ) rc = rowsAddInt(pOut, r->ok);
    if( rc==SQLITE_OK ) rc = rowsAddText(pOut, r->zDetail);
  }
  return rc;
}

static int checkFill(sqlite3 *db, void *pCtx, sqlite3_value *pArg, RowSet *pOut,
                     char **pzErr){
  const char *zDir = pArg ? (const char*)sqlite3_value_text(pArg) : 0;
  Checker k;
  Source src;
  int i, rc, haveSrc = 0, nPending = 0;
  int *aPending = 0;
  i64 newest = -1;
  if( ((MigrateConn*)pCtx)->busy ){
    /* A migration (or a stored script) may not call migrate's own functions. */
    *pzErr = sqlite3_mprintf("cannot be called from inside a migration or while "
                             "another migrate call is running");
    return SQLITE_ERROR;
  }
  if( pArg==0 ){
    *pzErr = sqlite3_mprintf("the directory argument is missing: "
                             "SELECT * FROM migrate_check('dir')");
    return SQLITE_ERROR;
  }
  if( zDir==0 || zDir[0]==0 ){
    *pzErr = sqlite3_mprintf("the directory argument is %s", zDir ? "empty" : "NULL");
    return SQLITE_ERROR;
  }
  memset(&k, 0, sizeof(k));
  k.db = db;
  rc = sourceOpen(db, zDir, &src, pzErr);
  haveSrc = rc==SQLITE_OK;
  if( rc==SQLITE_OK ){
    aPending = sqlite3_malloc64(sizeof(int)*(sqlite3_uint64)(src.n+1));
    if( aPending==0 ) rc = SQLITE_NOMEM;
  }
  if( rc==SQLITE_OK ) rc = scratchOpen(db, db, &k.s, pzErr);
  if( rc==SQLITE_OK ) rc = datalossOpen(k.s, &k.pData);
  if( rc==SQLITE_OK ){
    /* The copy checks foreign keys the way migrate_apply would on this
    ** connection: only when they are on here. */
    if( utilPragmaValue(db, "PRAGMA foreign_keys", 0, 0) ){
      sqlite3_exec(k.s, "PRAGMA foreign_keys=ON", 0, 0, 0);
    }
    /* The copy's own connection, closed after: nothing to put back. */
    threadsRaise(k.s, ((MigrateConn*)pCtx)->threads);
    k.zDir = src.origin;
    rc = historyMerge(db, &src, planVerifyApplied, &k, 0, aPending, &nPending,
                      &newest, pzErr);
  }
  for(i=0; rc==SQLITE_OK && i<nPending; i++){
    /* With out_of_order on, an older one is applied, not refused. */
    rc = checkPending(&k, &src.a[aPending[i]],
                      ((MigrateConn*)pCtx)->outOfOrder ? -1 : newest);
  }
  if( rc==SQLITE_OK ) rc = checkRepeatables(&k, &src, pzErr);
  if( rc==SQLITE_ABORT ) rc = SQLITE_OK;   /* the reason is in a row */
  if( rc==SQLITE_OK ) rc = emitRows(&k, pOut);
  for(i=0; i<k.n; i++){
    sqlite3_free(k.a[i].zName);
    sqlite3_free(k.a[i].zDetail);
  }
  sqlite3_free(k.a);
  sqlite3_free(k.zStopped);
  sqlite3_close(k.s);
  datalossClose(k.pData);
  sqlite3_free(aPending);
  if( haveSrc ) sourceFree(&src);
  return rc;
}

static const RowTab checkTab = {
  "migrate_check", CHECK_SCHEMA, CHECK_NCOL, 1, checkFill
};

int checkRegister(sqlite3 *db, MigrateConn *mc){
  mc->nRef++;
  return rowtabRegister(db, &checkTab, mc, connRelease);
}
