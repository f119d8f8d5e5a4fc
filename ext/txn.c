/*
** txn.c — who owns the transaction, and leaving the connection as it was.
**
** Called in autocommit mode, a migrate call owns its transaction:
**   foreign_keys on?  -> PRAGMA foreign_keys=OFF (it is a no-op once inside)
**   BEGIN IMMEDIATE      (the write lock first, the history read after)
**   SAVEPOINT migrate_fk (the mark: the state before the scripts)
**   ... scripts ...
**   PRAGMA foreign_key_check  (new violations roll the whole call back)
**   COMMIT, then PRAGMA foreign_keys=ON again
** That is SQLite's documented procedure for table rebuilds.  Violations
** the database already had do not count: those of a table the connection
** knows to have some are noted at the mark; one found only at the end is
** looked up at the mark, and the transaction's migrations run again
** (txnFkCheck, doc/guarantees.md "Foreign keys").
**
** Called inside the caller's transaction it uses a savepoint and never
** commits or rolls back the caller's work; foreign keys are deferred for the
** duration (foreign_keys itself cannot change there) and checked the same way.
**
** Either way the connection settings a script could change are read before
** and put back after, so the connection is the same after the call.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <stdlib.h>
#include <string.h>

/* Connection PRAGMAs restored after every call (pragmas.h). */
static const char *const azPragma[MIGRATE_NPRAGMA] = { MIGRATE_PRAGMA_NAMES };
_Static_assert(sizeof((const char*[]){ MIGRATE_PRAGMA_NAMES })
               == MIGRATE_NPRAGMA*sizeof(const char*),
               "MIGRATE_NPRAGMA must count MIGRATE_PRAGMA_NAMES");

static int pragmaInt(sqlite3 *db, const char *zName, i64 *pV){
  char *zSql = sqlite3_mprintf("PRAGMA main.%s", zName);
  int rc = zSql ? utilPragmaRead(db, zSql, pV) : SQLITE_NOMEM;
  sqlite3_free(zSql);
  return rc;
}

/* A value that cannot be read cannot be put back: the call must not start. */
static int pragmasSave(sqlite3 *db, i64 *aSaved){
  int i, rc = SQLITE_OK;
  for(i=0; rc==SQLITE_OK && i<MIGRATE_NPRAGMA; i++){
    rc = pragmaInt(db, azPragma[i], &aSaved[i]);
  }
  return rc;
}

static int pragmaSet(sqlite3 *db, const char *zName, i64 v){
  char *zSql = sqlite3_mprintf("PRAGMA main.%s=%lld", zName, v);
  int rc = zSql ? sqlite3_exec(db, zSql, 0, 0, 0) : SQLITE_NOMEM;
  sqlite3_free(zSql);
  return rc;
}

/*
** Put back every setting that differs from aSaved; SQLITE_OK if all did.
** A failed read or write is tried once more (an allocation that failed once
** may well succeed next), and one that still cannot be read is written
** anyway.  Reading again first matters inside a transaction, where some
** (synchronous) cannot be written at all, even to the value they have.
*/
static int pragmasRestore(sqlite3 *db, const i64 *aSaved){
  int i, rc = SQLITE_OK;
  for(i=0; i<MIGRATE_NPRAGMA; i++){
    i64 v;
    if( (pragmaInt(db, azPragma[i], &v)!=SQLITE_OK
         && pragmaInt(db, azPragma[i], &v)!=SQLITE_OK) || v!=aSaved[i] ){
      int rc2 = pragmaSet(db, azPragma[i], aSaved[i]);
      if( rc2 ) rc2 = pragmaSet(db, azPragma[i], aSaved[i]);
      if( rc==SQLITE_OK ) rc = rc2;
    }
  }
  return rc;
}

/*
** PRAGMAs every database of the connection (main, temp, each attached one)
** has of its own, which the list above does not put back.  A migration may
** name only main when it sets one (script.c), but written without a
** database name mmap_size, secure_delete and journal_mode change every
** database at once; so each one open when the call began gets its own back.  journal_mode is put back only
** between the rollback-journal modes: WAL is a property of the database
** file, and a migration that turns it on or off means it.
*/
static const char *const azPerDbPragma[] = {
  "mmap_size", "secure_delete", "max_page_count"
};
#define N_PER_DB_PRAGMA (int)(sizeof(azPerDbPragma)/sizeof(azPerDbPragma[0]))

