/*
** rowtab.c — table-valued functions whose rows are computed whole, when the
** query starts: migrate_check('dir') and migrate_drift().
**
** A RowTab names the function, its columns and a fill function; the
** optional argument is a hidden column after the others, as in
** migrations('dir').  Both read files or run scripts on a scratch database,
** so they are SQLITE_VTAB_DIRECTONLY: a view or trigger in a database file
** someone else wrote can never make them run.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* ------------------------------------------------------------- rows */

static RowCell *rowsNext(RowSet *p){
  RowCell *c;
  if( utilArrayReserve((void**)&p->a, &p->nAlloc, p->n, sizeof(RowCell)) ) return 0;
  c = &p->a[p->n++];
  memset(c, 0, sizeof(*c));
  return c;
}

int rowsAddInt(RowSet *p, i64 v){
  RowCell *c = rowsNext(p);
  if( c==0 ) return SQLITE_NOMEM;
  c->type = SQLITE_INTEGER;
  c->i = v;
  return SQLITE_OK;
}

int rowsAddText(RowSet *p, const char *z){
  RowCell *c = rowsNext(p);
  if( c==0 ) return SQLITE_NOMEM;
  c->type = SQLITE_NULL;
  if( z ){
    c->z = sqlite3_mprintf("%s", z);
    if( c->z==0 ) return SQLITE_NOMEM;
    c->type = SQLITE_TEXT;
  }
  return SQLITE_OK;
}

static void rowsFree(RowSet *p){
  int i;
  for(i=0; i<p->n; i++) sqlite3_free(p->a[i].z);
  sqlite3_free(p->a);
  p->a = 0;
  p->n = p->nAlloc = 0;
}

/* ------------------------------------------------------- the module */

/* What one registration carries: the table's description and its owner's
** context, released with the module. */
typedef struct RowTabAux {
  const RowTab *pTab;
  void *pCtx;
  void (*xDestroy)(void*);
} RowTabAux;

static void auxFree(void *p){
  RowTabAux *a = (RowTabAux*)p;
  if( a->xDestroy ) a->xDestroy(a->pCtx);
  sqlite3_free(a);
}

typedef struct RowVtab {
  sqlite3_vtab base;
  sqlite3 *db;
  const RowTab *pTab;
  void *pCtx;
} RowVtab;

typedef struct RowCursor {
  sqlite3_vtab_cursor base;
  RowSet rows;
  int iRow, nRow;
  char *zArg;          /* the argument, shown in its hidden column */
} RowCursor;

static int rtConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                     sqlite3_vtab **ppVtab, char **pzErr){
  const RowTabAux *pA = (const RowTabAux*)pAux;
  const RowTab *pTab = pA->pTab;
  RowVtab *p;
  int rc;
  (void)argc; (void)argv; (void)pzErr;
  rc = sqlite3_declare_vtab(db, pTab->zSchema);
  if( rc ) return rc;
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  p->db = db;
  p->pTab = pTab;
  p->pCtx = pA->pCtx;
  /* Reads files, runs scripts: never from a view or trigger. */
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  *ppVtab = &p->base;
  return SQLITE_OK;
}

static int rtDisconnect(sqlite3_vtab *p){
  sqlite3_free(p);
  return SQLITE_OK;
}

static int rtOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur){
  RowCursor *c = sqlite3_malloc64(sizeof(*c));
  (void)pVtab;
  if( c==0 ) return SQLITE_NOMEM;
  memset(c, 0, sizeof(*c));
  *ppCur = &c->base;
  return SQLITE_OK;
}

static void rtReset(RowCursor *c){
  rowsFree(&c->rows);
  sqlite3_free(c->zArg);
  c->zArg = 0;
  c->iRow = c->nRow = 0;
}

static int rtClose(sqlite3_vtab_cursor *pCur){
  rtReset((RowCursor*)pCur);
  sqlite3_free(pCur);
  return SQLITE_OK;
}

