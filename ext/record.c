/*
** record.c — migrate_baseline() and migrate_adopt(): migrations recorded as
** applied without running them, for a database that already has them.
**
**   SELECT migrate_baseline('db/migrations', 20); -- record up to 20, run nothing
**   SELECT migrate_adopt('db/migrations');        -- import another tool's history
**
** The checksum and the scripts are stored as if each had run, so status,
** rollback and the "changed" refusal treat them like any other.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* Record one migration as applied without running it: the checksum and the
** scripts are stored as if it had run, so status, rollback and the "changed"
** refusal treat it like any other. */
static int recordOne(Call *c, Migration *m, const char *zWhy){
  Loaded ld;
  int rc;
  callFailAt(c, m->version, m->name);
  rc = migrationLoad(m, &ld, &c->zErr);
  if( rc ) return rc;
  rc = callRecord(c, m, &ld, 0);
  if( rc==SQLITE_OK ) rc = callLog(c, callAction(c->kind), &m->version, m->name, zWhy, -1);
  if( rc==SQLITE_OK ) c->nDone++;
  loadedFree(&ld);
  return rc;
}

/*
** Flyway's repeatable migrations (flyway.c): the file Flyway ran last is
** recorded as run, with migrate's checksum; a file changed since is left
** unrecorded, so the next migrate_apply runs it, as Flyway would, and its
** log row says so.
*/
static int adoptRepeatables(Call *c, Source *pSrc, const char *zWhy){
  int *aAdopt = sqlite3_malloc64(sizeof(int)*(sqlite3_uint64)(pSrc->nRep+1));
  int i, rc = aAdopt ? SQLITE_OK : SQLITE_NOMEM;
  if( rc==SQLITE_OK ) rc = flywayRepeatables(c->db, pSrc, aAdopt, &c->zErr);
  for(i=0; rc==SQLITE_OK && i<pSrc->nRep; i++){
    Migration *m = &pSrc->aRep[i];
    Loaded ld;
    char *zUp = 0, *zAt = 0;
    if( aAdopt[i]<0 ){
      rc = callLog(c, "adopt", 0, m->name, "not recorded: the file changed "
                   "since Flyway ran it; migrate_apply runs it again", -1);
      continue;
    }
    if( aAdopt[i]==0 ) continue;
    callFailAtRepeatable(c, m->name);
    rc = migrationLoad(m, &ld, &c->zErr);
    if( rc ) break;
    zUp = loadedStoredUp(&ld);
    zAt = utilUtcNow();
    if( zUp==0 || zAt==0 ) rc = SQLITE_NOMEM;
    if( rc==SQLITE_OK ) rc = repeatEnsure(c->db, &c->zErr);
    if( rc==SQLITE_OK ){
      rc = repeatUpsert(c->db, m->name, ld.checksum, zUp, zAt, 0, &c->zErr);
    }
    if( rc==SQLITE_OK ) rc = callLog(c, "adopt", 0, m->name, zWhy, -1);
    if( rc==SQLITE_OK ) c->nDone++;
    sqlite3_free(zUp);
    sqlite3_free(zAt);
    loadedFree(&ld);
  }
  sqlite3_free(aAdopt);
  return rc;
}

/* How many migrations the history records. */
static int appliedCount(Call *c, int *pn){
  HistoryCursor hc;
  int rc = historyOpen(c->db, &hc, &c->zErr);
  *pn = 0;
  while( rc==SQLITE_OK && !hc.eof ){
    (*pn)++;
    rc = historyNext(&hc, &c->zErr);
  }
  historyClose(&hc);
  return rc;
}

