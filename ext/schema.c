/*
** schema.c — the schema of main as canonical SQL text, and migrate_schema().
**
**   SELECT migrate_schema();                 -- the schema, as text
**   SELECT migrate_schema('db/schema.sql');  -- written to a file, atomically
**
** Canonical means the same schema always gives the same bytes, whatever
** order it was created in and however its CREATE statements were laid out:
**
**   - objects of main only, ordered by type (tables, indexes, views,
**     triggers), then by the table they belong to, then by name; names are
**     compared without case first, then exactly, so the order is total;
**   - left out: SQLite's own objects (sqlite_%), the shadow tables of
**     virtual tables (their CREATE VIRTUAL TABLE makes them), and the
**     extension's migrate_history, migrate_log and migrate_repeatable, and
**     each migration set's history and repeatable tables (sets.c), with
**     their indexes and triggers;
**   - each CREATE statement with its comments removed and, outside string
**     literals and quoted names, every run of blanks made one space, no
**     space next to '(' and ')' or before ',' and ';', one after ','; then
**     ";\n";
**   - the object's own name, and the table an index or trigger is on,
**     without quotes when it needs none (see bareHeaderNames);
**   - a last line PRAGMA user_version=N; when user_version is not 0.
**
** The text runs as a script: executed in an empty database it makes the
** same schema, and migrate_schema() there returns the same text.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* --------------------------------------------------------- normalising */

static int isTight(char c){
  return c=='(' || c==')' || c==',' || c==';';
}

/* A blank, a comment or a quoted token starts at z. */
static int startsToken(const char *z){
  return *z==' ' || *z=='\t' || *z=='\n' || *z=='\r' || *z=='\f' || *z=='\v'
      || (z[0]=='-' && z[1]=='-') || (z[0]=='/' && z[1]=='*')
      || *z=='\'' || *z=='"' || *z=='`' || *z=='[';
}

char *schemaNormalize(const char *zSql){
  /* The text only shrinks, but for the one space added after each comma. */
  size_t n = strlen(zSql), i;
  size_t nComma = 0;
  const char *z = zSql;
  char *zOut, *o;
  int space = 0;          /* blanks or a comment were skipped */
  for(i=0; i<n; i++) nComma += zSql[i]==',';
  zOut = o = sqlite3_malloc64(n + nComma + 1);
  if( zOut==0 ) return 0;
  while( *z ){
    const char *zNext = sqlSkipSpace(z);
    char last = o>zOut ? o[-1] : 0;
    if( zNext!=z ){
      space = 1;
      z = zNext;
      continue;
    }
    /* One space between tokens where there was any, and always after a
    ** comma; none at all next to a bracket, before a comma or a ';' (those
    ** are tokens of their own: no space there ever changes the meaning). */
    if( last==',' || (space && last!=0 && last!='(' && !isTight(*z)) ){
      *o++ = ' ';
    }
    space = 0;
    if( *z=='\'' || *z=='"' || *z=='`' || *z=='[' ){
      zNext = sqlSkipQuoted(z);
      memcpy(o, z, (size_t)(zNext-z));
      o += zNext-z;
      z = zNext;
    }else{
      /* A run of plain bytes, up to a comma or the next blank, comment
      ** or quote: only those decide anything. */
      do{ *o++ = *z++; }while( *z && o[-1]!=',' && !startsToken(z) );
    }
  }
  *o = 0;
  return zOut;
}

/*
** ALTER TABLE ... RENAME writes the new name quoted into the schema
** ("CREATE TABLE \"tasks\"(...)", "CREATE INDEX i ON \"tasks\"(...)"), so
** the 12-step table rebuild changes a table's text without changing the
** table.  The names that say what an object is and what it is on are shown
** bare when they need no quotes: ASCII letters, digits and '_', not
** starting with a digit, and not an SQLite keyword.  (Only these names:
** elsewhere a double-quoted word may be a string literal.)
*/
static int isWordByte(char c){
  return (c>='a' && c<='z') || (c>='A' && c<='Z') || (c>='0' && c<='9') || c=='_';
}

/* The token at z, unquoted in place when that is safe; returns its end. */
static char *bareName(char *z){
  char *zEnd, *zIn;
  int n, i;
  if( *z!='"' && *z!='[' && *z!='`' ){
    while( isWordByte(*z) || (*z & 0x80) ) z++;
    return z;
  }
  zEnd = (char*)sqlSkipQuoted(z);
  zIn = z+1;
  n = (int)(zEnd - zIn) - 1;
  if( n<=0 || zEnd[-1]!=(*z=='[' ? ']' : *z) ) return zEnd;
  if( zIn[0]>='0' && zIn[0]<='9' ) return zEnd;
  for(i=0; i<n; i++) if( !isWordByte(zIn[i]) ) return zEnd;
  if( sqlite3_keyword_check(zIn, n) ) return zEnd;
  memmove(z, zIn, (size_t)n);
  memmove(z+n, zEnd, strlen(zEnd)+1);
  return z+n;
}

