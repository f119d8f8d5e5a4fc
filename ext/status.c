/*
** status.c — the `migrations` table-valued function.
**
**   SELECT * FROM migrations;                   -- the history: all 'applied'
**   SELECT * FROM migrations('db/migrations');  -- history merged with files
**   SELECT * FROM migrate_status('db/migrations');  -- the same, always
**
** Registered under two names: a table of the database named `migrations`
** (many applications and other tools keep one) hides a table-valued
** function of that name, so migrate_status is the name that always works.
**
** status is 'applied' (the file matches), 'pending' (not applied yet),
** 'out_of_order' (not applied, below the newest applied version, and
** migrate_apply refuses it: the out_of_order setting is off), 'changed'
** (applied, but the file's checksum differs) or 'missing' (applied, no file
** in the folder).  Rows come in version order.
**
** After them, a row per repeatable migration (R__name.sql, repeatable.c),
** in byte order of name, with a NULL version: 'pending' (never ran),
** 'applied' (its file's checksum is the one recorded), 'outdated' (it will
** run again) or 'missing' (recorded, no file).  Last, a row 'ignored' for
** each .sql file of the folder that is not read, with only its file name,
** so a file that was meant as a migration is seen.
**
** It reads files, so it is SQLITE_VTAB_DIRECTONLY: a view or trigger in a
** database file someone else wrote can never make it read this machine's
** files.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

#define STATUS_SCHEMA \
  "CREATE TABLE x(version INTEGER, name TEXT, status TEXT, applied_at TEXT," \
  " duration_ms REAL, checksum TEXT, reversible INTEGER, file TEXT," \
  " dir TEXT HIDDEN, up TEXT HIDDEN, down TEXT HIDDEN)"
#define COL_VERSION     0
#define COL_NAME        1
#define COL_STATUS      2
#define COL_APPLIED_AT  3
#define COL_DURATION    4
#define COL_CHECKSUM    5
#define COL_REVERSIBLE  6
#define COL_FILE        7
#define COL_DIR         8   /* first hidden column: migrations('dir') */
#define COL_UP          9
#define COL_DOWN        10

/* What a row needs of one file: its checksum (binary) and whether it has a
** down script.  33 bytes a file, so every file is read and checked before
** the first row, and a folder that cannot be read is an error, not rows and
** then an error. */
typedef struct FileSum {
  unsigned char sum[32];
  unsigned char hasDown;
} FileSum;

/* The row the cursor is on: a history row, a file, or both. */
typedef struct StatusRow {
  i64 version;
  const char *status;
  int isRep;           /* a repeatable migration's row: rr and m, no a */
  const RepeatRecord *rr;  /* its migrate_repeatable row, or NULL */
  const Applied *a;    /* history row, or NULL when pending */
  Migration *m;        /* file, or NULL when missing / no folder given */
  const Ignored *g;    /* a .sql file that is not read: the rest are NULL */
  char checksum[65];   /* the file's, when there is a file */
  int fileHasDown;
} StatusRow;

/*
** The history and the folder are both in version order: the cursor merges
** them a row at a time, so a status query holds one file (while it is
** hashed), one history row and 33 bytes a file, whatever the number of
** migrations.
*/
typedef struct StatusCursor {
  sqlite3_vtab_cursor base;
  sqlite3 *db;
  HistoryCursor hc;
  Source src;
  int hasSrc;
  FileSum *aSum;       /* one per file of src */
  int j;               /* next file of src */
  int jIgnored;        /* next ignored file of src, after the migrations */
  RepeatRecords rec;   /* migrate_repeatable, in order of name */
  FileSum *aRepSum;    /* one per repeatable of src */
  int iRep, iRec;      /* next repeatable file, next record */
  int eof;
  i64 olderThan;       /* pending below it: 'out_of_order' (outorder.c) */
  StatusRow r;         /* the current row */
  i64 iRow;            /* its rowid */
  char *zUp, *zDown;   /* scripts of the current row, fetched when asked */
  int scriptsFetched;  /* zUp/zDown belong to the current row */
  sqlite3_stmt *pHasDown;  /* reversible, for rows read from the index */
} StatusCursor;

