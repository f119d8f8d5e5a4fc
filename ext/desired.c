/*
** desired.c — the desired schema of migrate_diff (doc/diff.md), loaded:
** its text (given, or read from a file), the rename hints in its comments,
** and the schema itself, made by SQLite on an empty scratch database.
**
** The argument is SQL when, past blanks and comments, it is empty or its
** first word is CREATE or PRAGMA; anything else is the path of a file.
** SQLite itself reads the statements (scratch.c runs them as a migration
** script runs); nothing here parses SQL but the hint lines:
**
**   -- migrate:rename table <old> -> <new>
**   -- migrate:rename column <table>.<old> -> <new>
**
** where <table> is the table's name in the desired schema, and names are
** bare or quoted as in SQL.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

void desiredFree(Desired *p){
  int i;
  for(i=0; i<p->nRen; i++){
    sqlite3_free(p->aRen[i].zTable);
    sqlite3_free(p->aRen[i].zFrom);
    sqlite3_free(p->aRen[i].zTo);
  }
  sqlite3_free(p->aRen);
  sqlite3_close(p->db);
  memset(p, 0, sizeof(*p));
}

/* Is the argument SQL text, rather than a path? (see the header) */
static int isSqlText(const char *z){
  SqlTok t;
  sqlNextTok(z, z + strlen(z), &t);
  return t.kind==SQLTOK_END || sqlTokIs(&t, "CREATE") || sqlTokIs(&t, "PRAGMA");
}

static int isName(const SqlTok *t){
  return t->kind==SQLTOK_WORD || t->kind==SQLTOK_QUOTED;
}

#define HINT_MARK "migrate:rename"
#define HINT_FORM "a rename hint is written '-- migrate:rename table <old> -> " \
                  "<new>' or '-- migrate:rename column <table>.<old> -> <new>'"

/* One hint line, from past its marker to zEnd, into p. */
static int parseHint(const char *z, const char *zEnd, DiffRename *p){
  SqlTok t, a, b, c;
  memset(p, 0, sizeof(*p));
  z = sqlNextTok(z, zEnd, &t);
  if( sqlTokIs(&t, "table") ){
    p->isTable = 1;
    z = sqlNextTok(z, zEnd, &a);
    if( !isName(&a) ) return SQLITE_ERROR;
  }else if( sqlTokIs(&t, "column") ){
    z = sqlNextTok(z, zEnd, &c);
    if( !isName(&c) ) return SQLITE_ERROR;
    z = sqlNextTok(z, zEnd, &t);
    if( !sqlTokPunct(&t, '.') ) return SQLITE_ERROR;
    z = sqlNextTok(z, zEnd, &a);
    if( !isName(&a) ) return SQLITE_ERROR;
    if( (p->zTable = diffTokName(&c))==0 ) return SQLITE_NOMEM;
  }else{
    return SQLITE_ERROR;
  }
  z = sqlNextTok(z, zEnd, &t);
  if( !sqlTokPunct(&t, '-') || t.z[1]!='>' ) return SQLITE_ERROR;
  z = sqlNextTok(z+1, zEnd, &b);
  if( !isName(&b) ) return SQLITE_ERROR;
  sqlNextTok(z, zEnd, &t);
  if( t.kind!=SQLTOK_END ) return SQLITE_ERROR;
  p->zFrom = diffTokName(&a);
  p->zTo = diffTokName(&b);
  return p->zFrom && p->zTo ? SQLITE_OK : SQLITE_NOMEM;
}

/* The hint lines of the text: "--", blanks, then the marker. */
static int readHints(const char *zText, const char *zShow, Desired *pOut,
                     char **pzErr){
  const char *z = zText;
  int line = 1, nAlloc = 0;
  while( *z ){
    const char *zEol = strchr(z, '\n');
    const char *zEnd = zEol ? zEol : z + strlen(z);
    const char *p = z;
    while( p<zEnd && (*p==' ' || *p=='\t') ) p++;
    if( zEnd-p>=2 && p[0]=='-' && p[1]=='-' ){
      p += 2;
      while( p<zEnd && (*p==' ' || *p=='\t') ) p++;
      if( zEnd-p>=(int)strlen(HINT_MARK)
       && sqlite3_strnicmp(p, HINT_MARK, (int)strlen(HINT_MARK))==0 ){
        DiffRename r;
        int rc = parseHint(p + strlen(HINT_MARK), zEnd, &r);
        if( rc==SQLITE_OK
         && utilArrayReserve((void**)&pOut->aRen, &nAlloc, pOut->nRen, sizeof(r)) ){
          rc = SQLITE_NOMEM;
        }
        if( rc ){
          sqlite3_free(r.zTable);
          sqlite3_free(r.zFrom);
          sqlite3_free(r.zTo);
          if( rc==SQLITE_NOMEM ) return rc;
          *pzErr = sqlite3_mprintf("%s:%d: %s", zShow, line, HINT_FORM);
          return SQLITE_ERROR;
        }
        r.line = line;
        pOut->aRen[pOut->nRen++] = r;
      }
    }
    if( zEol==0 ) break;
    z = zEol + 1;
    line++;
  }
  return SQLITE_OK;
}

int desiredLoad(sqlite3 *pCaller, const char *zArg, Desired *pOut, char **pzErr){
  char *zText = 0;
  const char *zShow = "desired schema";
  size_t n = 0;
  int rc = SQLITE_OK;
  memset(pOut, 0, sizeof(*pOut));
  pOut->zShow = zShow;
  if( isSqlText(zArg) ){
    zText = sqlite3_mprintf("%s", zArg);
    if( zText==0 ) return SQLITE_NOMEM;
    n = strlen(zText);
  }else{
    zShow = zArg;
    pOut->zShow = zArg;
    rc = fileReadWhole(zArg, zArg, &zText, &n, 0, pzErr);
    if( rc ) return rc;
  }
  rc = readHints(zText, zShow, pOut, pzErr);
  if( rc==SQLITE_OK ) rc = scratchOpen(pCaller, 0, &pOut->db, pzErr);
  if( rc==SQLITE_OK ){
    Script sc;
    sc.z = zText;
    sc.n = n;
    sc.line = 1;
    sc.noTxn = 0;
    rc = scratchRun(pOut->db, &sc, zShow, pzErr);
  }
  sqlite3_free(zText);
  if( rc ){
    desiredFree(pOut);
  }else{
    pOut->zShow = zShow;
  }
  return rc;
}
