/*
** keycopy.c — the copy of an encrypted database, made through the caller's
** own connection, which alone holds the key (doc/guarantees.md "Backed up").
**
** SQLite gives no key back, and an encrypting codec refuses its backup API
** between an encrypted and a plain database; a connection of migrate's own
** cannot read the file at all.  What the caller's connection can do: a
** database ATTACHed without a key takes the main database's key and cipher
** settings.  But VACUUM INTO refuses to run while a statement (the one that
** called migrate) is running, and the backup API refuses one connection as
** both source and destination.  So the copy is made in SQL, the way VACUUM
** INTO makes one: the new file is attached (encrypted with the key as it is
** written), given main's page size and auto_vacuum, then, inside one
** transaction that reads main as one snapshot, every table is created and
** filled (rowids kept), then the indexes, views and triggers, the
** AUTOINCREMENT counters, user_version and application_id; PRAGMA
** quick_check runs on it before the commit; then it is detached.
**
** The caller's connection is left as it was on every path: no schema
** attached, no transaction open, foreign keys (off while rows are copied, so
** that tables copied in schema order are not checked against tables not yet
** filled) and defensive mode (off while a full-text index's shadow tables
** are filled) back as they were.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* The schema names of the copy being written, and of the backup being
** restored. */
#define KEYCOPY_DB "migrate_keycopy"
#define KEYSRC_DB  "migrate_keysource"

/* Run zSql (a sqlite3_mprintf result, freed here) on db; NULL zSql: NOMEM. */
static int run(sqlite3 *db, char *zSql, char **pzErr){
  int rc;
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_exec(db, zSql, 0, 0, 0);
  if( rc && rc!=SQLITE_NOMEM && *pzErr==0 ) *pzErr = utilDbErr(db);
  sqlite3_free(zSql);
  return rc;
}

/*
** A CREATE statement as sqlite_schema stores it ("CREATE [UNIQUE|VIRTUAL]
** <type> <name> ..."), with schema zTo put before <name>: *pz, or
** SQLITE_ERROR for a text that does not start so.
*/
static int inSchema(const char *zSql, const char *zTo, char **pz){
  const char *z = zSql, *zEnd = zSql + strlen(zSql);
  SqlTok t;
  int i;
  *pz = 0;
  for(i=0; i<4; i++){
    z = sqlNextTok(z, zEnd, &t);
    if( t.kind!=SQLTOK_WORD ) return SQLITE_ERROR;
    if( sqlTokIs(&t, "TABLE") || sqlTokIs(&t, "INDEX") || sqlTokIs(&t, "VIEW")
     || sqlTokIs(&t, "TRIGGER") ){
      sqlNextTok(z, zEnd, &t);       /* the name */
      if( t.kind==SQLTOK_END || t.kind==SQLTOK_PUNCT ) return SQLITE_ERROR;
      *pz = sqlite3_mprintf("%.*s\"%w\".%s", (int)(t.z-zSql), zSql, zTo, t.z);
      return *pz ? SQLITE_OK : SQLITE_NOMEM;
    }
  }
  return SQLITE_ERROR;
}

/*
** Creating a virtual table runs its module's code with the arguments the
** stored schema gives it, and the database is untrusted input: a module of
** the application's could read or write the file those arguments name.
** Only SQLite's own modules are copied, whose creation makes nothing but
** their shadow tables (doc/guarantees.md "Hostile database files").
*/
static int moduleAllowed(const char *zSql, char *zModule, int nModule){
  static const char *azOwn[] = {
    "fts3", "fts4", "fts5", "rtree", "rtree_i32", "geopoly"
  };
  const char *z = zSql, *zEnd = zSql + strlen(zSql);
  SqlTok t;
  size_t i;
  zModule[0] = 0;
  do{
    z = sqlNextTok(z, zEnd, &t);
  }while( t.kind!=SQLTOK_END && !sqlTokIs(&t, "USING") );
  if( t.kind==SQLTOK_END ) return 0;
  sqlNextTok(z, zEnd, &t);
  if( t.kind!=SQLTOK_WORD && t.kind!=SQLTOK_QUOTED ) return 0;
  sqlTokName(&t, zModule, nModule);
  for(i=0; i<sizeof(azOwn)/sizeof(azOwn[0]); i++){
    if( sqlite3_stricmp(zModule, azOwn[i])==0 ) return 1;
  }
  return 0;
}

