/*
** adopt.c — which migrations another tool has applied to this database, read
** from that tool's own history, so migrate_adopt() can record them without
** running anything.  adoptfind.c finds the table; adoptrow.c reads a value.
**
**   dbmate          schema_migrations(version TEXT)          one row each
**   golang-migrate  schema_migrations(version, dirty)        one row: newest
**   goose           goose_db_version(version_id, is_applied) newest row wins
**   sqlx            _sqlx_migrations(version, success)
**   diesel          __diesel_schema_migrations(version TEXT)
**   Flyway          flyway_schema_history(version, success)
**   Prisma Migrate  _prisma_migrations(migration_name, checksum,
**                   finished_at, rolled_back_at)
**   Drizzle         __drizzle_migrations(hash, created_at)   the file's SHA-256
**   knex            knex_migrations(name)                    20240115_x.js
**   alembic         alembic_version(version_num)             the head only
**   TypeORM         migrations(timestamp, name)              timestamp
**   an app's runner migrations or _migrations, with a version column, or
**                   a name column: 001_init.sql, 001_init
**   rusqlite_migration and runners without a table: PRAGMA user_version,
**                   when it reads the same as a count and as the newest
**
** The other tool's table is only read; dropping it is left to the user once
** the switch is done.  Every version it lists must be in the folder, and no
** migration of the folder may sit unapplied below its newest one: both mean
** the folder and the database disagree, and guessing would run the wrong SQL.
** For the same reason a row that cannot be read is an error naming it.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <stdlib.h>
#include <string.h>

/*
** The SHA-256 hex a tool may have recorded for a file: of its bytes, and of
** its bytes with CRLF line ends made LF and LF made CRLF, since a checkout
** may have converted them after the tool hashed the same statements.
*/
typedef struct FileSums { char a[3][65]; } FileSums;

static int fileSums(const Migration *m, FileSums *pSums, char **pzErr){
  Loaded ld;
  char *z;
  int pass, rc = migrationLoad(m, &ld, pzErr);
  if( rc ) return rc;
  memcpy(pSums->a[0], ld.checksum, 65);
  z = sqlite3_malloc64(ld.nUp*2 + 1);
  for(pass=0; z && pass<2; pass++){
    size_t i, n = 0;
    for(i=0; i<ld.nUp; i++){
      char c = ld.upText[i];
      if( pass==0 && c=='\r' && i+1<ld.nUp && ld.upText[i+1]=='\n' ) continue;
      if( pass==1 && c=='\n' && (i==0 || ld.upText[i-1]!='\r') ) z[n++] = '\r';
      z[n++] = c;
    }
    sha256Hex(z, n, pSums->a[1+pass]);
  }
  if( z==0 ) rc = SQLITE_NOMEM;
  sqlite3_free(z);
  loadedFree(&ld);
  return rc;
}

static int sumsAgree(const FileSums *pSums, const char *zSum){
  int i;
  for(i=0; zSum && i<3; i++){
    if( sqlite3_stricmp(zSum, pSums->a[i])==0 ) return 1;
  }
  return 0;
}

/* The versions a tool's history lists, as they are read. */
typedef struct Versions {
  i64 *a;
  int n, nAlloc;
} Versions;

static int versionsAdd(Versions *p, i64 v){
  int rc = utilArrayReserve((void**)&p->a, &p->nAlloc, p->n+1, sizeof(i64));
  if( rc==SQLITE_OK ) p->a[p->n++] = v;
  return rc;
}

/* What one tool's rows are read against: the folder, and for Drizzle the
** hashes of its files (computed at the first row) and which rows took them. */
typedef struct Reader {
  const AdoptTool *t;
  Source *pSrc;
  FileSums *aSum;
  int *aTaken;
} Reader;

