/*
** scratch.c — a private scratch database, and running a script on it the
** way migrate_apply runs one on the real database.
**
** migrate_check tries pending migrations on a copy of the database, and
** migrate_drift replays the history into an empty one; neither may touch
** the caller's database.  The scratch database is a new connection to a
** private temporary database (SQLite deletes it when it is closed; it stays
** in memory until it outgrows the page cache), so a large copy spills to a
** temporary file instead of filling memory.
**
** A script runs there as it would for real: inside its own transaction
** (unless it is transaction:false), through the same statement judge, with
** the foreign-key procedure when foreign_keys is on.  The scratch connection
** is a new connection: functions, collations and virtual-table modules the
** application registered on its own connection are not in it, and an error
** caused by one says so.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/*
** The copy of an encrypted database (doc/reference.md "migrate_check"): its
** pages as pFrom's connection reads them, with its key, one snapshot, held
** in memory only, so no decrypted page reaches a temporary file.  SQLite's
** backup API cannot do it: the scratch connection has no key, and an
** encrypting codec refuses a copy between an encrypted and a plain
** database.  sqlite3_serialize() is absent from a build without it.
*/
/* A routine a build of SQLite may leave out is NULL in the extension API.
** Compiled into an application (SQLITE_CORE) there is no such table: the
** application's SQLite has the routine, or the program does not link. */
#ifdef SQLITE_CORE
# define API_HAS(x) 1
#else
# define API_HAS(x) (sqlite3_api->x!=0)
#endif

