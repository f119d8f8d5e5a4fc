/*
** diffcopy.c — the scratch copy migrate_diff writes its script on
** (doc/diff.md): every statement is run there as it is written, and what
** the script needs to know is read from there.
**
** A DiffPlan holds the copy (W), the target schema's connection (T), the
** script so far and the first error; after an error every helper does
** nothing, so a plan reads straight down and checks p->rc where it must.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <stdarg.h>
#include <string.h>

/* ------------------------------------------------------------- helpers */

/* migrate's own tables and what belongs to them are no part of a schema
** to diff (migrate_history and migrate_repeatable with any suffix, as
** named sets of migrations make them, and migrate_log). */
static int isOwn(const SchemaObj *o){
  return sqlite3_strlike("migrate\\_history%", o->tbl, '\\')==0
      || sqlite3_strlike("migrate\\_repeatable%", o->tbl, '\\')==0
      || sqlite3_stricmp("migrate_log", o->tbl)==0;
}

int planReadSchema(DiffPlan *p, sqlite3 *db, Schema *pOut){
  int i, j = 0;
  if( p->rc ) return p->rc;
  p->rc = schemaRead(db, pOut, &p->zErr);
  if( p->rc ) return p->rc;
  for(i=0; i<pOut->n; i++){
    if( isOwn(&pOut->a[i]) ){
      sqlite3_free(pOut->a[i].name);
      sqlite3_free(pOut->a[i].tbl);
      sqlite3_free(pOut->a[i].sql);
    }else{
      pOut->a[j++] = pOut->a[i];
    }
  }
  pOut->n = j;
  return SQLITE_OK;
}

int planReread(DiffPlan *p){
  schemaFree(&p->sW);
  return planReadSchema(p, p->W, &p->sW);
}

const SchemaObj *planFind(const Schema *s, int rank, const char *zName){
  int i;
  for(i=0; i<s->n; i++){
    if( s->a[i].rank==rank && sqlite3_stricmp(s->a[i].name, zName)==0 ){
      return &s->a[i];
    }
  }
  return 0;
}

const SchemaObj *planFindAny(const Schema *s, const char *zName){
  int r;
  for(r=0; r<4; r++){
    const SchemaObj *o = planFind(s, r, zName);
    if( o ) return o;
  }
  return 0;
}

void planNomem(DiffPlan *p){ if( p->rc==SQLITE_OK ) p->rc = SQLITE_NOMEM; }

/* A query's first column of its first row as an integer (0 without one);
** parameters ?1 and ?2 are bound to z1 and z2. */
i64 planQueryInt(DiffPlan *p, sqlite3 *db, const char *zSql, const char *z1,
                    const char *z2){
  sqlite3_stmt *s = 0;
  i64 v = 0;
  int rc;
  if( p->rc ) return 0;
  rc = sqlite3_prepare_v2(db, zSql, -1, &s, 0);
  if( rc==SQLITE_OK ){
    if( z1 ) sqlite3_bind_text(s, 1, z1, -1, SQLITE_STATIC);
    if( z2 ) sqlite3_bind_text(s, 2, z2, -1, SQLITE_STATIC);
    if( (rc = sqlite3_step(s))==SQLITE_ROW ){
      v = sqlite3_column_int64(s, 0);
      rc = SQLITE_OK;
    }else if( rc==SQLITE_DONE ){
      rc = SQLITE_OK;
    }
  }
  if( rc ){
    p->rc = rc==SQLITE_NOMEM ? rc : SQLITE_ERROR;
    if( rc!=SQLITE_NOMEM ) p->zErr = utilDbErr(db);
  }
  sqlite3_finalize(s);
  return v;
}

/* The stored CREATE text of an object of db's main (NULL: none). */
char *planStoredSql(DiffPlan *p, sqlite3 *db, const SchemaObj *o){
  sqlite3_stmt *s = 0;
  char *z = 0;
  if( p->rc ) return 0;
  p->rc = sqlite3_prepare_v2(db, "SELECT sql FROM main.sqlite_schema"
                             " WHERE type=?1 AND name=?2", -1, &s, 0);
  if( p->rc==SQLITE_OK ){
    sqlite3_bind_text(s, 1, schemaTypeName(o), -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, o->name, -1, SQLITE_STATIC);
    if( (p->rc = sqlite3_step(s))==SQLITE_ROW ){
      p->rc = SQLITE_OK;
      z = sqlite3_mprintf("%s", sqlite3_column_text(s, 0));
      if( z==0 ) p->rc = SQLITE_NOMEM;
    }else if( p->rc==SQLITE_DONE ){
      /* It was read a moment ago from the same connection. */
      p->rc = SQLITE_ERROR;
      p->zErr = sqlite3_mprintf("%s %s vanished from the schema",
                                schemaTypeName(o), o->name);
    }else if( p->rc!=SQLITE_NOMEM ){
      p->rc = SQLITE_ERROR;
      p->zErr = utilDbErr(db);
    }
  }else if( p->rc!=SQLITE_NOMEM ){
    p->rc = SQLITE_ERROR;
    p->zErr = utilDbErr(db);
  }
  sqlite3_finalize(s);
  return z;
}