/* The migrations to record: up to target (baseline), or what the other
** tool's history lists (adopt).  aIdx gets their indexes in pSrc. */
static int toRecord(Call *c, Source *pSrc, i64 target,
                    int **paIdx, int *pnIdx, const char **pzTool){
  int *aFlag, i, rc, nApplied = 0;
  if( c->kind==CALL_BASELINE ){
    if( sourceFind(pSrc, target)==0 ){
      c->zErr = sqlite3_mprintf("no migration has version %lld in '%s'",
                                target, pSrc->origin);
      return SQLITE_ERROR;
    }
    return applyPlan(c, pSrc, target, paIdx, pnIdx);
  }
  rc = appliedCount(c, &nApplied);
  if( rc ) return rc;
  if( nApplied>0 ){
    c->zErr = sqlite3_mprintf("migrate_history already records %d migration%s; "
                              "adopt imports into an empty history (add more "
                              "with migrate_baseline)", nApplied,
                              nApplied==1 ? "" : "s");
    return SQLITE_ERROR;
  }
  aFlag = sqlite3_malloc64(sizeof(int)*(sqlite3_uint64)(pSrc->n+1));
  if( aFlag==0 ) return SQLITE_NOMEM;
  rc = adoptForeign(c->db, pSrc, aFlag, pzTool, &c->zErr);
  *pnIdx = 0;
  for(i=0; rc==SQLITE_OK && i<pSrc->n; i++){
    if( aFlag[i] ) aFlag[(*pnIdx)++] = i;
  }
  if( rc ){
    sqlite3_free(aFlag);
    aFlag = 0;
  }
  *paIdx = aFlag;
  return rc;
}

static int recordAll(Call *c, const char *zDir, i64 target){
  Source src;
  int *aIdx = 0, nIdx = 0, i;
  const char *zTool = 0;
  char *zWhy = 0;
  int rc = sourceOpen(c->db, zDir, &src, &c->zErr);
  if( rc ) return rc;
  callTraceIgnored(c, &src);
  rc = txnBegin(&c->t, &c->zErr);
  if( rc==SQLITE_OK ) rc = historyEnsure(c->db, &c->zErr);
  if( rc==SQLITE_OK ) rc = toRecord(c, &src, target, &aIdx, &nIdx, &zTool);
  if( rc==SQLITE_OK ){
    zWhy = zTool ? sqlite3_mprintf("recorded from %s's history", zTool)
                 : sqlite3_mprintf("recorded as applied, not run");
    if( zWhy==0 ) rc = SQLITE_NOMEM;
  }
  for(i=0; rc==SQLITE_OK && i<nIdx; i++){
    rc = recordOne(c, &src.a[aIdx[i]], zWhy);
  }
  if( rc==SQLITE_OK && zTool && strcmp(zTool, "Flyway")==0 ){
    rc = adoptRepeatables(c, &src, zWhy);
  }
  if( rc==SQLITE_OK ){
    c->hasFail = 0;
    rc = callCommit(c);
  }
  sqlite3_free(zWhy);
  sqlite3_free(aIdx);
  sourceFree(&src);
  return rc;
}

void baselineFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const char *zDir = callDirArg(ctx, "migrate_baseline", argv[0]);
  (void)argc;
  i64 v = 0;
  if( zDir==0 ) return;
  if( utilArgInteger(ctx, argv[1], "migrate_baseline",
                     "the version must be an integer", INT64_MIN, INT64_MAX, &v) ){
    return;
  }
  callRun(ctx, "migrate_baseline", CALL_BASELINE, recordAll, zDir, v, 0);
}

/* migrate_adopt(dir): record what another tool's history says is applied. */
void adoptFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const char *zDir = callDirArg(ctx, "migrate_adopt", argv[0]);
  (void)argc;
  /* Another tool kept one history per database, as the default set does:
  ** a set of its own (a plugin's) starts with migrate_baseline instead. */
  if( zDir && setsName(sqlite3_context_db_handle(ctx)) ){
    ctxErrorMsg(ctx, "migrate_adopt: another tool's history is adopted into "
                "the default set only; choose it with migrate_config('set', "
                "NULL), or record a set's migrations with migrate_baseline");
    return;
  }
  if( zDir ) callRun(ctx, "migrate_adopt", CALL_ADOPT, recordAll, zDir, 0, 0);
}