static int rtFilter(sqlite3_vtab_cursor *pCur, int idxNum, const char *idxStr,
                    int argc, sqlite3_value **argv){
  RowCursor *c = (RowCursor*)pCur;
  RowVtab *v = (RowVtab*)pCur->pVtab;
  const RowTab *pTab = v->pTab;
  sqlite3_value *pArg = idxNum==1 && argc>0 ? argv[0] : 0;
  char *zErr = 0;
  int rc;
  (void)idxStr;
  rtReset(c);
  c->rows.nCol = pTab->nCol;
  if( pArg && sqlite3_value_type(pArg)!=SQLITE_NULL ){
    c->zArg = sqlite3_mprintf("%s", sqlite3_value_text(pArg));
    if( c->zArg==0 ) return SQLITE_NOMEM;
  }
  rc = pTab->xFill(v->db, v->pCtx, pArg, &c->rows, &zErr);
  if( rc ){
    rowsFree(&c->rows);
    if( zErr ){
      sqlite3_free(v->base.zErrMsg);
      v->base.zErrMsg = sqlite3_mprintf("%s: %s", pTab->zName, zErr);
    }
  }
  c->nRow = c->rows.n / (pTab->nCol ? pTab->nCol : 1);
  sqlite3_free(zErr);
  return rc;
}

static int rtNext(sqlite3_vtab_cursor *pCur){
  ((RowCursor*)pCur)->iRow++;
  return SQLITE_OK;
}

static int rtEof(sqlite3_vtab_cursor *pCur){
  RowCursor *c = (RowCursor*)pCur;
  return c->iRow>=c->nRow;
}

static int rtColumn(sqlite3_vtab_cursor *pCur, sqlite3_context *ctx, int i){
  RowCursor *c = (RowCursor*)pCur;
  int nCol = c->rows.nCol;
  RowCell *cell;
  if( i>=nCol ){
    if( c->zArg ) sqlite3_result_text(ctx, c->zArg, -1, SQLITE_TRANSIENT);
    return SQLITE_OK;
  }
  cell = &c->rows.a[c->iRow*nCol + i];
  if( cell->type==SQLITE_INTEGER ) sqlite3_result_int64(ctx, cell->i);
  else if( cell->type==SQLITE_TEXT ) sqlite3_result_text(ctx, cell->z, -1, SQLITE_TRANSIENT);
  return SQLITE_OK;
}

static int rtRowid(sqlite3_vtab_cursor *pCur, sqlite3_int64 *pRowid){
  *pRowid = ((RowCursor*)pCur)->iRow + 1;
  return SQLITE_OK;
}

/*
** The hidden argument column, when there is one, is the function's
** argument.  Present but unusable (a join that cannot supply it yet) is
** SQLITE_CONSTRAINT so SQLite picks another plan.
*/
static int rtBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *p){
  const RowTab *pTab = ((RowVtab*)pVtab)->pTab;
  int i, iArg = -1, unusable = 0;
  for(i=0; pTab->hasArg && i<p->nConstraint; i++){
    const struct sqlite3_index_constraint *k = &p->aConstraint[i];
    if( k->iColumn!=pTab->nCol || k->op!=SQLITE_INDEX_CONSTRAINT_EQ ) continue;
    if( k->usable ) iArg = i; else unusable = 1;
  }
  if( iArg>=0 ){
    p->aConstraintUsage[iArg].argvIndex = 1;
    p->aConstraintUsage[iArg].omit = 1;
    p->idxNum = 1;
  }else if( unusable ){
    return SQLITE_CONSTRAINT;
  }
  p->estimatedCost = 1000.0;
  return SQLITE_OK;
}

/* Named fields: the struct grows with SQLite's versions (xIntegrity came
** in 3.44), and every field not named here is 0 whichever headers build it. */
static sqlite3_module rowtabModule = {
  .iVersion = 0,
  .xCreate = 0,      /* eponymous only, no CREATE VIRTUAL TABLE */
  .xConnect = rtConnect,
  .xBestIndex = rtBestIndex,
  .xDisconnect = rtDisconnect,
  .xOpen = rtOpen,
  .xClose = rtClose,
  .xFilter = rtFilter,
  .xNext = rtNext,
  .xEof = rtEof,
  .xColumn = rtColumn,
  .xRowid = rtRowid,
};

int rowtabRegister(sqlite3 *db, const RowTab *pTab, void *pCtx,
                   void (*xDestroy)(void*)){
  RowTabAux *a = sqlite3_malloc64(sizeof(*a));
  if( a==0 ){
    if( xDestroy ) xDestroy(pCtx);
    return SQLITE_NOMEM;
  }
  a->pTab = pTab;
  a->pCtx = pCtx;
  a->xDestroy = xDestroy;
  /* A failed registration calls the destructor itself. */
  return sqlite3_create_module_v2(db, pTab->zName, &rowtabModule, a, auxFree);
}