/* Make one object of zFrom in zTo, from its stored CREATE text. */
static int createIn(sqlite3 *db, const char *zTo, const char *zType,
                    const char *zName, const char *zSql, char **pzErr){
  char *z = 0;
  int rc = inSchema(zSql, zTo, &z);
  if( rc==SQLITE_ERROR ){
    *pzErr = sqlite3_mprintf("cannot copy %s %s: its schema text is not "
                             "understood: %s", zType, zName, zSql);
    return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
  }
  return rc ? rc : run(db, z, pzErr);
}

/* The column list of table zTab of zFrom for its rows: stored and ordinary
** columns (a generated column is computed again), with the rowid first
** unless the table has none or an INTEGER PRIMARY KEY is it. */
static int columnList(sqlite3 *db, const char *zFrom, const char *zTab,
                      int withoutRowid, char **pzCols, char **pzErr){
  sqlite3_stmt *p = 0;
  sqlite3_str *s = sqlite3_str_new(0);
  int rc, rcStep = SQLITE_DONE, nPk = 0, ipk = 0, n = 0;
  int hasRowid = 0, hasUnder = 0, hasOid = 0;
  *pzCols = 0;
  rc = sqlite3_prepare_v2(db, "SELECT name, type, pk, hidden FROM "
                          "pragma_table_xinfo(?1, ?2)", -1, &p, 0);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(p, 1, zTab, -1, SQLITE_STATIC);
    sqlite3_bind_text(p, 2, zFrom, -1, SQLITE_STATIC);
  }
  while( rc==SQLITE_OK && (rcStep = sqlite3_step(p))==SQLITE_ROW ){
    const char *zName = (const char*)sqlite3_column_text(p, 0);
    const char *zType = (const char*)sqlite3_column_text(p, 1);
    int hidden = sqlite3_column_int(p, 3);
    if( zName==0 ){ rc = SQLITE_NOMEM; break; }
    if( sqlite3_stricmp(zName, "rowid")==0 ) hasRowid = 1;
    if( sqlite3_stricmp(zName, "_rowid_")==0 ) hasUnder = 1;
    if( sqlite3_stricmp(zName, "oid")==0 ) hasOid = 1;
    if( sqlite3_column_int(p, 2)>0 ){
      nPk++;
      ipk = zType && sqlite3_stricmp(zType, "INTEGER")==0;
    }
    if( hidden==2 || hidden==3 ) continue;
    sqlite3_str_appendf(s, "%s\"%w\"", n++ ? "," : "", zName);
  }
  { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK && rcStep!=SQLITE_DONE ) rc = rcFin; }
  if( rc ){
    if( rc!=SQLITE_NOMEM && *pzErr==0 ) *pzErr = utilDbErr(db);
    sqlite3_free(sqlite3_str_finish(s));
    return rc;
  }
  {
    char *zCols = sqlite3_str_finish(s);
    const char *zRowid = hasRowid ? (hasUnder ? (hasOid ? 0 : "oid") : "_rowid_") : "rowid";
    if( zCols==0 ) return SQLITE_NOMEM;
    if( !withoutRowid && !(nPk==1 && ipk) && zRowid ){
      *pzCols = sqlite3_mprintf("%s%s%s", zRowid, zCols[0] ? "," : "", zCols);
      sqlite3_free(zCols);
      if( *pzCols==0 ) return SQLITE_NOMEM;
    }else{
      *pzCols = zCols;
    }
  }
  return SQLITE_OK;
}