typedef struct StatusVtab {
  sqlite3_vtab base;
  sqlite3 *db;         /* cursors read the history through it */
  MigrateConn *mc;     /* busy: refused inside a migrate call */
  const char *zName;   /* "migrations" or "migrate_status": errors say which */
} StatusVtab;

static int statusConnect(sqlite3 *db, void *pAux, int argc, const char *const *argv,
                         sqlite3_vtab **ppVtab, char **pzErr){
  StatusVtab *p;
  int rc;
  (void)argc; (void)pzErr;
  rc = sqlite3_declare_vtab(db, STATUS_SCHEMA);
  if( rc ) return rc;
  p = sqlite3_malloc64(sizeof(*p));
  if( p==0 ) return SQLITE_NOMEM;
  memset(p, 0, sizeof(*p));
  p->db = db;
  p->mc = (MigrateConn*)pAux;
  p->zName = sqlite3_stricmp(argv[0], "migrate_status")==0 ? "migrate_status"
                                                             : "migrations";
  /* It reads files: never from a view or trigger of an untrusted schema. */
  sqlite3_vtab_config(db, SQLITE_VTAB_DIRECTONLY);
  *ppVtab = &p->base;
  return SQLITE_OK;
}

static int statusDisconnect(sqlite3_vtab *p){
  sqlite3_free(p);
  return SQLITE_OK;
}

static int statusOpen(sqlite3_vtab *pVtab, sqlite3_vtab_cursor **ppCur){
  StatusCursor *c = sqlite3_malloc64(sizeof(*c));
  if( c==0 ) return SQLITE_NOMEM;
  memset(c, 0, sizeof(*c));
  c->db = ((StatusVtab*)pVtab)->db;
  c->eof = 1;
  *ppCur = &c->base;
  return SQLITE_OK;
}

static void scriptsFree(StatusCursor *c){
  sqlite3_free(c->zUp);
  sqlite3_free(c->zDown);
  c->zUp = c->zDown = 0;
  c->scriptsFetched = 0;
}

static void cursorReset(StatusCursor *c){
  historyClose(&c->hc);
  sqlite3_finalize(c->pHasDown);
  c->pHasDown = 0;
  if( c->hasSrc ) sourceFree(&c->src);
  c->hasSrc = 0;
  sqlite3_free(c->aSum);
  c->aSum = 0;
  c->j = 0;
  c->jIgnored = 0;
  repeatRecordsFree(&c->rec);
  sqlite3_free(c->aRepSum);
  c->aRepSum = 0;
  c->iRep = c->iRec = 0;
  c->olderThan = INT64_MIN;
  c->eof = 1;
  c->iRow = 0;
  memset(&c->r, 0, sizeof(c->r));
  scriptsFree(c);
}

static int statusClose(sqlite3_vtab_cursor *pCur){
  StatusCursor *c = (StatusCursor*)pCur;
  cursorReset(c);
  sqlite3_free(c);
  return SQLITE_OK;
}

static int hexValue(char c){
  return c<='9' ? c-'0' : c-'a'+10;
}

/* 64 lowercase hex digits, as sha256Hex writes them? */
static int isChecksum(const char *z){
  int k;
  for(k=0; k<64; k++){
    if( !((z[k]>='0' && z[k]<='9') || (z[k]>='a' && z[k]<='f')) ) return 0;
  }
  return z[64]==0;
}

static void sumFromHex(FileSum *f, const char *zHex){
  int k;
  for(k=0; k<32; k++){
    f->sum[k] = (unsigned char)(hexValue(zHex[2*k])<<4 | hexValue(zHex[2*k+1]));
  }
}

