/*
** history.c — the two real tables the extension keeps in the database:
**
**   migrate_history  one row per applied migration, with its up and down
**                    scripts, so a rollback needs no files
**   migrate_log      an append-only trail of applies, rollbacks, backups,
**                    restores and failures
**
** Every statement names main. explicitly: a TEMP table of the same name must
** not be able to stand in for the real history.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

#define HISTORY_SCHEMA \
  "CREATE TABLE IF NOT EXISTS main.migrate_history(\n" \
  "  version INTEGER PRIMARY KEY,\n" \
  "  name TEXT NOT NULL,\n" \
  "  checksum TEXT NOT NULL,\n" \
  "  up TEXT NOT NULL,\n" \
  "  down TEXT,\n" \
  "  applied_at TEXT NOT NULL,\n" \
  "  duration_ms REAL\n" \
  ")"

#define LOG_SCHEMA \
  "CREATE TABLE IF NOT EXISTS main.migrate_log(\n" \
  "  id INTEGER PRIMARY KEY,\n" \
  "  at TEXT NOT NULL,\n" \
  "  action TEXT NOT NULL,\n" \
  "  version INTEGER,\n" \
  "  name TEXT,\n" \
  "  outcome TEXT NOT NULL,\n" \
  "  message TEXT,\n" \
  "  duration_ms REAL" LOGCOLS_DEFS "\n" \
  ")"

static const char *azHistoryCols[] = {
  "version", "name", "checksum", "up", "down", "applied_at", "duration_ms"
};

/* migrate_history and migrate_log, where they exist, are ordinary tables
** without triggers (utilPlainTables). */
static int plainTables(sqlite3 *db, char **pzErr){
  char *zNames = setsSql(db, "'migrate_history', 'migrate_log'");
  int rc = zNames ? utilPlainTables(db, zNames, pzErr) : SQLITE_NOMEM;
  sqlite3_free(zNames);
  return rc;
}

