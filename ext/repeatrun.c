/*
** repeatrun.c — the repeatable migrations of a folder (R__name.sql) inside
** a migrate_apply call: after the pending versioned migrations, in the same
** call and under the same rules (the atomic setting, the foreign-key check,
** the automatic backup, trace, migrate_log), each repeatable that never ran
** or whose file's checksum differs from the one migrate_repeatable records
** runs, in byte order of name, and its row is written.
**
** Which ones are due is decided before anything runs, so a file that cannot
** be read or split stops the call before the first script.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* aDue[i] for pSrc->aRep[i]: 1 when it is to run. */
int repeatPlan(Call *c, Source *pSrc, int **paDue){
  RepeatRecords rec;
  int i, rc, *aDue;
  *paDue = 0;
  aDue = sqlite3_malloc64(sizeof(int)*(sqlite3_uint64)(pSrc->nRep+1));
  if( aDue==0 ) return SQLITE_NOMEM;
  rc = repeatRead(c->db, 0, &rec, &c->zErr);
  for(i=0; rc==SQLITE_OK && i<pSrc->nRep; i++){
    Migration *m = &pSrc->aRep[i];
    const RepeatRecord *r = repeatFind(&rec, m->name);
    Loaded ld;
    rc = migrationLoad(m, &ld, &c->zErr);
    if( rc ) break;
    aDue[i] = r==0 || strcmp(r->checksum, ld.checksum)!=0;
    loadedFree(&ld);
  }
  repeatRecordsFree(&rec);
  if( rc ){
    sqlite3_free(aDue);
    return rc;
  }
  *paDue = aDue;
  return SQLITE_OK;
}

/* Its row: the checksum of the bytes that ran, and the script as stored
** (migrate_drift replays it). */
static int recordRun(Call *c, const Migration *m, const Loaded *pLd, double ms){
  char *zUp = loadedStoredUp(pLd);
  char *zAt = utilUtcNow();
  int rc = zUp && zAt ? SQLITE_OK : SQLITE_NOMEM;
  if( rc==SQLITE_OK ) rc = repeatEnsure(c->db, &c->zErr);
  if( rc==SQLITE_OK ){
    rc = repeatUpsert(c->db, m->name, pLd->checksum, zUp, zAt, &ms, &c->zErr);
  }
  sqlite3_free(zUp);
  sqlite3_free(zAt);
  return rc;
}

/* Has another connection run these very bytes since the plan was made?
** Only possible between the commits of a call with atomic off. */
static int ranMeanwhile(Call *c, const Migration *m, const Loaded *pLd, int *pRan){
  RepeatRecords rec;
  const RepeatRecord *r;
  int rc = repeatRead(c->db, 0, &rec, &c->zErr);
  *pRan = 0;
  if( rc ) return rc;
  r = repeatFind(&rec, m->name);
  *pRan = r && strcmp(r->checksum, pLd->checksum)==0;
  repeatRecordsFree(&rec);
  return SQLITE_OK;
}

static int runOne(Call *c, const Migration *m){
  Loaded ld;
  Script up;
  double ms;
  int rc, ran = 0;
  callFailAtRepeatable(c, m->name);
  rc = migrationLoad(m, &ld, &c->zErr);
  if( rc ) return rc;
  if( !c->atomic ) rc = ranMeanwhile(c, m, &ld, &ran);
  if( rc || ran ){
    loadedFree(&ld);
    return rc;
  }
  loadedUp(&ld, &up);
  rc = callApplyStep(c, &up, m->up.label, &ms);
  if( rc==SQLITE_OK ) rc = recordRun(c, m, &ld, ms);
  if( rc==SQLITE_OK ) rc = callLog(c, "apply", 0, m->name, m->up.label, ms);
  if( rc==SQLITE_OK ){
    c->nDone++;
    /* Its script has committed already: so must its row. */
    if( up.noTxn ) rc = callRecommit(c);
  }
  loadedFree(&ld);
  return rc;
}

/* Run the due ones, in order of name.  With atomic off each commits on its
** own, as a versioned migration does. */
int repeatRunDue(Call *c, Source *pSrc, const int *aDue){
  int i, rc = SQLITE_OK;
  for(i=0; rc==SQLITE_OK && i<pSrc->nRep; i++){
    if( !aDue[i] ) continue;
    if( !c->atomic && c->nDone>0 ) rc = callRecommit(c);
    if( rc==SQLITE_OK ) rc = runOne(c, &pSrc->aRep[i]);
  }
  return rc;
}