/*
** Prisma: "<digits>_<name>" and the SHA-256 of that folder's migration.sql.
** The tool recorded the hash of the up file it ran: a file that hashes
** otherwise was edited since, and recording it as applied would claim SQL
** that never ran.
*/
static int readFolderRow(Reader *r, sqlite3_stmt *p, i64 *pV, char **pzErr){
  const char *zText = (const char*)sqlite3_column_text(p, 0);
  const char *zSum = (const char*)sqlite3_column_text(p, 1);
  const Migration *m;
  FileSums sums;
  int rc;
  if( !adoptFolderVersion(zText, pV) ){
    *pzErr = sqlite3_mprintf("%s's %s lists migration '%s', whose name does "
                             "not start with <digits>_", r->t->zName,
                             r->t->zTable, zText);
    return SQLITE_ERROR;
  }
  m = sourceFind(r->pSrc, *pV);
  if( m==0 ) return SQLITE_OK;   /* "not in the folder", once all are read */
  rc = fileSums(m, &sums, pzErr);
  if( rc==SQLITE_OK && !sumsAgree(&sums, zSum) ){
    *pzErr = sqlite3_mprintf("%s: the file changed since %s applied it "
                             "(checksum %.12s..., %s recorded %.12s...)",
                             m->up.label, r->t->zName, sums.a[0], r->t->zName,
                             zSum);
    rc = SQLITE_ERROR;
  }
  return rc;
}

/*
** Drizzle: the row names no file, only its SHA-256; the migration is the one
** whose file hashes to it.  Two files of the same bytes hash alike: each row
** takes the first not taken yet.
*/
static int readHashRow(Reader *r, sqlite3_stmt *p, i64 *pV, char **pzErr){
  const char *zHash = (const char*)sqlite3_column_text(p, 0);
  const char *zWhen = (const char*)sqlite3_column_text(p, 1);
  int i, iFound = -1, rc = SQLITE_OK;
  if( r->aSum==0 ){
    r->aSum = sqlite3_malloc64(sizeof(FileSums)*(sqlite3_uint64)(r->pSrc->n+1));
    r->aTaken = sqlite3_malloc64(sizeof(int)*(sqlite3_uint64)(r->pSrc->n+1));
    if( r->aSum==0 || r->aTaken==0 ) return SQLITE_NOMEM;
    memset(r->aTaken, 0, sizeof(int)*(size_t)(r->pSrc->n+1));
    for(i=0; rc==SQLITE_OK && i<r->pSrc->n; i++){
      rc = fileSums(&r->pSrc->a[i], &r->aSum[i], pzErr);
    }
    if( rc ) return rc;
  }
  for(i=0; i<r->pSrc->n; i++){
    if( !sumsAgree(&r->aSum[i], zHash) ) continue;
    if( iFound<0 || (r->aTaken[iFound] && !r->aTaken[i]) ) iFound = i;
  }
  if( iFound<0 ){
    *pzErr = sqlite3_mprintf("%s's %s lists hash %.12s... (created_at %s), "
                             "which no file of '%s' hashes to: a file changed "
                             "since %s applied it, or is not in the folder",
                             r->t->zName, r->t->zTable, zHash,
                             zWhen ? zWhen : "NULL", r->pSrc->origin,
                             r->t->zName);
    return SQLITE_ERROR;
  }
  r->aTaken[iFound] = 1;
  *pV = r->pSrc->a[iFound].version;
  return SQLITE_OK;
}