/* Past the next word of normalised text, and the space after it. */
static char *skipWord(char *z, const char *zWord){
  int n = (int)strlen(zWord);
  if( sqlite3_strnicmp(z, zWord, n)!=0 || isWordByte(z[n]) ) return 0;
  return z[n]==' ' ? z+n+1 : z+n;
}

static void bareHeaderNames(char *z){
  int isOn;
  if( (z = skipWord(z, "CREATE"))==0 ) return;
  if( skipWord(z, "UNIQUE") ) z = skipWord(z, "UNIQUE");
  if( skipWord(z, "VIRTUAL") ) z = skipWord(z, "VIRTUAL");
  isOn = skipWord(z, "INDEX")!=0 || skipWord(z, "TRIGGER")!=0;
  while( isWordByte(*z) ) z++;
  if( *z!=' ' ) return;
  z = bareName(z+1);
  if( !isOn ) return;
  /* The first ON after the name: CREATE INDEX i ON t(..), CREATE TRIGGER
  ** tr AFTER UPDATE OF a, b ON t ... */
  while( *z ){
    if( *z=='\'' || *z=='"' || *z=='`' || *z=='[' ){
      z = (char*)sqlSkipQuoted(z);
    }else if( !isWordByte(z[-1]) && skipWord(z, "ON") ){
      bareName(skipWord(z, "ON"));
      return;
    }else{
      z++;
    }
  }
}

/* ------------------------------------------------------------ reading */

static int typeRank(const char *zType){
  if( strcmp(zType, "table")==0 ) return 0;
  if( strcmp(zType, "index")==0 ) return 1;
  if( strcmp(zType, "view")==0 ) return 2;
  return 3;
}

/* The canonical order: type, then table, then name; without case, then
** exactly, so two names that differ only in case still have an order. */
static int objCmp(const void *a, const void *b){
  const SchemaObj *x = (const SchemaObj*)a, *y = (const SchemaObj*)b;
  int c;
  if( x->rank!=y->rank ) return x->rank - y->rank;
  if( (c = sqlite3_stricmp(x->tbl, y->tbl))!=0 ) return c;
  if( (c = strcmp(x->tbl, y->tbl))!=0 ) return c;
  if( (c = sqlite3_stricmp(x->name, y->name))!=0 ) return c;
  return strcmp(x->name, y->name);
}

void schemaFree(Schema *p){
  int i;
  for(i=0; i<p->n; i++){
    sqlite3_free(p->a[i].name);
    sqlite3_free(p->a[i].tbl);
    sqlite3_free(p->a[i].sql);
  }
  sqlite3_free(p->a);
  memset(p, 0, sizeof(*p));
}

/* Objects of main a schema dump is about (see the header). */
#define SCHEMA_QUERY \
  "SELECT type, name, tbl_name, sql FROM main.sqlite_schema" \
  " WHERE sql IS NOT NULL AND type IN ('table','index','view','trigger')" \
  " AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'" \
  " AND lower(tbl_name) NOT IN ('migrate_history','migrate_log',"\
  "'migrate_repeatable')" \
  " AND NOT " SETS_IS_HISTORY("tbl_name") " AND NOT " SETS_IS_REPEATABLE("tbl_name") \
  " AND (NOT EXISTS (SELECT 1 FROM main.sqlite_schema"  \
  "                  WHERE sql LIKE 'CREATE VIRTUAL TABLE%')" \
  "      OR name NOT IN (SELECT name FROM pragma_table_list" \
  "                      WHERE schema='main' AND type='shadow'))"

