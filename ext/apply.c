/*
** apply.c — migrate_apply() and migrate_current().
**
**   SELECT migrate_apply('db/migrations');      -- every pending migration
**   SELECT migrate_apply('db/migrations', 20);  -- pending ones up to 20
**   SELECT migrate_current();                   -- the newest applied version
**
** One call reads straight down: source -> transaction (write lock) ->
** history -> plan -> backup -> scripts -> history + log -> commit, inside
** the frame of call.c.  After the versioned migrations come the repeatable
** ones that are due (repeatrun.c), unless the call stops below the folder's
** newest version.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* An applied file whose stat is to be recorded: it was hashed, found to be
** the applied one, and its stat is settled (stamp.c). */
typedef struct StatDue {
  int iMig;            /* in pSrc->a */
  char sum[17];        /* the checksum folded (stampFold) */
} StatDue;

/* The stats to record when the call has done the rest. */
typedef struct StatDues {
  StatDue *a;
  int n, nAlloc;
} StatDues;

/* The call and the folder it is planned against. */
typedef struct Planning {
  Call *c;
  const Source *pSrc;
  StatDues *pDue;      /* NULL: none are collected */
  int nRead;           /* history rows seen */
} Planning;

/* What apply refuses about one applied migration: no file (m is NULL), or a
** file that changed since it was applied. */
static int planVerifyApplied(void *pArg, const Applied *a, Migration *m){
  Planning *p = (Planning*)pArg;
  Call *c = p->c;
  char zSum[65];
  int rc, record = 0;
  /* The history is read once, in order: pages already read are never
  ** asked for again, and kept they would be most of the call's memory (the
  ** index of 10,000 migrations is 2 MiB).  Given back as it goes; no
  ** setting of the connection changes. */
  if( (++p->nRead & 127)==0 ) sqlite3_db_release_memory(c->db);
  if( m==0 ){
    c->zErr = sqlite3_mprintf("migration %lld (%s) is applied but missing from "
                              "'%s': the database is ahead of the code",
                              a->version, a->name, ((Planning*)pArg)->pSrc->origin);
    return SQLITE_ERROR;
  }
  /* Its stat unchanged since its bytes were found to be these: not read. */
  if( stampVouches(&m->stamp, a->checksum, a->fileStat) ) return SQLITE_OK;
  rc = migrationHash(p->pSrc, m, zSum, &record, &c->zErr);
  if( rc ) return rc;
  if( strcmp(zSum, a->checksum)!=0 ){
    c->zErr = sqlite3_mprintf("%s: applied migration has changed since it was "
                              "applied (checksum %.12s..., applied %.12s...)",
                              m->up.label, zSum, a->checksum);
    return SQLITE_ERROR;
  }
  if( record && p->pDue ){
    StatDues *pD = p->pDue;
    StatDue *d;
    if( utilArrayReserve((void**)&pD->a, &pD->nAlloc, pD->n, sizeof(StatDue)) ){
      return SQLITE_NOMEM;
    }
    d = &pD->a[pD->n++];
    d->iMig = (int)(m - p->pSrc->a);
    if( !stampFold(zSum, d->sum) ) pD->n--;
  }
  return SQLITE_OK;
}

/*
** The stats of the applied files that were hashed and found unchanged, so
** the next call need not read them: one write, only when some stat was
** missing or stale (a first call, a deploy's new inodes), made last, in
** the transaction the call commits when all else succeeded (a call that
** fails writes none).  The history gains its file_stat column and index
** here, the first time (historyStatUpgrade).
*/
static int recordStats(Call *c, const Source *pSrc, const StatDues *pDue){
  sqlite3_stmt *pStmt = 0;
  int i, usable = 0, rc;
  if( pDue->n==0 || !stampWritable(c->db) ) return SQLITE_OK;
  rc = historyStatUpgrade(c->db, &usable, &c->zErr);
  /* An ALTER TABLE expires every statement, the one that gets the call out
  ** of an interrupted transaction too (txn.c). */
  if( rc==SQLITE_OK ) rc = utilForceArm(c->db, &c->t.force);
  for(i=0; rc==SQLITE_OK && usable && i<pDue->n; i++){
    const Migration *m = &pSrc->a[pDue->a[i].iMig];
    char z[STAMP_TEXT_MAX];
    if( stampText(&m->stamp, pDue->a[i].sum, z) ){
      rc = historyStatSet(c->db, &pStmt, m->version, z, &c->zErr);
      if( stampRefused(rc, &c->zErr) ){ rc = SQLITE_OK; break; }
    }
  }
  sqlite3_finalize(pStmt);
  return rc;
}

