/*
** drift.c — migrate_drift(): has the schema been changed outside migrations?
**
**   SELECT * FROM migrate_drift();
**
** The up scripts stored in migrate_history are replayed, in version order,
** into an empty scratch database, then those of migrate_repeatable (the
** text each repeatable migration last ran), in order of name; its schema
** is what the migrations made.
** One row per object whose canonical SQL (schema.c) differs from the live
** schema's:
**
**   type      table, index, view or trigger
**   name      the object's name
**   expected  its SQL as the migrations make it; NULL: not made by them
**   actual    its SQL in the database; NULL: missing from the database
**
** No rows: the schema is exactly what the history says.  No files are read.
** A stored script that fails to replay is an error naming its version.
**
** A database with several migration sets (sets.c) has a history each, and
** one schema: every set's history is replayed, each in version order, the
** sets' rows interleaved by applied_at (the default set first on a tie,
** then the sets by name), so that a set's objects are what that set made;
** then the repeatables of the default set and of each set, by name.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

#define DRIFT_SCHEMA \
  "CREATE TABLE x(type TEXT, name TEXT, expected TEXT, actual TEXT)"
#define DRIFT_NCOL 4

/* Run one applied migration's stored up script on the scratch database. */
static int replayOne(sqlite3 *db, sqlite3 *s, const Applied *a, char **pzErr){
  char *zUp = 0, *zDown = 0, *zShow = 0, *zWhy = 0;
  Script up;
  int rc;
  rc = historyScripts(db, a->version, &zUp, &zDown, pzErr);
  if( rc ) return rc;
  zShow = sqlite3_mprintf("%lld_%s (up)", a->version, a->name);
  if( zShow==0 ){
    rc = SQLITE_NOMEM;
  }else if( zUp==0 ){
    /* A row edited by hand (the table's own NOT NULL removed). */
    zWhy = sqlite3_mprintf("its stored up script is NULL");
    rc = zWhy ? SQLITE_ERROR : SQLITE_NOMEM;
  }else{
    rc = formatStoredScript(zUp, 0, zShow, &up, &zWhy);
    if( rc==SQLITE_OK ) rc = scratchRun(s, &up, zShow, &zWhy);
  }
  if( rc && rc!=SQLITE_NOMEM && setsName(db) ){
    *pzErr = sqlite3_mprintf("cannot replay migration %lld (%s) of set %s: %s",
                             a->version, a->name, setsName(db),
                             zWhy ? zWhy : sqlite3_errstr(rc));
  }else if( rc && rc!=SQLITE_NOMEM ){
    *pzErr = sqlite3_mprintf("cannot replay migration %lld (%s): %s", a->version,
                             a->name, zWhy ? zWhy : sqlite3_errstr(rc));
  }
  sqlite3_free(zWhy);
  sqlite3_free(zShow);
  sqlite3_free(zUp);
  sqlite3_free(zDown);
  return rc;
}

/* The sets to replay: the default (NULL) first, then the others by name. */
typedef struct DriftSets {
  char **az;        /* az[0] is NULL: the default set */
  int n;
  void *pOwner;     /* the connection's settings, whose set is switched */
} DriftSets;

/* The schema the histories make: every stored up script, each set's oldest
** first, the sets interleaved by applied_at. */
static int replayHistory(sqlite3 *db, sqlite3 *s, const DriftSets *pSets,
                         char **pzErr){
  HistoryCursor *aHc = sqlite3_malloc64(sizeof(HistoryCursor)*pSets->n);
  int i, rc = aHc ? SQLITE_OK : SQLITE_NOMEM;
  for(i=0; i<pSets->n && aHc; i++){
    memset(&aHc[i], 0, sizeof(aHc[i]));
    aHc[i].eof = 1;
  }
  for(i=0; rc==SQLITE_OK && i<pSets->n; i++){
    rc = setsChoose(db, pSets->pOwner, pSets->az[i]);
    if( rc==SQLITE_OK ) rc = historyOpen(db, &aHc[i], pzErr);
  }
  while( rc==SQLITE_OK ){
    int iNext = -1;
    for(i=0; i<pSets->n; i++){
      const char *zAt = aHc[i].a.appliedAt ? aHc[i].a.appliedAt : "";
      if( aHc[i].eof ) continue;
      if( iNext<0 || strcmp(zAt, aHc[iNext].a.appliedAt ?
                                  aHc[iNext].a.appliedAt : "")<0 ){
        iNext = i;
      }
    }
    if( iNext<0 ) break;
    rc = setsChoose(db, pSets->pOwner, pSets->az[iNext]);
    if( rc==SQLITE_OK ) rc = replayOne(db, s, &aHc[iNext].a, pzErr);
    if( rc==SQLITE_OK ) rc = historyNext(&aHc[iNext], pzErr);
  }
  for(i=0; aHc && i<pSets->n; i++) historyClose(&aHc[i]);
  sqlite3_free(aHc);
  return rc;
}

