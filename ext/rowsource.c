/*
** rowsource.c — migrations handed over as rows instead of files, for apps
** that carry their migrations inside the binary (WASM, mobile bundles,
** single executables) and have no folder to point at.
**
**   SELECT migrate_apply('SELECT version, name, up, down FROM app_migrations');
**   SELECT * FROM migrations('VALUES (1, ''init'', ''CREATE TABLE t(x);'', ''DROP TABLE t;'')');
**
** Wherever a function takes a migrations folder it also takes one read-only
** query (starting with SELECT, WITH or VALUES) whose rows are
** (version, name, up [, down]):
**
**   version  a whole number >= 0, unique
**   name     text, shown in errors and kept in the history
**   up       the up script; when there is no down column, or down is NULL,
**            up is read like a NNN_name.sql file, so one text with
**            -- migrate:up / -- migrate:down markers also works
**   down     the down script, or NULL
**
** The checksum is the SHA-256 of up, as it is of an up file, so status and
** the "changed" refusal work the same.  The query runs once per call, on the
** caller's connection, before the call's transaction begins.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <stdlib.h>
#include <string.h>

static int cmpMigration(const void *a, const void *b){
  const Migration *x = (const Migration*)a, *y = (const Migration*)b;
  if( x->version!=y->version ) return x->version<y->version ? -1 : 1;
  return 0;
}

/* Copy a text column into the pool, NUL-terminated. */
static const char *columnCopy(StrPool *pPool, sqlite3_stmt *p, int i, size_t *pn){
  const char *z = (const char*)sqlite3_column_text(p, i);
  size_t n = (size_t)sqlite3_column_bytes(p, i);
  *pn = n;
  return utilPoolAdd(pPool, z ? z : "", z ? n : 0, "");
}

/* "<version>_<name><zTail>" in the pool: how errors name a row. */
static const char *rowLabel(StrPool *pPool, i64 v, const char *zName,
                            const char *zTail){
  char *z = sqlite3_mprintf("%lld_%s", v, zName);
  const char *zOut = z ? utilPoolAdd(pPool, z, strlen(z), zTail) : 0;
  sqlite3_free(z);
  return zOut;
}

/* One row -> one migration, or an error naming the row. */
static int rowToMigration(StrPool *pPool, sqlite3_stmt *p, int nCol, i64 iRow,
                          Migration *m, char **pzErr){
  const char *zName = (const char*)sqlite3_column_text(p, 1);
  int hasDown = nCol>3 && sqlite3_column_type(p, 3)!=SQLITE_NULL;
  RowTexts *pRow;
  if( sqlite3_column_type(p, 0)!=SQLITE_INTEGER || sqlite3_column_int64(p, 0)<0 ){
    *pzErr = sqlite3_mprintf("migrations query: row %lld: version must be a whole number >= 0, "
                             "not %Q", iRow, sqlite3_column_text(p, 0));
    return SQLITE_ERROR;
  }
  m->version = sqlite3_column_int64(p, 0);
  if( zName==0 || zName[0]==0 ){
    *pzErr = sqlite3_mprintf("migrations query: row %lld (version %lld): name must not be %s",
                             iRow, m->version, zName ? "empty" : "NULL");
    return SQLITE_ERROR;
  }
  if( sqlite3_column_type(p, 2)==SQLITE_NULL ){
    *pzErr = sqlite3_mprintf("migrations query: row %lld (version %lld): up script is NULL",
                             iRow, m->version);
    return SQLITE_ERROR;
  }
  pRow = utilPoolAlloc(pPool, sizeof(RowTexts));
  if( pRow==0 ) return SQLITE_NOMEM;
  memset(pRow, 0, sizeof(*pRow));
  m->row = pRow;
  m->name = utilPoolAdd(pPool, zName, strlen(zName), "");
  m->up.label = rowLabel(pPool, m->version, zName, "");
  pRow->zUp = columnCopy(pPool, p, 2, &pRow->nUp);
  if( m->name==0 || m->up.label==0 || pRow->zUp==0 ) return SQLITE_NOMEM;
  m->how = hasDown ? FMT_WHOLE_UP : FMT_MARKED;
  if( hasDown ){
    m->down.label = rowLabel(pPool, m->version, zName, " (down)");
    pRow->zDown = columnCopy(pPool, p, 3, &pRow->nDown);
    if( m->down.label==0 || pRow->zDown==0 ) return SQLITE_NOMEM;
  }
  return SQLITE_OK;
}

static int queryError(sqlite3 *db, char **pzErr, const char *zWhy){
  *pzErr = sqlite3_mprintf("migrations query: %s", zWhy ? zWhy : sqlite3_errmsg(db));
  return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
}

/* Fill the empty *pSrc from the rows of zSql; the caller frees it, whatever
** the outcome (sourceFree). */
int rowsourceRead(sqlite3 *db, const char *zSql, Source *pSrc, char **pzErr){
  sqlite3_stmt *p = 0;
  const char *zTail = 0;
  int rc, nCol = 0, nAlloc = 0, i;
  i64 iRow = 0;
  pSrc->origin = sqlite3_mprintf("%s", zSql);
  if( pSrc->origin==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(db, zSql, -1, &p, &zTail);
  if( rc ){
    rc = rc==SQLITE_NOMEM ? rc : queryError(db, pzErr, 0);
  }else if( p==0 || sqlSkipSpace(zTail)[0]!=0 ){
    rc = queryError(db, pzErr, p ? "must be a single statement"
                                 : "is empty");
  }else if( !sqlite3_stmt_readonly(p) ){
    rc = queryError(db, pzErr, "must only read (SELECT, WITH or VALUES)");
  }else if( (nCol = sqlite3_column_count(p))<3 || nCol>4 ){
    rc = queryError(db, pzErr, "must return the columns version, name, up "
                               "and optionally down");
  }
  while( rc==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
    Migration *m;
    iRow++;
    rc = utilArrayReserve((void**)&pSrc->a, &nAlloc, pSrc->n+1, sizeof(Migration));
    if( rc ) break;
    m = &pSrc->a[pSrc->n++];
    memset(m, 0, sizeof(*m));
    rc = rowToMigration(&pSrc->pool, p, nCol, iRow, m, pzErr);
  }
  if( rc==SQLITE_OK ){
    rc = sqlite3_finalize(p);
    if( rc && rc!=SQLITE_NOMEM ) rc = queryError(db, pzErr, 0);
  }else{
    sqlite3_finalize(p);
  }
  if( rc==SQLITE_OK && pSrc->n>1 ){
    qsort(pSrc->a, (size_t)pSrc->n, sizeof(Migration), cmpMigration);
    for(i=1; i<pSrc->n; i++){
      if( pSrc->a[i].version==pSrc->a[i-1].version ){
        *pzErr = sqlite3_mprintf("two migrations have version %lld: %s and %s",
                                 pSrc->a[i].version, pSrc->a[i-1].up.label,
                                 pSrc->a[i].up.label);
        rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
        break;
      }
    }
  }
  return rc;
}
