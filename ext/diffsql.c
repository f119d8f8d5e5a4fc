/*
** diffsql.c — reading and writing the text of the statements migrate_diff
** puts in a migration (doc/diff.md).
**
** Nothing here parses a schema: SQLite has parsed it already, and the texts
** read here are the CREATE statements SQLite stored in sqlite_schema, which
** always start "CREATE <type> <name>" (SQLite leaves out TEMP, IF NOT EXISTS
** and the schema name when it stores them).  Only the layout of that text
** is read, token by token, as SQLite's tokenizer splits it.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

static int isNameByte(char c){
  return (c>='a' && c<='z') || (c>='A' && c<='Z') || (c>='0' && c<='9') || c=='_';
}

/* A name as a statement shows it: bare when it needs no quotes (ASCII
** letters, digits and '_', not starting with a digit, not a keyword), else
** in double quotes.  sqlite3_free() it. */
char *diffName(const char *z){
  int n = (int)strlen(z), i, bare = n>0 && !(z[0]>='0' && z[0]<='9');
  for(i=0; bare && i<n; i++) bare = isNameByte(z[i]);
  if( bare && sqlite3_keyword_check(z, n) ) bare = 0;
  return bare ? sqlite3_mprintf("%s", z) : sqlite3_mprintf("\"%w\"", z);
}

/* The name a token spells, unquoted; sqlite3_free() it. */
char *diffTokName(const SqlTok *t){
  char *z = sqlite3_malloc(t->n + 1);
  if( z ) sqlTokName(t, z, t->n + 1);
  return z;
}

/* Does a token of zSql name zName (bare or quoted, in any case)?  Used to
** find the views and triggers that may read a table: a word that only
** looks like the name makes one more view dropped and made again, never
** one less. */
int diffMentions(const char *zSql, const char *zName){
  const char *z = zSql, *zEnd = zSql + strlen(zSql);
  int nName = (int)strlen(zName);
  SqlTok t;
  while( (z = sqlNextTok(z, zEnd, &t))!=0 && t.kind!=SQLTOK_END ){
    if( t.kind==SQLTOK_WORD ){
      if( t.n==nName && sqlite3_strnicmp(t.z, zName, nName)==0 ) return 1;
    }else if( t.kind==SQLTOK_QUOTED || t.kind==SQLTOK_STRING ){
      /* 'name' is a string, but SQLite takes it for a name where only a
      ** name can stand (FROM 't'). */
      char *zTok = sqlite3_malloc(t.n + 1);
      int same;
      if( zTok==0 ) return 1;
      if( t.kind==SQLTOK_STRING ){
        SqlTok q = t;
        q.kind = SQLTOK_QUOTED;
        sqlTokName(&q, zTok, t.n + 1);
      }else{
        sqlTokName(&t, zTok, t.n + 1);
      }
      same = sqlite3_stricmp(zTok, zName)==0;
      sqlite3_free(zTok);
      if( same ) return 1;
    }
  }
  return 0;
}

/* Does zSql hold the keyword zWord (AUTOINCREMENT) outside quotes? */
int diffHasWord(const char *zSql, const char *zWord){
  const char *z = zSql, *zEnd = zSql + strlen(zSql);
  SqlTok t;
  while( (z = sqlNextTok(z, zEnd, &t))!=0 && t.kind!=SQLTOK_END ){
    if( sqlTokIs(&t, zWord) ) return 1;
  }
  return 0;
}