/* The repeatable migrations, as each last ran, after the history. */
static int replayRepeatablesOf(sqlite3 *db, sqlite3 *s, char **pzErr){
  RepeatRecords rec;
  int i, rc = repeatRead(db, 1, &rec, pzErr);
  for(i=0; rc==SQLITE_OK && i<rec.n; i++){
    const RepeatRecord *r = &rec.a[i];
    char *zShow = sqlite3_mprintf("R__%s (up)", r->name), *zWhy = 0;
    Script up;
    rc = zShow ? formatStoredScript(r->up, 0, zShow, &up, &zWhy) : SQLITE_NOMEM;
    if( rc==SQLITE_OK ) rc = scratchRun(s, &up, zShow, &zWhy);
    if( rc && rc!=SQLITE_NOMEM && setsName(db) ){
      *pzErr = sqlite3_mprintf("cannot replay repeatable migration %s of set "
                               "%s: %s", r->name, setsName(db),
                               zWhy ? zWhy : sqlite3_errstr(rc));
    }else if( rc && rc!=SQLITE_NOMEM ){
      *pzErr = sqlite3_mprintf("cannot replay repeatable migration %s: %s",
                               r->name, zWhy ? zWhy : sqlite3_errstr(rc));
    }
    sqlite3_free(zWhy);
    sqlite3_free(zShow);
  }
  repeatRecordsFree(&rec);
  return rc;
}

/* Every set's repeatables, the default set's first. */
static int replayRepeatables(sqlite3 *db, sqlite3 *s, const DriftSets *pSets,
                             char **pzErr){
  int i, rc = SQLITE_OK;
  for(i=0; rc==SQLITE_OK && i<pSets->n; i++){
    rc = setsChoose(db, pSets->pOwner, pSets->az[i]);
    if( rc==SQLITE_OK ) rc = replayRepeatablesOf(db, s, pzErr);
  }
  return rc;
}

/* Both replays, the connection's own set chosen again after them. */
static int replayAll(sqlite3 *db, void *pOwner, sqlite3 *s, char **pzErr){
  DriftSets sets;
  char **azOthers = 0, *zOwn = 0;
  int i, nOthers = 0, rc;
  memset(&sets, 0, sizeof(sets));
  sets.pOwner = pOwner;
  if( setsName(db) ){
    zOwn = sqlite3_mprintf("%s", setsName(db));
    if( zOwn==0 ) return SQLITE_NOMEM;
  }
  /* So that choosing the connection's own set again cannot fail. */
  rc = setsReserve(db, pOwner);
  if( rc ){
    sqlite3_free(zOwn);
    return rc;
  }
  rc = setsInDatabase(db, &azOthers, &nOthers);
  if( rc && rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(db);
  if( rc==SQLITE_OK ){
    sets.az = sqlite3_malloc64(sizeof(char*)*(nOthers+1));
    if( sets.az==0 ) rc = SQLITE_NOMEM;
  }
  if( rc==SQLITE_OK ){
    sets.az[0] = 0;
    for(i=0; i<nOthers; i++) sets.az[i+1] = azOthers[i];
    sets.n = nOthers+1;
    rc = replayHistory(db, s, &sets, pzErr);
    if( rc==SQLITE_OK ) rc = replayRepeatables(db, s, &sets, pzErr);
  }
  {
    int rcSet = setsChoose(db, pOwner, zOwn);
    if( rc==SQLITE_OK ) rc = rcSet;
  }
  for(i=0; i<nOthers; i++) sqlite3_free(azOthers[i]);
  sqlite3_free(azOthers);
  sqlite3_free(sets.az);
  sqlite3_free(zOwn);
  return rc;
}

static int driftFill(sqlite3 *db, void *pCtx, sqlite3_value *pArg, RowSet *pOut,
                     char **pzErr){
  sqlite3 *s = 0;
  Schema want, have;
  SchemaChange *a = 0;
  int i, n = 0, rc;
  (void)pArg;
  if( ((MigrateConn*)pCtx)->busy ){
    /* A migration (or a stored script) may not call migrate's own functions. */
    *pzErr = sqlite3_mprintf("cannot be called from inside a migration or while "
                             "another migrate call is running");
    return SQLITE_ERROR;
  }
  memset(&want, 0, sizeof(want));
  memset(&have, 0, sizeof(have));
  rc = scratchOpen(db, 0, &s, pzErr);
  if( rc==SQLITE_OK ) rc = replayAll(db, pCtx, s, pzErr);
  if( rc==SQLITE_OK ) rc = schemaRead(s, &want, pzErr);
  if( rc==SQLITE_OK ) rc = schemaRead(db, &have, pzErr);
  if( rc==SQLITE_OK ) rc = schemaDiff(&want, &have, &a, &n);
  for(i=0; rc==SQLITE_OK && i<n; i++){
    const SchemaObj *o = a[i].pNew ? a[i].pNew : a[i].pOld;
    rc = rowsAddText(pOut, schemaTypeName(o));
    if( rc==SQLITE_OK ) rc = rowsAddText(pOut, o->name);
    if( rc==SQLITE_OK ) rc = rowsAddText(pOut, a[i].pOld ? a[i].pOld->sql : 0);
    if( rc==SQLITE_OK ) rc = rowsAddText(pOut, a[i].pNew ? a[i].pNew->sql : 0);
  }
  sqlite3_free(a);
  schemaFree(&want);
  schemaFree(&have);
  sqlite3_close(s);
  return rc;
}

static const RowTab driftTab = {
  "migrate_drift", DRIFT_SCHEMA, DRIFT_NCOL, 0, driftFill
};

int driftRegister(sqlite3 *db, MigrateConn *mc){
  mc->nRef++;
  return rowtabRegister(db, &driftTab, mc, connRelease);
}