/*
** ANALYZE's tables cannot be created by name: ANALYZE of zTo, with no
** table of its own yet, makes them, and those zFrom has not are dropped.
*/
static int statTables(sqlite3 *db, const char *zFrom, const char *zTo,
                      char **pzErr){
  i64 n = 0;
  char *zSql = sqlite3_mprintf("SELECT count(*) FROM \"%w\".sqlite_schema"
                               " WHERE name GLOB 'sqlite_stat*'", zFrom);
  int rc = zSql ? utilPragmaRead(db, zSql, &n) : SQLITE_NOMEM;
  sqlite3_free(zSql);
  if( rc==SQLITE_OK && n>0 ){
    sqlite3_stmt *p = 0;
    rc = run(db, sqlite3_mprintf("ANALYZE \"%w\"", zTo), pzErr);
    if( rc==SQLITE_OK ){
      zSql = sqlite3_mprintf("SELECT name FROM \"%w\".sqlite_schema"
          " WHERE name GLOB 'sqlite_stat*' AND name NOT IN"
          " (SELECT name FROM \"%w\".sqlite_schema)", zTo, zFrom);
      rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &p, 0) : SQLITE_NOMEM;
      sqlite3_free(zSql);
    }
    while( rc==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
      rc = run(db, sqlite3_mprintf("DROP TABLE \"%w\".\"%w\"", zTo,
                                   (const char*)sqlite3_column_text(p, 0)), pzErr);
    }
    { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
  }
  if( rc && rc!=SQLITE_NOMEM && *pzErr==0 ) *pzErr = utilDbErr(db);
  return rc;
}