void planColsFree(DiffCols *c){
  int i;
  for(i=0; i<c->n; i++) sqlite3_free(c->a[i].name);
  sqlite3_free(c->a);
  memset(c, 0, sizeof(*c));
}

/* Is a default (as table_xinfo shows it) one ALTER TABLE ADD COLUMN takes
** on a table with rows: a literal, signed or not, NULL, TRUE or FALSE? */
static int dfltConstant(const char *z){
  if( z==0 ) return 0;
  if( sqlite3_stricmp(z, "NULL")==0 || sqlite3_stricmp(z, "TRUE")==0
   || sqlite3_stricmp(z, "FALSE")==0 ){
    return 1;
  }
  if( (z[0]=='x' || z[0]=='X') && z[1]=='\'' ) z++;
  if( z[0]=='\'' ){
    const char *zEnd = sqlSkipQuoted(z);
    return *zEnd==0 && zEnd-z>=2 && zEnd[-1]=='\'';
  }
  if( *z=='+' || *z=='-' ) z++;
  if( !((*z>='0' && *z<='9') || *z=='.') ) return 0;
  for(; *z; z++){
    if( !((*z>='0' && *z<='9') || (*z>='a' && *z<='f') || (*z>='A' && *z<='F')
          || *z=='.' || *z=='x' || *z=='X' || *z=='+' || *z=='-') ) return 0;
  }
  return 1;
}

int planReadCols(DiffPlan *p, sqlite3 *db, const char *zTab, DiffCols *c){
  sqlite3_stmt *s = 0;
  int nAlloc = 0;
  memset(c, 0, sizeof(*c));
  if( p->rc ) return p->rc;
  p->rc = sqlite3_prepare_v2(db, "SELECT name, \"notnull\", dflt_value IS NOT NULL,"
                             " pk, hidden, upper(type)='INTEGER', dflt_value"
                             " FROM pragma_table_xinfo(?1, 'main') ORDER BY cid",
                             -1, &s, 0);
  if( p->rc ){
    p->zErr = utilDbErr(db);
    return p->rc;
  }
  sqlite3_bind_text(s, 1, zTab, -1, SQLITE_STATIC);
  while( sqlite3_step(s)==SQLITE_ROW ){
    DiffCol *k;
    if( utilArrayReserve((void**)&c->a, &nAlloc, c->n, sizeof(DiffCol)) ){ planNomem(p); break; }
    k = &c->a[c->n++];
    k->name = sqlite3_mprintf("%s", sqlite3_column_text(s, 0));
    k->notnull = sqlite3_column_int(s, 1);
    k->hasDflt = sqlite3_column_int(s, 2);
    k->pk = sqlite3_column_int(s, 3);
    k->hidden = sqlite3_column_int(s, 4);
    k->isInteger = sqlite3_column_int(s, 5);
    k->dfltVaries = sqlite3_column_type(s, 6)!=SQLITE_NULL
                 && !dfltConstant((const char*)sqlite3_column_text(s, 6));
    if( k->name==0 ){ planNomem(p); break; }
  }
  /* A step that failed (out of memory) must not pass for the last row. */
  { int rc = sqlite3_finalize(s);
    if( rc && p->rc==SQLITE_OK ){
      p->rc = rc==SQLITE_NOMEM ? rc : SQLITE_ERROR;
      if( rc!=SQLITE_NOMEM ) p->zErr = utilDbErr(db);
    } }
  return p->rc;
}

int planColFind(const DiffCols *c, const char *zName){
  int i;
  for(i=0; i<c->n; i++) if( sqlite3_stricmp(c->a[i].name, zName)==0 ) return i;
  return -1;
}

/* Is the table a rowid table (not WITHOUT ROWID, not virtual)? */
int planIsRowid(DiffPlan *p, sqlite3 *db, const char *zTab){
  return (int)planQueryInt(p, db, "SELECT type='table' AND NOT wr FROM"
                       " pragma_table_list(?1) WHERE schema='main'", zTab, 0);
}

/* The column that is the rowid's alias (INTEGER PRIMARY KEY), or -1. */
int planIpkColumn(const DiffCols *c, int isRowid){
  int i, n = 0, k = -1;
  if( !isRowid ) return -1;
  for(i=0; i<c->n; i++) if( c->a[i].pk ){ n++; k = i; }
  return n==1 && c->a[k].isInteger ? k : -1;
}

/* ---------------------------------------------------------- writing */

void planFail(DiffPlan *p, char *zMsg){
  if( p->rc==SQLITE_OK ){
    p->rc = zMsg ? SQLITE_ERROR : SQLITE_NOMEM;
    p->zErr = zMsg;
  }else{
    sqlite3_free(zMsg);
  }
}