typedef struct PerDbPragmas PerDbPragmas;
struct PerDbPragmas {
  char *zName;
  i64 a[N_PER_DB_PRAGMA];
  char zJournal[16];
};

/* A database's PRAGMA, or UNREAD: one that cannot be read is not put back. */
#define UNREAD ((i64)(-0x7fffffffffffffffLL - 1))

/* *pV is UNREAD when the setting cannot be read; the error is returned. */
static int perDbRead(sqlite3 *db, const char *zDb, const char *zName, i64 *pV){
  char *zSql = sqlite3_mprintf("PRAGMA \"%w\".%s", zDb, zName);
  int rc = zSql ? utilPragmaRead(db, zSql, pV) : SQLITE_NOMEM;
  if( rc ) *pV = UNREAD;
  sqlite3_free(zSql);
  return rc;
}

static i64 perDbInt(sqlite3 *db, const char *zDb, const char *zName){
  i64 v;
  perDbRead(db, zDb, zName, &v);
  return v;
}

/* A database's journal mode into zOut ("" when it cannot be read); returns
** SQLITE_NOMEM when memory was short, so a restore can say so. */
static int perDbJournal(sqlite3 *db, const char *zDb, char *zOut, int nOut){
  char *zSql = sqlite3_mprintf("PRAGMA \"%w\".journal_mode", zDb);
  zOut[0] = 0;
  if( zSql==0 ) return SQLITE_NOMEM;
  utilPragmaValue(db, zSql, zOut, nOut);
  sqlite3_free(zSql);
  return zOut[0]==0 && sqlite3_errcode(db)==SQLITE_NOMEM ? SQLITE_NOMEM : SQLITE_OK;
}

static void perDbFree(Txn *t){
  PerDbPragmas *a = t->aPerDb;
  int i;
  for(i=0; i<t->nPerDb; i++) sqlite3_free(a[i].zName);
  sqlite3_free(a);
  t->aPerDb = 0;
  t->nPerDb = 0;
}

/* The databases open now, and their PRAGMAs.  Out of memory leaves fewer
** saved; main's pragmas.h list is saved apart from these. */
static void perDbSave(Txn *t){
  sqlite3_stmt *p = 0;
  PerDbPragmas *a = 0;
  int n = 0, nAlloc = 0, i, k;
  if( sqlite3_prepare_v2(t->db, "SELECT name FROM pragma_database_list",
                         -1, &p, 0)!=SQLITE_OK ) return;
  while( sqlite3_step(p)==SQLITE_ROW ){
    const char *zName = (const char*)sqlite3_column_text(p, 0);
    if( zName==0 || utilArrayReserve((void**)&a, &nAlloc, n, sizeof(*a)) ) break;
    a[n].zName = sqlite3_mprintf("%s", zName);
    if( a[n].zName==0 ) break;
    n++;
  }
  sqlite3_finalize(p);
  for(i=0; i<n; i++){
    for(k=0; k<N_PER_DB_PRAGMA; k++){
      a[i].a[k] = perDbInt(t->db, a[i].zName, azPerDbPragma[k]);
    }
    perDbJournal(t->db, a[i].zName, a[i].zJournal, (int)sizeof(a[i].zJournal));
  }
  t->aPerDb = a;
  t->nPerDb = n;
}