/* Where the object's own name ends in a stored CREATE text: past CREATE,
** the type words (UNIQUE, VIRTUAL, TABLE, INDEX, VIEW, TRIGGER) and the
** name.  NULL when the text is not of that shape. */
static const char *pastName(const char *zSql, const char **pzNameStart){
  const char *z = zSql, *zEnd = zSql + strlen(zSql);
  SqlTok t;
  z = sqlNextTok(z, zEnd, &t);
  if( !sqlTokIs(&t, "CREATE") ) return 0;
  for(;;){
    z = sqlNextTok(z, zEnd, &t);
    if( sqlTokIs(&t, "UNIQUE") || sqlTokIs(&t, "VIRTUAL") ) continue;
    if( sqlTokIs(&t, "TABLE") || sqlTokIs(&t, "INDEX")
     || sqlTokIs(&t, "VIEW") || sqlTokIs(&t, "TRIGGER") ) break;
    return 0;
  }
  z = sqlNextTok(z, zEnd, &t);
  if( t.kind!=SQLTOK_WORD && t.kind!=SQLTOK_QUOTED ) return 0;
  if( pzNameStart ) *pzNameStart = t.z;
  return z;
}

/* The stored CREATE text zSql with its object's name made zNewName (a name
** as diffName shows it).  sqlite3_free() it; NULL: out of memory or not a
** CREATE text. */
char *diffRenamedCreate(const char *zSql, const char *zNewName){
  const char *zName = 0;
  const char *zPast = pastName(zSql, &zName);
  if( zPast==0 ) return 0;
  return sqlite3_mprintf("%.*s%s%s", (int)(zName - zSql), zSql, zNewName, zPast);
}

void diffDefsFree(char **az, int n){
  int i;
  for(i=0; i<n; i++) sqlite3_free(az[i]);
  sqlite3_free(az);
}

/*
** The column definitions of a stored CREATE TABLE text, in order, each
** normalised (schemaNormalize: no comments, one blank between tokens), as
** ALTER TABLE ADD COLUMN takes them.  The table constraints after them
** (CONSTRAINT, PRIMARY KEY, UNIQUE, CHECK, FOREIGN KEY) are not columns.
*/
int diffColumnDefs(const char *zSql, char ***pazDef, int *pn){
  const char *z = pastName(zSql, 0), *zEnd = zSql + strlen(zSql);
  const char *zStart = 0, *zLast = 0;
  char **az = 0;
  int n = 0, nAlloc = 0, depth = 0, first = 1, rc = SQLITE_OK;
  SqlTok t;
  *pazDef = 0;
  *pn = 0;
  if( z==0 ) return SQLITE_OK;
  while( (z = sqlNextTok(z, zEnd, &t))!=0 && t.kind!=SQLTOK_END ){
    int ends = 0;
    if( sqlTokPunct(&t, '(') ){
      if( depth++==0 ){ zStart = 0; first = 1; continue; }
    }else if( sqlTokPunct(&t, ')') ){
      if( --depth==0 ) ends = 2;
    }else if( depth==1 && sqlTokPunct(&t, ',') ){
      ends = 1;
    }
    if( depth<1 && !ends ) continue;
    if( !ends ){
      if( first ){
        first = 0;
        if( sqlTokIs(&t, "CONSTRAINT") || sqlTokIs(&t, "PRIMARY")
         || sqlTokIs(&t, "UNIQUE") || sqlTokIs(&t, "CHECK")
         || sqlTokIs(&t, "FOREIGN") ){
          break;
        }
        zStart = t.z;
      }
      zLast = t.z + t.n;
      continue;
    }
    if( zStart ){
      char *zPiece = utilTextDup(zStart, (size_t)(zLast - zStart));
      char *zDef = zPiece ? schemaNormalize(zPiece) : 0;
      sqlite3_free(zPiece);
      if( zDef==0 || utilArrayReserve((void**)&az, &nAlloc, n, sizeof(char*)) ){
        sqlite3_free(zDef);
        rc = SQLITE_NOMEM;
        break;
      }
      az[n++] = zDef;
    }
    zStart = 0;
    first = 1;
    if( ends==2 ) break;
  }
  if( rc ){
    diffDefsFree(az, n);
    return rc;
  }
  *pazDef = az;
  *pn = n;
  return SQLITE_OK;
}