/* Run zSql (taken) on the copy, and write it as a statement. */
void planEmit(DiffPlan *p, char *zSql){
  char *zE = 0;
  if( zSql==0 ){ planNomem(p); return; }
  if( p->rc==SQLITE_OK ){
    int rc = sqlite3_exec(p->W, zSql, 0, 0, &zE);
    if( rc==SQLITE_NOMEM ){
      p->rc = rc;
    }else if( rc ){
      planFail(p, sqlite3_mprintf("the migration fails on a copy of the %s, at "
                              "\"%s\": %s", p->isUp ? "database" : "desired schema",
                              zSql, zE ? zE : sqlite3_errstr(rc)));
    }else{
      sqlite3_str_appendf(p->out, "%s;\n", zSql);
    }
  }
  sqlite3_free(zE);
  sqlite3_free(zSql);
}

/* A statement or a comment line, formatted. */
void planEmitf(DiffPlan *p, const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  planEmit(p, sqlite3_vmprintf(zFmt, ap));
  va_end(ap);
}

static void comment(DiffPlan *p, char *zText);
void planCommentf(DiffPlan *p, const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  comment(p, sqlite3_vmprintf(zFmt, ap));
  va_end(ap);
}

/* A statement's text (not a message): sqlite3_free() it. */
char *planSqlf(const char *zFmt, ...){
  va_list ap;
  char *z;
  va_start(ap, zFmt);
  z = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  return z;
}

static void comment(DiffPlan *p, char *zText){
  if( zText==0 ){ planNomem(p); return; }
  if( p->rc==SQLITE_OK ) sqlite3_str_appendf(p->out, "-- %s\n", zText);
  sqlite3_free(zText);
}

void planEmitDrop(DiffPlan *p, const SchemaObj *o){
  char *zName = diffName(o->name);
  if( zName==0 ){ planNomem(p); return; }
  planEmitf(p, "DROP %s %s", o->rank==2 ? "VIEW" : o->rank==3
                          ? "TRIGGER" : o->rank==1 ? "INDEX" : "TABLE", zName);
  sqlite3_free(zName);
}

/* Drop the views and triggers of the copy that may read zName (they would
** stop the rename of a rebuilt table), and what reads those views. */
void planDropReaders(DiffPlan *p, const char *zName){
  int found = 1;
  while( found && planReread(p)==SQLITE_OK ){
    int i;
    found = 0;
    for(i=0; i<p->sW.n; i++){
      const SchemaObj *o = &p->sW.a[i];
      if( o->rank<2 || sqlite3_stricmp(o->name, zName)==0 ) continue;
      if( sqlite3_stricmp(o->tbl, zName)==0 || diffMentions(o->sql, zName) ){
        char *zView = o->rank==2 ? sqlite3_mprintf("%s", o->name) : 0;
        if( o->rank==2 && zView==0 ){ planNomem(p); return; }
        planEmitDrop(p, o);
        if( zView ){
          planDropReaders(p, zView);
          sqlite3_free(zView);
        }
        found = 1;
        break;
      }
    }
  }
}

/* Where the rows of a table are: the copy, for the up script; the live
** database, for the down one (its table is the target's, zTarget). */
sqlite3 *planRowsDb(DiffPlan *p, const char *zCopy, const char *zTarget,
                       const char **pzName){
  *pzName = p->isUp ? zCopy : zTarget;
  return p->isUp ? p->W : p->pLive;
}

i64 planRowCount(DiffPlan *p, sqlite3 *db, const char *zTab){
  char *zSql = planSqlf("SELECT count(*) FROM main.\"%w\"", zTab);
  i64 n;
  if( zSql==0 ){ planNomem(p); return 0; }
  n = planQueryInt(p, db, zSql, 0, 0);
  sqlite3_free(zSql);
  return n;
}

/* The "-- data loss: ..." lines for the columns of the copy's table that
** the target's form has not, counted on the copy before anything changes
** it (up); down, the rows are not known yet.  NULL: none (or out of memory,
** then p->rc says so). */
char *planLossNotes(DiffPlan *p, const char *zTab, const DiffCols *cw, const DiffCols *ct){
  sqlite3_str *s = sqlite3_str_new(0);
  char *z;
  int i;
  for(i=0; p->rc==SQLITE_OK && i<cw->n; i++){
    const char *zCol = cw->a[i].name;
    if( cw->a[i].hidden || planColFind(ct, zCol)>=0 ) continue;
    char *zT = diffName(zTab), *zC = diffName(zCol);
    if( zT==0 || zC==0 ){
      planNomem(p);
    }else if( p->isUp ){
      char *zSql = planSqlf("SELECT count(*) FROM main.\"%w\" WHERE \"%w\""
                                   " IS NOT NULL", zTab, zCol);
      i64 n = zSql ? planQueryInt(p, p->W, zSql, 0, 0) : 0;
      if( zSql==0 ) planNomem(p);
      sqlite3_free(zSql);
      if( n>0 ){
        sqlite3_str_appendf(s, "-- data loss: drops column %s.%s (%lld row%s "
                            "hold%s a value)\n", zT, zC, n, n==1 ? "" : "s",
                            n==1 ? "s" : "");
      }
    }else{
      sqlite3_str_appendf(s, "-- data loss: drops column %s.%s\n", zT, zC);
    }
    sqlite3_free(zT);
    sqlite3_free(zC);
  }
  if( sqlite3_str_errcode(s) ) planNomem(p);
  z = sqlite3_str_finish(s);
  return z;
}