/*
** Check the folder against the history and list what is pending, up to
** target.  Refuses a changed applied file, an applied migration missing from
** the folder and, unless the out_of_order setting is on, a pending one older
** than the newest applied.  The history
** is read a row at a time, so memory does not grow with it.
*/
static int planWithStats(Call *c, Source *pSrc, i64 target, int **paIdx,
                         int *pnIdx, StatDues *pDue){
  Planning p;
  int i, rc, nPending = 0, n = 0;
  i64 newest;
  int *aIdx;

  *paIdx = 0;
  *pnIdx = 0;
  aIdx = sqlite3_malloc64(sizeof(int)*(sqlite3_uint64)(pSrc->n+1));
  if( aIdx==0 ) return SQLITE_NOMEM;
  memset(&p, 0, sizeof(p));
  p.c = c;
  p.pSrc = pSrc;
  p.pDue = pDue;
  if( pDue ) pDue->n = 0;    /* planned again: what this pass found */
  rc = historyMerge(c->db, pSrc, planVerifyApplied, &p, 0, aIdx, &nPending,
                    &newest, &c->zErr);
  if( rc==SQLITE_OK && nPending>0 && pSrc->a[aIdx[0]].version<newest
   && !c->mc->outOfOrder ){
    Migration *m = &pSrc->a[aIdx[0]];
    c->zErr = sqlite3_mprintf("%s: pending migration %lld is older than the "
                              "newest applied migration %lld; give it a "
                              "higher version", m->up.label, m->version, newest);
    rc = SQLITE_ERROR;
  }
  if( rc ){
    sqlite3_free(aIdx);
    return rc;
  }
  for(i=0; i<nPending && pSrc->a[aIdx[i]].version<=target; i++) n++;
  *paIdx = aIdx;
  *pnIdx = n;
  return SQLITE_OK;
}

int applyPlan(Call *c, Source *pSrc, i64 target, int **paIdx, int *pnIdx){
  return planWithStats(c, pSrc, target, paIdx, pnIdx, 0);
}

/* The history row of a migration now applied (ms < 0: recorded, not run):
** its checksum and the scripts as stored, so rollback needs no files. */
static int applyOne(Call *c, Migration *m){
  Loaded ld;
  Script up;
  double ms;
  char *zMsg = 0;
  int rc;

  callFailAt(c, m->version, m->name);
  rc = migrationLoad(m, &ld, &c->zErr);
  if( rc ) return rc;
  loadedUp(&ld, &up);
  if( c->mc->outOfOrder ){
    /* Applied below a newer one: its log row says so (outorder.c). */
    rc = outorderLabel(c->db, m->version, m->up.label, &zMsg, &c->zErr);
  }
  if( rc==SQLITE_OK ) rc = callApplyStep(c, &up, m->up.label, &ms);
  if( rc==SQLITE_OK ) rc = verifyLoaded(c->db, m, &ld, &c->zErr);
  if( rc==SQLITE_OK ) rc = callRecord(c, m, &ld, &ms);
  if( rc==SQLITE_OK ){
    rc = callLog(c, "apply", &m->version, m->name, zMsg ? zMsg : m->up.label, ms);
  }
  if( rc==SQLITE_OK ){
    c->nDone++;
    /* Its script has committed already: so must its history row, whatever
    ** happens to the migrations after it. */
    if( up.noTxn ) rc = callRecommit(c);
  }
  sqlite3_free(zMsg);
  loadedFree(&ld);
  return rc;
}

/*
** main's data version: SQLite changes it whenever the file changes, by this
** connection or any other.  0 if it cannot be read (SQLite before 3.26).
*/
static int dataVersion(Call *c, unsigned int *pV){
  *pV = 0;
  return sqlite3_file_control(c->db, "main", SQLITE_FCNTL_DATA_VERSION, pV)
         ==SQLITE_OK;
}