/*
** Read and hash n files, once, before the first row.  With the history
** (pHc, or NULL): an applied file whose recorded stat vouches for its
** checksum takes that checksum unread, and any other applied file is only
** hashed, as migrate_apply does (its down script shown is the history's).
** With migrate_repeatable's rows (pRec, or NULL), a repeatable whose row's
** stat vouches for the row's checksum likewise.
*/
static int sumMigrations(const Source *pSrc, const Migration *a, int n,
                         HistoryCursor *pHc, const RepeatRecords *pRec,
                         FileSum **paSum, char **pzErr){
  int i, rc = SQLITE_OK;
  FileSum *aSum = sqlite3_malloc64(sizeof(FileSum)*(sqlite3_uint64)(n+1));
  *paSum = aSum;
  if( aSum==0 ) return SQLITE_NOMEM;
  for(i=0; rc==SQLITE_OK && i<n; i++){
    Loaded ld;
    Script s;
    while( rc==SQLITE_OK && pHc && !pHc->eof && pHc->a.version<a[i].version ){
      rc = historyNext(pHc, pzErr);
    }
    if( rc ) break;
    aSum[i].hasDown = 0;
    if( pHc && !pHc->eof && pHc->a.version==a[i].version ){
      char zSum[65];
      int record;
      if( isChecksum(pHc->a.checksum)
       && stampVouches(&a[i].stamp, pHc->a.checksum, pHc->a.fileStat) ){
        sumFromHex(&aSum[i], pHc->a.checksum);
      }else{
        rc = migrationHash(pSrc, &a[i], zSum, &record, pzErr);
        if( rc==SQLITE_OK ) sumFromHex(&aSum[i], zSum);
      }
      continue;
    }
    if( pRec ){
      const RepeatRecord *rr = repeatFind(pRec, a[i].name);
      if( rr && isChecksum(rr->checksum)
       && stampVouches(&a[i].stamp, rr->checksum, rr->fileStat) ){
        sumFromHex(&aSum[i], rr->checksum);
        continue;
      }
    }
    rc = migrationLoad(&a[i], &ld, pzErr);
    if( rc ) return rc;
    sumFromHex(&aSum[i], ld.checksum);
    aSum[i].hasDown = (unsigned char)loadedDown(&ld, &s);
    loadedFree(&ld);
  }
  return rc;
}

/* Every file of the folder, the repeatable ones too. */
static int sumFiles(StatusCursor *c, char **pzErr){
  HistoryCursor hc;
  /* c->hc, open until the last row, has checked the table. */
  int rc = historyOpenAgain(c->db, &hc, pzErr);
  if( rc==SQLITE_OK ){
    rc = sumMigrations(&c->src, c->src.a, c->src.n, &hc, 0, &c->aSum, pzErr);
  }
  historyClose(&hc);
  if( rc==SQLITE_OK ){
    rc = sumMigrations(&c->src, c->src.aRep, c->src.nRep, 0, &c->rec,
                       &c->aRepSum, pzErr);
  }
  return rc;
}

/* What a row shows of a file: m, whose sums are f. */
static void rowFromSum(StatusRow *r, Migration *m, const FileSum *f){
  static const char hex[] = "0123456789abcdef";
  int k;
  r->m = m;
  for(k=0; k<32; k++){
    r->checksum[2*k] = hex[f->sum[k]>>4];
    r->checksum[2*k+1] = hex[f->sum[k]&0x0f];
  }
  r->checksum[64] = 0;
  r->fileHasDown = f->hasDown;
}

/* What a row shows of file j. */
static void rowFromFile(StatusCursor *c, StatusRow *r, int j){
  rowFromSum(r, &c->src.a[j], &c->aSum[j]);
}

