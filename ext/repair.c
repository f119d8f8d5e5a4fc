/*
** repair.c — migrate_repair(dir), migrate_repair(dir, 'force').
**
**   SELECT migrate_repair('db/migrations');           -- accept harmless edits
**   SELECT migrate_repair('db/migrations', 'force');  -- accept any edit
**
** An applied migration's file edited after it ran (a comment fixed, a broken
** down script fixed) makes every migrate_apply refuse the folder (`changed`).
** This call makes the history take the files as they are now: the checksum
** and the stored scripts of migrate_history, a migrate_log row per migration.
** It accepts a changed down script (it has not run), and an up script that
** changed in comments and blanks only (sqlsame.c); any other change of an up
** script only with 'force'.  Applied migrations without a file keep their
** rows: their stored down scripts are how they roll back.
**
** The folder is compared with the history first without a transaction, so a
** call with nothing to repair takes no lock and writes nothing; then again
** under the write lock, and the rows are written from that second look.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* One migration to repair: its history row's new values and its log row. */
typedef struct RepairItem {
  i64 version;
  char *zName;                 /* as the history has it */
  char *zLabel;                /* its file, for the trace */
  char *zSum, *zUp, *zDown;    /* the file's; zDown NULL: no down script */
  char *zMsg;                  /* the log row's message */
} RepairItem;

typedef struct Repair {
  Call *c;
  int force;
  RepairItem *a;
  int n, nAlloc;
} Repair;

static void repairFree(Repair *r){
  int i;
  for(i=0; i<r->n; i++){
    RepairItem *p = &r->a[i];
    sqlite3_free(p->zName);
    sqlite3_free(p->zLabel);
    sqlite3_free(p->zSum);
    sqlite3_free(p->zUp);
    sqlite3_free(p->zDown);
    sqlite3_free(p->zMsg);
  }
  sqlite3_free(r->a);
  r->a = 0;
  r->n = r->nAlloc = 0;
}

/*
** The up script as applied (zOld, stored) against the file's now: *pSame 1
** when they differ in comments and blanks only, else 0 and *pLine the file
** line of the first difference.  transaction:false or not is part of it.
*/
static int upCompare(Call *c, const Applied *a, const Loaded *pLd,
                     const char *zOld, int *pSame, int *pLine){
  Script old, now;
  char *zShow = sqlite3_mprintf("%lld_%s (up)", a->version, a->name);
  char *zA = 0, *zB = 0;
  int rc = zShow ? formatStoredScript(zOld, 0, zShow, &old, &c->zErr)
                 : SQLITE_NOMEM;
  loadedUp(pLd, &now);
  if( rc==SQLITE_OK && old.noTxn!=now.noTxn ){
    /* The marker line's options: the first line of the up section. */
    *pSame = 0;
    *pLine = 1 + utilCountLines(pLd->upText, pLd->upText + pLd->up.up.markerOff);
  }else if( rc==SQLITE_OK ){
    size_t offOld = 0, offNow = 0;
    zA = utilTextDup(old.z, old.n);
    zB = utilTextDup(now.z, now.n);
    if( zA==0 || zB==0 ){
      rc = SQLITE_NOMEM;
    }else{
      *pSame = sqlSameTokens(zA, zB, &offOld, &offNow);
      *pLine = now.line + utilCountLines(zB, zB + offNow);
    }
  }
  sqlite3_free(zShow);
  sqlite3_free(zA);
  sqlite3_free(zB);
  return rc;
}

/* What changed, for the log: "003_c.sql: checksum 1a2b...
** -> 9f8e...; down script changed". */
static char *repairMessage(const Migration *m, const Applied *a,
                           const Loaded *pLd, int upHow, int downHow){
  static const char *const azUp[] = {
    0, "up script changed in comments and blanks only",
    "up script changed, accepted with 'force'"
  };
  static const char *const azDown[] = {
    0, "down script changed", "down script added", "down script removed"
  };
  sqlite3_str *p = sqlite3_str_new(0);
  const char *zSep = "; ";
  if( strcmp(pLd->checksum, a->checksum)!=0 ){
    sqlite3_str_appendf(p, "%s: checksum %.12s... -> %.12s...", m->up.label,
                        a->checksum, pLd->checksum);
  }else{
    /* Only a separate down file changed: the checksum is the up file's. */
    sqlite3_str_appendf(p, "%s", m->down.label ? m->down.label : m->up.label);
    zSep = ": ";
  }
  if( upHow ){
    sqlite3_str_appendf(p, "%s%s", zSep, azUp[upHow]);
    zSep = "; ";
  }
  if( downHow ){
    sqlite3_str_appendf(p, "%s%s", zSep, azDown[downHow]);
  }
  if( !upHow && !downHow ){
    sqlite3_str_appendf(p, "%sthe file changed outside its up and down scripts",
                        zSep);
  }
  return sqlite3_str_finish(p);
}

