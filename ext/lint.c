/*
** lint.c — mistakes that can be told from a migration script's text alone,
** before anything runs.  migrate_check reports each as a row.
**
**   refused      a statement migrate refuses in any migration (VACUUM,
**                ATTACH, PRAGMA writable_schema, ...)
**   transaction  a statement that cannot run inside the migration's
**                transaction: the migration needs transaction:false
**                (PRAGMA journal_mode=WAL, BEGIN ... COMMIT, ...)
**   not_null     ALTER TABLE ... ADD COLUMN ... NOT NULL without a DEFAULT:
**                SQLite accepts it on an empty table and refuses it on a
**                table with rows, so it passes in development and fails in
**                production
**
** The first two are judged by script.c, the code that refuses them when
** a migration runs, so the check and the real run never disagree: what a
** run skips (a file's own BEGIN ... COMMIT wrapper, PRAGMA foreign_keys and
** defer_foreign_keys inside the transaction) is no finding either.
** Statements are split with sqlite3_complete(), SQLite's own judge of where
** a statement ends (triggers, strings and comments holding ';').
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* A name, possibly schema-qualified; z is past it. */
static const char *skipName(const char *z, const char *zEnd, SqlTok *t){
  SqlTok dot;
  const char *zAfter = sqlNextTok(z, zEnd, &dot);
  if( sqlTokPunct(&dot, '.') ) return sqlNextTok(zAfter, zEnd, t);
  return z;
}

/*
** ALTER TABLE [s.]t ADD [COLUMN] c ... NOT NULL with no DEFAULT (or DEFAULT
** NULL, which SQLite treats the same) and not generated: the column's name
** into *pCol, or 0.  Only the column definition's own level counts, so a
** CHECK (x IS NOT NULL) is not mistaken for the constraint.
*/
static int addsNotNullWithoutDefault(const char *z, const char *zEnd, SqlTok *pCol){
  SqlTok t;
  int depth = 0, notNull = 0, hasDefault = 0, generated = 0;
  z = sqlNextTok(z, zEnd, &t);
  if( !sqlTokIs(&t, "ALTER") ) return 0;
  z = sqlNextTok(z, zEnd, &t);
  if( !sqlTokIs(&t, "TABLE") ) return 0;
  z = sqlNextTok(z, zEnd, &t);
  z = skipName(z, zEnd, &t);
  z = sqlNextTok(z, zEnd, &t);
  if( !sqlTokIs(&t, "ADD") ) return 0;
  z = sqlNextTok(z, zEnd, &t);
  if( sqlTokIs(&t, "COLUMN") ) z = sqlNextTok(z, zEnd, &t);
  if( t.kind!=SQLTOK_WORD && t.kind!=SQLTOK_QUOTED && t.kind!=SQLTOK_STRING ) return 0;
  *pCol = t;
  while( (z = sqlNextTok(z, zEnd, &t)), t.kind!=SQLTOK_END ){
    if( sqlTokPunct(&t, '(') ){ depth++; continue; }
    if( sqlTokPunct(&t, ')') ){ depth--; continue; }
    if( depth>0 ) continue;
    if( sqlTokIs(&t, "NOT") ){
      SqlTok u;
      const char *zNext = sqlNextTok(z, zEnd, &u);
      if( sqlTokIs(&u, "NULL") ){ notNull = 1; z = zNext; }
    }else if( sqlTokIs(&t, "DEFAULT") ){
      SqlTok u;
      sqlNextTok(z, zEnd, &u);
      if( !sqlTokIs(&u, "NULL") ) hasDefault = 1;
    }else if( sqlTokIs(&t, "AS") || sqlTokIs(&t, "GENERATED") ){
      generated = 1;
    }
  }
  return notNull && !hasDefault && !generated;
}

/* Where the statement that starts at z ends: after the ';' that completes
** it, or at the end of the text. */
static char *statementEnd(char *z){
  char *p = z;
  while( (p = strchr(p, ';'))!=0 ){
    char c = p[1];
    int done;
    p[1] = 0;
    done = sqlite3_complete(z);
    p[1] = c;
    p++;
    if( done ) return p;
  }
  return z + strlen(z);
}

static int report(LintFound xFound, void *pArg, const char *zCheck, char *zDetail){
  if( zDetail==0 ) return SQLITE_NOMEM;
  return xFound(pArg, zCheck, zDetail);
}

static int lintStatement(sqlite3 *db, const char *z, const char *zEnd, int noTxn,
                         const char *zFile, int line, LintFound xFound, void *pArg){
  char *zWhy = scriptRefusal(db, z, 0);
  int rc = SQLITE_OK;
  SqlTok col;
  if( zWhy ){
    rc = report(xFound, pArg, "refused",
                sqlite3_mprintf("%s:%d: %s", zFile, line, zWhy));
  }else if( !noTxn && (zWhy = scriptRefusal(db, z, SCRIPT_IN_TXN))!=0 ){
    rc = report(xFound, pArg, "transaction", sqlite3_mprintf(
        "%s:%d: needs transaction:false: %s", zFile, line, zWhy));
  }
  sqlite3_free(zWhy);
  if( rc==SQLITE_OK && addsNotNullWithoutDefault(z, zEnd, &col) ){
    rc = report(xFound, pArg, "not_null", sqlite3_mprintf(
        "%s:%d: ADD COLUMN %.*s is NOT NULL without a DEFAULT: SQLite refuses "
        "that on a table with rows (\"Cannot add a NOT NULL column with default "
        "value NULL\"), so it works on an empty database and fails on a real "
        "one; give the column a DEFAULT, or rebuild the table", zFile, line,
        col.n, col.z));
  }
  return rc;
}

int lintScript(sqlite3 *db, const Script *pScr, const char *zFile,
               LintFound xFound, void *pArg){
  char *zSql = sqlite3_mprintf("%.*s", (int)pScr->n, pScr->z);
  char *z = zSql;
  const char *zLineAt = zSql;
  int line = pScr->line, rc = SQLITE_OK;
  int leading = 1, seen = 0;   /* the wrapper a run absorbs is no finding */
  if( zSql==0 ) return SQLITE_NOMEM;
  while( rc==SQLITE_OK ){
    char *zStart = (char*)sqlSkipSpace(z);
    char *zEnd;
    if( *zStart==0 ) break;
    zEnd = statementEnd(zStart);
    line += utilCountLines(zLineAt, zStart);
    zLineAt = zStart;
    if( !scriptAbsorbed(zStart, zEnd, pScr->noTxn ? 0 : SCRIPT_IN_TXN,
                        &leading, &seen) ){
      rc = lintStatement(db, zStart, zEnd, pScr->noTxn, zFile, line, xFound, pArg);
    }
    z = zEnd;
  }
  sqlite3_free(zSql);
  return rc;
}