/*
** Is there a migrate_history table in main?  A schema that cannot be read
** (out of memory, an I/O error) is an error, not "no": that would start a
** call over from an empty history, and the error may have rolled back the
** transaction the call is in.
*/
int historyTableExists(sqlite3 *db, int *pExists, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc;
  *pExists = 0;
  rc = plainTables(db, pzErr);
  if( rc ) return rc;
  rc = setsPrepare(db, "SELECT 1 FROM main.sqlite_schema WHERE "
                          "type='table' AND name='migrate_history'", &p);
  if( rc==SQLITE_OK ){
    rc = sqlite3_step(p);
    *pExists = rc==SQLITE_ROW;
    if( rc==SQLITE_ROW || rc==SQLITE_DONE ) rc = SQLITE_OK;
  }
  { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
  if( rc && rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(db);
  return rc;
}

/* A history table edited by hand must not be trusted blindly. */
static int historyValidateColumns(sqlite3 *db, char **pzErr){
  sqlite3_stmt *p = 0;
  unsigned seen = 0;
  size_t i;
  int rc = setsPrepare(db, "SELECT name FROM pragma_table_info"
                              "('migrate_history', 'main')", &p);
  if( rc ){ *pzErr = utilDbErr(db); return rc; }
  while( sqlite3_step(p)==SQLITE_ROW ){
    const char *zCol = (const char*)sqlite3_column_text(p, 0);
    for(i=0; zCol && i<sizeof(azHistoryCols)/sizeof(azHistoryCols[0]); i++){
      if( sqlite3_stricmp(zCol, azHistoryCols[i])==0 ) seen |= 1u<<i;
    }
  }
  rc = sqlite3_finalize(p);
  if( rc ){ *pzErr = utilDbErr(db); return rc; }
  for(i=0; i<sizeof(azHistoryCols)/sizeof(azHistoryCols[0]); i++){
    if( (seen & (1u<<i))==0 ){
      *pzErr = sqlite3_mprintf("migrate_history%s has no column '%s'; it was "
                               "not created by migrate or has been altered",
                               setsSuffix(db), azHistoryCols[i]);
      return SQLITE_ERROR;
    }
  }
  return SQLITE_OK;
}

/*
** Rows a hand edit can leave that the code would otherwise misread: a version
** that is not an integer would be read as 0, two rows of one version would
** both be deleted by one rollback.  The first such row is the error.  The
** rows come in version order, from historyValidateRows' own pass or from a
** cursor that reads them for its caller too (historyMerge); the findings
** are ranked after the last: a version that is not an integer, then two
** rows of one version, then a NULL name or checksum, then a control
** character in a name.
*/

/* The columns a checked row is read with: iV the version, iType quote() of
** it when it is no integer (else NULL), iName the name, iNull whether the
** name or the checksum is NULL.  Returns 1 when the row is to be skipped
** (its version or name cannot be read as migrate wrote them), -1 when
** memory ran out. */
static int findingsAdd(HistoryFindings *f, sqlite3_stmt *p, int iV, int iType,
                       int iName, int iNull){
  i64 v = sqlite3_column_int64(p, iV);
  const unsigned char *zName = sqlite3_column_text(p, iName);
  if( sqlite3_column_type(p, iType)!=SQLITE_NULL ){
    if( f->zBadType==0 ){
      f->zBadType = sqlite3_mprintf("%s", sqlite3_column_text(p, iType));
      if( f->zBadType==0 ) return -1;
    }
    return 1;
  }
  if( f->havePrev && v==f->prev ){
    f->run++;
  }else{
    if( f->run>1 && f->nDup==0 ){ f->nDup = f->run; f->vDup = f->prev; }
    f->run = 1;
  }
  f->prev = v;
  f->havePrev = 1;
  if( sqlite3_column_int(p, iNull) ){
    if( !f->haveNull ){ f->haveNull = 1; f->vNull = v; }
    return 1;
  }
  if( !f->haveCtl && zName ){
    /* Names go into messages and the log: a control character (a terminal
    ** escape, a newline) would let the file write into a user's terminal.
    ** A file name with one is refused when the folder is read. */
    int k, n = sqlite3_column_bytes(p, iName);
    for(k=0; k<n && zName[k]>=0x20 && zName[k]!=0x7f; k++){}
    if( k<n ){ f->haveCtl = 1; f->vCtl = v; }
  }
  return 0;
}

/* After the last row: the first finding as the error (SQLITE_ERROR and
** *pzErr), or SQLITE_OK.  Frees what f holds either way. */
static int findingsEnd(sqlite3 *db, HistoryFindings *f, char **pzErr){
  char *zWhy = 0;
  if( f->run>1 && f->nDup==0 ){ f->nDup = f->run; f->vDup = f->prev; }
  if( f->zBadType ){
    zWhy = sqlite3_mprintf("has a row whose version is %s, not an integer",
                           f->zBadType);
  }else if( f->nDup ){
    zWhy = sqlite3_mprintf("has %d rows for version %lld", f->nDup, f->vDup);
  }else if( f->haveNull ){
    zWhy = sqlite3_mprintf("row %lld has a NULL name or checksum", f->vNull);
  }else if( f->haveCtl ){
    zWhy = sqlite3_mprintf("row %lld has a control character in its name", f->vCtl);
  }else{
    return SQLITE_OK;
  }
  sqlite3_free(f->zBadType);
  memset(f, 0, sizeof(*f));
  if( zWhy==0 ) return SQLITE_NOMEM;
  *pzErr = sqlite3_mprintf("migrate_history%s %z; it has been edited by hand",
                           setsSuffix(db), zWhy);
  return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
}

static void findingsFree(HistoryFindings *f){
  sqlite3_free(f->zBadType);
  memset(f, 0, sizeof(*f));
}

/* The row checks as a pass of their own.  %s: the index to read from (it
** holds these columns), or "". */
static int historyValidateRows(sqlite3 *db, const char *zIndexed, char **pzErr){
  char *zSql = sqlite3_mprintf("SELECT version, CASE WHEN typeof(version)"
      "<>'integer' THEN quote(version) END, name, name IS NULL OR checksum IS NULL"
      " FROM main.migrate_history%s ORDER BY version", zIndexed);
  sqlite3_stmt *p = 0;
  HistoryFindings f;
  int rc, nRow = 0;
  memset(&f, 0, sizeof(f));
  rc = zSql ? setsPrepare(db, zSql, &p) : SQLITE_NOMEM;
  sqlite3_free(zSql);
  if( rc ){
    if( rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(db);
    return rc;
  }
  while( sqlite3_step(p)==SQLITE_ROW ){
    /* Read once, in order: the pages behind are given back as it goes
    ** (a history of 10,000 is 2 MiB of index), no setting changed. */
    if( (++nRow & 127)==0 ) sqlite3_db_release_memory(db);
    if( findingsAdd(&f, p, 0, 1, 2, 3)<0 ){
      sqlite3_finalize(p);
      findingsFree(&f);
      return SQLITE_NOMEM;
    }
  }
  rc = sqlite3_finalize(p);
  if( rc ){
    findingsFree(&f);
    if( rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(db);
    return rc;
  }
  return findingsEnd(db, &f, pzErr);
}

/*
** The stat cache (stamp.c): a column file_stat, added to the table in place
** by the first call that records a stat, and an index holding the small
** columns, so the start-up call reads the history without walking the
** pages of the up and down scripts.  Either may have been made by someone
** else: the column is used only when it is a plain column, the index only
** when its SQL is, byte for byte, the one below, on this table.
*/
#define STAT_INDEX "migrate_idx_history"
#define STAT_INDEX_COLS "(version, name, checksum, applied_at, duration_ms, file_stat)"

static char *statIndexName(sqlite3 *db){
  return sqlite3_mprintf(STAT_INDEX "%s", setsSuffix(db));
}

int historyStatLayout(sqlite3 *db, int *pLayout, char **pzErr){
  sqlite3_stmt *p = 0;
  char *zIdx = statIndexName(db);
  char *zTable = sqlite3_mprintf("migrate_history%s", setsSuffix(db));
  char *zWant = zIdx && zTable ? sqlite3_mprintf("CREATE INDEX %s ON %s"
                                     STAT_INDEX_COLS, zIdx, zTable) : 0;
  int rc = zWant ? setsPrepare(db, "SELECT hidden FROM pragma_table_xinfo"
                        "('migrate_history', 'main') WHERE name='file_stat'"
                        " COLLATE NOCASE", &p) : SQLITE_NOMEM;
  *pLayout = 0;
  if( rc==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
    *pLayout = sqlite3_column_int(p, 0)==0 ? STAT_COLUMN : STAT_COLUMN_BAD;
  }
  if( rc==SQLITE_OK ) rc = sqlite3_finalize(p);
  p = 0;
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(db, "SELECT type, tbl_name, sql FROM main.sqlite_schema"
                                " WHERE name=?1 COLLATE NOCASE", -1, &p, 0);
  }
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(p, 1, zIdx, -1, SQLITE_STATIC);
    if( sqlite3_step(p)==SQLITE_ROW ){
      const char *zType = (const char*)sqlite3_column_text(p, 0);
      const char *zTbl = (const char*)sqlite3_column_text(p, 1);
      const char *zSql = (const char*)sqlite3_column_text(p, 2);
      *pLayout |= STAT_NAME_TAKEN;
      if( *pLayout==(STAT_COLUMN|STAT_NAME_TAKEN) && zType && strcmp(zType, "index")==0
       && zTbl && strcmp(zTbl, zTable)==0 && zSql && strcmp(zSql, zWant)==0 ){
        *pLayout |= STAT_INDEXED;
      }
    }
    { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
  }
  if( rc && rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(db);
  sqlite3_free(zIdx);
  sqlite3_free(zTable);
  sqlite3_free(zWant);
  return rc;
}

/* The column and the index added where they are missing, inside the
** caller's transaction (so a call that fails leaves the layout it found):
** *pUsable 0 when file_stat cannot be written, a column of that name that
** is not a plain one. */
int historyStatUpgrade(sqlite3 *db, int *pUsable, char **pzErr){
  int layout, rc = historyStatLayout(db, &layout, pzErr);
  *pUsable = 0;
  if( rc || (layout & STAT_COLUMN_BAD) ) return rc;
  if( (layout & STAT_COLUMN)==0 ){
    char *zSql = setsSql(db, "ALTER TABLE main.migrate_history ADD COLUMN file_stat TEXT");
    rc = zSql ? utilExec(db, zSql, pzErr) : SQLITE_NOMEM;
    sqlite3_free(zSql);
  }
  if( rc==SQLITE_OK && (layout & STAT_NAME_TAKEN)==0 ){
    const char *zSuf = setsSuffix(db);
    char *zSql = sqlite3_mprintf("CREATE INDEX main." STAT_INDEX "%s ON "
                                 "migrate_history%s" STAT_INDEX_COLS, zSuf, zSuf);
    rc = zSql ? utilExec(db, zSql, pzErr) : SQLITE_NOMEM;
    sqlite3_free(zSql);
  }
  *pUsable = rc==SQLITE_OK;
  return rc;
}

/* *pp prepared from zSql unless it is already: a statement kept for the
** next row, which the caller finalizes. */
static int keptPrepare(sqlite3 *db, const char *zSql, sqlite3_stmt **pp,
                       char **pzErr){
  int rc = *pp ? SQLITE_OK : setsPrepare(db, zSql, pp);
  if( rc ) *pzErr = utilDbErr(db);
  return rc;
}

/* Record the stat that vouches for version v's checksum; *pp: the
** statement, kept for the next row (the caller finalizes it). */
int historyStatSet(sqlite3 *db, sqlite3_stmt **pp, i64 v, const char *zStat,
                   char **pzErr){
  int rc = keptPrepare(db, "UPDATE main.migrate_history SET file_stat=?2"
                           " WHERE version=?1", pp, pzErr);
  if( rc ) return rc;
  sqlite3_bind_int64(*pp, 1, v);
  sqlite3_bind_text(*pp, 2, zStat, -1, SQLITE_STATIC);
  sqlite3_step(*pp);
  rc = sqlite3_reset(*pp);
  if( rc ) *pzErr = utilDbErr(db);
  return rc;
}

/* Whether version v has a down script, for a row read through the index
** (Applied.hasDown -1); *pp as for historyStatSet. */
int historyHasDown(sqlite3 *db, sqlite3_stmt **pp, i64 v, int *pHas, char **pzErr){
  int rc = keptPrepare(db, "SELECT down IS NOT NULL FROM main.migrate_history"
                           " WHERE version=?1", pp, pzErr);
  *pHas = 0;
  if( rc ) return rc;
  sqlite3_bind_int64(*pp, 1, v);
  if( sqlite3_step(*pp)==SQLITE_ROW ) *pHas = sqlite3_column_int(*pp, 0);
  rc = sqlite3_reset(*pp);
  if( rc ) *pzErr = utilDbErr(db);
  return rc;
}

/* The table as migrate made it: its columns, and rows it can trust. */
static int historyValidate(sqlite3 *db, char **pzErr){
  int layout = 0;
  int rc = historyValidateColumns(db, pzErr);
  if( rc==SQLITE_OK ) rc = historyStatLayout(db, &layout, pzErr);
  if( rc==SQLITE_OK ){
    /* The index holds what the checks read: the script pages are not. */
    char *zIndexed = (layout & STAT_INDEXED)
        ? sqlite3_mprintf(" INDEXED BY " STAT_INDEX "%s", setsSuffix(db))
        : sqlite3_mprintf("");
    rc = zIndexed ? historyValidateRows(db, zIndexed, pzErr) : SQLITE_NOMEM;
    sqlite3_free(zIndexed);
  }
  return rc;
}

static int historyEnsureTables(sqlite3 *, int check, char **pzErr);

/* historyEnsure for a caller whose next step reads the history with
** historyOpen (or historyMerge), which checks the table before the first
** row: the check is not made twice. */
int historyEnsureUnchecked(sqlite3 *db, char **pzErr){
  return historyEnsureTables(db, 0, pzErr);
}

int historyEnsure(sqlite3 *db, char **pzErr){
  return historyEnsureTables(db, 1, pzErr);
}

static int historyEnsureTables(sqlite3 *db, int check, char **pzErr){
  int exists = 0;
  int rc = historyTableExists(db, &exists, pzErr);
  if( rc ) return rc;
  if( exists ) return check ? historyValidate(db, pzErr) : SQLITE_OK;
  {
    char *zSql = setsSql(db, HISTORY_SCHEMA ";" LOG_SCHEMA);
    rc = zSql ? sqlite3_exec(db, zSql, 0, 0, 0) : SQLITE_NOMEM;
    sqlite3_free(zSql);
  }
  if( rc && rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(db);
  return rc;
}

#define DUP_NOMEM 1
#define DUP_NUL   2   /* the text holds a NUL byte */

/* A copy of a stored script.  The file that holds it may have been written
** by anyone: a NUL byte inside would cut the script short at that point,
** so it is reported (DUP_NUL), not copied. */
static char *columnDup(sqlite3_stmt *p, int i, int *pBad){
  const char *z = (const char*)sqlite3_column_text(p, i);
  char *zCopy;
  if( z==0 ){
    if( sqlite3_column_type(p, i)!=SQLITE_NULL ) *pBad |= DUP_NOMEM;
    return 0;
  }
  if( (size_t)sqlite3_column_bytes(p, i)!=strlen(z) ){
    *pBad |= DUP_NUL;
    return 0;
  }
  zCopy = sqlite3_mprintf("%s", z);
  if( zCopy==0 ) *pBad |= DUP_NOMEM;
  return zCopy;
}

/* The error of a columnDup() that failed, as an SQLite code. */
static int dupError(sqlite3 *db, int bad, i64 v, char **pzErr){
  if( bad & DUP_NOMEM ) return SQLITE_NOMEM;
  *pzErr = sqlite3_mprintf("migrate_history%s: the stored scripts of version "
                           "%lld contain a NUL byte", setsSuffix(db), v);
  return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
}

/*
** Versions, names, checksums and times, in version order; no scripts.  A
** database without a history table has an empty history.  The table is
** checked (historyValidate) first (CHECK_FIRST), so a row edited into
** nonsense is an error before the first row is read, not after some; or
** as the rows are read (CHECK_INLINE: findingsEnd after the last,
** and a row that cannot be read as migrate wrote it is not shown); or not
** at all (CHECK_NONE: a second cursor over a table a first has checked).
*/
#define CHECK_NONE   0
#define CHECK_FIRST  1
#define CHECK_INLINE 2

/* The columns of the cursor's statement; the last two only when checking
** inline. */
#define HC_COLS "version, name, checksum, applied_at, duration_ms"
#define HC_CHECK_COLS ", CASE WHEN typeof(version)<>'integer' THEN quote(version)" \
                      " END, name IS NULL OR checksum IS NULL"

static int historyOpenCursor(sqlite3 *db, HistoryCursor *pC, int check,
                             char **pzErr){
  int rc, exists = 0;
  const char *zCheck = check==CHECK_INLINE ? HC_CHECK_COLS : "";
  char *zSql;
  memset(pC, 0, sizeof(*pC));
  pC->eof = 1;
  rc = historyTableExists(db, &exists, pzErr);
  if( rc || !exists ) return rc;
  if( check==CHECK_FIRST ) rc = historyValidate(db, pzErr);
  if( check==CHECK_INLINE ) rc = historyValidateColumns(db, pzErr);
  if( rc ) return rc;
  rc = historyStatLayout(db, &pC->statLayout, pzErr);
  if( rc ) return rc;
  if( pC->statLayout & STAT_INDEXED ){
    /* The small columns alone, from the index: no script page is read. */
    zSql = sqlite3_mprintf("SELECT " HC_COLS ", -1, file_stat%s FROM"
        " main.migrate_history INDEXED BY " STAT_INDEX "%s ORDER BY version",
        zCheck, setsSuffix(db));
  }else{
    zSql = sqlite3_mprintf("SELECT " HC_COLS ", down IS NOT NULL, %s%s FROM"
        " main.migrate_history ORDER BY version",
        (pC->statLayout & STAT_COLUMN) ? "file_stat" : "NULL", zCheck);
  }
  rc = zSql ? setsPrepare(db, zSql, &pC->pStmt) : SQLITE_NOMEM;
  sqlite3_free(zSql);
  if( rc ){
    if( rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(db);
    return rc;
  }
  pC->checking = check==CHECK_INLINE;
  pC->eof = 0;
  rc = historyNext(pC, pzErr);
  if( rc ) historyClose(pC);
  return rc;
}

int historyOpen(sqlite3 *db, HistoryCursor *pC, char **pzErr){
  return historyOpenCursor(db, pC, CHECK_FIRST, pzErr);
}

/* A second cursor over a history that a cursor still open on the same
** connection (so on the same snapshot) has checked. */
int historyOpenAgain(sqlite3 *db, HistoryCursor *pC, char **pzErr){
  return historyOpenCursor(db, pC, CHECK_NONE, pzErr);
}

/* Step to the next row, or to the end. */
int historyNext(HistoryCursor *pC, char **pzErr){
  sqlite3_stmt *p = pC->pStmt;
  Applied *a = &pC->a;
  int rc;
  memset(a, 0, sizeof(*a));
  if( pC->eof ) return SQLITE_OK;
  for(;;){
    int skip = 0;
    rc = sqlite3_step(p);
    if( rc==SQLITE_DONE ){
      pC->eof = 1;
      return SQLITE_OK;
    }
    if( rc!=SQLITE_ROW ){
      pC->eof = 1;
      if( rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(sqlite3_db_handle(p));
      return rc;
    }
    if( pC->checking ) skip = findingsAdd(&pC->find, p, 0, 7, 1, 8);
    if( skip<0 ){
      pC->eof = 1;
      return SQLITE_NOMEM;
    }
    if( skip==0 ) break;
  }
  a->version = sqlite3_column_int64(p, 0);
  a->name = (const char*)sqlite3_column_text(p, 1);
  a->checksum = (const char*)sqlite3_column_text(p, 2);
  a->appliedAt = (const char*)sqlite3_column_text(p, 3);
  a->hasDuration = sqlite3_column_type(p, 4)!=SQLITE_NULL;
  a->durationMs = sqlite3_column_double(p, 4);
  a->hasDown = sqlite3_column_int(p, 5);
  a->fileStat = (const char*)sqlite3_column_text(p, 6);
  if( a->name==0 || a->checksum==0 ){
    /* The checks refused NULLs: only memory can be short here. */
    pC->eof = 1;
    return SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

void historyClose(HistoryCursor *pC){
  sqlite3_finalize(pC->pStmt);
  findingsFree(&pC->find);
  memset(pC, 0, sizeof(*pC));
  pC->eof = 1;
}

/*
** The history merged with a folder, both in version order, in one pass and
** a row at a time: xApplied sees each applied migration with its file (NULL
** when there is none) and may stop the pass with an error; the indexes in
** pSrc of the migrations not applied go to aPending (room for pSrc->n).
** *pNewest: the newest applied version, -1 when none is.
*/
int historyMerge(sqlite3 *db, Source *pSrc,
                 int (*xApplied)(void*, const Applied*, Migration*), void *pArg,
                 int checkFirst, int *aPending, int *pnPending, i64 *pNewest,
                 char **pzErr){
  HistoryCursor hc;
  int j = 0, n = 0, rcCursor = SQLITE_OK;
  int rc = historyOpenCursor(db, &hc, checkFirst ? CHECK_FIRST : CHECK_INLINE,
                             pzErr);
  *pNewest = -1;
  while( rc==SQLITE_OK && !hc.eof ){
    const Applied *a = &hc.a;
    Migration *m = 0;
    while( j<pSrc->n && pSrc->a[j].version<a->version ) aPending[n++] = j++;
    if( j<pSrc->n && pSrc->a[j].version==a->version ) m = &pSrc->a[j++];
    *pNewest = a->version;
    rc = xApplied(pArg, a, m);
    if( rc==SQLITE_OK ) rc = rcCursor = historyNext(&hc, pzErr);
  }
  if( hc.checking && rcCursor==SQLITE_OK ){
    /* The checks see every row: a row edited into nonsense is the error,
    ** whatever stopped the pass before the end. */
    char *zFound = 0;
    int rcFind = SQLITE_OK;
    while( rcFind==SQLITE_OK && !hc.eof ) rcFind = historyNext(&hc, &zFound);
    if( rcFind==SQLITE_OK ) rcFind = findingsEnd(db, &hc.find, &zFound);
    if( rcFind ){
      sqlite3_free(*pzErr);
      *pzErr = zFound;
      rc = rcFind;
    }
  }
  historyClose(&hc);
  while( j<pSrc->n ) aPending[n++] = j++;
  *pnPending = n;
  return rc;
}

/* The stored up and down scripts of one applied migration. */
int historyScripts(sqlite3 *db, i64 v, char **pzUp, char **pzDown, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc, nomem = 0;
  *pzUp = *pzDown = 0;
  rc = setsPrepare(db, "SELECT up, down FROM main.migrate_history"
                          " WHERE version=?1", &p);
  if( rc ){ *pzErr = utilDbErr(db); return rc; }
  sqlite3_bind_int64(p, 1, v);
  if( sqlite3_step(p)==SQLITE_ROW ){
    *pzUp = columnDup(p, 0, &nomem);
    *pzDown = columnDup(p, 1, &nomem);
  }
  rc = sqlite3_finalize(p);
  if( rc==SQLITE_OK && nomem ) rc = dupError(db, nomem, v, pzErr);
  if( rc ){
    if( rc!=SQLITE_NOMEM && *pzErr==0 ) *pzErr = utilDbErr(db);
    sqlite3_free(*pzUp);
    sqlite3_free(*pzDown);
    *pzUp = *pzDown = 0;
  }
  return rc;
}

/*
** The newest applied migrations above floor and at most below, newest
** first: up to n of them (n >= 1), fewer once their down scripts add up to
** HISTORY_DOWN_BATCH bytes; *pn = 0 when there are none.  Each has its name
** and its stored down script (NULL when it has none).  The caller frees
** them with historyDownsFree.
*/
#define HISTORY_DOWN_BATCH (1024*1024)
int historyNewestDowns(sqlite3 *db, i64 floor, i64 below, int n, HistoryDown *a,
                       int *pn, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc, nomem = 0;
  sqlite3_int64 nBytes = 0;
  *pn = 0;
  rc = setsPrepare(db, "SELECT version, name, down FROM main.migrate_history"
                       " WHERE version>?1 AND version<=?2"
                       " ORDER BY version DESC LIMIT ?3", &p);
  if( rc==SQLITE_OK ){
    sqlite3_bind_int64(p, 1, floor);
    sqlite3_bind_int64(p, 2, below);
    sqlite3_bind_int(p, 3, n);
  }
  while( rc==SQLITE_OK && !nomem && nBytes<HISTORY_DOWN_BATCH
      && sqlite3_step(p)==SQLITE_ROW ){
    HistoryDown *d = &a[(*pn)++];
    d->version = sqlite3_column_int64(p, 0);
    d->zName = sqlite3_mprintf("%s", sqlite3_column_text(p, 1));
    if( d->zName==0 ) nomem = 1;
    d->zDown = columnDup(p, 2, &nomem);
    nBytes += sqlite3_column_bytes(p, 2);
  }
  { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
  if( rc==SQLITE_OK && nomem ) rc = dupError(db, nomem, a[*pn-1].version, pzErr);
  if( rc && rc!=SQLITE_NOMEM && *pzErr==0 ) *pzErr = utilDbErr(db);
  return rc;
}

void historyDownsFree(HistoryDown *a, int n){
  int i;
  for(i=0; i<n; i++){
    sqlite3_free(a[i].zName);
    sqlite3_free(a[i].zDown);
  }
}

/*
** Of the newest n applied migrations above floor, the newest that has no
** down script: *pFound = 1 with its version and name, else 0.  typeof()
** reads the type from the row's header: the scripts' texts, which can run
** to pages of their own, are not read.
*/
int historyIrreversible(sqlite3 *db, i64 floor, i64 n, i64 *pV, char **pzName,
                        int *pFound, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc = setsPrepare(db,
      "SELECT version, name FROM (SELECT version, name, typeof(down) AS t"
      " FROM main.migrate_history WHERE version>?2 ORDER BY version DESC"
      " LIMIT ?1) WHERE t='null' ORDER BY version DESC LIMIT 1", &p);
  *pFound = 0;
  *pzName = 0;
  if( rc ){
    *pzErr = utilDbErr(db);
    return rc;
  }
  sqlite3_bind_int64(p, 1, n);
  sqlite3_bind_int64(p, 2, floor);
  if( sqlite3_step(p)==SQLITE_ROW ){
    *pFound = 1;
    *pV = sqlite3_column_int64(p, 0);
    *pzName = sqlite3_mprintf("%s", sqlite3_column_text(p, 1));
    rc = *pzName ? SQLITE_OK : SQLITE_NOMEM;
    sqlite3_finalize(p);
    return rc;
  }
  /* The query itself failed (out of memory, I/O): that is the error. */
  rc = sqlite3_finalize(p);
  if( rc && rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(db);
  return rc;
}

int historyInsert(sqlite3 *db, i64 v, const char *zName, const char *zSum,
                  const char *zUp, const char *zDown, const char *zAt,
                  const double *pMs, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc = setsPrepare(db, "INSERT INTO main.migrate_history(version, name,"
                              " checksum, up, down, applied_at, duration_ms)"
                              " VALUES(?1,?2,?3,?4,?5,?6,?7)", &p);
  if( rc ){ *pzErr = utilDbErr(db); return rc; }
  sqlite3_bind_int64(p, 1, v);
  sqlite3_bind_text(p, 2, zName, -1, SQLITE_STATIC);
  sqlite3_bind_text(p, 3, zSum, -1, SQLITE_STATIC);
  sqlite3_bind_text(p, 4, zUp, -1, SQLITE_STATIC);
  if( zDown ) sqlite3_bind_text(p, 5, zDown, -1, SQLITE_STATIC);
  sqlite3_bind_text(p, 6, zAt, -1, SQLITE_STATIC);
  if( pMs ) sqlite3_bind_double(p, 7, *pMs);   /* NULL: recorded, never run */
  sqlite3_step(p);
  rc = sqlite3_finalize(p);
  if( rc ) *pzErr = utilDbErr(db);
  return rc;
}

/* Version v's row, which must be there: a script that removed it has
** changed the history the call read (doc/reference.md "migrate_rollback"). */
int historyDelete(sqlite3 *db, i64 v, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc = setsPrepare(db, "DELETE FROM main.migrate_history WHERE version=?1", &p);
  if( rc ){ *pzErr = utilDbErr(db); return rc; }
  sqlite3_bind_int64(p, 1, v);
  sqlite3_step(p);
  rc = sqlite3_finalize(p);
  if( rc ){
    *pzErr = utilDbErr(db);
  }else if( sqlite3_changes(db)!=1 ){
    *pzErr = sqlite3_mprintf("the row of version %lld is no longer in "
                             "migrate_history: a down script removed it", v);
    rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  return rc;
}

int historyMax(sqlite3 *db, i64 *pMax, int *pAny, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc, exists = 0;
  *pAny = 0;
  *pMax = 0;
  rc = historyTableExists(db, &exists, pzErr);
  if( rc || !exists ) return rc;
  rc = setsPrepare(db, "SELECT max(version) FROM main.migrate_history", &p);
  if( rc ){ *pzErr = utilDbErr(db); return rc; }
  if( sqlite3_step(p)==SQLITE_ROW && sqlite3_column_type(p, 0)!=SQLITE_NULL ){
    *pAny = 1;
    *pMax = sqlite3_column_int64(p, 0);
  }
  rc = sqlite3_finalize(p);
  if( rc ) *pzErr = utilDbErr(db);
  return rc;
}

/* The INSERT of a migrate_log row, with the later columns that has names. */
static int logPrepare(sqlite3 *db, unsigned has, sqlite3_stmt **pp){
  char *zSql = sqlite3_mprintf("INSERT INTO main.migrate_log(at, action, version,"
                              " name, outcome, message, duration_ms%s%s%s)"
                              " VALUES(?1,?2,?3,?4,?5,?6,?7%s%s%s)",
                              has & LOGCOL_SET ? ", set_name" : "",
                              has & LOGCOL_ROWS ? ", rows_changed" : "",
                              has & LOGCOL_WAIT ? ", lock_wait_ms" : "",
                              has & LOGCOL_SET ? ",?8" : "",
                              has & LOGCOL_ROWS ? ",?9" : "",
                              has & LOGCOL_WAIT ? ",?10" : "");
  int rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, pp, 0) : SQLITE_NOMEM;
  sqlite3_free(zSql);
  return rc;
}

/* One row through p (from logPrepare(has)), which is reset for the next. */
static int logWrite(sqlite3_stmt *p, const char *zAt, const char *zAction,
                    const i64 *pVersion, const char *zName,
                    const char *zOutcome, const char *zMsg, double ms,
                    const LogExtra *pX, unsigned has){
  sqlite3_clear_bindings(p);
  sqlite3_bind_text(p, 1, zAt, -1, SQLITE_STATIC);
  sqlite3_bind_text(p, 2, zAction, -1, SQLITE_STATIC);
  if( pVersion ) sqlite3_bind_int64(p, 3, *pVersion);
  if( zName ) sqlite3_bind_text(p, 4, zName, -1, SQLITE_STATIC);
  sqlite3_bind_text(p, 5, zOutcome, -1, SQLITE_STATIC);
  if( zMsg ) sqlite3_bind_text(p, 6, zMsg, -1, SQLITE_STATIC);
  if( ms>=0 ) sqlite3_bind_double(p, 7, ms);
  if( pX && pX->zSet && (has & LOGCOL_SET) ){
    sqlite3_bind_text(p, 8, pX->zSet, -1, SQLITE_STATIC);
  }
  if( pX && pX->hasRows && (has & LOGCOL_ROWS) ) sqlite3_bind_int64(p, 9, pX->rows);
  if( pX && pX->hasWait && (has & LOGCOL_WAIT) ) sqlite3_bind_double(p, 10, pX->waitMs);
  sqlite3_step(p);
  return sqlite3_reset(p);
}

static int logInsert(sqlite3 *db, const char *zAt, const char *zAction,
                     const i64 *pVersion, const char *zName,
                     const char *zOutcome, const char *zMsg, double ms,
                     const LogExtra *pX, unsigned has){
  sqlite3_stmt *p = 0;
  int rc = logPrepare(db, has, &p);
  if( rc==SQLITE_OK ){
    rc = logWrite(p, zAt, zAction, pVersion, zName, zOutcome, zMsg, ms, pX, has);
  }
  sqlite3_finalize(p);
  return rc;
}

int historyLog(sqlite3 *db, const char *zAction, const i64 *pVersion,
             const char *zName, const char *zOutcome, const char *zMsg,
             double ms){
  return historyLogExtra(db, zAction, pVersion, zName, zOutcome, zMsg, ms, 0);
}

/*
** Append to the audit trail; returns SQLITE_OK if the row is written.
** Callers decide what a failure means: a failure row is written after the
** failed work was rolled back, best effort, since a read-only or locked
** database must not turn the original error into a different one; a row
** inside the call's transaction belongs to its work and must be there.
** pX (or NULL): the later columns (logcols.c), written where the table has
** them.
*/
int historyLogExtra(sqlite3 *db, const char *zAction, const i64 *pVersion,
                    const char *zName, const char *zOutcome, const char *zMsg,
                    double ms, const LogExtra *pX){
  char *zAt;
  int inTxn = !sqlite3_get_autocommit(db);
  unsigned has = 0;
  int rc;
  if( !inTxn ){
    /* A row on its own (a failure, a manual backup): no call has checked
    ** the table yet.  Inside a call, historyTableExists has. */
    char *zErr = 0;
    rc = plainTables(db, &zErr);
    sqlite3_free(zErr);
    if( rc ) return rc;
  }
  if( pX && pX->cols ){
    has = pX->cols;
  }else if( pX && (pX->zSet || pX->hasRows || pX->hasWait) ){
    rc = logColumns(db, &has);
    if( rc ) return rc;
  }
  zAt = utilUtcNow();
  if( zAt==0 ) return SQLITE_NOMEM;
  rc = logInsert(db, zAt, zAction, pVersion, zName, zOutcome, zMsg, ms, pX, has);
  if( rc!=SQLITE_OK && rc!=SQLITE_NOMEM && !(inTxn && sqlite3_get_autocommit(db)) ){
    /* (The error rolled the caller's transaction back: a row written now
    ** would commit on its own, apart from the work it records.) */
    rc = sqlite3_exec(db, LOG_SCHEMA, 0, 0, 0);
    if( rc==SQLITE_OK ){
      rc = logInsert(db, zAt, zAction, pVersion, zName, zOutcome, zMsg, ms,
                     pX, pX ? LOGCOL_ALL : 0);
    }
  }
  sqlite3_free(zAt);
  return rc;
}

/*
** The ok rows of a call, in order, through one statement: inside the call's
** transaction, in a table that has every later column (callLog made sure).
** Like a single row, a table a script dropped is made again.
*/
int historyLogRows(sqlite3 *db, const LogRow *a, int n){
  sqlite3_stmt *p = 0;
  int i, rc = logPrepare(db, LOGCOL_ALL, &p);
  if( rc!=SQLITE_OK && rc!=SQLITE_NOMEM && !sqlite3_get_autocommit(db) ){
    rc = sqlite3_exec(db, LOG_SCHEMA, 0, 0, 0);
    if( rc==SQLITE_OK ) rc = logPrepare(db, LOGCOL_ALL, &p);
  }
  for(i=0; rc==SQLITE_OK && i<n; i++){
    rc = logWrite(p, a[i].zAt, a[i].zAction, a[i].hasVersion ? &a[i].version : 0,
                  a[i].zName, "ok", a[i].zMsg, a[i].ms, &a[i].x, LOGCOL_ALL);
  }
  sqlite3_finalize(p);
  return rc;
}

/* migrate_repair: an applied migration's row takes its file's current
** checksum and scripts; its version, name and times stay. */
int historyRepair(sqlite3 *db, i64 v, const char *zSum, const char *zUp,
                  const char *zDown, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc = setsPrepare(db, "UPDATE main.migrate_history SET checksum=?2,"
                              " up=?3, down=?4 WHERE version=?1", &p);
  if( rc ){ *pzErr = utilDbErr(db); return rc; }
  sqlite3_bind_int64(p, 1, v);
  sqlite3_bind_text(p, 2, zSum, -1, SQLITE_STATIC);
  sqlite3_bind_text(p, 3, zUp, -1, SQLITE_STATIC);
  if( zDown ) sqlite3_bind_text(p, 4, zDown, -1, SQLITE_STATIC);
  sqlite3_step(p);
  rc = sqlite3_finalize(p);
  if( rc ) *pzErr = utilDbErr(db);
  return rc;
}
