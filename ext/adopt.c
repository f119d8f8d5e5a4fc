/*
** adopt.c — which migrations another tool has applied to this database, read
** from that tool's own history table, so migrate_adopt() can record them
** without running anything.
**
**   dbmate          schema_migrations(version TEXT)          one row each
**   golang-migrate  schema_migrations(version, dirty)        one row: newest
**   goose           goose_db_version(version_id, is_applied) newest row wins
**   sqlx            _sqlx_migrations(version, success)
**   diesel          __diesel_schema_migrations(version TEXT)
**   Flyway          flyway_schema_history(version, success)
**   Prisma Migrate  _prisma_migrations(migration_name, checksum,
**                   finished_at, rolled_back_at)
**
** The other tool's table is only read; dropping it is left to the user once
** the switch is done.  Every version it lists must be in the folder, and no
** migration of the folder may sit unapplied below its newest one: both mean
** the folder and the database disagree, and guessing would run the wrong SQL.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <stdlib.h>
#include <string.h>

typedef struct Tool {
  const char *zName;     /* shown in messages and the log */
  const char *zTable;
  const char *zColumn;   /* a column that tells tools sharing a table apart */
  int wantColumn;        /* 1: zColumn must exist, 0: must not */
  const char *zSql;      /* applied versions, as text or integers */
  int upTo;              /* 1: one row, the newest: every version up to it */
  int dieselNames;       /* versions are folder timestamps without separators */
  int folderNames;       /* versions are folder names, <digits>_<name>, and the
                         ** second column the SHA-256 hex of the up file */
} Tool;

static const Tool aTool[] = {
  { "golang-migrate", "schema_migrations", "dirty", 1,
    "SELECT version, dirty FROM main.schema_migrations", 1, 0, 0 },
  { "dbmate", "schema_migrations", "dirty", 0,
    "SELECT version FROM main.schema_migrations", 0, 0, 0 },
  /* goose appends a row per apply and per rollback: the newest row of each
  ** version says whether it is applied.  Version 0 is goose's own start. */
  { "goose", "goose_db_version", 0, 0,
    "SELECT version_id FROM main.goose_db_version AS g WHERE version_id > 0"
    " AND is_applied AND id = (SELECT max(id) FROM main.goose_db_version"
    " WHERE version_id = g.version_id)", 0, 0, 0 },
  { "sqlx", "_sqlx_migrations", 0, 0,
    "SELECT version FROM main._sqlx_migrations WHERE success", 0, 0, 0 },
  { "diesel", "__diesel_schema_migrations", 0, 0,
    "SELECT version FROM main.__diesel_schema_migrations", 0, 1, 0 },
  { "Flyway", "flyway_schema_history", 0, 0,
    "SELECT version FROM main.flyway_schema_history WHERE success"
    " AND version IS NOT NULL", 0, 0, 0 },
  /* A row per attempt: one that failed (no finished_at) or was marked
  ** rolled back stays beside the row of a later attempt that succeeded. */
  { "Prisma", "_prisma_migrations", 0, 0,
    "SELECT migration_name, checksum FROM main._prisma_migrations"
    " WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL", 0, 0, 1 },
};

