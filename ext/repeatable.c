/*
** repeatable.c — the migrate_repeatable table: one row per repeatable
** migration (R__name.sql), the checksum of the text that last ran, and
** that text.  A repeatable runs again whenever its file's checksum differs
** from the row's (doc/formats.md "Repeatable migrations").
**
** The table is made only when a repeatable is first recorded.  Like
** migrate_history it may come from a file someone else wrote: a view, a
** virtual table or a trigger of its name is refused before it is read or
** written, and so are columns or rows migrate would misread
** (doc/guarantees.md "Hostile database files").  Every statement names
** main., so a TEMP table of the same name never stands in for it.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <stdlib.h>
#include <string.h>

#define REPEAT_SCHEMA \
  "CREATE TABLE IF NOT EXISTS main.migrate_repeatable(\n" \
  "  name TEXT PRIMARY KEY,\n" \
  "  checksum TEXT NOT NULL,\n" \
  "  up TEXT NOT NULL,\n" \
  "  applied_at TEXT NOT NULL,\n" \
  "  duration_ms REAL\n" \
  ")"

static const char *azRepeatCols[] = {
  "name", "checksum", "up", "applied_at", "duration_ms"
};

/* The first of the checks below that a statement's one row reports. */
static int firstFinding(sqlite3 *db, const char *zSql, char **pzFound,
                        char **pzErr){
  sqlite3_stmt *p = 0;
  int rc = setsPrepare(db, zSql, &p);
  *pzFound = 0;
  if( rc==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
    *pzFound = sqlite3_mprintf("%s", (const char*)sqlite3_column_text(p, 0));
    if( *pzFound==0 ) rc = SQLITE_NOMEM;
  }
  { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
  if( rc && rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(db);
  return rc;
}

/* A table edited by hand must not be trusted blindly: every column there,
** and no row the code would misread. */
static int validate(sqlite3 *db, char **pzErr){
  static const char *const azRows[] = {
    "SELECT 'has a row whose name is ' || quote(name) || ', not text'"
      " FROM main.migrate_repeatable WHERE typeof(name)<>'text' LIMIT 1",
    "SELECT 'has ' || count(*) || ' rows for ' || quote(name)"
      " FROM main.migrate_repeatable GROUP BY name HAVING count(*)>1 LIMIT 1",
    "SELECT 'row ' || quote(name) || ' has a NULL checksum or up script'"
      " FROM main.migrate_repeatable WHERE checksum IS NULL OR up IS NULL"
      " LIMIT 1",
    "SELECT 'has a row with a control character in its name'"
      " FROM main.migrate_repeatable WHERE name GLOB ('*[' || char(1) || '-'"
      " || char(31) || char(127) || ']*') OR instr(name, char(0))>0 LIMIT 1",
  };
  sqlite3_stmt *p = 0;
  unsigned seen = 0;
  size_t i, nCol = sizeof(azRepeatCols)/sizeof(azRepeatCols[0]);
  int rc = setsPrepare(db, "SELECT name FROM pragma_table_info"
                              "('migrate_repeatable', 'main')", &p);
  if( rc ){ *pzErr = utilDbErr(db); return rc; }
  while( sqlite3_step(p)==SQLITE_ROW ){
    const char *zCol = (const char*)sqlite3_column_text(p, 0);
    for(i=0; zCol && i<nCol; i++){
      if( sqlite3_stricmp(zCol, azRepeatCols[i])==0 ) seen |= 1u<<i;
    }
  }
  rc = sqlite3_finalize(p);
  if( rc ){ *pzErr = utilDbErr(db); return rc; }
  for(i=0; i<nCol; i++){
    if( (seen & (1u<<i))==0 ){
      *pzErr = sqlite3_mprintf("migrate_repeatable%s has no column '%s'; it "
                               "was not created by migrate or has been altered",
                               setsSuffix(db), azRepeatCols[i]);
      return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
  }
  for(i=0; i<sizeof(azRows)/sizeof(azRows[0]); i++){
    char *z = 0;
    rc = firstFinding(db, azRows[i], &z, pzErr);
    if( rc ) return rc;
    if( z ){
      *pzErr = sqlite3_mprintf("migrate_repeatable%s %s; it has been edited "
                               "by hand", setsSuffix(db), z);
      sqlite3_free(z);
      return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
  }
  return SQLITE_OK;
}

/* Is there a migrate_repeatable table that can be trusted?  An error when
** there is one that cannot. */
int repeatTableExists(sqlite3 *db, int *pExists, char **pzErr){
  char *z = 0;
  char *zNames = setsSql(db, "'migrate_repeatable'");
  int rc = zNames ? utilPlainTables(db, zNames, pzErr) : SQLITE_NOMEM;
  sqlite3_free(zNames);
  *pExists = 0;
  if( rc ) return rc;
  rc = firstFinding(db, "SELECT 1 FROM main.sqlite_schema WHERE type='table' "
                    "AND name='migrate_repeatable'", &z, pzErr);
  if( rc ) return rc;
  *pExists = z!=0;
  sqlite3_free(z);
  return *pExists ? validate(db, pzErr) : SQLITE_OK;
}

/* Made the first time a repeatable is recorded, inside that transaction. */
int repeatEnsure(sqlite3 *db, char **pzErr){
  int exists = 0;
  int rc = repeatTableExists(db, &exists, pzErr);
  if( rc || exists ) return rc;
  {
    char *zSql = setsSql(db, REPEAT_SCHEMA);
    rc = zSql ? sqlite3_exec(db, zSql, 0, 0, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
  }
  if( rc && rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(db);
  return rc;
}

void repeatRecordsFree(RepeatRecords *p){
  int i;
  for(i=0; i<p->n; i++){
    sqlite3_free(p->a[i].name);
    sqlite3_free(p->a[i].checksum);
    sqlite3_free(p->a[i].appliedAt);
    sqlite3_free(p->a[i].up);
  }
  sqlite3_free(p->a);
  memset(p, 0, sizeof(*p));
}

static int cmpRecord(const void *a, const void *b){
  return strcmp(((const RepeatRecord*)a)->name, ((const RepeatRecord*)b)->name);
}

/* A text column copied; a NUL byte inside would cut it short, so that is
** reported (*pBad) rather than copied. */
static char *textCopy(sqlite3_stmt *p, int i, int *pBad){
  const char *z = (const char*)sqlite3_column_text(p, i);
  char *zCopy;
  if( z==0 ) return 0;
  if( (size_t)sqlite3_column_bytes(p, i)!=strlen(z) ){
    *pBad = 1;
    return 0;
  }
  zCopy = sqlite3_mprintf("%s", z);
  if( zCopy==0 ) *pBad = 2;
  return zCopy;
}

/*
** Every row, in byte order of name (sorted here: the column's collation is
** whatever the file says).  No table: no rows.  Repeatables are few, and
** each row is small unless its script is asked for.
*/
int repeatRead(sqlite3 *db, int withScripts, RepeatRecords *pOut, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc, exists = 0, nAlloc = 0, bad = 0;
  memset(pOut, 0, sizeof(*pOut));
  rc = repeatTableExists(db, &exists, pzErr);
  if( rc || !exists ) return rc;
  rc = setsPrepare(db, withScripts ?
      "SELECT name, checksum, applied_at, duration_ms, up FROM main.migrate_repeatable" :
      "SELECT name, checksum, applied_at, duration_ms FROM main.migrate_repeatable", &p);
  if( rc ){ *pzErr = utilDbErr(db); return rc; }
  while( rc==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
    RepeatRecord *r;
    rc = utilArrayReserve((void**)&pOut->a, &nAlloc, pOut->n, sizeof(RepeatRecord));
    if( rc ) break;
    r = &pOut->a[pOut->n++];
    memset(r, 0, sizeof(*r));
    r->name = textCopy(p, 0, &bad);
    r->checksum = textCopy(p, 1, &bad);
    r->appliedAt = textCopy(p, 2, &bad);
    r->hasDuration = sqlite3_column_type(p, 3)!=SQLITE_NULL;
    r->durationMs = sqlite3_column_double(p, 3);
    if( withScripts ) r->up = textCopy(p, 4, &bad);
    if( bad==2 || r->name==0 || r->checksum==0 || (withScripts && r->up==0 && !bad) ){
      rc = SQLITE_NOMEM;
    }else if( bad ){
      *pzErr = sqlite3_mprintf("migrate_repeatable%s: the row of %s holds a "
                               "NUL byte", setsSuffix(db),
                               r->name ? r->name : "a repeatable");
      rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
  }
  { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
  if( rc && rc!=SQLITE_NOMEM && *pzErr==0 ) *pzErr = utilDbErr(db);
  if( rc ){
    repeatRecordsFree(pOut);
  }else if( pOut->n>1 ){
    qsort(pOut->a, (size_t)pOut->n, sizeof(RepeatRecord), cmpRecord);
  }
  return rc;
}

RepeatRecord *repeatFind(const RepeatRecords *p, const char *zName){
  int lo = 0, hi = p->n-1;
  while( lo<=hi ){
    int mid = (lo+hi)/2, c = strcmp(p->a[mid].name, zName);
    if( c==0 ) return &p->a[mid];
    if( c<0 ) lo = mid+1; else hi = mid-1;
  }
  return 0;
}

/* The row of a repeatable that has just run (or been recorded): the one
** before it, if any, is replaced.  DELETE then INSERT, whatever keys a
** hand-made table has. */
int repeatUpsert(sqlite3 *db, const char *zName, const char *zSum,
                 const char *zUp, const char *zAt, const double *pMs,
                 char **pzErr){
  sqlite3_stmt *p = 0;
  int rc = setsPrepare(db, "DELETE FROM main.migrate_repeatable WHERE "
                              "name=?1", &p);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(p, 1, zName, -1, SQLITE_STATIC);
    sqlite3_step(p);
    rc = sqlite3_finalize(p);
    p = 0;
  }
  if( rc==SQLITE_OK ){
    rc = setsPrepare(db, "INSERT INTO main.migrate_repeatable(name, "
                            "checksum, up, applied_at, duration_ms) "
                            "VALUES(?1,?2,?3,?4,?5)", &p);
  }
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(p, 1, zName, -1, SQLITE_STATIC);
    sqlite3_bind_text(p, 2, zSum, -1, SQLITE_STATIC);
    sqlite3_bind_text(p, 3, zUp, -1, SQLITE_STATIC);
    sqlite3_bind_text(p, 4, zAt, -1, SQLITE_STATIC);
    if( pMs ) sqlite3_bind_double(p, 5, *pMs);
    sqlite3_step(p);
    rc = sqlite3_finalize(p);
  }
  if( rc ) *pzErr = utilDbErr(db);
  return rc;
}

/* The stored up script of one repeatable (*pzUp NULL when it has no row). */
int repeatScript(sqlite3 *db, const char *zName, char **pzUp, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc = setsPrepare(db, "SELECT up FROM main.migrate_repeatable "
                              "WHERE name=?1", &p);
  int bad = 0;
  *pzUp = 0;
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(p, 1, zName, -1, SQLITE_STATIC);
    if( sqlite3_step(p)==SQLITE_ROW ) *pzUp = textCopy(p, 0, &bad);
  }
  { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
  if( rc==SQLITE_OK && bad==2 ) rc = SQLITE_NOMEM;
  if( rc==SQLITE_OK && bad ){
    *pzErr = sqlite3_mprintf("migrate_repeatable%s: the row of %s holds a "
                             "NUL byte", setsSuffix(db), zName);
    rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  if( rc && rc!=SQLITE_NOMEM && *pzErr==0 ) *pzErr = utilDbErr(db);
  return rc;
}