/* A repeatable's row, once the versioned ones are done: the heads of
** migrate_repeatable and of the folder's repeatables, both by name. */
static void repeatRow(StatusCursor *c){
  StatusRow *r = &c->r;
  const RepeatRecord *rr = c->iRec<c->rec.n ? &c->rec.a[c->iRec] : 0;
  Migration *m = c->hasSrc && c->iRep<c->src.nRep ? &c->src.aRep[c->iRep] : 0;
  int cmp;
  if( rr==0 && m==0 ){
    /* Last, the .sql files that are not read. */
    c->eof = c->jIgnored>=c->src.nIgnored;
    if( c->eof ) return;
    c->iRow++;
    r->g = &c->src.aIgnored[c->jIgnored];
    r->status = "ignored";
    return;
  }
  c->iRow++;
  r->isRep = 1;
  cmp = rr==0 ? 1 : m==0 ? -1 : strcmp(rr->name, m->name);
  if( cmp<0 ){
    r->rr = rr;
    r->status = c->hasSrc ? "missing" : "applied";
    return;
  }
  rowFromSum(r, m, &c->aRepSum[c->iRep]);
  r->fileHasDown = 0;
  if( cmp>0 ){
    r->status = "pending";
  }else{
    r->rr = rr;
    r->status = strcmp(r->checksum, rr->checksum)==0 ? "applied" : "outdated";
  }
}

/* Make the current row from the heads of the history and the folder. */
static void currentRow(StatusCursor *c){
  StatusRow *r = &c->r;
  const Applied *a = c->hc.eof ? 0 : &c->hc.a;
  Migration *m = c->j<c->src.n ? &c->src.a[c->j] : 0;
  memset(r, 0, sizeof(*r));
  scriptsFree(c);
  if( a==0 && m==0 ){
    repeatRow(c);
    return;
  }
  c->eof = 0;
  c->iRow++;
  if( a && (m==0 || a->version<m->version) ){
    r->version = a->version;
    r->a = a;
    r->status = c->hasSrc ? "missing" : "applied";
  }else if( a==0 || m->version<a->version ){
    r->version = m->version;
    r->status = m->version<c->olderThan ? "out_of_order" : "pending";
    rowFromFile(c, r, c->j);
  }else{
    r->version = a->version;
    r->a = a;
    rowFromFile(c, r, c->j);
    r->status = strcmp(r->checksum, a->checksum)==0 ? "applied" : "changed";
  }
}

static void setVtabError(sqlite3_vtab_cursor *pCur, char *zErr){
  if( zErr ){
    sqlite3_vtab *pVtab = pCur->pVtab;
    sqlite3_free(pVtab->zErrMsg);
    pVtab->zErrMsg = sqlite3_mprintf("%s: %s", ((StatusVtab*)pVtab)->zName, zErr);
    sqlite3_free(zErr);
  }
}

static int statusFilter(sqlite3_vtab_cursor *pCur, int idxNum, const char *idxStr,
                        int argc, sqlite3_value **argv){
  StatusCursor *c = (StatusCursor*)pCur;
  char *zErr = 0;
  int rc;
  (void)idxStr; (void)argc;
  cursorReset(c);
  if( ((StatusVtab*)pCur->pVtab)->mc->busy ){
    /* From a migration (or a stored script): migrate's own functions, which
    ** read folders, are not for scripts. */
    c->eof = 1;
    setVtabError(pCur, sqlite3_mprintf("cannot be called from inside a "
                 "migration or while another migrate call is running"));
    return SQLITE_ERROR;
  }
  rc = historyOpen(c->db, &c->hc, &zErr);
  if( rc==SQLITE_OK ) rc = repeatRead(c->db, 0, &c->rec, &zErr);
  if( rc==SQLITE_OK && idxNum==1 ){
    const char *zDir = (const char*)sqlite3_value_text(argv[0]);
    if( zDir==0 || zDir[0]==0 ){
      zErr = sqlite3_mprintf("the directory argument is %s", zDir ? "empty" : "NULL");
      rc = SQLITE_ERROR;
    }else{
      rc = sourceOpenListing(c->db, zDir, &c->src, &zErr);
      c->hasSrc = rc==SQLITE_OK;
      if( rc==SQLITE_OK ) rc = sumFiles(c, &zErr);
      if( rc==SQLITE_OK ){
        rc = outorderFloor(c->db, ((StatusVtab*)pCur->pVtab)->mc->outOfOrder,
                           &c->olderThan, &zErr);
      }
    }
  }
  if( rc==SQLITE_OK ) currentRow(c);
  if( rc ) c->eof = 1;
  setVtabError(pCur, zErr);
  return rc;
}

