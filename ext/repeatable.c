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
**
** Like migrate_history it keeps, in a file_stat column added in place by
** the first call that records one, the stat of the file whose bytes were
** last found to be the row's (stamp.c): the start-up call then need not
** read an unchanged repeatable to know it is not due.
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
  if( rc ){
    /* A row, then an error (out of memory as the statement ended): the
    ** error is the answer. */
    sqlite3_free(*pzFound);
    *pzFound = 0;
    if( rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(db);
  }
  return rc;
}

/* The rows the code would misread, ranked: a name that is not text, two
** rows of one name, a NULL checksum or up script, a control character in
** a name; the first found of the first kind.  One statement, run on every
** call that reads the table: typeof(up) reads the row's header, not the
** script. */
#define REPEAT_BAD_ROWS \
  "SELECT w FROM (" \
  "SELECT 1 AS k, name AS n, 'has a row whose name is ' || quote(name)" \
  " || ', not text' AS w FROM main.migrate_repeatable WHERE typeof(name)<>'text'" \
  " UNION ALL SELECT 2, name, 'has ' || count(*) || ' rows for ' || quote(name)" \
  " FROM main.migrate_repeatable GROUP BY name COLLATE BINARY HAVING count(*)>1" \
  " UNION ALL SELECT 3, name, 'row ' || quote(name) || ' has a NULL checksum or" \
  " up script' FROM main.migrate_repeatable" \
  " WHERE checksum IS NULL OR typeof(up)='null'" \
  " UNION ALL SELECT 4, name, 'has a row with a control character in its name'" \
  " FROM main.migrate_repeatable WHERE name GLOB ('*[' || char(1) || '-'" \
  " || char(31) || char(127) || ']*') OR instr(name, char(0))>0" \
  ") ORDER BY k, n LIMIT 1"