static int copyKeyed(sqlite3 *s, sqlite3 *pFrom, char **pzErr){
  sqlite3_int64 n = 0;
  unsigned char *a;
  int rc;
  if( !API_HAS(serialize) || !API_HAS(deserialize) ){
    *pzErr = sqlite3_mprintf("cannot copy the database: it is encrypted, and "
                             "this SQLite was built without sqlite3_serialize()");
    return SQLITE_ERROR;
  }
  a = sqlite3_serialize(pFrom, "main", &n, 0);
  if( a==0 ){
    *pzErr = sqlite3_mprintf("cannot copy the database: %s",
                             sqlite3_errcode(pFrom) ? sqlite3_errmsg(pFrom)
                                                    : "out of memory");
    return SQLITE_ERROR;
  }
  /* A WAL database's header says so; in memory there is no WAL. */
  if( n>=100 && a[18]==2 && a[19]==2 ) a[18] = a[19] = 1;
  rc = sqlite3_deserialize(s, "main", a, n, n,
                           SQLITE_DESERIALIZE_FREEONCLOSE|SQLITE_DESERIALIZE_RESIZEABLE);
  if( rc ){
    *pzErr = sqlite3_mprintf("cannot copy the database: %s", sqlite3_errmsg(s));
    return rc==SQLITE_NOMEM ? rc : SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/* Copy main of pFrom into the empty scratch database. */
static int copyInto(sqlite3 *s, sqlite3 *pFrom, char **pzErr){
  sqlite3_backup *b;
  int rc, nWait = 0, keyed = 0;
  /* SQLite cannot copy a database its own connection is writing to, and
  ** the copy would miss the uncommitted changes anyway. */
  if( sqlite3_txn_state(pFrom, "main")==SQLITE_TXN_WRITE ){
    *pzErr = sqlite3_mprintf("the database has uncommitted changes; commit or "
                             "roll them back first (the check runs on a copy "
                             "of the database)");
    return SQLITE_ERROR;
  }
  if( (rc = utilDbKeyed(pFrom, &keyed))!=SQLITE_OK ) return rc;
  if( keyed ) return copyKeyed(s, pFrom, pzErr);
  b = sqlite3_backup_init(s, "main", pFrom, "main");
  if( b==0 ){
    *pzErr = sqlite3_mprintf("cannot copy the database: %s", sqlite3_errmsg(s));
    return SQLITE_ERROR;
  }
  while( ((rc = sqlite3_backup_step(b, -1))==SQLITE_BUSY || rc==SQLITE_LOCKED)
         && nWait++<500 ){
    /* Another connection holds a lock for a moment: wait, up to ~5 s. */
    sqlite3_sleep(10);
  }
  sqlite3_backup_finish(b);
  if( rc!=SQLITE_DONE ){
    *pzErr = sqlite3_mprintf("cannot copy the database: %s",
                             rc==SQLITE_NOMEM ? "out of memory" : sqlite3_errstr(rc));
    return rc==SQLITE_NOMEM ? rc : SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/*
** The scratch connection is ours alone, so it can carry an authorizer
** (on the application's connection one would replace the application's
** own).  Scripts replayed here may come from a database file someone else
** wrote: migrate's own functions and tables (present when migrate is an
** automatic extension: a new connection gets it too, with settings of its
** own that no call marks busy), and ATTACH, are refused when prepared.
** Loading code and files are refused for every script in script.c.
*/
static int scratchAuth(void *pArg, int op, const char *z1, const char *z2,
                       const char *zDb, const char *zTrigger){
  static const char *const azTable[] = {
    "migrations", "migrate_status", "migrate_check", "migrate_drift", 0
  };
  ScratchWatch *pWatch = (ScratchWatch*)pArg;
  int i;
  (void)zTrigger;
  if( pWatch ){
    /* Every statement that may change a table's rows or columns, those of
    ** the triggers it fires included, is authorized as it is prepared
    ** (ALTER TABLE names its database first, the others last). */
    if( op==SQLITE_ALTER_TABLE ){
      if( z1 && z2 && sqlite3_stricmp(z1, "main")==0 ) pWatch->xWrite(pWatch->pArg, z2);
    }else if( (op==SQLITE_INSERT || op==SQLITE_UPDATE || op==SQLITE_DELETE
               || op==SQLITE_DROP_TABLE)
           && z1 && zDb && sqlite3_stricmp(zDb, "main")==0 ){
      pWatch->xWrite(pWatch->pArg, z1);
    }
  }
  if( op==SQLITE_ATTACH || op==SQLITE_DETACH ) return SQLITE_DENY;
  if( op==SQLITE_FUNCTION && sqlite3_strnicmp(z2, "migrate_", 8)==0 ){
    return SQLITE_DENY;
  }
  for(i=0; op==SQLITE_READ && azTable[i]; i++){
    if( sqlite3_stricmp(z1, azTable[i])==0 ) return SQLITE_DENY;
  }
  return SQLITE_OK;
}

/*
** Has the application interrupted its connection?  Scripts run here, on a
** connection sqlite3_interrupt() never reaches, so it is asked every few
** thousand steps (doc/guarantees.md "Interrupted").  While the statement that
** called migrate runs, SQLite keeps an interrupt set and refuses to prepare
** anything on that connection: a refused "SELECT 1" is the interrupt.  (The
** direct question, sqlite3_is_interrupted(), is newer than 3.38.)
*/
static int callerInterrupted(void *pArg){
  sqlite3 *pCaller = (sqlite3*)pArg;
  sqlite3_stmt *p = 0;
  int rc = sqlite3_prepare_v2(pCaller, "SELECT 1", -1, &p, 0);
  sqlite3_finalize(p);
  return rc==SQLITE_INTERRUPT;
}

int scratchOpen(sqlite3 *pCaller, sqlite3 *pCopyOf, sqlite3 **ppOut, char **pzErr){
  sqlite3 *s = 0;
  int rc = sqlite3_open_v2("", &s, SQLITE_OPEN_READWRITE|SQLITE_OPEN_CREATE, 0);
  *ppOut = 0;
  if( rc ){
    *pzErr = sqlite3_mprintf("cannot open a scratch database: %s",
                             s ? sqlite3_errmsg(s) : "out of memory");
    sqlite3_close(s);
    return rc;
  }
  /* Scripts from a database file someone else wrote may run here (drift
  ** replays the stored history): no writable_schema tricks. */
  sqlite3_db_config(s, SQLITE_DBCONFIG_DEFENSIVE, 1, (int*)0);
  if( pCopyOf ){
    rc = copyInto(s, pCopyOf, pzErr);
    /* A copy of a WAL database carries the WAL marks in its header; the
    ** scratch database keeps its journal in memory, nothing on disk. */
    if( rc==SQLITE_OK ) sqlite3_exec(s, "PRAGMA journal_mode=MEMORY", 0, 0, 0);
  }
  sqlite3_set_authorizer(s, scratchAuth, 0);
  /* A build without progress callbacks leaves the routine out of the
  ** extension API: scripts there run to their end. */
  if( API_HAS(progress_handler) ){
    sqlite3_progress_handler(s, 10000, callerInterrupted, pCaller);
  }
  if( rc ){
    sqlite3_close(s);
    return rc;
  }
  *ppOut = s;
  return SQLITE_OK;
}

/* What an error caused by the scratch connection being new should add. */
static const char *newConnectionHint(const char *zErr){
  static const char *const azMissing[] = {
    "no such function: ", "no such module: ", "no such collation sequence: ", 0
  };
  int i;
  for(i=0; azMissing[i]; i++){
    if( strstr(zErr, azMissing[i]) ){
      return " (scripts are tried on a new connection to a scratch database: "
             "functions, collations and virtual-table modules your application "
             "registers on its own connection do not exist there)";
    }
  }
  return "";
}

/* Run one script in its own transaction, or none for transaction:false. */
int scratchRun(sqlite3 *s, const Script *pScr, const char *zFile, char **pzErr){
  Txn t;
  int rc;
  txnStart(&t, s);
  if( pScr->noTxn ){
    rc = scriptRun(s, pScr, 0, zFile, pzErr, 0, 0);
  }else{
    rc = txnBegin(&t, pzErr);
    for(;;){
      if( rc==SQLITE_OK ) rc = txnScriptStarting(&t, pzErr);
      if( rc==SQLITE_OK ) rc = scriptRun(s, pScr, SCRIPT_IN_TXN, zFile, pzErr, &t.force, 0);
      if( rc==SQLITE_OK ) rc = txnCommit(&t, pzErr);
      if( rc==SQLITE_OK || !t.retry ) break;
      /* Only violations the copy already had: back at the mark, again. */
      t.retry = 0;
      rc = SQLITE_OK;
    }
  }
  if( rc ) txnRollback(&t);
  if( txnFinish(&t, rc ? 0 : pzErr)!=SQLITE_OK && rc==SQLITE_OK ) rc = SQLITE_ERROR;
  if( rc && *pzErr ){
    const char *zHint = newConnectionHint(*pzErr);
    if( zHint[0] ){
      char *z = sqlite3_mprintf("%s%s", *pzErr, zHint);
      sqlite3_free(*pzErr);
      *pzErr = z;
      if( z==0 ) rc = SQLITE_NOMEM;
    }
  }
  return rc;
}

void scratchWatch(sqlite3 *s, ScratchWatch *pWatch){
  sqlite3_set_authorizer(s, scratchAuth, pWatch);
}