/*
** Inside a transaction: every object of schema zFrom made in zTo, which
** has none, with its rows; then user_version and application_id.
*/
static int copyAll(sqlite3 *db, const char *zFrom, const char *zTo,
                   char **pzErr){
  sqlite3_stmt *p = 0;
  char *zList;
  int rc, pass;
  zList = sqlite3_mprintf(
      "SELECT s.type, s.name, s.sql, coalesce(l.type, ''), coalesce(l.wr, 0)"
      " FROM \"%w\".sqlite_schema s"
      " LEFT JOIN pragma_table_list l ON l.schema=%Q AND l.name=s.name"
      " WHERE s.sql IS NOT NULL ORDER BY s.rowid", zFrom, zFrom);
  if( zList==0 ) return SQLITE_NOMEM;
  rc = statTables(db, zFrom, zTo, pzErr);
  /* Pass 0 creates the tables (a virtual table makes its shadow tables);
  ** pass 1 fills them; pass 2 makes indexes, views and triggers, in the
  ** order they were made, so a view on a view finds it. */
  for(pass=0; rc==SQLITE_OK && pass<3; pass++){
    rc = sqlite3_prepare_v2(db, zList, -1, &p, 0);
    while( rc==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
      const char *zType = (const char*)sqlite3_column_text(p, 0);
      const char *zName = (const char*)sqlite3_column_text(p, 1);
      const char *zSql = (const char*)sqlite3_column_text(p, 2);
      const char *zKind = (const char*)sqlite3_column_text(p, 3);
      int isTable, isVirtual, isShadow, isOwn;
      if( zType==0 || zName==0 || zSql==0 || zKind==0 ){ rc = SQLITE_NOMEM; break; }
      isTable = strcmp(zType, "table")==0;
      isVirtual = strcmp(zKind, "virtual")==0;
      isShadow = strcmp(zKind, "shadow")==0;
      /* Tables SQLite makes itself: the AUTOINCREMENT counters (made with
      ** the first such table), ANALYZE's statistics (made above). */
      isOwn = sqlite3_strnicmp(zName, "sqlite_", 7)==0;
      if( pass==0 && isTable && isVirtual ){
        char zModule[64];
        if( moduleAllowed(zSql, zModule, sizeof(zModule)) ){
          rc = createIn(db, zTo, zType, zName, zSql, pzErr);
        }else{
          *pzErr = sqlite3_mprintf("cannot copy virtual table %s: its module "
                                   "'%s' is not one of SQLite's own (fts3, fts4, "
                                   "fts5, rtree, geopoly), and creating it would "
                                   "run that module's code", zName, zModule);
          rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
        }
      }else if( pass==0 && isTable && !isShadow && !isOwn ){
        rc = createIn(db, zTo, zType, zName, zSql, pzErr);
      }else if( pass==1 && isTable && !isVirtual ){
        char *zCols = 0;
        /* The tables SQLite or a virtual table made already hold rows of
        ** their own (counters, a full-text index's settings): replaced. */
        if( isShadow || isOwn ){
          rc = run(db, sqlite3_mprintf("DELETE FROM \"%w\".\"%w\"", zTo, zName),
                   pzErr);
        }
        if( rc==SQLITE_OK ){
          rc = columnList(db, zFrom, zName, sqlite3_column_int(p, 4), &zCols, pzErr);
        }
        if( rc==SQLITE_OK ){
          rc = run(db, sqlite3_mprintf("INSERT INTO \"%w\".\"%w\"(%s) SELECT %s"
                   " FROM \"%w\".\"%w\"", zTo, zName, zCols, zCols, zFrom, zName),
                   pzErr);
        }
        sqlite3_free(zCols);
      }else if( pass==2 && !isTable ){
        rc = createIn(db, zTo, zType, zName, zSql, pzErr);
      }
    }
    { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
    p = 0;
    if( rc && rc!=SQLITE_NOMEM && *pzErr==0 ) *pzErr = utilDbErr(db);
  }
  sqlite3_free(zList);
  if( rc==SQLITE_OK ){
    i64 v = 0, a = 0;
    char *zSql = sqlite3_mprintf("PRAGMA \"%w\".user_version", zFrom);
    rc = zSql ? utilPragmaRead(db, zSql, &v) : SQLITE_NOMEM;
    sqlite3_free(zSql);
    zSql = rc ? 0 : sqlite3_mprintf("PRAGMA \"%w\".application_id", zFrom);
    if( rc==SQLITE_OK ) rc = zSql ? utilPragmaRead(db, zSql, &a) : SQLITE_NOMEM;
    sqlite3_free(zSql);
    if( rc==SQLITE_OK ){
      rc = run(db, sqlite3_mprintf("PRAGMA \"%w\".user_version=%lld;"
               " PRAGMA \"%w\".application_id=%lld", zTo, v, zTo, a), pzErr);
    }
    if( rc && rc!=SQLITE_NOMEM && *pzErr==0 ) *pzErr = utilDbErr(db);
  }
  return rc;
}

/* PRAGMA quick_check of schema zSchema (the file zShow). */
static int checkSchema(sqlite3 *db, const char *zSchema, const char *zShow,
                       char **pzErr){
  sqlite3_stmt *p = 0;
  char *zSql = sqlite3_mprintf("PRAGMA \"%w\".quick_check", zSchema);
  int rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &p, 0) : SQLITE_NOMEM;
  sqlite3_free(zSql);
  if( rc==SQLITE_OK ){
    if( sqlite3_step(p)==SQLITE_ROW ){
      const char *z = (const char*)sqlite3_column_text(p, 0);
      if( z==0 || strcmp(z, "ok")!=0 ){
        *pzErr = sqlite3_mprintf("'%s' failed its check: %s", zShow,
                                 z ? z : "out of memory");
        rc = SQLITE_CORRUPT;
      }
    }
    { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
  }
  if( rc && rc!=SQLITE_NOMEM && *pzErr==0 ){
    *pzErr = sqlite3_mprintf("'%s' failed its check: %s", zShow, sqlite3_errmsg(db));
  }
  return rc;
}

/* ATTACH zPath AS zSchema: without a key, it takes main's. */
static int attach(sqlite3 *db, const char *zPath, const char *zSchema){
  sqlite3_stmt *p = 0;
  char *zSql = sqlite3_mprintf("ATTACH ?1 AS \"%w\"", zSchema);
  int rc = zSql ? sqlite3_prepare_v2(db, zSql, -1, &p, 0) : SQLITE_NOMEM;
  sqlite3_free(zSql);
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(p, 1, zPath, -1, SQLITE_STATIC);
    sqlite3_step(p);
    rc = sqlite3_finalize(p);
  }
  return rc;
}