/* historyMerge's visit of one applied migration: note it when its file's
** checksum or down script differs from the row's. */
static int repairVisit(void *pArg, const Applied *a, Migration *m){
  Repair *r = (Repair*)pArg;
  Call *c = r->c;
  Loaded ld;
  Script down;
  char *zOldUp = 0, *zOldDown = 0, *zUp = 0, *zDown = 0;
  int rc, upHow = 0, downHow = 0;
  if( m==0 ) return SQLITE_OK;   /* missing: its stored scripts stay */
  callFailAt(c, a->version, a->name);
  rc = migrationLoad(m, &ld, &c->zErr);
  if( rc ) return rc;
  rc = historyScripts(c->db, a->version, &zOldUp, &zOldDown, &c->zErr);
  if( rc==SQLITE_OK && zOldUp==0 ) rc = SQLITE_NOMEM;
  if( rc==SQLITE_OK ){
    zUp = loadedStoredUp(&ld);
    zDown = loadedStoredDown(&ld);
    if( zUp==0 || (zDown==0 && loadedDown(&ld, &down)) ) rc = SQLITE_NOMEM;
  }
  if( rc==SQLITE_OK ){
    downHow = zDown && zOldDown ? strcmp(zDown, zOldDown)!=0
            : zDown ? 2 : zOldDown ? 3 : 0;
    if( strcmp(zUp, zOldUp)!=0 ){
      int same = 0, line = 0;
      rc = upCompare(c, a, &ld, zOldUp, &same, &line);
      if( rc==SQLITE_OK && !same && !r->force ){
        c->zErr = sqlite3_mprintf("%s:%d: the up script has changed since it "
            "was applied, not only in comments and blanks; put the change in "
            "a new migration, or accept it with migrate_repair(dir, 'force')",
            m->up.label, line);
        rc = c->zErr ? SQLITE_ERROR : SQLITE_NOMEM;
      }
      upHow = same ? 1 : 2;
    }
  }
  if( rc==SQLITE_OK && (downHow || strcmp(ld.checksum, a->checksum)!=0) ){
    RepairItem *p;
    rc = utilArrayReserve((void**)&r->a, &r->nAlloc, r->n+1, sizeof(*p));
    if( rc==SQLITE_OK ){
      p = &r->a[r->n++];
      memset(p, 0, sizeof(*p));
      p->version = a->version;
      p->zName = sqlite3_mprintf("%s", a->name);
      p->zLabel = sqlite3_mprintf("%s", m->up.label);
      p->zSum = sqlite3_mprintf("%s", ld.checksum);
      p->zMsg = repairMessage(m, a, &ld, upHow, downHow);
      p->zUp = zUp;
      p->zDown = zDown;
      zUp = zDown = 0;
      if( !p->zName || !p->zLabel || !p->zSum || !p->zMsg ) rc = SQLITE_NOMEM;
    }
  }
  /* A later error of the call is not this migration's. */
  if( rc==SQLITE_OK ) c->hasFail = 0;
  sqlite3_free(zOldUp);
  sqlite3_free(zOldDown);
  sqlite3_free(zUp);
  sqlite3_free(zDown);
  loadedFree(&ld);
  return rc;
}

/* The folder against the history: what to repair, or the refusal. */
static int repairPlan(Repair *r, Source *pSrc){
  int nPending = 0;
  i64 newest = 0;
  int *aPending = sqlite3_malloc64(sizeof(int)*(sqlite3_uint64)(pSrc->n+1));
  int rc;
  if( aPending==0 ) return SQLITE_NOMEM;
  repairFree(r);
  /* Checked first: repairVisit names the migration a failure is about. */
  rc = historyMerge(r->c->db, pSrc, repairVisit, r, 1, aPending, &nPending,
                    &newest, &r->c->zErr);
  sqlite3_free(aPending);
  return rc;
}

static int repairAll(Call *c, const char *zDir, i64 force){
  Source src;
  Repair r;
  int i, rc = sourceOpen(c->db, zDir, &src, &c->zErr);
  if( rc ) return rc;
  memset(&r, 0, sizeof(r));
  r.c = c;
  r.force = force!=0;
  callTraceIgnored(c, &src);
  rc = repairPlan(&r, &src);
  if( rc==SQLITE_OK && r.n>0 ){
    /* Again under the lock: another process may have applied, rolled back
    ** or repaired since the first look. */
    rc = txnBegin(&c->t, &c->zErr);
    if( rc==SQLITE_OK ) rc = historyEnsure(c->db, &c->zErr);
    if( rc==SQLITE_OK ) rc = repairPlan(&r, &src);
    for(i=0; rc==SQLITE_OK && i<r.n; i++){
      RepairItem *p = &r.a[i];
      struct timespec t0;
      utilClockNow(&t0);
      callFailAt(c, p->version, p->zName);
      callTraceStart(c, "repairing %s", p->zLabel);
      rc = historyRepair(c->db, p->version, p->zSum, p->zUp, p->zDown, &c->zErr);
      if( rc==SQLITE_OK ){
        rc = callLog(c, "repair", &p->version, p->zName, p->zMsg, -1);
      }
      callTraceEnd(c, rc, utilMsSince(&t0));
      if( rc==SQLITE_OK ) c->nDone++;
    }
    if( rc==SQLITE_OK ){
      c->hasFail = 0;
      rc = callCommit(c);
    }
  }
  if( rc==SQLITE_OK ) c->hasFail = 0;
  repairFree(&r);
  sourceFree(&src);
  return rc;
}

void repairFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const char *zDir = callDirArg(ctx, "migrate_repair", argv[0]);
  int force = 0;
  if( zDir==0 ) return;
  if( argc>1 ){
    const char *z = (const char*)sqlite3_value_text(argv[1]);
    if( z==0 || strcmp(z, "force")!=0
     || (size_t)sqlite3_value_bytes(argv[1])!=strlen(z) ){
      char *zShown = sqlite3_mprintf("%Q", z);
      if( zShown==0 ){
        sqlite3_result_error_nomem(ctx);
        return;
      }
      ctxErrorMsg(ctx, "migrate_repair: the second argument must be 'force', "
                  "not %s", zShown);
      sqlite3_free(zShown);
      return;
    }
    force = 1;
  }
  callRun(ctx, "migrate_repair", CALL_REPAIR, repairAll, zDir, force, 0);
}
