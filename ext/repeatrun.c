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

/*
** aDue[i] for pSrc->aRep[i].  A repeatable whose row has a stat that vouches
** for the row's checksum (stamp.c) is not due and its file is not read;
** one whose file hashes to the row's checksum is not due either, and its
** stat is recorded when the call ends if it is settled; any other is due,
** and is read and split now, so a file that cannot be stops the call before
** the first script.
*/
int repeatPlan(Call *c, Source *pSrc, RepeatDue **paDue){
  RepeatRecords rec;
  int i, rc;
  RepeatDue *aDue;
  *paDue = 0;
  aDue = sqlite3_malloc64(sizeof(RepeatDue)*(sqlite3_uint64)(pSrc->nRep+1));
  if( aDue==0 ) return SQLITE_NOMEM;
  memset(aDue, 0, sizeof(RepeatDue)*(size_t)(pSrc->nRep+1));
  rc = repeatRead(c->db, 0, &rec, &c->zErr);
  for(i=0; rc==SQLITE_OK && i<pSrc->nRep; i++){
    Migration *m = &pSrc->aRep[i];
    const RepeatRecord *r = repeatFind(&rec, m->name);
    Loaded ld;
    if( r && stampVouches(&m->stamp, r->checksum, r->fileStat) ) continue;
    if( r ){
      char zSum[65];
      int record = 0;
      rc = migrationHash(pSrc, m, zSum, &record, &c->zErr);
      if( rc ) break;
      if( strcmp(r->checksum, zSum)==0 ){
        aDue[i].record = (unsigned char)(record && stampFold(zSum, aDue[i].sum));
        continue;
      }
    }
    rc = migrationLoad(m, &ld, &c->zErr);
    if( rc ) break;
    aDue[i].due = r==0 || strcmp(r->checksum, ld.checksum)!=0;
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

/*
** The stats of the repeatables found unchanged and settled, written last,
** in the transaction the call commits when all else succeeded, as
** migrate_history's are (apply.c); the column is added the first time.
*/
int repeatRecordStats(Call *c, const Source *pSrc, const RepeatDue *aDue){
  sqlite3_stmt *pStmt = 0;
  int i, usable = 0, any = 0, rc = SQLITE_OK;
  for(i=0; i<pSrc->nRep; i++) any |= aDue[i].record;
  if( !any || !stampWritable(c->db) ) return SQLITE_OK;
  rc = repeatStatUpgrade(c->db, &usable, &c->zErr);
  /* An ALTER TABLE expires every statement, the one that gets the call out
  ** of an interrupted transaction too (txn.c). */
  if( rc==SQLITE_OK ) rc = utilForceArm(c->db, &c->t.force);
  for(i=0; rc==SQLITE_OK && usable && i<pSrc->nRep; i++){
    const Migration *m = &pSrc->aRep[i];
    char z[STAMP_TEXT_MAX];
    if( aDue[i].record && stampText(&m->stamp, aDue[i].sum, z) ){
      rc = repeatStatSet(c->db, &pStmt, m->name, z, &c->zErr);
      if( stampRefused(rc, &c->zErr) ){ rc = SQLITE_OK; break; }
    }
  }
  sqlite3_finalize(pStmt);
  return rc;
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
int repeatRunDue(Call *c, Source *pSrc, const RepeatDue *aDue){
  int i, rc = SQLITE_OK;
  for(i=0; rc==SQLITE_OK && i<pSrc->nRep; i++){
    if( !aDue[i].due ) continue;
    if( !c->atomic && c->nDone>0 ) rc = callRecommit(c);
    if( rc==SQLITE_OK ) rc = runOne(c, &pSrc->aRep[i]);
  }
  return rc;
}
