/*
** sets.c — the migration set each connection works on (doc/reference.md
** "Migration sets").
**
** A set is a name: the default set (no name) keeps migrate_history and
** migrate_repeatable; set "auth" keeps migrate_history_auth and
** migrate_repeatable_auth, laid out and defended alike.  The functions that
** read or write those tables (history.c, repeatable.c) take only the
** connection, so the connection's set is kept here, by connection: a list
** of the connections that ever chose a set (an entry may name the default
** set again), each entry owned by the settings (config.c) that chose it and
** dropped with them when the connection closes.  (SQLite's own per-connection data, clientdata,
** needs 3.44; migrate runs on 3.38.)
**
** The list is shared by every connection of the process, so it is walked
** under SQLite's main static mutex, which SQLite never holds while it calls
** an extension; nothing inside the lock allocates or calls SQLite.  An
** entry's name is changed only by its own connection, so the pointer a
** lookup returns stays good until that connection changes its set.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

typedef struct SetEntry SetEntry;
struct SetEntry {
  sqlite3 *db;
  void *pOwner;        /* the MigrateConn that chose it */
  char zName[SET_NAME_MAX+1];     /* "auth" */
  char zSuffix[SET_NAME_MAX+2];   /* "_auth" */
  SetEntry *pNext;
};
static SetEntry *pSetList = 0;

static sqlite3_mutex *setsMutex(void){
  return sqlite3_mutex_alloc(SQLITE_MUTEX_STATIC_MAIN);
}

/* The entry of db, or NULL; with the mutex held. */
static SetEntry *findEntry(sqlite3 *db){
  SetEntry *p;
  for(p=pSetList; p && p->db!=db; p=p->pNext){}
  return p;
}

/*
** zIn as a set name, folded to lowercase into zOut (room for SET_NAME_MAX+1):
** 1 to SET_NAME_MAX bytes of a-z, 0-9 and _, the first a letter.  0 when it
** is not one.
*/
int setsNameFold(const char *zIn, char *zOut){
  int i;
  for(i=0; zIn[i]; i++){
    char c = zIn[i];
    if( i>=SET_NAME_MAX ) return 0;
    if( c>='A' && c<='Z' ) c = (char)(c - 'A' + 'a');
    if( !((c>='a' && c<='z') || (i>0 && ((c>='0' && c<='9') || c=='_'))) ){
      return 0;
    }
    zOut[i] = c;
  }
  zOut[i] = 0;
  return i>0;
}

/* An entry's set: zName, or the default set when it is NULL ("" names). */
static void entryName(SetEntry *p, const char *zName){
  sqlite3_snprintf(sizeof(p->zName), p->zName, "%s", zName ? zName : "");
  sqlite3_snprintf(sizeof(p->zSuffix), p->zSuffix, "%s%s", zName ? "_" : "",
                   zName ? zName : "");
}

/*
** db has an entry from now on, on the set it works on: choosing a set
** after this allocates nothing and cannot fail (migrate_drift switches
** sets, and must be able to put the connection's own back).
*/
int setsReserve(sqlite3 *db, void *pOwner){
  SetEntry *pNew = sqlite3_malloc64(sizeof(*pNew));
  sqlite3_mutex *m = setsMutex();
  if( pNew==0 ) return SQLITE_NOMEM;
  memset(pNew, 0, sizeof(*pNew));
  pNew->db = db;
  pNew->pOwner = pOwner;
  sqlite3_mutex_enter(m);
  if( findEntry(db)==0 ){
    pNew->pNext = pSetList;
    pSetList = pNew;
    pNew = 0;
  }
  sqlite3_mutex_leave(m);
  sqlite3_free(pNew);
  return SQLITE_OK;
}

/* Work on set zName (a folded name; NULL: the default set) from now on. */
int setsChoose(sqlite3 *db, void *pOwner, const char *zName){
  SetEntry *p;
  sqlite3_mutex *m = setsMutex();
  sqlite3_mutex_enter(m);
  p = findEntry(db);
  if( p ) entryName(p, zName);
  sqlite3_mutex_leave(m);
  if( p || zName==0 ) return SQLITE_OK;
  if( setsReserve(db, pOwner) ) return SQLITE_NOMEM;
  return setsChoose(db, pOwner, zName);
}

/* The settings pOwner are gone (their connection closed): so is its set. */
void setsRelease(void *pOwner){
  SetEntry *pGone = 0, **pp;
  sqlite3_mutex *m = setsMutex();
  sqlite3_mutex_enter(m);
  for(pp=&pSetList; *pp; pp=&(*pp)->pNext){
    if( (*pp)->pOwner==pOwner ){
      pGone = *pp;
      *pp = pGone->pNext;
      break;
    }
  }
  sqlite3_mutex_leave(m);
  sqlite3_free(pGone);
}