static int perDbRestore(Txn *t){
  PerDbPragmas *a = t->aPerDb;
  int i, k, rc = SQLITE_OK;
  for(i=0; i<t->nPerDb; i++){
    char zNow[16];
    for(k=0; k<N_PER_DB_PRAGMA; k++){
      i64 now;
      if( a[i].a[k]==UNREAD ) continue;
      /* Out of memory is reported: the setting may have been changed and
      ** not put back.  Other errors (a locked file) leave it as it is. */
      if( perDbRead(t->db, a[i].zName, azPerDbPragma[k], &now)==SQLITE_NOMEM ){
        rc = SQLITE_NOMEM;
        continue;
      }
      if( now!=UNREAD && now!=a[i].a[k] ){
        char *zSql = sqlite3_mprintf("PRAGMA \"%w\".%s=%lld", a[i].zName,
                                     azPerDbPragma[k], a[i].a[k]);
        int rc2 = zSql ? sqlite3_exec(t->db, zSql, 0, 0, 0) : SQLITE_NOMEM;
        sqlite3_free(zSql);
        if( rc==SQLITE_OK ) rc = rc2;
      }
    }
    if( perDbJournal(t->db, a[i].zName, zNow, (int)sizeof(zNow))==SQLITE_NOMEM ){
      rc = SQLITE_NOMEM;
    }
    if( a[i].zJournal[0] && zNow[0] && sqlite3_stricmp(zNow, a[i].zJournal)!=0
     && sqlite3_stricmp(zNow, "wal")!=0 && sqlite3_stricmp(a[i].zJournal, "wal")!=0 ){
      char *zSql = sqlite3_mprintf("PRAGMA \"%w\".journal_mode=%s", a[i].zName,
                                   a[i].zJournal);
      int rc2 = zSql ? sqlite3_exec(t->db, zSql, 0, 0, 0) : SQLITE_NOMEM;
      sqlite3_free(zSql);
      if( rc==SQLITE_OK ) rc = rc2;
    }
  }
  return rc;
}

/* Every setting back as it was when the call began. */
int txnPragmasRestore(Txn *t){
  int rc = pragmasRestore(t->db, t->aPragma);
  int rc2 = perDbRestore(t);
  return rc ? rc : rc2;
}

/* Note who owns the transaction and what the settings are, before anything. */
int txnStart(Txn *t, sqlite3 *db){
  int rc;
  memset(t, 0, sizeof(*t));
  t->db = db;
  t->owned = sqlite3_get_autocommit(db);
  rc = utilPragmaRead(db, "PRAGMA main.user_version", &t->force.userVersion);
  if( rc==SQLITE_OK ) rc = pragmasSave(db, t->aPragma);
  if( rc==SQLITE_OK ) perDbSave(t);
  t->fkOn = t->aPragma[0]!=0;
  t->deferWasOn = t->aPragma[1]!=0;
  return rc;
}

int txnBegin(Txn *t, char **pzErr){
  int rc;
  /* Running a transaction's migrations again: it is open, at the mark. */
  if( t->replay && t->open ) return SQLITE_OK;
  if( t->owned ){
    if( t->fkOn ){
      /* sqlite3_db_config() is PRAGMA foreign_keys without a statement:
      ** it works when SQLite refuses to run any (see txnFinish). */
      rc = sqlite3_db_config(t->db, SQLITE_DBCONFIG_ENABLE_FKEY, 0, (int*)0);
      if( rc ) return rc;
    }
    struct timespec t0;
    utilClockNow(&t0);
    rc = utilExec(t->db, "BEGIN IMMEDIATE", pzErr);
    /* The wait for the write lock (busy_timeout), for migrate_log. */
    t->lockWaitMs = utilMsSince(&t0);
    t->nBegun++;
  }else{
    rc = utilExec(t->db, "SAVEPOINT migrate", pzErr);
    if( rc==SQLITE_OK && t->fkOn && !t->deferWasOn ){
      t->open = 1;
      t->settingsTouched = 1;   /* defer_foreign_keys goes back after */
      rc = utilExec(t->db, "PRAGMA defer_foreign_keys=ON", pzErr);
    }
  }
  if( rc==SQLITE_OK ) t->open = 1;
  /* Armed after BEGIN: turning foreign keys off expires every statement. */
  if( rc==SQLITE_OK ) rc = utilForceArm(t->db, &t->force);
  if( rc && rc!=SQLITE_NOMEM && *pzErr==0 ) *pzErr = utilDbErr(t->db);
  return rc;
}