/* A table edited by hand must not be trusted blindly: every column there,
** and no row the code would misread.  *pStat: file_stat's state, from the
** same read of the columns (STAT_COLUMN, STAT_COLUMN_BAD, or 0: none). */
static int validate(sqlite3 *db, int *pStat, char **pzErr){
  sqlite3_stmt *p = 0;
  unsigned seen = 0;
  size_t i, nCol = sizeof(azRepeatCols)/sizeof(azRepeatCols[0]);
  char *z = 0;
  int rc = setsPrepare(db, "SELECT name, hidden FROM pragma_table_xinfo"
                              "('migrate_repeatable', 'main')", &p);
  *pStat = 0;
  if( rc ){ *pzErr = utilDbErr(db); return rc; }
  while( sqlite3_step(p)==SQLITE_ROW ){
    const char *zCol = (const char*)sqlite3_column_text(p, 0);
    int plain = sqlite3_column_int(p, 1)==0;
    if( zCol && sqlite3_stricmp(zCol, "file_stat")==0 ){
      *pStat = plain ? STAT_COLUMN : STAT_COLUMN_BAD;
    }
    for(i=0; plain && zCol && i<nCol; i++){
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
  rc = firstFinding(db, REPEAT_BAD_ROWS, &z, pzErr);
  if( rc ) return rc;
  if( z ){
    *pzErr = sqlite3_mprintf("migrate_repeatable%s %s; it has been edited "
                             "by hand", setsSuffix(db), z);
    sqlite3_free(z);
    return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

/* Is there a migrate_repeatable table that can be trusted?  An error when
** there is one that cannot.  *pStat as for validate(). */
static int tableCheck(sqlite3 *db, int *pExists, int *pStat, char **pzErr){
  char *z = 0;
  char *zNames = setsSql(db, "'migrate_repeatable'");
  int rc = zNames ? utilPlainTables(db, zNames, pzErr) : SQLITE_NOMEM;
  sqlite3_free(zNames);
  *pExists = 0;
  *pStat = 0;
  if( rc ) return rc;
  rc = firstFinding(db, "SELECT 1 FROM main.sqlite_schema WHERE type='table' "
                    "AND name='migrate_repeatable'", &z, pzErr);
  if( rc ) return rc;
  *pExists = z!=0;
  sqlite3_free(z);
  return *pExists ? validate(db, pStat, pzErr) : SQLITE_OK;
}

int repeatTableExists(sqlite3 *db, int *pExists, char **pzErr){
  int stat;
  return tableCheck(db, pExists, &stat, pzErr);
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
    sqlite3_free(p->a[i].fileStat);
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

/* A stored stat as it was written, or NULL: a value that is not text
** migrate could have written is never used (it vouches for nothing). */
static char *statCopy(sqlite3_stmt *p, int i, int *pNomem){
  const char *z = (const char*)sqlite3_column_text(p, i);
  char *zCopy;
  if( sqlite3_column_type(p, i)!=SQLITE_TEXT || z==0
   || (size_t)sqlite3_column_bytes(p, i)!=strlen(z)
   || strlen(z)>=STAMP_TEXT_MAX ){
    return 0;
  }
  zCopy = sqlite3_mprintf("%s", z);
  if( zCopy==0 ) *pNomem = 1;
  return zCopy;
}

/*
** Every row, in byte order of name (sorted here: the column's collation is
** whatever the file says).  No table: no rows.  Repeatables are few, and
** each row is small unless its script is asked for.
*/
int repeatRead(sqlite3 *db, int withScripts, RepeatRecords *pOut, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc, exists = 0, nAlloc = 0, bad = 0, stat = 0, nomem = 0;
  memset(pOut, 0, sizeof(*pOut));
  rc = tableCheck(db, &exists, &stat, pzErr);
  if( rc || !exists ) return rc;
  rc = setsPrepare(db, stat==STAT_COLUMN ?
      "SELECT name, checksum, applied_at, duration_ms, file_stat, up"
      " FROM main.migrate_repeatable" :
      "SELECT name, checksum, applied_at, duration_ms, NULL, up"
      " FROM main.migrate_repeatable", &p);
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
    r->fileStat = statCopy(p, 4, &nomem);
    if( withScripts ) r->up = textCopy(p, 5, &bad);
    if( bad==2 || nomem ){
      rc = SQLITE_NOMEM;
    }else if( bad ){
      *pzErr = sqlite3_mprintf("migrate_repeatable%s: the row of %s holds a "
                               "NUL byte", setsSuffix(db),
                               r->name ? r->name : "a repeatable");
      rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }else if( r->name==0 || r->checksum==0 || (withScripts && r->up==0) ){
      /* The checks refused NULLs: only memory can be short here. */
      rc = SQLITE_NOMEM;
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
                              "name=?1 COLLATE BINARY", &p);
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

/* The column added where it is missing, inside the caller's transaction
** (a call that fails leaves the layout it found). */
int repeatStatUpgrade(sqlite3 *db, int *pUsable, char **pzErr){
  int exists, state, rc = tableCheck(db, &exists, &state, pzErr);
  *pUsable = 0;
  if( rc || !exists || state==STAT_COLUMN_BAD ) return rc;
  if( state==0 ){
    char *zSql = setsSql(db, "ALTER TABLE main.migrate_repeatable"
                             " ADD COLUMN file_stat TEXT");
    rc = zSql ? utilExec(db, zSql, pzErr) : SQLITE_NOMEM;
    sqlite3_free(zSql);
  }
  *pUsable = rc==SQLITE_OK;
  return rc;
}

int repeatStatSet(sqlite3 *db, sqlite3_stmt **pp, const char *zName,
                  const char *zStat, char **pzErr){
  int rc = *pp ? SQLITE_OK
         : setsPrepare(db, "UPDATE main.migrate_repeatable SET file_stat=?2"
                           " WHERE name=?1 COLLATE BINARY", pp);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(*pp, 1, zName, -1, SQLITE_STATIC);
    sqlite3_bind_text(*pp, 2, zStat, -1, SQLITE_STATIC);
    sqlite3_step(*pp);
    rc = sqlite3_reset(*pp);
  }
  if( rc ) *pzErr = utilDbErr(db);
  return rc;
}

/* The stored up script of one repeatable (*pzUp NULL when it has no row). */
int repeatScript(sqlite3 *db, const char *zName, char **pzUp, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc = setsPrepare(db, "SELECT up FROM main.migrate_repeatable "
                              "WHERE name=?1 COLLATE BINARY", &p);
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