/* DETACH zSchema: SQLITE_OK, or the error with *pzErr (if not yet set). */
static int detach(sqlite3 *db, const char *zSchema, char **pzErr){
  char *zSql = sqlite3_mprintf("DETACH \"%w\"", zSchema);
  int rc;
  if( zSql==0 ) return SQLITE_NOMEM;
  rc = sqlite3_exec(db, zSql, 0, 0, 0);
  if( rc ){
    /* A statement that ended while another was reading leaves the schema
    ** in a read transaction; an empty one of ours ends it. */
    sqlite3_exec(db, "BEGIN; COMMIT", 0, 0, 0);
    rc = sqlite3_exec(db, zSql, 0, 0, 0);
  }
  sqlite3_free(zSql);
  if( rc && *pzErr==0 ){
    *pzErr = sqlite3_mprintf("cannot detach the copy: %s", sqlite3_errmsg(db));
  }
  return rc;
}

/* Foreign keys and defensive mode, as they were, and off. */
typedef struct Settings { int fkOn, defensive; } Settings;
static int settingsOff(sqlite3 *db, Settings *p){
  int rc = SQLITE_OK;
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FKEY, -1, &p->fkOn);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, -1, &p->defensive);
  /* Rows are copied table by table in schema order: a child's before its
  ** parent's.  A full-text index's shadow tables are filled like any
  ** other; defensive mode would refuse writing them. */
  if( p->fkOn ) rc = sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FKEY, 0, (int*)0);
  if( rc==SQLITE_OK && p->defensive ){
    rc = sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 0, (int*)0);
  }
  return rc;
}
static void settingsBack(sqlite3 *db, const Settings *p){
  if( p->fkOn ) sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FKEY, 1, (int*)0);
  if( p->defensive ) sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int*)0);
}

