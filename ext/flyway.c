/*
** flyway.c — the repeatable migrations Flyway ran, for migrate_adopt.
**
** flyway_schema_history holds a repeatable migration as rows with a NULL
** version, its name as the description (underscores shown as spaces) and
** the CRC-32 of the file Flyway ran as checksum (crc32.c).  The newest
** successful row of a description says what ran last.  A file of the
** folder whose CRC-32 is that one is what Flyway ran: migrate_adopt records
** it.  One whose CRC-32 differs changed since, and Flyway would run it
** again: it is left unrecorded, so the next migrate_apply runs it
** (doc/moving-from.md "Flyway").
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* Flyway's description of a repeatable: its name, '_' shown as ' '. */
static int sameDescription(const char *zName, const char *zDesc){
  for(; *zName && *zDesc; zName++, zDesc++){
    char c = *zName=='_' ? ' ' : *zName;
    if( c!=*zDesc ) return 0;
  }
  return *zName==0 && *zDesc==0;
}

/* The CRC-32 Flyway would record for file m. */
static int fileCrc(const Migration *m, i64 *pCrc, char **pzErr){
  Loaded ld;
  int rc = migrationLoad(m, &ld, pzErr);
  if( rc ) return rc;
  *pCrc = crc32Flyway(ld.upText, ld.nUp);
  loadedFree(&ld);
  return SQLITE_OK;
}

int flywayRepeatables(sqlite3 *db, Source *pSrc, int *aAdopt, char **pzErr){
  sqlite3_stmt *p = 0;
  int i, rc;
  memset(aAdopt, 0, sizeof(int)*(size_t)pSrc->nRep);
  if( pSrc->nRep==0 ) return SQLITE_OK;
  rc = sqlite3_prepare_v2(db,
      "SELECT description, checksum FROM main.flyway_schema_history AS f"
      " WHERE version IS NULL AND type = 'SQL' AND success"
      " AND installed_rank = (SELECT max(installed_rank)"
      " FROM main.flyway_schema_history WHERE version IS NULL"
      " AND type = 'SQL' AND success AND description = f.description)",
      -1, &p, 0);
  if( rc ){
    *pzErr = sqlite3_mprintf("flyway_schema_history: %s", sqlite3_errmsg(db));
    return *pzErr ? rc : SQLITE_NOMEM;
  }
  while( rc==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
    const char *zDesc = (const char*)sqlite3_column_text(p, 0);
    for(i=0; zDesc && i<pSrc->nRep; i++){
      i64 crc = 0;
      if( !sameDescription(pSrc->aRep[i].name, zDesc) ) continue;
      rc = fileCrc(&pSrc->aRep[i], &crc, pzErr);
      if( rc ) break;
      aAdopt[i] = sqlite3_column_type(p, 1)==SQLITE_INTEGER
               && sqlite3_column_int64(p, 1)==crc ? 1 : -1;
    }
  }
  {
    int rcFin = sqlite3_finalize(p);
    if( rc==SQLITE_OK && rcFin ){
      rc = rcFin;
      *pzErr = sqlite3_mprintf("flyway_schema_history: %s", sqlite3_errmsg(db));
    }
  }
  return rc;
}