/* Step past what the current row used: its history row, its file, or both. */
static int statusNext(sqlite3_vtab_cursor *pCur){
  StatusCursor *c = (StatusCursor*)pCur;
  char *zErr = 0;
  int rc = SQLITE_OK;
  if( c->r.g ){
    c->jIgnored++;
  }else if( c->r.isRep ){
    if( c->r.m ) c->iRep++;
    if( c->r.rr ) c->iRec++;
  }else{
    if( c->r.m ) c->j++;
    if( c->r.a ) rc = historyNext(&c->hc, &zErr);
  }
  if( rc==SQLITE_OK ) currentRow(c);
  if( rc ) c->eof = 1;
  setVtabError(pCur, zErr);
  return rc;
}

static int statusEof(sqlite3_vtab_cursor *pCur){
  return ((StatusCursor*)pCur)->eof;
}

/* up/down: the stored scripts when applied, else the file's; read lazily so
** a plain status query never keeps every script in memory. */
static int fetchScripts(StatusCursor *c, StatusRow *r, char **pzErr){
  int rc = SQLITE_OK;
  if( c->scriptsFetched ) return SQLITE_OK;
  scriptsFree(c);
  if( r->rr ){
    rc = repeatScript(c->db, r->rr->name, &c->zUp, pzErr);
  }else if( r->a ){
    rc = historyScripts(c->db, r->version, &c->zUp, &c->zDown, pzErr);
  }else if( r->m ){
    Loaded ld;
    rc = migrationLoad(r->m, &ld, pzErr);
    if( rc==SQLITE_OK ){
      Script s;
      c->zUp = loadedStoredUp(&ld);
      c->zDown = loadedStoredDown(&ld);
      if( c->zUp==0 || (c->zDown==0 && loadedDown(&ld, &s)) ) rc = SQLITE_NOMEM;
      loadedFree(&ld);
    }
  }
  if( rc==SQLITE_OK ) c->scriptsFetched = 1;
  return rc;
}

static int statusColumn(sqlite3_vtab_cursor *pCur, sqlite3_context *ctx, int i){
  StatusCursor *c = (StatusCursor*)pCur;
  StatusRow *r = &c->r;
  if( r->g ){
    /* An ignored file: its name and status, nothing else is known. */
    if( i==COL_STATUS ) sqlite3_result_text(ctx, r->status, -1, SQLITE_STATIC);
    if( i==COL_FILE ) sqlite3_result_text(ctx, r->g->file, -1, SQLITE_TRANSIENT);
    if( i==COL_DIR ) sqlite3_result_text(ctx, c->src.origin, -1, SQLITE_TRANSIENT);
    return SQLITE_OK;
  }
  switch( i ){
    case COL_VERSION:
      if( !r->isRep ) sqlite3_result_int64(ctx, r->version);
      break;
    case COL_NAME:
      sqlite3_result_text(ctx, r->rr ? r->rr->name : r->a ? r->a->name : r->m->name,
                          -1, SQLITE_TRANSIENT);
      break;
    case COL_STATUS:
      sqlite3_result_text(ctx, r->status, -1, SQLITE_STATIC);
      break;
    case COL_APPLIED_AT:
      if( r->rr ) sqlite3_result_text(ctx, r->rr->appliedAt, -1, SQLITE_TRANSIENT);
      if( r->a ) sqlite3_result_text(ctx, r->a->appliedAt, -1, SQLITE_TRANSIENT);
      break;
    case COL_DURATION:
      if( r->rr && r->rr->hasDuration ) sqlite3_result_double(ctx, r->rr->durationMs);
      if( r->a && r->a->hasDuration ) sqlite3_result_double(ctx, r->a->durationMs);
      break;
    case COL_CHECKSUM:
      sqlite3_result_text(ctx, r->m ? r->checksum : r->rr ? r->rr->checksum
                          : r->a->checksum, -1, SQLITE_TRANSIENT);
      break;
    case COL_REVERSIBLE: {
      int has = r->isRep ? 0 : r->a ? r->a->hasDown : r->fileHasDown;
      if( has<0 ){
        /* Read through the index, which has no script: asked of the row. */
        char *zErr = 0;
        int rc = historyHasDown(c->db, &c->pHasDown, r->version, &has, &zErr);
        if( rc ){
          if( zErr ) ctxErrorMsg(ctx, "%s: %s", ((StatusVtab*)pCur->pVtab)->zName, zErr);
          else sqlite3_result_error_code(ctx, rc);
          sqlite3_free(zErr);
          return rc;
        }
      }
      sqlite3_result_int(ctx, has);
      break;
    }
    case COL_FILE:
      if( r->m ) sqlite3_result_text(ctx, r->m->up.label, -1, SQLITE_TRANSIENT);
      break;
    case COL_UP:
    case COL_DOWN: {
      char *zErr = 0;
      int rc = fetchScripts(c, r, &zErr);
      if( rc ){
        if( zErr ) ctxErrorMsg(ctx, "%s: %s", ((StatusVtab*)pCur->pVtab)->zName, zErr);
        else sqlite3_result_error_code(ctx, rc);
        sqlite3_free(zErr);
        return rc;
      }
      sqlite3_result_text(ctx, i==COL_UP ? c->zUp : c->zDown, -1, SQLITE_TRANSIENT);
      break;
    }
    case COL_DIR:
      if( c->hasSrc ) sqlite3_result_text(ctx, c->src.origin, -1, SQLITE_TRANSIENT);
      break;
  }
  return SQLITE_OK;
}

