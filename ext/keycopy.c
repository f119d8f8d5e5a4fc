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

/* The copy's schema name (written out in the SQL that also names a table). */
#define KEYCOPY_DB "migrate_keycopy"

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
** <type> <name> ..."), with the copy's schema name put before <name>.
*/
static char *inCopy(const char *zSql){
  const char *z = zSql, *zEnd = zSql + strlen(zSql);
  SqlTok t;
  int i;
  for(i=0; i<4; i++){
    z = sqlNextTok(z, zEnd, &t);
    if( t.kind!=SQLTOK_WORD ) return 0;
    if( sqlTokIs(&t, "TABLE") || sqlTokIs(&t, "INDEX") || sqlTokIs(&t, "VIEW")
     || sqlTokIs(&t, "TRIGGER") ){
      sqlNextTok(z, zEnd, &t);       /* the name */
      if( t.kind==SQLTOK_END || t.kind==SQLTOK_PUNCT ) return 0;
      return sqlite3_mprintf("%.*s\"" KEYCOPY_DB "\".%s", (int)(t.z-zSql), zSql, t.z);
    }
  }
  return 0;
}

/* The column list of table zTab for its rows: stored and ordinary columns
** (a generated column is computed again), with the rowid first unless the
** table has none or an INTEGER PRIMARY KEY is it. */
static int columnList(sqlite3 *db, const char *zTab, int withoutRowid,
                      char **pzCols, char **pzErr){
  sqlite3_stmt *p = 0;
  sqlite3_str *s = sqlite3_str_new(0);
  int rc, nPk = 0, ipk = 0, n = 0;
  int hasRowid = 0, hasUnder = 0, hasOid = 0;
  *pzCols = 0;
  rc = sqlite3_prepare_v2(db, "SELECT name, type, pk, hidden FROM "
                          "pragma_table_xinfo(?1, 'main')", -1, &p, 0);
  if( rc==SQLITE_OK ) sqlite3_bind_text(p, 1, zTab, -1, SQLITE_STATIC);
  while( rc==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
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
  if( rc==SQLITE_OK ) rc = sqlite3_finalize(p); else sqlite3_finalize(p);
  if( rc ){
    if( rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(db);
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
** ANALYZE's tables cannot be created by name: ANALYZE of the still empty
** copy makes them, and those main does not have are dropped again.
*/
static int statTables(sqlite3 *db, char **pzErr){
  i64 n = 0;
  int rc = utilPragmaRead(db, "SELECT count(*) FROM main.sqlite_schema"
                          " WHERE name GLOB 'sqlite_stat*'", &n);
  if( rc==SQLITE_OK && n>0 ){
    sqlite3_stmt *p = 0;
    rc = utilExec(db, "ANALYZE \"" KEYCOPY_DB "\"", pzErr);
    if( rc==SQLITE_OK ){
      rc = sqlite3_prepare_v2(db, "SELECT name FROM \"" KEYCOPY_DB "\".sqlite_schema"
          " WHERE name GLOB 'sqlite_stat*' AND name NOT IN"
          " (SELECT name FROM main.sqlite_schema)", -1, &p, 0);
    }
    while( rc==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
      rc = run(db, sqlite3_mprintf("DROP TABLE \"migrate_keycopy\".\"%w\"",
                                   (const char*)sqlite3_column_text(p, 0)), pzErr);
    }
    { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
  }
  if( rc && rc!=SQLITE_NOMEM && *pzErr==0 ) *pzErr = utilDbErr(db);
  return rc;
}

/* Inside the copy's transaction: tables, rows, the rest, the counters. */
static int copyAll(sqlite3 *db, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc, pass;
  /* Pass 0 creates the tables (a virtual table makes its shadow tables);
  ** pass 1 fills them; pass 2 makes indexes, views and triggers, in the
  ** order they were made, so a view on a view finds it. */
  rc = statTables(db, pzErr);
  for(pass=0; rc==SQLITE_OK && pass<3; pass++){
    rc = sqlite3_prepare_v2(db,
        "SELECT s.type, s.name, s.sql, coalesce(l.type, ''), coalesce(l.wr, 0)"
        " FROM main.sqlite_schema s"
        " LEFT JOIN pragma_table_list l ON l.schema='main' AND l.name=s.name"
        " WHERE s.sql IS NOT NULL ORDER BY s.rowid", -1, &p, 0);
    while( rc==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
      const char *zType = (const char*)sqlite3_column_text(p, 0);
      const char *zName = (const char*)sqlite3_column_text(p, 1);
      const char *zSql = (const char*)sqlite3_column_text(p, 2);
      const char *zKind = (const char*)sqlite3_column_text(p, 3);
      int isTable = zType && strcmp(zType, "table")==0;
      int isVirtual = zKind && strcmp(zKind, "virtual")==0;
      int isShadow = zKind && strcmp(zKind, "shadow")==0;
      /* Tables SQLite makes itself: the AUTOINCREMENT counters (made with
      ** the first such table), ANALYZE's statistics (made below). */
      int isSeq = zName && sqlite3_strnicmp(zName, "sqlite_", 7)==0;
      if( zType==0 || zName==0 || zSql==0 || zKind==0 ){ rc = SQLITE_NOMEM; break; }
      if( pass==0 && isTable && !isShadow && !isSeq ){
        char *z = inCopy(zSql);
        if( z==0 ){
          *pzErr = sqlite3_mprintf("cannot copy %s %s: its schema text is "
                                   "not understood: %s", zType, zName, zSql);
          rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
        }else{
          rc = run(db, z, pzErr);
        }
      }else if( pass==1 && isTable && !isVirtual ){
        char *zCols = 0;
        /* The tables SQLite or a virtual table made already hold rows of
        ** their own (counters, a full-text index's settings): replaced. */
        if( isShadow || isSeq ){
          rc = run(db, sqlite3_mprintf("DELETE FROM \"migrate_keycopy\".\"%w\"",
                                       zName), pzErr);
        }
        if( rc==SQLITE_OK ){
          rc = columnList(db, zName, sqlite3_column_int(p, 4), &zCols, pzErr);
        }
        if( rc==SQLITE_OK ){
          rc = run(db, sqlite3_mprintf("INSERT INTO \"migrate_keycopy\".\"%w\"(%s)"
                   " SELECT %s FROM main.\"%w\"", zName, zCols, zCols, zName),
                   pzErr);
        }
        sqlite3_free(zCols);
      }else if( pass==2 && !isTable ){
        char *z = inCopy(zSql);
        if( z==0 ){
          *pzErr = sqlite3_mprintf("cannot copy %s %s: its schema text is "
                                   "not understood: %s", zType, zName, zSql);
          rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
        }else{
          rc = run(db, z, pzErr);
        }
      }
    }
    { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
    p = 0;
    if( rc && rc!=SQLITE_NOMEM && *pzErr==0 ) *pzErr = utilDbErr(db);
  }
  if( rc==SQLITE_OK ){
    i64 v = 0, a = 0;
    rc = utilPragmaRead(db, "PRAGMA main.user_version", &v);
    if( rc==SQLITE_OK ) rc = utilPragmaRead(db, "PRAGMA main.application_id", &a);
    if( rc==SQLITE_OK ){
      rc = run(db, sqlite3_mprintf("PRAGMA \"" KEYCOPY_DB "\".user_version=%lld;"
               " PRAGMA \"" KEYCOPY_DB "\".application_id=%lld", v, a), pzErr);
    }
    if( rc && rc!=SQLITE_NOMEM && *pzErr==0 ) *pzErr = utilDbErr(db);
  }
  return rc;
}

/* PRAGMA quick_check of the copy, inside its transaction. */
static int checkCopy(sqlite3 *db, const char *zTmp, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc = sqlite3_prepare_v2(db, "PRAGMA \"" KEYCOPY_DB "\".quick_check",
                              -1, &p, 0);
  if( rc==SQLITE_OK ){
    if( sqlite3_step(p)==SQLITE_ROW ){
      const char *z = (const char*)sqlite3_column_text(p, 0);
      if( z==0 || strcmp(z, "ok")!=0 ){
        *pzErr = sqlite3_mprintf("'%s' failed its check: %s", zTmp,
                                 z ? z : "out of memory");
        rc = SQLITE_CORRUPT;
      }
    }
    { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
  }
  if( rc && rc!=SQLITE_NOMEM && *pzErr==0 ){
    *pzErr = sqlite3_mprintf("'%s' failed its check: %s", zTmp, sqlite3_errmsg(db));
  }
  return rc;
}

/*
** Copy main of db, which must be in autocommit mode with no transaction
** open (not even a statement's read transaction), into the empty file
** zTmp, encrypted with main's key.  The file is complete and checked when
** this returns SQLITE_OK; it is not synced.
*/
int keycopyInto(sqlite3 *db, const char *zTmp, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc, fkOn = 0, defensive = 0, attached = 0, began = 0;
  i64 pageSize = 0, autoVacuum = 0;
  sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FKEY, -1, &fkOn);
  sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, -1, &defensive);
  rc = utilPragmaRead(db, "PRAGMA main.page_size", &pageSize);
  if( rc==SQLITE_OK ) rc = utilPragmaRead(db, "PRAGMA main.auto_vacuum", &autoVacuum);
  if( rc==SQLITE_OK ){
    rc = sqlite3_prepare_v2(db, "ATTACH ?1 AS \"" KEYCOPY_DB "\"", -1, &p, 0);
    if( rc==SQLITE_OK ){
      sqlite3_bind_text(p, 1, zTmp, -1, SQLITE_STATIC);
      sqlite3_step(p);
      rc = sqlite3_finalize(p);
    }
    attached = rc==SQLITE_OK;
  }
  if( rc && rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(db);
  /* The copy is a file no one uses until it is complete: no journal. */
  if( rc==SQLITE_OK ){
    rc = run(db, sqlite3_mprintf("PRAGMA \"" KEYCOPY_DB "\".page_size=%lld;"
             " PRAGMA \"" KEYCOPY_DB "\".auto_vacuum=%lld;"
             " PRAGMA \"" KEYCOPY_DB "\".journal_mode=OFF",
             pageSize, autoVacuum), pzErr);
  }
  if( rc==SQLITE_OK && fkOn ){
    rc = sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FKEY, 0, (int*)0);
  }
  /* A virtual table's shadow tables (a full-text index) are filled like
  ** any other; defensive mode would refuse writing them. */
  if( rc==SQLITE_OK && defensive ){
    rc = sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 0, (int*)0);
  }
  /* One transaction: main is read as one snapshot, and its end leaves no
  ** read transaction open on the copy (which DETACH would refuse). */
  if( rc==SQLITE_OK ){
    rc = utilExec(db, "BEGIN", pzErr);
    began = rc==SQLITE_OK;
  }
  if( rc==SQLITE_OK ) rc = copyAll(db, pzErr);
  if( rc==SQLITE_OK ) rc = checkCopy(db, zTmp, pzErr);
  if( rc==SQLITE_OK ) rc = utilExec(db, "COMMIT", pzErr);
  if( began && !sqlite3_get_autocommit(db) ) sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
  if( fkOn ) sqlite3_db_config(db, SQLITE_DBCONFIG_ENABLE_FKEY, 1, (int*)0);
  if( defensive ) sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int*)0);
  if( attached ){
    int rcDetach = sqlite3_exec(db, "DETACH \"" KEYCOPY_DB "\"", 0, 0, 0);
    if( rcDetach ){
      /* A statement that ended while another was reading leaves the copy
      ** in a read transaction; an empty one of ours ends it. */
      sqlite3_exec(db, "BEGIN; COMMIT", 0, 0, 0);
      rcDetach = sqlite3_exec(db, "DETACH \"" KEYCOPY_DB "\"", 0, 0, 0);
    }
    if( rcDetach && rc==SQLITE_OK ){
      *pzErr = sqlite3_mprintf("cannot detach the copy: %s", sqlite3_errmsg(db));
      rc = rcDetach;
    }
  }
  return rc;
}