/*
** With atomic off every migration commits on its own, so between two of them
** another process may have migrated: if the newest version is not the one
** this call just wrote, plan again from the history as it now is.  If the
** data version read after our commit is the same under the new lock, no one
** has committed since: the history is what we wrote, and the two queries
** (a schema scan and max(version): 1.8 % of a commit-per-migration apply's
** instructions) are not needed.
*/
static int stillOurs(Call *c, i64 expect, int known, unsigned int before,
                     int *pOurs){
  i64 mx;
  int any, rc;
  unsigned int now;
  if( known && dataVersion(c, &now) && now==before ){
    *pOurs = 1;
    return SQLITE_OK;
  }
  rc = historyMax(c->db, &mx, &any, &c->zErr);
  *pOurs = rc==SQLITE_OK && any && mx==expect;
  return rc;
}

static int applyAll(Call *c, const char *zDir, i64 target){
  Source src;
  int rc = sourceOpen(c->db, zDir, &src, &c->zErr);
  int replan = 1;
  RepeatDue *aDue = 0;
  StatDues stats;
  if( rc ) return rc;
  memset(&stats, 0, sizeof(stats));
  callTraceIgnored(c, &src);
  rc = txnBegin(&c->t, &c->zErr);
  /* applyPlan's read of the history checks the table first. */
  if( rc==SQLITE_OK ) rc = historyEnsureUnchecked(c->db, &c->zErr);
  /* Repeatables are written against the newest schema: a call that stops
  ** below the folder's newest version runs none (doc/formats.md). */
  if( rc==SQLITE_OK && src.nRep>0
   && (src.n==0 || src.a[src.n-1].version<=target) ){
    rc = repeatPlan(c, &src, &aDue);
  }
  while( rc==SQLITE_OK && replan ){
    int *aIdx = 0, nIdx = 0, i;
    replan = 0;
    rc = planWithStats(c, &src, target, &aIdx, &nIdx, &stats);
    for(i=0; rc==SQLITE_OK && i<nIdx; i++){
      Migration *m = &src.a[aIdx[i]];
      rc = applyOne(c, m);
      if( rc==SQLITE_OK && !c->atomic && i+1<nIdx ){
        int ours = 0, known = 0;
        unsigned int before = 0;
        rc = callCommit(c);
        if( rc==SQLITE_OK ) known = dataVersion(c, &before);
        if( rc==SQLITE_OK ) rc = txnBegin(&c->t, &c->zErr);
        if( rc==SQLITE_OK ) rc = stillOurs(c, m->version, known, before, &ours);
        if( rc==SQLITE_OK && !ours ){ replan = 1; break; }
      }
    }
    sqlite3_free(aIdx);
  }
  if( rc==SQLITE_OK && aDue ) rc = repeatRunDue(c, &src, aDue);
  if( rc==SQLITE_OK ) rc = recordStats(c, &src, &stats);
  if( rc==SQLITE_OK && aDue ) rc = repeatRecordStats(c, &src, aDue);
  if( rc==SQLITE_OK ){
    c->hasFail = 0;
    rc = callCommit(c);
  }
  sqlite3_free(aDue);
  sqlite3_free(stats.a);
  sourceFree(&src);
  return rc;
}

void applyFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const char *zDir = (const char*)sqlite3_value_text(argv[0]);
  i64 target = INT64_MAX;
  if( zDir==0 || zDir[0]==0 ){
    ctxErrorMsg(ctx, "migrate_apply: the directory argument is %s",
                zDir ? "empty" : "NULL");
    return;
  }
  if( argc>1 && utilArgInteger(ctx, argv[1], "migrate_apply",
                     "the target version must be an integer", INT64_MIN,
                     INT64_MAX, &target) ){
    return;
  }
  callRun(ctx, "migrate_apply", CALL_APPLY, applyAll, zDir, target, 0);
}

void currentFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  char *zErr = 0;
  i64 v;
  int any;
  (void)argc; (void)argv;
  if( historyMax(db, &v, &any, &zErr) ){
    ctxErrorMsg(ctx, "migrate_current: %s", zErr ? zErr : "out of memory");
    sqlite3_free(zErr);
  }else if( any ){
    sqlite3_result_int64(ctx, v);
  }
}