/*
** Does main hold the table (with that column)?  A schema that cannot be read
** is an error, not "absent": out of memory or an I/O error here may have
** rolled back the call's transaction, and the call must not go on without.
*/
static int hasTable(sqlite3 *db, const char *zTable, const char *zColumn,
                    int *pFound, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc = sqlite3_prepare_v2(db, zColumn ?
        "SELECT 1 FROM pragma_table_info(?1, 'main') WHERE name = ?2" :
        "SELECT 1 FROM main.sqlite_schema WHERE type = 'table' AND name = ?1",
        -1, &p, 0);
  *pFound = 0;
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(p, 1, zTable, -1, SQLITE_STATIC);
    if( zColumn ) sqlite3_bind_text(p, 2, zColumn, -1, SQLITE_STATIC);
    rc = sqlite3_step(p);
    *pFound = rc==SQLITE_ROW;
    if( rc==SQLITE_ROW || rc==SQLITE_DONE ) rc = SQLITE_OK;
  }
  { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
  if( rc && rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(db);
  return rc;
}

/* The tool whose table is here; an error when none is, or several are. */
static int findTool(sqlite3 *db, const Tool **ppTool, char **pzErr){
  size_t i;
  const Tool *pFound = 0;
  for(i=0; i<sizeof(aTool)/sizeof(aTool[0]); i++){
    const Tool *t = &aTool[i];
    int found = 0, rc = hasTable(db, t->zTable, 0, &found, pzErr);
    if( rc==SQLITE_OK && found && t->zColumn ){
      rc = hasTable(db, t->zTable, t->zColumn, &found, pzErr);
      found = found==t->wantColumn;
    }
    if( rc ) return rc;
    if( !found ) continue;
    if( pFound ){
      *pzErr = sqlite3_mprintf("this database holds the histories of both %s "
                               "(%s) and %s (%s); adopt one by hand with "
                               "migrate_baseline()", pFound->zName,
                               pFound->zTable, t->zName, t->zTable);
      return SQLITE_ERROR;
    }
    pFound = t;
  }
  if( pFound==0 ){
    *pzErr = sqlite3_mprintf("no other tool's history table in this database "
                             "(looked for schema_migrations, goose_db_version, "
                             "_sqlx_migrations, __diesel_schema_migrations, "
                             "flyway_schema_history, _prisma_migrations)");
    return SQLITE_ERROR;
  }
  *ppTool = pFound;
  return SQLITE_OK;
}

/*
** diesel stores a folder's timestamp with its separators taken out
** (2018-1-5-93000_x -> "201815093000"), while the folder scan pads each
** field (20180105093000): find the folder whose digits match the text.
*/
static int dieselMatch(const Source *pSrc, const char *zText, i64 *pV){
  int i;
  for(i=0; i<pSrc->n; i++){
    const char *zFile = pSrc->a[i].up.label, *z = zText;
    if( strchr(zFile, '/')==0 ) continue;
    for(; *zFile && *zFile!='_'; zFile++){
      if( *zFile=='-' || *zFile=='.' || *zFile==':' ) continue;
      if( *zFile!=*z ) break;
      z++;
    }
    if( *zFile=='_' && *z==0 ){
      *pV = pSrc->a[i].version;
      return 1;
    }
  }
  return 0;
}

/* A version as the other tool stored it: an integer, or digits in text. */
static int versionOf(sqlite3_value *v, i64 *pV){
  const unsigned char *z;
  uint64_t x = 0;
  int nDigit = 0;
  if( sqlite3_value_type(v)==SQLITE_INTEGER ){
    *pV = sqlite3_value_int64(v);
    return *pV>=0;
  }
  z = sqlite3_value_text(v);
  if( z==0 ) return 0;
  for(; *z; z++){
    if( *z=='-' && nDigit>0 ) continue;
    if( *z<'0' || *z>'9' ) return 0;
    if( x > (uint64_t)(INT64_MAX - (*z-'0'))/10 ) return 0;
    x = x*10 + (uint64_t)(*z-'0');
    nDigit++;
  }
  *pV = (i64)x;
  return nDigit>0;
}

/* A folder name's version: "20221011172612_init" -> 20221011172612. */
static int folderNameVersion(const char *z, i64 *pV){
  uint64_t x = 0;
  int nDigit = 0;
  if( z==0 ) return 0;
  for(; *z>='0' && *z<='9'; z++){
    if( x > (uint64_t)(INT64_MAX - (*z-'0'))/10 ) return 0;
    x = x*10 + (uint64_t)(*z-'0');
    nDigit++;
  }
  *pV = (i64)x;
  return nDigit>0 && *z=='_';
}

/*
** The tool recorded the SHA-256 of the up file it ran: a file that hashes
** otherwise was edited since, and recording it as applied would claim SQL
** that never ran.  A file whose CRLF line ends were made LF (or the other
** way) by a checkout still matches: the tool wrote its hash over the same
** statements.
*/
static int checksumAgrees(const Migration *m, const char *zSum, int *pAgree,
                          char zHave[65], char **pzErr){
  Loaded ld;
  int rc = migrationLoad(m, &ld, pzErr);
  *pAgree = 0;
  if( rc ) return rc;
  memcpy(zHave, ld.checksum, 65);
  if( zSum && sqlite3_stricmp(zSum, ld.checksum)==0 ){
    *pAgree = 1;
  }else if( zSum ){
    /* The other line ends: LF -> CRLF and CRLF -> LF. */
    size_t i, n = 0;
    char *z = sqlite3_malloc64(ld.nUp*2 + 1);
    char zAlt[65];
    int pass;
    for(pass=0; z && pass<2 && !*pAgree; pass++){
      n = 0;
      for(i=0; i<ld.nUp; i++){
        char c = ld.upText[i];
        if( pass==0 && c=='\r' && i+1<ld.nUp && ld.upText[i+1]=='\n' ) continue;
        if( pass==1 && c=='\n' && (i==0 || ld.upText[i-1]!='\r') ) z[n++] = '\r';
        z[n++] = c;
      }
      sha256Hex(z, n, zAlt);
      *pAgree = sqlite3_stricmp(zSum, zAlt)==0;
    }
    if( z==0 ) rc = SQLITE_NOMEM;
    sqlite3_free(z);
  }
  loadedFree(&ld);
  return rc;
}

static int cmpI64(const void *a, const void *b){
  i64 x = *(const i64*)a, y = *(const i64*)b;
  return x<y ? -1 : x>y;
}

/* Read the versions the tool lists; golang-migrate's one row -> its number. */
static int readVersions(sqlite3 *db, const Tool *t, const Source *pSrc,
                        i64 **paV, int *pnV, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc = sqlite3_prepare_v2(db, t->zSql, -1, &p, 0), nAlloc = 0;
  *paV = 0;
  *pnV = 0;
  while( rc==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
    i64 v;
    const char *zText = (const char*)sqlite3_column_text(p, 0);
    int found = t->dieselNames && zText && dieselMatch(pSrc, zText, &v);
    if( t->folderNames && !folderNameVersion(zText, &v) ){
      *pzErr = sqlite3_mprintf("%s's %s lists migration '%s', whose name does "
                               "not start with <digits>_", t->zName, t->zTable,
                               zText);
      rc = SQLITE_ERROR;
      break;
    }
    if( t->folderNames ){
      const Migration *m = sourceFind((Source*)pSrc, v);
      char zHave[65];
      int agree = 1;
      if( m ){
        rc = checksumAgrees(m, (const char*)sqlite3_column_text(p, 1), &agree,
                            zHave, pzErr);
        if( rc ) break;
      }
      if( !agree ){
        *pzErr = sqlite3_mprintf("%s: the file changed since %s applied it "
                                 "(checksum %.12s..., %s recorded %.12s...)",
                                 m->up.label, t->zName, zHave, t->zName,
                                 sqlite3_column_text(p, 1));
        rc = SQLITE_ERROR;
        break;
      }
      found = 1;
    }
    if( !found && !versionOf(sqlite3_column_value(p, 0), &v) ){
      *pzErr = sqlite3_mprintf("%s's %s lists version '%s', which is not a "
                               "whole number", t->zName, t->zTable,
                               sqlite3_column_text(p, 0));
      rc = SQLITE_ERROR;
      break;
    }
    if( t->upTo && sqlite3_column_int(p, 1) ){
      *pzErr = sqlite3_mprintf("%s marked version %lld dirty (it failed "
                               "halfway): repair the database, clear the flag, "
                               "then adopt", t->zName, v);
      rc = SQLITE_ERROR;
      break;
    }
    rc = utilArrayReserve((void**)paV, &nAlloc, *pnV+1, sizeof(i64));
    if( rc==SQLITE_OK ) (*paV)[(*pnV)++] = v;
  }
  {
    int rcFin = sqlite3_finalize(p);
    if( rc==SQLITE_OK && rcFin ){
      rc = rcFin;
      *pzErr = sqlite3_mprintf("%s: %s", t->zTable, sqlite3_errmsg(db));
    }
  }
  if( rc==SQLITE_OK && *pnV>1 ) qsort(*paV, (size_t)*pnV, sizeof(i64), cmpI64);
  return rc;
}

/*
** The migrations of pSrc the other tool applied, as a flag per migration
** (aApplied[i] for pSrc->a[i]).  Fails when the folder and the tool's
** history disagree.
*/
int adoptForeign(sqlite3 *db, Source *pSrc, int *aApplied, const char **pzTool,
                 char **pzErr){
  const Tool *t = 0;
  i64 *aV = 0, newest;
  int nV = 0, i, rc;
  rc = findTool(db, &t, pzErr);
  if( rc==SQLITE_OK ) rc = readVersions(db, t, pSrc, &aV, &nV, pzErr);
  if( rc ){
    sqlite3_free(aV);
    return rc;
  }
  *pzTool = t->zName;
  memset(aApplied, 0, sizeof(int)*(size_t)pSrc->n);
  newest = nV ? aV[nV-1] : -1;
  for(i=0; i<nV; i++){
    Migration *m = sourceFind(pSrc, aV[i]);
    if( m==0 ){
      *pzErr = sqlite3_mprintf("%s applied version %lld, which is not in '%s'",
                               t->zName, aV[i], pSrc->origin);
      rc = SQLITE_ERROR;
      break;
    }
    aApplied[m - pSrc->a] = 1;
  }
  for(i=0; rc==SQLITE_OK && i<pSrc->n && pSrc->a[i].version<=newest; i++){
    if( t->upTo ){
      aApplied[i] = 1;
    }else if( !aApplied[i] ){
      *pzErr = sqlite3_mprintf("%s: %s never applied it, but applied the newer "
                               "version %lld; apply it with %s first, or "
                               "adopt with migrate_baseline()", pSrc->a[i].up.label,
                               t->zName, newest, t->zName);
      rc = SQLITE_ERROR;
    }
  }
  sqlite3_free(aV);
  return rc;
}
