/*
** journal.c — a Drizzle folder's meta/_journal.json -> the order of its
** migrations.
**
**   {"entries": [{"idx": 0, "when": 1708710681721, "tag": "0000_init"}, ...]}
**
** Drizzle applies the files its journal lists, <tag>.sql, in the order of
** the list, and nothing else: after a merge of two branches two files may
** carry one number, and only the journal tells their order.  The text is
** parsed by SQLite's own JSON functions on a private in-memory connection:
** no JSON parser of our own, and nothing of the application's connection
** (its functions, its tables) is involved.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* An entry that is not an object has no tag; the tag's JSON text is read
** too, so an escape (\u0000, \/) is seen and refused rather than decoded. */
static const char zEntriesSql[] =
  "SELECT CAST(key AS INTEGER), type,"
  " CASE WHEN type = 'object' THEN json_extract(value, '$.tag') END,"
  " CASE WHEN type = 'object' THEN json_type(value, '$.tag') END,"
  " CASE WHEN type = 'object' THEN value -> '$.tag' END"
  " FROM json_each(?1, '$.entries') ORDER BY 1";

/* What the JSON functions refused, as a message about the file. */
static char *journalDbError(sqlite3 *db, const char *zShow){
  const char *zMsg = sqlite3_errmsg(db);
  if( strstr(zMsg, "json")==0 && strstr(zMsg, "JSON")==0 ){
    return sqlite3_mprintf("%s: cannot be read: %s", zShow, zMsg);
  }
  return sqlite3_mprintf("%s: is not valid JSON", zShow);
}

/* A bare file name: no separator, not hidden, no control byte, UTF-8. */
static int journalTagIsName(const char *zTag){
  size_t i, n = strlen(zTag);
  if( zTag[0]=='.' || utilUtf8Invalid(zTag, n)<n ) return 0;
  for(i=0; i<n; i++){
    unsigned char c = (unsigned char)zTag[i];
    if( c<0x20 || c==0x7F || c=='/' || c=='\\' ) return 0;
  }
  return 1;
}

int journalRead(const char *z, size_t n, const char *zShow, StrPool *pPool,
                JournalEntry **paEntry, int *pnEntry, char **pzErr){
  sqlite3 *db = 0;
  sqlite3_stmt *p = 0;
  int rc, nAlloc = 0, hasEntries = 0;
  *paEntry = 0;
  *pnEntry = 0;
  rc = sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, 0);
  if( rc ){
    sqlite3_close(db);
    return SQLITE_NOMEM;
  }
  rc = sqlite3_prepare_v2(db, "SELECT json_type(?1, '$.entries')", -1, &p, 0);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(p, 1, z, (int)n, SQLITE_STATIC);
    if( sqlite3_step(p)==SQLITE_ROW ){
      const char *zType = (const char*)sqlite3_column_text(p, 0);
      hasEntries = zType && strcmp(zType, "array")==0;
    }
    rc = sqlite3_finalize(p);
    p = 0;
  }
  if( rc==SQLITE_OK && !hasEntries ){
    *pzErr = sqlite3_mprintf("%s: has no \"entries\" list", zShow);
    rc = SQLITE_ERROR;
  }else if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(db, zEntriesSql, -1, &p, 0);
  }
  if( rc==SQLITE_OK && p ){
    sqlite3_bind_text(p, 1, z, (int)n, SQLITE_STATIC);
    while( (rc = sqlite3_step(p))==SQLITE_ROW ){
      int k = sqlite3_column_int(p, 0);
      const char *zType = (const char*)sqlite3_column_text(p, 1);
      const char *zTagType = (const char*)sqlite3_column_text(p, 3);
      const char *zTag = (const char*)sqlite3_column_text(p, 2);
      const char *zRaw = (const char*)sqlite3_column_text(p, 4);
      JournalEntry *e;
      if( zType==0 || strcmp(zType, "object")!=0
       || zTagType==0 || strcmp(zTagType, "text")!=0 || zTag==0 || zTag[0]==0 ){
        *pzErr = sqlite3_mprintf("%s: entry %d has no \"tag\" naming its file",
                                 zShow, k);
        rc = SQLITE_ERROR;
        break;
      }
      if( zRaw==0 || strchr(zRaw, '\\') || !journalTagIsName(zTag) ){
        /* A tag names a file of this folder, never a path elsewhere; shown
        ** only when it is clean text. */
        *pzErr = sqlite3_mprintf("%s: entry %d: its tag is not a file name "
                                 "of this folder", zShow, k);
        rc = SQLITE_ERROR;
        break;
      }
      rc = utilArrayReserve((void**)paEntry, &nAlloc, *pnEntry, sizeof(JournalEntry));
      if( rc ) break;
      e = &(*paEntry)[(*pnEntry)++];
      e->file = utilPoolAdd(pPool, zTag, strlen(zTag), ".sql");
      if( e->file==0 ){ rc = SQLITE_NOMEM; break; }
    }
    if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  }
  if( rc && rc!=SQLITE_NOMEM && *pzErr==0 ) *pzErr = journalDbError(db, zShow);
  sqlite3_finalize(p);
  sqlite3_close(db);
  if( rc ){
    sqlite3_free(*paEntry);
    *paEntry = 0;
    *pnEntry = 0;
  }
  return rc;
}
