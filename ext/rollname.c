/*
** rollname.c — the applied migration a text names, for
** migrate_rollback('<name>') (doc/reference.md "migrate_rollback"):
**
**   'add_tags'                       its name, as migrate_history has it
**   '8_add_tags', '008_add_tags'     <version>_<name>, the version with any
**                                    zero padding
**   '008_add_tags.sql'               that with .sql or .up.sql after it: the
**   '008_add_tags.up.sql'            file name of the NNN_name formats
**
** Names compare byte for byte.  Every form is tried: a text that names two
** applied migrations (a migration named '1_x' and version 1 named 'x') is
** ambiguous, and refused.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* "<digits>_<rest>" -> the version and where the rest starts; 0 when the
** text is not that, or the digits overflow. */
static int splitVersion(const char *z, size_t n, i64 *pV, size_t *pRest){
  size_t i = 0;
  i64 v = 0;
  while( i<n && z[i]>='0' && z[i]<='9' ){
    if( v > (INT64_MAX - (z[i]-'0'))/10 ) return 0;
    v = v*10 + (z[i]-'0');
    i++;
  }
  if( i==0 || i+1>=n || z[i]!='_' ) return 0;
  *pV = v;
  *pRest = i+1;
  return 1;
}

/* The applied migrations named zName (of version *pV only, when given),
** added to the versions found so far (distinct, at most 3 kept). */
static int findRows(sqlite3 *db, const char *zName, int nName, const i64 *pV,
                    i64 *aV, char **azName, int *pn, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc = setsPrepare(db, "SELECT version, name FROM main.migrate_history"
                       " WHERE name=?1 AND (?2 IS NULL OR version=?2)"
                              " ORDER BY version", &p);
  if( rc ){ *pzErr = utilDbErr(db); return rc; }
  sqlite3_bind_text(p, 1, zName, nName, SQLITE_STATIC);
  if( pV ) sqlite3_bind_int64(p, 2, *pV);
  while( rc==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
    i64 v = sqlite3_column_int64(p, 0);
    int i;
    for(i=0; i<*pn && aV[i]!=v; i++){}
    if( i<*pn || *pn>=3 ) continue;
    aV[*pn] = v;
    azName[*pn] = sqlite3_mprintf("%s", sqlite3_column_text(p, 1));
    if( azName[*pn]==0 ) rc = SQLITE_NOMEM;
    (*pn)++;
  }
  { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
  if( rc && rc!=SQLITE_NOMEM && *pzErr==0 ) *pzErr = utilDbErr(db);
  return rc;
}

int rollnameFind(sqlite3 *db, const char *zArg, i64 *pV, char **pzName,
                 char **pzErr){
  static const char *const azSuffix[] = {"", ".sql", ".up.sql"};
  i64 aV[3];
  char *azName[3] = {0, 0, 0};
  size_t n = strlen(zArg), k;
  int i, nFound = 0, exists = 0;
  int rc = historyTableExists(db, &exists, pzErr);
  *pzName = 0;
  if( rc==SQLITE_OK && exists ) rc = historyEnsure(db, pzErr);
  if( rc==SQLITE_OK && exists ){
    rc = findRows(db, zArg, (int)n, 0, aV, azName, &nFound, pzErr);
  }
  for(k=0; rc==SQLITE_OK && exists && k<sizeof(azSuffix)/sizeof(azSuffix[0]); k++){
    size_t nSuf = strlen(azSuffix[k]), nStem = n - nSuf, iRest = 0;
    i64 v = 0;
    if( n<nSuf || strcmp(zArg+nStem, azSuffix[k])!=0 ) continue;
    if( !splitVersion(zArg, nStem, &v, &iRest) ) continue;
    rc = findRows(db, zArg+iRest, (int)(nStem-iRest), &v, aV, azName, &nFound,
                  pzErr);
  }
  if( rc==SQLITE_OK && nFound==0 ){
    *pzErr = sqlite3_mprintf("no applied migration is named %Q", zArg);
    rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }else if( rc==SQLITE_OK && nFound>1 ){
    int j;
    for(i=1; i<nFound; i++){          /* in version order, for the message */
      for(j=i; j>0 && aV[j-1]>aV[j]; j--){
        i64 t = aV[j]; char *z = azName[j];
        aV[j] = aV[j-1]; azName[j] = azName[j-1];
        aV[j-1] = t; azName[j-1] = z;
      }
    }
    *pzErr = sqlite3_mprintf("%Q names more than one applied migration "
                             "(%lld_%s, %lld_%s%s); name one as "
                             "<version>_<name>", zArg, aV[0], azName[0],
                             aV[1], azName[1], nFound>2 ? ", ..." : "");
    rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }else if( rc==SQLITE_OK ){
    *pV = aV[0];
    *pzName = azName[0];
    azName[0] = 0;
  }
  for(i=0; i<nFound; i++) sqlite3_free(azName[i]);
  return rc;
}