/* One row of PRAGMA foreign_key_check. */
typedef struct FkRow {
  char *zTable, *zParent;
  i64 rowid;
  int hasRowid, fkid;
  int iOrder;          /* position in SQLite's report */
} FkRow;

/* Table names, each once. */
typedef struct FkNames FkNames;
struct FkNames {
  char **az;
  int n, nAlloc;
};

typedef struct FkSet FkSet;
struct FkSet {
  FkRow *a;
  int n, nAlloc;
  FkNames noted;       /* a baseline: the tables whose violations it holds */
  int all;             /* ... or every table's */
};

static void fkNamesClear(FkNames *p){
  int i;
  for(i=0; i<p->n; i++) sqlite3_free(p->az[i]);
  sqlite3_free(p->az);
  memset(p, 0, sizeof(*p));
}

void txnFkHintFree(FkNames *p){
  if( p ){
    fkNamesClear(p);
    sqlite3_free(p);
  }
}

static int fkNamesHas(const FkNames *p, const char *zName){
  int i;
  for(i=0; p && i<p->n; i++){
    if( strcmp(p->az[i], zName)==0 ) return 1;
  }
  return 0;
}

static int fkNamesAdd(FkNames *p, const char *zName){
  if( fkNamesHas(p, zName) ) return SQLITE_OK;
  if( utilArrayReserve((void**)&p->az, &p->nAlloc, p->n, sizeof(char*)) ){
    return SQLITE_NOMEM;
  }
  p->az[p->n] = sqlite3_mprintf("%s", zName);
  if( p->az[p->n]==0 ) return SQLITE_NOMEM;
  p->n++;
  return SQLITE_OK;
}

static void fkSetFree(FkSet *p){
  int i;
  for(i=0; i<p->n; i++){
    sqlite3_free(p->a[i].zTable);
    sqlite3_free(p->a[i].zParent);
  }
  sqlite3_free(p->a);
  fkNamesClear(&p->noted);
  memset(p, 0, sizeof(*p));
}

static int fkCmp(const void *a, const void *b){
  const FkRow *x = (const FkRow*)a, *y = (const FkRow*)b;
  int c = strcmp(x->zTable, y->zTable);
  if( c ) return c;
  if( x->hasRowid!=y->hasRowid ) return x->hasRowid - y->hasRowid;
  if( x->rowid!=y->rowid ) return x->rowid<y->rowid ? -1 : 1;
  if( x->fkid!=y->fkid ) return x->fkid - y->fkid;
  return strcmp(x->zParent, y->zParent);
}

/* The violations in main (zTable NULL) or in one table of it, added to p
** in the order SQLite reports them.  On an error p is as it was. */
static int fkCollect(sqlite3 *db, const char *zTable, FkSet *p){
  sqlite3_stmt *pStmt = 0;
  int n0 = p->n, i;
  char *zSql = zTable ? sqlite3_mprintf("PRAGMA main.foreign_key_check(\"%w\")", zTable) : 0;
  int rc = zTable && zSql==0 ? SQLITE_NOMEM
         : sqlite3_prepare_v2(db, zSql ? zSql : "PRAGMA main.foreign_key_check", -1,
                              &pStmt, 0);
  sqlite3_free(zSql);
  while( rc==SQLITE_OK && sqlite3_step(pStmt)==SQLITE_ROW ){
    FkRow *r;
    if( utilArrayReserve((void**)&p->a, &p->nAlloc, p->n, sizeof(FkRow)) ){
      rc = SQLITE_NOMEM;
      break;
    }
    r = &p->a[p->n];
    r->zTable = sqlite3_mprintf("%s", sqlite3_column_text(pStmt, 0));
    r->hasRowid = sqlite3_column_type(pStmt, 1)!=SQLITE_NULL;
    r->rowid = sqlite3_column_int64(pStmt, 1);
    r->zParent = sqlite3_mprintf("%s", sqlite3_column_text(pStmt, 2));
    r->fkid = sqlite3_column_int(pStmt, 3);
    r->iOrder = p->n;
    p->n++;
    if( r->zTable==0 || r->zParent==0 ) rc = SQLITE_NOMEM;
  }
  { int rcFin = sqlite3_finalize(pStmt); if( rc==SQLITE_OK ) rc = rcFin; }
  if( rc ){
    for(i=n0; i<p->n; i++){
      sqlite3_free(p->a[i].zTable);
      sqlite3_free(p->a[i].zParent);
    }
    p->n = n0;
  }
  return rc;
}