static int statusRowid(sqlite3_vtab_cursor *pCur, sqlite3_int64 *pRowid){
  *pRowid = ((StatusCursor*)pCur)->iRow;
  return SQLITE_OK;
}

/*
** The hidden column dir is the function's argument.  Present but unusable
** (a join that cannot supply it yet) is SQLITE_CONSTRAINT so SQLite picks
** another plan; absent means "history only".
*/
static int statusBestIndex(sqlite3_vtab *pVtab, sqlite3_index_info *p){
  int i, iDir = -1, unusableDir = 0;
  (void)pVtab;
  for(i=0; i<p->nConstraint; i++){
    const struct sqlite3_index_constraint *k = &p->aConstraint[i];
    if( k->iColumn!=COL_DIR || k->op!=SQLITE_INDEX_CONSTRAINT_EQ ) continue;
    if( k->usable ) iDir = i; else unusableDir = 1;
  }
  if( iDir>=0 ){
    p->aConstraintUsage[iDir].argvIndex = 1;
    p->aConstraintUsage[iDir].omit = 1;
    p->idxNum = 1;
  }else if( unusableDir ){
    return SQLITE_CONSTRAINT;
  }
  /* No ORDER BY version is consumed: the repeatables' NULL versions come
  ** last here, and SQL sorts NULL first. */
  p->estimatedCost = iDir>=0 ? 1000.0 : 100.0;
  return SQLITE_OK;
}

/* Named fields: the struct grows with SQLite's versions (xIntegrity came
** in 3.44), and every field not named here is 0 whichever headers build it. */
static sqlite3_module statusModule = {
  .iVersion = 0,
  .xCreate = 0,      /* eponymous only, no CREATE VIRTUAL TABLE */
  .xConnect = statusConnect,
  .xBestIndex = statusBestIndex,
  .xDisconnect = statusDisconnect,
  .xOpen = statusOpen,
  .xClose = statusClose,
  .xFilter = statusFilter,
  .xNext = statusNext,
  .xEof = statusEof,
  .xColumn = statusColumn,
  .xRowid = statusRowid,
};

int statusRegister(sqlite3 *db, MigrateConn *mc){
  int rc;
  /* A failed registration calls the destructor itself. */
  mc->nRef++;
  rc = sqlite3_create_module_v2(db, "migrations", &statusModule, mc, connRelease);
  if( rc==SQLITE_OK ){
    mc->nRef++;
    rc = sqlite3_create_module_v2(db, "migrate_status", &statusModule, mc,
                                  connRelease);
  }
  return rc;
}
