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
  if( rc && rc!=SQLITE_NOMEM ){
    *pzErr = sqlite3_mprintf("cannot replay migration %lld (%s): %s", a->version,
                             a->name, zWhy ? zWhy : sqlite3_errstr(rc));
  }
  sqlite3_free(zWhy);
  sqlite3_free(zShow);
  sqlite3_free(zUp);
  sqlite3_free(zDown);
  return rc;
}

/* The schema the history makes: every stored up script, oldest first. */
static int replayHistory(sqlite3 *db, sqlite3 *s, char **pzErr){
  HistoryCursor hc;
  int rc = historyOpen(db, &hc, pzErr);
  while( rc==SQLITE_OK && !hc.eof ){
    rc = replayOne(db, s, &hc.a, pzErr);
    if( rc==SQLITE_OK ) rc = historyNext(&hc, pzErr);
  }
  historyClose(&hc);
  return rc;
}

/* The repeatable migrations, as each last ran, after the history. */
static int replayRepeatables(sqlite3 *db, sqlite3 *s, char **pzErr){
  RepeatRecords rec;
  int i, rc = repeatRead(db, 1, &rec, pzErr);
  for(i=0; rc==SQLITE_OK && i<rec.n; i++){
    const RepeatRecord *r = &rec.a[i];
    char *zShow = sqlite3_mprintf("R__%s (up)", r->name), *zWhy = 0;
    Script up;
    rc = zShow ? formatStoredScript(r->up, 0, zShow, &up, &zWhy) : SQLITE_NOMEM;
    if( rc==SQLITE_OK ) rc = scratchRun(s, &up, zShow, &zWhy);
    if( rc && rc!=SQLITE_NOMEM ){
      *pzErr = sqlite3_mprintf("cannot replay repeatable migration %s: %s",
                               r->name, zWhy ? zWhy : sqlite3_errstr(rc));
    }
    sqlite3_free(zWhy);
    sqlite3_free(zShow);
  }
  repeatRecordsFree(&rec);
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
  if( rc==SQLITE_OK ) rc = replayHistory(db, s, pzErr);
  if( rc==SQLITE_OK ) rc = replayRepeatables(db, s, pzErr);
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