static void fkBaselineFree(Txn *t){
  if( t->pBaseline ){
    fkSetFree(t->pBaseline);
    sqlite3_free(t->pBaseline);
    t->pBaseline = 0;
  }
  t->fkMark = 0;
}

/*
** Note the violations one table has now, in the baseline.  A table that
** cannot be checked (it does not exist yet, or a foreign key of it does not
** resolve: "foreign key mismatch") is noted with none, so every violation
** it shows later counts.  Other errors (I/O, memory, an interrupt) fail.
*/
static int fkNoted(const FkSet *pBase, const char *zTable){
  return pBase && (pBase->all || fkNamesHas(&pBase->noted, zTable));
}

static int fkNote(Txn *t, const char *zTable){
  FkSet *pBase = t->pBaseline;
  int rc;
  if( fkNoted(pBase, zTable) ) return SQLITE_OK;
  rc = fkCollect(t->db, zTable, pBase);
  if( (rc&0xff)==SQLITE_ERROR ) rc = SQLITE_OK;
  if( rc==SQLITE_OK ) rc = fkNamesAdd(&pBase->noted, zTable);
  return rc;
}

/* The connection's hint: the tables of zFrom's rows (NULL: none). */
static void fkHintSet(Txn *t, const FkSet *pFrom){
  FkNames *pHint;
  int i;
  if( t->ppHint==0 ) return;
  if( *t->ppHint==0 ){
    if( pFrom==0 || pFrom->n==0 ) return;
    *t->ppHint = sqlite3_malloc64(sizeof(FkNames));
    if( *t->ppHint==0 ) return;
    memset(*t->ppHint, 0, sizeof(FkNames));
  }
  pHint = *t->ppHint;
  fkNamesClear(pHint);
  for(i=0; pFrom && i<pFrom->n; i++){
    /* Out of memory only makes the hint shorter: it is a hint. */
    if( fkNamesAdd(pHint, pFrom->a[i].zTable) ) break;
  }
}

/*
** Does the statement that called us read a table of the connection?  A
** rollback to the mark that undoes a schema change stops every cursor
** (SQLITE_ABORT_ROLLBACK), the caller's too: asked of its program, as
** EXPLAIN shows it.  1 when that cannot be told.  (Other statements may
** not run during a call: callGuard.)
*/
static int fkCallerReads(sqlite3 *db){
  sqlite3_stmt *p = 0, *pEx = 0;
  int reads = 0;
  char *zSql;
  while( (p = sqlite3_next_stmt(db, p))!=0 && !sqlite3_stmt_busy(p) ){}
  if( p==0 ) return 0;   /* none: a connection of our own (scratch.c) */
  if( sqlite3_sql(p)==0 ) return 1;
  zSql = sqlite3_mprintf("EXPLAIN %s", sqlite3_sql(p));
  if( zSql==0 || sqlite3_prepare_v2(db, zSql, -1, &pEx, 0)!=SQLITE_OK ) reads = 1;
  while( !reads && sqlite3_step(pEx)==SQLITE_ROW ){
    const char *zOp = (const char*)sqlite3_column_text(pEx, 1);
    reads = zOp==0 || strcmp(zOp, "OpenRead")==0 || strcmp(zOp, "OpenWrite")==0
         || strcmp(zOp, "ReopenIdx")==0 || strcmp(zOp, "OpenDup")==0;
  }
  if( pEx && sqlite3_finalize(pEx)!=SQLITE_OK ) reads = 1;
  sqlite3_free(zSql);
  return reads;
}