/* One row of the tool's query -> the version it applied. */
static int readRow(Reader *r, sqlite3_stmt *p, i64 *pV, char **pzErr){
  const AdoptTool *t = r->t;
  sqlite3_value *pVal = sqlite3_column_value(p, 0);
  const char *zText = (const char*)sqlite3_column_text(p, 0);
  if( zText==0 ){
    *pzErr = sqlite3_mprintf("%s's %s has a row whose %s is NULL", t->zName,
                             t->zTable, sqlite3_column_name(p, 0));
    return SQLITE_ERROR;
  }
  switch( t->how ){
    case ADOPT_FOLDER: return readFolderRow(r, p, pV, pzErr);
    case ADOPT_HASH:   return readHashRow(r, p, pV, pzErr);
    case ADOPT_NAME:
      if( adoptNameVersion(zText, pV) ) return SQLITE_OK;
      *pzErr = sqlite3_mprintf("%s's %s lists '%s', which does not start with "
                               "a version (digits, then '_', '.' or the end)",
                               t->zName, t->zTable, zText);
      return SQLITE_ERROR;
    case ADOPT_DIESEL:
      if( adoptDieselMatch(r->pSrc, zText, pV) ) return SQLITE_OK;
      break;
  }
  if( !adoptVersionOf(pVal, pV) ){
    *pzErr = sqlite3_mprintf("%s's %s lists version '%s', which is not a "
                             "whole number", t->zName, t->zTable, zText);
    return SQLITE_ERROR;
  }
  if( t->how==ADOPT_UPTO && sqlite3_column_int(p, 1) ){
    *pzErr = sqlite3_mprintf("%s marked version %lld dirty (it failed "
                             "halfway): repair the database, clear the flag, "
                             "then adopt", t->zName, *pV);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/*
** alembic keeps only the head revision; which revisions came before it is
** written in its Python files, which the database does not have.  So the
** migration whose name carries the revision is the head, and every
** migration of the folder up to it counts as applied.  Several heads
** (branches) cannot be ordered from here.
*/
static int headVersion(const AdoptTool *t, Source *pSrc, const char *zHeads,
                       int nHead, Versions *pOut, char **pzErr){
  const Migration *pHead = 0;
  int i;
  if( nHead==0 ) return SQLITE_OK;   /* at base: nothing applied */
  if( nHead>1 ){
    *pzErr = sqlite3_mprintf("%s's %s holds %d head revisions (%s): its "
                             "branches cannot be told apart from the "
                             "database; merge them with %s first, or adopt "
                             "with migrate_baseline(dir, version)", t->zName,
                             t->zTable, nHead, zHeads, t->zName);
    return SQLITE_ERROR;
  }
  for(i=0; i<pSrc->n; i++){
    const Migration *m = &pSrc->a[i];
    if( !adoptNameHasRevision(m->name, zHeads) ) continue;
    if( pHead ){
      *pzErr = sqlite3_mprintf("both %s and %s carry %s's head revision '%s' "
                               "in their names; it must name one migration",
                               pHead->up.label, m->up.label, t->zName, zHeads);
      return SQLITE_ERROR;
    }
    pHead = m;
  }
  if( pHead==0 ){
    *pzErr = sqlite3_mprintf("no migration of '%s' carries %s's head revision "
                             "'%s' in its name: name its file <version>_%s_"
                             "<name>.sql, or adopt with migrate_baseline(dir, "
                             "version)", pSrc->origin, t->zName, zHeads, zHeads);
    return SQLITE_ERROR;
  }
  return versionsAdd(pOut, pHead->version);
}

/*
** No table, PRAGMA user_version > 0.  rusqlite_migration stores how many
** migrations ran (the first N of the folder); many runners store the newest
** version.  Both readings name the same migrations only when the folder's
** versions are 1, 2, ... N: then it is read, otherwise refused.
*/
static int countVersion(sqlite3 *db, Source *pSrc, Versions *pOut,
                        char **pzErr){
  i64 uv = 0, i;
  int rc = utilPragmaRead(db, "PRAGMA main.user_version", &uv);
  if( rc ){
    if( rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(db);
    return rc;
  }
  for(i=0; i<uv && i<pSrc->n && pSrc->a[i].version==i+1; i++){}
  if( i<uv ){
    *pzErr = sqlite3_mprintf("no other tool's history table is here, and "
                             "PRAGMA user_version is %lld, but the versions of "
                             "'%s' do not run 1, 2, ... %lld: it cannot be told "
                             "whether it counts the migrations applied or names "
                             "the newest; adopt with migrate_baseline(dir, "
                             "version)", uv, pSrc->origin, uv);
    return SQLITE_ERROR;
  }
  return versionsAdd(pOut, uv);
}

static int cmpI64(const void *a, const void *b){
  i64 x = *(const i64*)a, y = *(const i64*)b;
  return x<y ? -1 : x>y;
}

/* Read the versions the tool lists, in order. */
static int readVersions(sqlite3 *db, const AdoptTool *t, Source *pSrc,
                        Versions *pOut, char **pzErr){
  Reader r;
  sqlite3_stmt *p = 0;
  char *zHeads = 0;    /* alembic: its head revisions, ", " between */
  int nHead = 0, rc;
  memset(&r, 0, sizeof(r));
  r.t = t;
  r.pSrc = pSrc;
  if( t->how==ADOPT_COUNT ) return countVersion(db, pSrc, pOut, pzErr);
  rc = sqlite3_prepare_v2(db, t->zSql, -1, &p, 0);
  while( rc==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
    i64 v;
    if( t->how==ADOPT_HEAD && sqlite3_column_type(p, 0)!=SQLITE_NULL ){
      char *z = sqlite3_mprintf("%s%s%s", zHeads ? zHeads : "",
                                zHeads ? ", " : "", sqlite3_column_text(p, 0));
      sqlite3_free(zHeads);
      zHeads = z;
      nHead++;
      if( z==0 ) rc = SQLITE_NOMEM;
      continue;
    }
    rc = readRow(&r, p, &v, pzErr);
    if( rc==SQLITE_OK ) rc = versionsAdd(pOut, v);
  }
  {
    int rcFin = sqlite3_finalize(p);
    if( rc==SQLITE_OK && rcFin ){
      rc = rcFin;
      *pzErr = sqlite3_mprintf("%s: %s", t->zTable, sqlite3_errmsg(db));
    }
  }
  if( rc==SQLITE_OK && t->how==ADOPT_HEAD ){
    rc = headVersion(t, pSrc, zHeads, nHead, pOut, pzErr);
  }
  if( rc==SQLITE_OK && pOut->n>1 ){
    qsort(pOut->a, (size_t)pOut->n, sizeof(i64), cmpI64);
  }
  sqlite3_free(zHeads);
  sqlite3_free(r.aSum);
  sqlite3_free(r.aTaken);
  return rc;
}

/*
** The migrations of pSrc the other tool applied, as a flag per migration
** (aApplied[i] for pSrc->a[i]).  Fails when the folder and the tool's
** history disagree.
*/
int adoptForeign(sqlite3 *db, Source *pSrc, int *aApplied, const char **pzTool,
                 char **pzErr){
  const AdoptTool *t = 0;
  Versions vs;
  i64 newest;
  int i, rc, upTo;
  memset(&vs, 0, sizeof(vs));
  rc = adoptFindTool(db, &t, pzErr);
  if( rc==SQLITE_OK ) rc = readVersions(db, t, pSrc, &vs, pzErr);
  if( rc ){
    sqlite3_free(vs.a);
    return rc;
  }
  *pzTool = t->zName;
  memset(aApplied, 0, sizeof(int)*(size_t)pSrc->n);
  if( vs.n==0 ){
    sqlite3_free(vs.a);
    return SQLITE_OK;
  }
  /* These store the newest only: every migration up to it was applied. */
  upTo = t->how==ADOPT_UPTO || t->how==ADOPT_HEAD || t->how==ADOPT_COUNT;
  newest = vs.a[vs.n-1];
  for(i=0; i<vs.n; i++){
    Migration *m = sourceFind(pSrc, vs.a[i]);
    if( m==0 ){
      *pzErr = sqlite3_mprintf("%s applied version %lld, which is not in '%s'",
                               t->zName, vs.a[i], pSrc->origin);
      rc = SQLITE_ERROR;
      break;
    }
    aApplied[m - pSrc->a] = 1;
  }
  for(i=0; rc==SQLITE_OK && i<pSrc->n && pSrc->a[i].version<=newest; i++){
    if( upTo ){
      aApplied[i] = 1;
    }else if( !aApplied[i] ){
      *pzErr = sqlite3_mprintf("%s: %s never applied it, but applied the newer "
                               "version %lld; apply it with %s first, or "
                               "adopt with migrate_baseline()", pSrc->a[i].up.label,
                               t->zName, newest, t->zName);
      rc = SQLITE_ERROR;
    }
  }
  sqlite3_free(vs.a);
  return rc;
}