int schemaRead(sqlite3 *db, Schema *pOut, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc, nAlloc = 0;
  memset(pOut, 0, sizeof(*pOut));
  rc = sqlite3_prepare_v2(db, SCHEMA_QUERY, -1, &p, 0);
  while( rc==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
    SchemaObj *o;
    if( utilArrayReserve((void**)&pOut->a, &nAlloc, pOut->n, sizeof(SchemaObj)) ){
      rc = SQLITE_NOMEM;
      break;
    }
    o = &pOut->a[pOut->n++];
    o->rank = typeRank((const char*)sqlite3_column_text(p, 0));
    o->name = sqlite3_mprintf("%s", sqlite3_column_text(p, 1));
    o->tbl = sqlite3_mprintf("%s", sqlite3_column_text(p, 2));
    o->sql = schemaNormalize((const char*)sqlite3_column_text(p, 3));
    if( o->name==0 || o->tbl==0 || o->sql==0 ) rc = SQLITE_NOMEM;
    else bareHeaderNames(o->sql);
  }
  { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
  if( rc==SQLITE_OK ){
    pOut->userVersion = utilPragmaValue(db, "PRAGMA main.user_version", 0, 0);
    if( pOut->n>1 ) qsort(pOut->a, (size_t)pOut->n, sizeof(SchemaObj), objCmp);
  }else{
    if( rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(db);
    schemaFree(pOut);
  }
  return rc;
}

const char *schemaTypeName(const SchemaObj *o){
  static const char *const az[] = { "table", "index", "view", "trigger" };
  return az[o->rank];
}

char *schemaText(const Schema *p){
  sqlite3_str *s = sqlite3_str_new(0);
  int i;
  for(i=0; i<p->n; i++) sqlite3_str_appendf(s, "%s;\n", p->a[i].sql);
  if( p->userVersion ) sqlite3_str_appendf(s, "PRAGMA user_version=%lld;\n",
                                           p->userVersion);
  /* An empty schema is the empty text: sqlite3_str_finish() would say NULL. */
  if( sqlite3_str_errcode(s)==SQLITE_OK && sqlite3_str_length(s)==0 ){
    sqlite3_free(sqlite3_str_finish(s));
    return sqlite3_mprintf("");
  }
  return sqlite3_str_finish(s);
}

/* --------------------------------------------------------- comparing */

/* Objects are the same object when type and name match; SQLite's names
** are case-insensitive. */
static int sameCmp(const void *a, const void *b){
  const SchemaObj *x = *(const SchemaObj*const*)a, *y = *(const SchemaObj*const*)b;
  if( x->rank!=y->rank ) return x->rank - y->rank;
  return sqlite3_stricmp(x->name, y->name);
}

static int changeCmp(const void *a, const void *b){
  const SchemaChange *x = (const SchemaChange*)a, *y = (const SchemaChange*)b;
  int c = objCmp(x->pNew ? x->pNew : x->pOld, y->pNew ? y->pNew : y->pOld);
  if( c ) return c;
  /* The same place in the order: the old object first. */
  return (x->pNew!=0) - (y->pNew!=0);
}

int schemaDiff(const Schema *pOld, const Schema *pNew, SchemaChange **paOut,
               int *pnOut){
  const SchemaObj **aNew;
  char *aMatched;
  SchemaChange *a = 0;
  int i, n = 0, nAlloc = 0, rc = SQLITE_OK;
  *paOut = 0;
  *pnOut = 0;
  aNew = sqlite3_malloc64(sizeof(SchemaObj*)*(sqlite3_uint64)(pNew->n+1));
  aMatched = sqlite3_malloc64((sqlite3_uint64)pNew->n+1);
  if( aNew==0 || aMatched==0 ) rc = SQLITE_NOMEM;
  for(i=0; rc==SQLITE_OK && i<pNew->n; i++) aNew[i] = &pNew->a[i];
  if( rc==SQLITE_OK ){
    memset(aMatched, 0, (size_t)pNew->n+1);
    if( pNew->n>1 ) qsort(aNew, (size_t)pNew->n, sizeof(aNew[0]), sameCmp);
  }
  for(i=0; rc==SQLITE_OK && i<pOld->n; i++){
    const SchemaObj *pKey = &pOld->a[i];
    const SchemaObj **pp = pNew->n ? bsearch(&pKey, aNew, (size_t)pNew->n,
                                             sizeof(aNew[0]), sameCmp) : 0;
    if( pp ) aMatched[pp-aNew] = 1;
    if( pp && strcmp((*pp)->sql, pKey->sql)==0 ) continue;
    if( utilArrayReserve((void**)&a, &nAlloc, n, sizeof(*a)) ){ rc = SQLITE_NOMEM; break; }
    a[n].pOld = pKey;
    a[n].pNew = pp ? *pp : 0;
    n++;
  }
  for(i=0; rc==SQLITE_OK && i<pNew->n; i++){
    if( aMatched[i] ) continue;
    if( utilArrayReserve((void**)&a, &nAlloc, n, sizeof(*a)) ){ rc = SQLITE_NOMEM; break; }
    a[n].pOld = 0;
    a[n].pNew = aNew[i];
    n++;
  }
  sqlite3_free(aNew);
  sqlite3_free(aMatched);
  if( rc ){
    sqlite3_free(a);
    return rc;
  }
  if( n>1 ) qsort(a, (size_t)n, sizeof(*a), changeCmp);
  *paOut = a;
  *pnOut = n;
  return SQLITE_OK;
}

void schemaFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  const char *zPath = 0;
  Schema sch;
  char *zText = 0, *zErr = 0;
  int rc;
  if( argc>0 ){
    zPath = utilArgText(ctx, argv[0], "migrate_schema", "the path");
    if( zPath==0 ) return;
    if( callGuard(ctx, "migrate_schema", GUARD_NOT_BUSY) ) return;
  }
  rc = schemaRead(db, &sch, &zErr);
  if( rc==SQLITE_OK ){
    zText = schemaText(&sch);
    if( zText==0 ) rc = SQLITE_NOMEM;
    schemaFree(&sch);
  }
  if( rc==SQLITE_OK && zPath ) rc = fileWriteReplacing(db, zPath, zText, &zErr);
  if( rc==SQLITE_NOMEM && zErr==0 ){
    sqlite3_result_error_nomem(ctx);
  }else if( rc ){
    ctxErrorMsg(ctx, "migrate_schema: %s", zErr ? zErr : sqlite3_errstr(rc));
  }else if( zPath ){
    sqlite3_result_text(ctx, zPath, -1, SQLITE_TRANSIENT);
  }else{
    sqlite3_result_text(ctx, zText, -1, sqlite3_free);
    zText = 0;
  }
  sqlite3_free(zText);
  sqlite3_free(zErr);
}