/*
** Before the first script of a transaction: mark the state the scripts
** start from (savepoint migrate_fk), and note the violations of the tables
** that had some at the connection's last check.  The database as a whole is
** checked only once, before the commit, as SQLite's documented procedure
** does; if that check finds violations in a table not noted here, the
** state at the mark is where they are looked up (txnFkCheck).
*/
int txnScriptStarting(Txn *t, char **pzErr){
  int rc, i;
  if( t->changed ) return SQLITE_OK;
  t->changed = 1;
  if( t->replay ){
    /* Run again up to here: the mark and the baseline are as they were. */
    t->replay = 0;
    return SQLITE_OK;
  }
  if( !t->fkOn ) return SQLITE_OK;
  t->pBaseline = sqlite3_malloc64(sizeof(FkSet));
  if( t->pBaseline==0 ) return SQLITE_NOMEM;
  memset(t->pBaseline, 0, sizeof(FkSet));
  if( t->fkCaller==0 ) t->fkCaller = fkCallerReads(t->db) ? 2 : 1;
  if( t->fkCaller==2 ){
    /* No going back to a mark under the caller's reading: every table's
    ** violations noted now.  A foreign key that does not resolve ("foreign
    ** key mismatch") may be what the scripts fix: none noted then, and the
    ** check before the commit decides. */
    t->pBaseline->all = 1;
    rc = fkCollect(t->db, 0, t->pBaseline);
    if( rc==SQLITE_NOMEM ) return rc;
    if( t->pBaseline->n>1 ){
      qsort(t->pBaseline->a, (size_t)t->pBaseline->n, sizeof(FkRow), fkCmp);
    }
    return SQLITE_OK;
  }
  rc = utilExec(t->db, "SAVEPOINT migrate_fk", pzErr);
  if( rc ) return rc;
  t->fkMark = 1;
  for(i=0; rc==SQLITE_OK && t->ppHint && *t->ppHint && i<(*t->ppHint)->n; i++){
    rc = fkNote(t, (*t->ppHint)->az[i]);
  }
  if( rc && rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(t->db);
  return rc;
}

/*
** The violations of now that the baseline does not hold, compared as
** multisets: a WITHOUT ROWID table reports no rowid, so equal rows there are
** told apart only by how many there are.  now is sorted; *ppFirst is the new
** one SQLite reported first.
*/
static int fkCountNew(const FkSet *now, const FkSet *pBase, FkRow **ppFirst){
  int i, nNew = 0;
  *ppFirst = 0;
  for(i=0; i<now->n; ){
    int j = i, nOld = 0, k;
    while( j<now->n && fkCmp(&now->a[i], &now->a[j])==0 ) j++;
    if( pBase && pBase->n ){
      FkRow *pHit = bsearch(&now->a[i], pBase->a, (size_t)pBase->n,
                            sizeof(FkRow), fkCmp);
      if( pHit ){
        FkRow *pLo = pHit, *pHi = pHit;
        while( pLo>pBase->a && fkCmp(pLo-1, pHit)==0 ) pLo--;
        while( pHi+1<pBase->a+pBase->n && fkCmp(pHi+1, pHit)==0 ) pHi++;
        nOld = (int)(pHi-pLo)+1;
      }
    }
    for(k=i+nOld; k<j; k++){
      nNew++;
      if( *ppFirst==0 || now->a[k].iOrder<(*ppFirst)->iOrder ) *ppFirst = &now->a[k];
    }
    i = j;
  }
  return nNew;
}

/*
** Violations in tables the baseline has not noted: were they there at the
** mark?  Back to the mark (the savepoint stays), note those tables there.
** Any violation still new fails the call; if all were there already, the
** work since the mark is gone and must be done again: t->retry, and the
** caller runs the transaction's migrations again from the mark (call.c),
** to a check that now knows those tables.  Each retry notes at least one
** more table, so they end.
*/
static int fkLookBack(Txn *t, const FkSet *now, int *pnNew, FkRow **ppFirst,
                      char **pzErr){
  int rc, i;
  rc = sqlite3_exec(t->db, "ROLLBACK TO migrate_fk", 0, 0, 0);
  /* A schema the rollback put back expired the statement kept armed. */
  if( rc==SQLITE_OK ) rc = utilForceArm(t->db, &t->force);
  for(i=0; rc==SQLITE_OK && i<now->n; i++){
    rc = fkNote(t, now->a[i].zTable);
  }
  if( rc ){
    if( rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(t->db);
    return rc;
  }
  if( t->pBaseline->n>1 ){
    qsort(t->pBaseline->a, (size_t)t->pBaseline->n, sizeof(FkRow), fkCmp);
  }
  *pnNew = fkCountNew(now, t->pBaseline, ppFirst);
  /* Failing or not, the violations at the mark are the database's own. */
  fkHintSet(t, t->pBaseline);
  if( *pnNew==0 ){
    t->retry = 1;
    t->replay = 1;
    t->changed = 0;
  }
  return SQLITE_OK;
}

/*
** After scripts ran: violations they introduced fail the call; the error
** names the first and counts them all.  Violations the database already had
** do not block a migration (they are the application's to fix).  Only old
** ones, found in tables not noted before: SQLITE_CONSTRAINT_FOREIGNKEY with
** t->retry set and no message.
*/
static int txnFkCheck(Txn *t, char **pzErr){
  FkSet now;
  int rc, i, nNew = 0, unnoted = 0;
  FkRow *pFirst = 0;
  if( !t->fkOn || !t->changed ) return SQLITE_OK;
  memset(&now, 0, sizeof(now));
  rc = fkCollect(t->db, 0, &now);
  if( rc ){
    if( rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(t->db);
    fkSetFree(&now);
    return rc;
  }
  if( now.n>1 ) qsort(now.a, (size_t)now.n, sizeof(FkRow), fkCmp);
  for(i=0; i<now.n && !unnoted; i++){
    unnoted = !fkNoted(t->pBaseline, now.a[i].zTable);
  }
  if( unnoted && t->fkMark ){
    rc = fkLookBack(t, &now, &nNew, &pFirst, pzErr);
    if( rc==SQLITE_OK && t->retry ) rc = SQLITE_CONSTRAINT_FOREIGNKEY;
  }else{
    nNew = fkCountNew(&now, t->pBaseline, &pFirst);
    if( nNew==0 ) fkHintSet(t, &now);
  }
  if( rc==SQLITE_OK && nNew ){
    char zRow[32];
    if( pFirst->hasRowid ) sqlite3_snprintf(sizeof(zRow), zRow, "%lld", pFirst->rowid);
    else sqlite3_snprintf(sizeof(zRow), zRow, "(no rowid)");
    *pzErr = nNew==1
      ? sqlite3_mprintf("foreign key violation: table %s row %s references "
                        "missing row in %s", pFirst->zTable, zRow, pFirst->zParent)
      : sqlite3_mprintf("foreign key violation: table %s row %s references "
                        "missing row in %s (and %d more)", pFirst->zTable, zRow,
                        pFirst->zParent, nNew-1);
    rc = *pzErr ? SQLITE_CONSTRAINT_FOREIGNKEY : SQLITE_NOMEM;
  }
  fkSetFree(&now);
  return rc;
}

/*
** SQLite rolls a whole transaction back after some errors (I/O, disk full,
** out of memory).  After a statement whose failure the call ignores (a log
** row), going on would run the next script in autocommit mode, each
** statement committing on its own: the call must stop instead.
*/
int txnAlive(Txn *t, char **pzErr){
  int rc;
  if( !t->open || !sqlite3_get_autocommit(t->db) ) return SQLITE_OK;
  t->open = 0;
  t->changed = 0;
  t->retry = t->replay = 0;
  fkBaselineFree(t);
  rc = sqlite3_errcode(t->db);
  if( rc==SQLITE_OK ) rc = SQLITE_ABORT;
  if( rc!=SQLITE_NOMEM && *pzErr==0 ){
    *pzErr = sqlite3_mprintf("the transaction was rolled back: %s",
                             sqlite3_errmsg(t->db));
  }
  return rc;
}

int txnCommit(Txn *t, char **pzErr){
  int rc = txnAlive(t, pzErr);
  if( rc==SQLITE_OK ) rc = txnFkCheck(t, pzErr);
  if( rc ) return rc;
  rc = utilExec(t->db, t->owned ? "COMMIT" : "RELEASE migrate", pzErr);
  if( t->owned && rc==SQLITE_INTERRUPT && sqlite3_get_autocommit(t->db) ){
    /* A progress handler that asks to stop as COMMIT returns: SQLite asks
    ** it once more after the commit is made, and reports an interrupt for
    ** a statement that did its work (one that did not leaves the
    ** transaction open).  Made, so done. */
    sqlite3_free(*pzErr);
    *pzErr = 0;
    rc = SQLITE_OK;
  }
  if( rc==SQLITE_OK ){
    t->open = 0;
    t->changed = 0;
    t->replay = 0;
    fkBaselineFree(t);
  }
  return rc;
}

void txnRollback(Txn *t){
  int rc = SQLITE_OK;
  fkBaselineFree(t);
  if( t->owned ){
    /* Any transaction open now is ours, even one whose BEGIN reported an
    ** error (out of memory after it took effect). */
    if( !sqlite3_get_autocommit(t->db) ) rc = sqlite3_exec(t->db, "ROLLBACK", 0, 0, 0);
    if( !sqlite3_get_autocommit(t->db) ){
      /* Interrupted: SQLite runs no ROLLBACK until the calling statement
      ** ends (doc/guarantees.md "Interrupted"). */
      t->interrupted = 1;
      if( !utilForceRollback(t->db, &t->force) ) t->stuck = 1;
    }
  }else if( t->open ){
    rc = sqlite3_exec(t->db, "ROLLBACK TO migrate; RELEASE migrate", 0, 0, 0);
    if( rc==SQLITE_INTERRUPT ){
      /* Inside the caller's transaction the savepoint cannot be rolled back
      ** either: the caller's whole transaction goes, as SQLite itself does
      ** when an interrupt stops a statement that writes. */
      t->interrupted = 1;
      if( !utilForceRollback(t->db, &t->force) ) t->stuck = 1;
    }
  }
  (void)rc;
  t->open = 0;
  t->changed = 0;
  t->replay = 0;
}

/*
** Can the transaction write?  Write user_version's own value: harmless, and
** it needs what every change needs (a writable file, a journal beside it).
** Called before the first change of a call.  Its own statement: SQLite
** expires a PRAGMA that set a value once it has run, so the armed one is
** kept unused.
*/
int txnWriteProbe(Txn *t, char **pzErr){
  char *zSql = sqlite3_mprintf("PRAGMA main.user_version=%lld", t->force.userVersion);
  int rc = zSql ? utilExec(t->db, zSql, pzErr) : SQLITE_NOMEM;
  sqlite3_free(zSql);
  return rc;
}

/*
** A script that may set a connection setting: only then are the settings
** read back after the call.  Reading them needs statements, which an
** interrupted connection does not run; a call whose scripts set none has
** nothing to put back but foreign keys, which need no statement.  The test
** is on the text ("pragma", any case): a mention in a comment only costs
** the reading.
*/
void txnScriptSets(Txn *t, unsigned mentions){
  if( mentions & SCRIPT_MENTIONS_PRAGMA ) t->settingsTouched = 1;
}

/* Out of the transaction: every setting back to what it was. */
int txnFinish(Txn *t, char **pzErr){
  int rc;
  txnRollback(t);
  /* After an out-of-memory error inside this call SQLite runs no further
  ** statement on the connection (not even ROLLBACK) until the statement
  ** that called us ends; foreign keys, which this call turned off, are put
  ** back without one. */
  if( t->owned && t->fkOn ){
    sqlite3_db_config(t->db, SQLITE_DBCONFIG_ENABLE_FKEY, 1, (int*)0);
  }
  utilForceFree(&t->force);
  rc = t->settingsTouched ? txnPragmasRestore(t) : SQLITE_OK;
  perDbFree(t);
  if( rc && rc!=SQLITE_NOMEM && pzErr && *pzErr==0 ){
    *pzErr = sqlite3_mprintf("could not restore connection settings: %s",
                             sqlite3_errmsg(t->db));
  }
  return rc;
}