/* The entry of db, or NULL, looked up under the mutex. */
static SetEntry *lockedEntry(sqlite3 *db){
  SetEntry *p;
  sqlite3_mutex *m = setsMutex();
  sqlite3_mutex_enter(m);
  p = findEntry(db);
  sqlite3_mutex_leave(m);
  return p;
}

/* The set db works on: its name, or NULL for the default set. */
const char *setsName(sqlite3 *db){
  SetEntry *p = lockedEntry(db);
  return p && p->zName[0] ? p->zName : 0;
}

/* What the set's tables add to the default set's names: "" or "_auth". */
const char *setsSuffix(sqlite3 *db){
  SetEntry *p = lockedEntry(db);
  return p ? p->zSuffix : "";
}

static int isWordByte(char c){
  return c=='_' || (c>='a' && c<='z') || (c>='A' && c<='Z') || (c>='0' && c<='9');
}

/*
** zSql with each whole word migrate_history or migrate_repeatable renamed to
** the set's table (sqlite3_free it).  Only the extension's own statements
** come here, and a set's name is letters, digits and _ alone, so the text
** needs no quoting.
*/
char *setsSql(sqlite3 *db, const char *zSql){
  static const char *const azTable[] = {"migrate_history", "migrate_repeatable"};
  const char *zSuffix = setsSuffix(db);
  sqlite3_str *pOut;
  const char *z = zSql;
  if( zSuffix[0]==0 ) return sqlite3_mprintf("%s", zSql);
  pOut = sqlite3_str_new(0);
  while( *z ){
    size_t i, n = 0;
    for(i=0; i<sizeof(azTable)/sizeof(azTable[0]); i++){
      size_t nT = strlen(azTable[i]);
      if( strncmp(z, azTable[i], nT)!=0 ) continue;
      if( (z>zSql && isWordByte(z[-1])) || isWordByte(z[nT]) ) continue;
      n = nT;
      break;
    }
    if( n ){
      sqlite3_str_append(pOut, z, (int)n);
      sqlite3_str_appendall(pOut, zSuffix);
      z += n;
    }else{
      sqlite3_str_append(pOut, z, 1);
      z++;
    }
  }
  return sqlite3_str_finish(pOut);
}

/* sqlite3_prepare_v2 of one of the extension's statements on the set's
** tables (setsSql). */
int setsPrepare(sqlite3 *db, const char *zSql, sqlite3_stmt **ppStmt){
  char *z = setsSql(db, zSql);
  int rc;
  *ppStmt = 0;
  if( z==0 ) return SQLITE_NOMEM;
  rc = sqlite3_prepare_v2(db, z, -1, ppStmt, 0);
  sqlite3_free(z);
  return rc;
}

/*
** The sets other than the default that this database holds a history or
** repeatable table of, in byte order of name: *paz (sqlite3_free each and
** the array), *pn of them.
*/
int setsInDatabase(sqlite3 *db, char ***paz, int *pn){
  sqlite3_stmt *p = 0;
  char **az = 0;
  int n = 0, nAlloc = 0;
  int rc = sqlite3_prepare_v2(db,
      "SELECT DISTINCT substr(lower(name), 17) FROM main.sqlite_schema"
      " WHERE type='table' AND " SETS_IS_HISTORY("name")
      " UNION SELECT substr(lower(name), 20) FROM main.sqlite_schema"
      " WHERE type='table' AND " SETS_IS_REPEATABLE("name")
      " ORDER BY 1", -1, &p, 0);
  *paz = 0;
  *pn = 0;
  while( rc==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
    const char *z = (const char*)sqlite3_column_text(p, 0);
    if( n>=nAlloc ){
      char **azNew = sqlite3_realloc64(az, sizeof(char*)*(nAlloc*2+4));
      if( azNew==0 ){ rc = SQLITE_NOMEM; break; }
      az = azNew;
      nAlloc = nAlloc*2+4;
    }
    az[n] = z ? sqlite3_mprintf("%s", z) : 0;
    if( az[n]==0 ){ rc = SQLITE_NOMEM; break; }
    n++;
  }
  { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
  if( rc ){
    while( n>0 ) sqlite3_free(az[--n]);
    sqlite3_free(az);
    return rc;
  }
  *paz = az;
  *pn = n;
  return SQLITE_OK;
}