/*
** Copy main of db, which must be in autocommit mode with no transaction
** open (not even a statement's read transaction), into the empty file
** zTmp, encrypted with main's key.  The file is complete and checked when
** this returns SQLITE_OK; it is not synced.
*/
int keycopyInto(sqlite3 *db, const char *zTmp, char **pzErr){
  Settings set = {0, 0};
  int rc, attached = 0, began = 0;
  i64 pageSize = 0, autoVacuum = 0;
  rc = utilPragmaRead(db, "PRAGMA main.page_size", &pageSize);
  if( rc==SQLITE_OK ) rc = utilPragmaRead(db, "PRAGMA main.auto_vacuum", &autoVacuum);
  if( rc==SQLITE_OK ){
    rc = attach(db, zTmp, KEYCOPY_DB);
    attached = rc==SQLITE_OK;
  }
  if( rc && rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(db);
  /* The copy is a file no one uses until it is complete: no journal. */
  if( rc==SQLITE_OK ){
    rc = run(db, sqlite3_mprintf("PRAGMA \"%w\".page_size=%lld;"
             " PRAGMA \"%w\".auto_vacuum=%lld; PRAGMA \"%w\".journal_mode=OFF",
             KEYCOPY_DB, pageSize, KEYCOPY_DB, autoVacuum, KEYCOPY_DB), pzErr);
  }
  if( rc==SQLITE_OK ) rc = settingsOff(db, &set);
  /* One transaction: main is read as one snapshot, and its end leaves no
  ** read transaction open on the copy (which DETACH would refuse). */
  if( rc==SQLITE_OK ){
    rc = utilExec(db, "BEGIN", pzErr);
    began = rc==SQLITE_OK;
  }
  if( rc==SQLITE_OK ) rc = copyAll(db, "main", KEYCOPY_DB, pzErr);
  if( rc==SQLITE_OK ) rc = checkSchema(db, KEYCOPY_DB, zTmp, pzErr);
  if( rc==SQLITE_OK ) rc = utilExec(db, "COMMIT", pzErr);
  if( began && !sqlite3_get_autocommit(db) ) sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  settingsBack(db, &set);
  if( attached ){
    int rcDetach = detach(db, KEYCOPY_DB, pzErr);
    if( rc==SQLITE_OK ) rc = rcDetach;
  }
  return rc;
}

/* ------------------------------------------------------------ restore */

/*
** The backup to restore, attached without a key (so read with main's) and
** checked with PRAGMA quick_check; keycopySourceClose() detaches it.
*/
int keycopySourceOpen(sqlite3 *db, const char *zPath, char **pzErr){
  int rc = attach(db, zPath, KEYSRC_DB);
  if( rc ){
    if( rc!=SQLITE_NOMEM ){
      *pzErr = sqlite3_mprintf("'%s' is not a readable SQLite database: %s",
                               zPath, sqlite3_errmsg(db));
    }
    return rc;
  }
  rc = checkSchema(db, KEYSRC_DB, zPath, pzErr);
  if( rc ) keycopySourceClose(db);
  return rc;
}

void keycopySourceClose(sqlite3 *db){
  char *zErr = 0;
  detach(db, KEYSRC_DB, &zErr);
  sqlite3_free(zErr);
}

/*
** Drop every object of main, in a transaction that is open: triggers and
** views first, then virtual tables (which drop their shadow tables), then
** the rest.  SQLite's AUTOINCREMENT counters cannot be dropped: emptied.
*/
static int dropAll(sqlite3 *db, char **pzErr){
  i64 nLeft = 0;
  int rc = utilPragmaRead(db, "SELECT count(*) FROM main.sqlite_schema", &nLeft);
  /* Each DROP removes one object at least: more rounds than objects would
  ** be a DROP that removed nothing. */
  while( rc==SQLITE_OK && nLeft-->=0 ){
    sqlite3_stmt *p = 0;
    char *zDrop = 0;
    rc = sqlite3_prepare_v2(db, "SELECT type, name FROM main.sqlite_schema"
        " WHERE type IN ('table','view','trigger') AND name<>'sqlite_sequence'"
        " ORDER BY type='table', sql NOT LIKE 'CREATE VIRTUAL%' LIMIT 1",
        -1, &p, 0);
    if( rc==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
      const char *zType = (const char*)sqlite3_column_text(p, 0);
      const char *zName = (const char*)sqlite3_column_text(p, 1);
      zDrop = zType && zName
        ? sqlite3_mprintf("DROP %s main.\"%w\"", zType, zName) : 0;
      if( zDrop==0 ) rc = SQLITE_NOMEM;
    }
    { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
    if( rc || zDrop==0 ) break;
    rc = run(db, zDrop, pzErr);
    if( rc==SQLITE_OK && nLeft<0 ){
      *pzErr = sqlite3_mprintf("cannot empty the database: an object is still "
                               "there after it was dropped");
      rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
  }
  if( rc==SQLITE_OK ){
    i64 n = 0;
    rc = utilPragmaRead(db, "SELECT count(*) FROM main.sqlite_schema"
                        " WHERE name='sqlite_sequence'", &n);
    if( rc==SQLITE_OK && n ) rc = utilExec(db, "DELETE FROM main.sqlite_sequence", pzErr);
  }
  if( rc && rc!=SQLITE_NOMEM && *pzErr==0 ) *pzErr = utilDbErr(db);
  return rc;
}

/*
** Replace the content of main with the attached backup's, in one
** transaction that completes or changes nothing: every
** object dropped, then made again from the backup with its rows, as
** keycopyInto() copies.  main keeps its page size and journal mode.
*/
int keycopyReplace(sqlite3 *db, char **pzErr){
  Settings set = {0, 0};
  i64 v = 0;
  int rc = settingsOff(db, &set), began = 0;
  /* main's write lock first, as BEGIN IMMEDIATE would take it, but on main
  ** alone: the attached backup may be a read-only file. */
  if( rc==SQLITE_OK ) rc = utilPragmaRead(db, "PRAGMA main.user_version", &v);
  if( rc==SQLITE_OK ){
    rc = utilExec(db, "BEGIN", pzErr);
    began = rc==SQLITE_OK;
  }
  if( rc==SQLITE_OK ){
    rc = run(db, sqlite3_mprintf("PRAGMA main.user_version=%lld", v), pzErr);
  }
  if( rc==SQLITE_OK ) rc = dropAll(db, pzErr);
  if( rc==SQLITE_OK ) rc = copyAll(db, KEYSRC_DB, "main", pzErr);
  if( rc==SQLITE_OK ) rc = utilExec(db, "COMMIT", pzErr);
  if( began && !sqlite3_get_autocommit(db) ) sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  settingsBack(db, &set);
  return rc;
}
