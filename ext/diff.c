/*
** diff.c — migrate_diff(desired): the migration from the schema of main to
** a desired one, and back (doc/diff.md).
**
**   SELECT migrate_diff('db/schema.sql');          -- the up script
**   SELECT migrate_diff('db/schema.sql', 'down');  -- the down script
**
** The plan is written by doing it: every statement is run, as it is
** written, on a scratch copy of the schema it starts from (the up script on
** a copy of the database, rows included, so it also meets the real rows;
** the down script on a copy of the desired schema).  What SQLite refuses
** there is not written; what it does there is what it will do for real.
** At the end the copy's canonical schema (schema.c) must be the target's,
** object for object, or the call fails: a script is only returned when it
** was seen to give the desired schema.
**
** The order of the script (each part in the canonical order of schema.c):
**   1. the renames the hints ask for (ALTER TABLE ... RENAME);
**   2. DROP TRIGGER, DROP VIEW, DROP INDEX of what is gone or changed;
**   3. DROP TABLE of the tables that are gone;
**   4. each changed table: ALTER TABLE ADD/DROP COLUMN when that gives
**      exactly the new form (tried on the copy, in a savepoint), else the
**      rebuild: the new form under a temporary name, the rows of the
**      columns both forms have copied, the old table dropped, the new one
**      renamed; the views and triggers that read it are dropped first;
**   5. CREATE TABLE of the new tables;
**   6. CREATE INDEX, VIEW, TRIGGER of what the target has and the copy
**      has not (yet, or any more), as the target's text was written.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <stdarg.h>
#include <string.h>

typedef struct Col {
  char *name;
  int notnull, hasDflt, pk, hidden;
  int isInteger;       /* declared type INTEGER: with pk, the rowid's alias */
  int dfltVaries;      /* the default is CURRENT_... or an expression */
} Col;
typedef struct Cols { Col *a; int n; } Cols;

typedef struct Plan {
  sqlite3 *W;          /* the copy the script runs on as it is written */
  sqlite3 *T;          /* the target schema: the desired one, or main */
  sqlite3 *pLive;      /* the caller's database */
  int isUp;
  const Desired *pDes;
  sqlite3_str *out;
  Schema sW, sT;
  int rc;
  char *zErr;
} Plan;

/* ------------------------------------------------------------- helpers */

/* migrate's own tables and what belongs to them are no part of a schema
** to diff (migrate_history and migrate_repeatable with any suffix, as
** named sets of migrations make them, and migrate_log). */
static int isOwn(const SchemaObj *o){
  return sqlite3_strlike("migrate\\_history%", o->tbl, '\\')==0
      || sqlite3_strlike("migrate\\_repeatable%", o->tbl, '\\')==0
      || sqlite3_stricmp("migrate_log", o->tbl)==0;
}

static int readSchema(Plan *p, sqlite3 *db, Schema *pOut){
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

static int rereadW(Plan *p){
  schemaFree(&p->sW);
  return readSchema(p, p->W, &p->sW);
}

static const SchemaObj *findObj(const Schema *s, int rank, const char *zName){
  int i;
  for(i=0; i<s->n; i++){
    if( s->a[i].rank==rank && sqlite3_stricmp(s->a[i].name, zName)==0 ){
      return &s->a[i];
    }
  }
  return 0;
}

static const SchemaObj *findAny(const Schema *s, const char *zName){
  int r;
  for(r=0; r<4; r++){
    const SchemaObj *o = findObj(s, r, zName);
    if( o ) return o;
  }
  return 0;
}

static void setNomem(Plan *p){ if( p->rc==SQLITE_OK ) p->rc = SQLITE_NOMEM; }

/* A query's first column of its first row as an integer (0 without one);
** parameters ?1 and ?2 are bound to z1 and z2. */
static i64 queryInt(Plan *p, sqlite3 *db, const char *zSql, const char *z1,
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
static char *storedSql(Plan *p, sqlite3 *db, const SchemaObj *o){
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

static void colsFree(Cols *c){
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

static int readCols(Plan *p, sqlite3 *db, const char *zTab, Cols *c){
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
    Col *k;
    if( utilArrayReserve((void**)&c->a, &nAlloc, c->n, sizeof(Col)) ){ setNomem(p); break; }
    k = &c->a[c->n++];
    k->name = sqlite3_mprintf("%s", sqlite3_column_text(s, 0));
    k->notnull = sqlite3_column_int(s, 1);
    k->hasDflt = sqlite3_column_int(s, 2);
    k->pk = sqlite3_column_int(s, 3);
    k->hidden = sqlite3_column_int(s, 4);
    k->isInteger = sqlite3_column_int(s, 5);
    k->dfltVaries = sqlite3_column_type(s, 6)!=SQLITE_NULL
                 && !dfltConstant((const char*)sqlite3_column_text(s, 6));
    if( k->name==0 ){ setNomem(p); break; }
  }
  /* A step that failed (out of memory) must not pass for the last row. */
  { int rc = sqlite3_finalize(s);
    if( rc && p->rc==SQLITE_OK ){
      p->rc = rc==SQLITE_NOMEM ? rc : SQLITE_ERROR;
      if( rc!=SQLITE_NOMEM ) p->zErr = utilDbErr(db);
    } }
  return p->rc;
}

static int colFind(const Cols *c, const char *zName){
  int i;
  for(i=0; i<c->n; i++) if( sqlite3_stricmp(c->a[i].name, zName)==0 ) return i;
  return -1;
}

/* Is the table a rowid table (not WITHOUT ROWID, not virtual)? */
static int isRowidTable(Plan *p, sqlite3 *db, const char *zTab){
  return (int)queryInt(p, db, "SELECT type='table' AND NOT wr FROM"
                       " pragma_table_list(?1) WHERE schema='main'", zTab, 0);
}

/* The column that is the rowid's alias (INTEGER PRIMARY KEY), or -1. */
static int ipkColumn(const Cols *c, int isRowid){
  int i, n = 0, k = -1;
  if( !isRowid ) return -1;
  for(i=0; i<c->n; i++) if( c->a[i].pk ){ n++; k = i; }
  return n==1 && c->a[k].isInteger ? k : -1;
}

/* ---------------------------------------------------------- writing */

static void fail(Plan *p, char *zMsg){
  if( p->rc==SQLITE_OK ){
    p->rc = zMsg ? SQLITE_ERROR : SQLITE_NOMEM;
    p->zErr = zMsg;
  }else{
    sqlite3_free(zMsg);
  }
}

/* Run zSql (taken) on the copy, and write it as a statement. */
static void emit(Plan *p, char *zSql){
  char *zE = 0;
  if( zSql==0 ){ setNomem(p); return; }
  if( p->rc==SQLITE_OK ){
    int rc = sqlite3_exec(p->W, zSql, 0, 0, &zE);
    if( rc==SQLITE_NOMEM ){
      p->rc = rc;
    }else if( rc ){
      fail(p, sqlite3_mprintf("the migration fails on a copy of the %s, at "
                              "\"%s\": %s", p->isUp ? "database" : "desired schema",
                              zSql, zE ? zE : sqlite3_errstr(rc)));
    }else{
      sqlite3_str_appendf(p->out, "%s;\n", zSql);
    }
  }
  sqlite3_free(zE);
  sqlite3_free(zSql);
}

/* emit() and comment() of a formatted text. */
static void emitf(Plan *p, const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  emit(p, sqlite3_vmprintf(zFmt, ap));
  va_end(ap);
}

static void comment(Plan *p, char *zText);
static void commentf(Plan *p, const char *zFmt, ...){
  va_list ap;
  va_start(ap, zFmt);
  comment(p, sqlite3_vmprintf(zFmt, ap));
  va_end(ap);
}

/* A statement's text (not a message): sqlite3_free() it. */
static char *sqlf(const char *zFmt, ...){
  va_list ap;
  char *z;
  va_start(ap, zFmt);
  z = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  return z;
}

static void comment(Plan *p, char *zText){
  if( zText==0 ){ setNomem(p); return; }
  if( p->rc==SQLITE_OK ) sqlite3_str_appendf(p->out, "-- %s\n", zText);
  sqlite3_free(zText);
}

static void emitDrop(Plan *p, const SchemaObj *o){
  char *zName = diffName(o->name);
  if( zName==0 ){ setNomem(p); return; }
  emitf(p, "DROP %s %s", o->rank==2 ? "VIEW" : o->rank==3
                          ? "TRIGGER" : o->rank==1 ? "INDEX" : "TABLE", zName);
  sqlite3_free(zName);
}

/* Drop the views and triggers of the copy that may read zName (they would
** stop the rename of a rebuilt table), and what reads those views. */
static void dropReaders(Plan *p, const char *zName){
  int found = 1;
  while( found && rereadW(p)==SQLITE_OK ){
    int i;
    found = 0;
    for(i=0; i<p->sW.n; i++){
      const SchemaObj *o = &p->sW.a[i];
      if( o->rank<2 || sqlite3_stricmp(o->name, zName)==0 ) continue;
      if( sqlite3_stricmp(o->tbl, zName)==0 || diffMentions(o->sql, zName) ){
        char *zView = o->rank==2 ? sqlite3_mprintf("%s", o->name) : 0;
        if( o->rank==2 && zView==0 ){ setNomem(p); return; }
        emitDrop(p, o);
        if( zView ){
          dropReaders(p, zView);
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
static sqlite3 *rowsDb(Plan *p, const char *zCopy, const char *zTarget,
                       const char **pzName){
  *pzName = p->isUp ? zCopy : zTarget;
  return p->isUp ? p->W : p->pLive;
}

static i64 rowCount(Plan *p, sqlite3 *db, const char *zTab){
  char *zSql = sqlf("SELECT count(*) FROM main.\"%w\"", zTab);
  i64 n;
  if( zSql==0 ){ setNomem(p); return 0; }
  n = queryInt(p, db, zSql, 0, 0);
  sqlite3_free(zSql);
  return n;
}

/* The "-- data loss: ..." lines for the columns of the copy's table that
** the target's form has not, counted on the copy before anything changes
** it (up); down, the rows are not known yet.  NULL: none (or out of memory,
** then p->rc says so). */
static char *lossNotes(Plan *p, const char *zTab, const Cols *cw, const Cols *ct){
  sqlite3_str *s = sqlite3_str_new(0);
  char *z;
  int i;
  for(i=0; p->rc==SQLITE_OK && i<cw->n; i++){
    const char *zCol = cw->a[i].name;
    if( cw->a[i].hidden || colFind(ct, zCol)>=0 ) continue;
    char *zT = diffName(zTab), *zC = diffName(zCol);
    if( zT==0 || zC==0 ){
      setNomem(p);
    }else if( p->isUp ){
      char *zSql = sqlf("SELECT count(*) FROM main.\"%w\" WHERE \"%w\""
                                   " IS NOT NULL", zTab, zCol);
      i64 n = zSql ? queryInt(p, p->W, zSql, 0, 0) : 0;
      if( zSql==0 ) setNomem(p);
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
  if( sqlite3_str_errcode(s) ) setNomem(p);
  z = sqlite3_str_finish(s);
  return z;
}

/* ------------------------------------------------------- one table */

/* The new columns a table with rows cannot take (doc/diff.md "What it
** refuses"): NOT NULL without a default, or part of the PRIMARY KEY (but
** for an INTEGER PRIMARY KEY, which the rows' rowids fill). */
static void checkNewColumns(Plan *p, const char *zTab, const Cols *cw,
                            const Cols *ct, int tIpk, int hasRows){
  int i;
  for(i=0; hasRows && p->rc==SQLITE_OK && i<ct->n; i++){
    const Col *k = &ct->a[i];
    if( k->hidden || colFind(cw, k->name)>=0 || i==tIpk ) continue;
    if( k->pk ){
      fail(p, sqlite3_mprintf("cannot add column %s.%s: it is part of the "
                              "PRIMARY KEY and %s holds rows", zTab, k->name, zTab));
    }else if( k->notnull && !k->hasDflt ){
      fail(p, sqlite3_mprintf("cannot add column %s.%s: it is NOT NULL without "
                              "a default and %s holds rows; give it a DEFAULT, "
                              "or add it nullable and fill it first", zTab,
                              k->name, zTab));
    }
  }
}

/* A statement tried on the copy failed: SQLite's refusal means "rebuild
** instead", but running out of memory is the call's failure, not an answer. */
static void tryFailed(Plan *p, int rc){
  if( rc==SQLITE_NOMEM ) setNomem(p);
}

/* ALTER TABLE ADD/DROP COLUMN, tried on the copy: 1 when they gave exactly
** the target's form of the table (and were written), else 0 (and undone). */
static int tryAlter(Plan *p, const SchemaObj *oW, const SchemaObj *oT,
                    const Cols *cw, const Cols *ct, const char *zTSql){
  char **azDef = 0;
  int nDef = 0, i, j, ok = 1, rc, inSave = 0;
  sqlite3_str *s;
  char *zTab, *zText, *zNotes = 0;
  if( p->rc ) return 0;
  /* The columns kept, in their order, then the new ones, at the end. */
  for(i=0, j=0; i<cw->n; i++){
    if( colFind(ct, cw->a[i].name)<0 ) continue;
    if( j>=ct->n || sqlite3_stricmp(ct->a[j].name, cw->a[i].name)!=0 ) return 0;
    j++;
  }
  for(i=j; i<ct->n; i++) if( colFind(cw, ct->a[i].name)>=0 ) return 0;
  /* What SQLite refuses to add to a table only once it holds rows: decided
  ** by the schema alone, so the script does not depend on whether the copy
  ** it was tried on had rows (the down script's copy has none). */
  for(i=j; i<ct->n; i++){
    if( ct->a[i].dfltVaries || (ct->a[i].notnull && !ct->a[i].hasDflt) ) return 0;
  }
  if( diffColumnDefs(zTSql, &azDef, &nDef) ){ setNomem(p); return 0; }
  if( nDef!=ct->n ){ diffDefsFree(azDef, nDef); return 0; }
  zTab = diffName(oW->name);
  s = sqlite3_str_new(0);
  if( zTab==0 ){ diffDefsFree(azDef, nDef); setNomem(p); sqlite3_free(sqlite3_str_finish(s)); return 0; }
  zNotes = lossNotes(p, oW->name, cw, ct);
  if( p->rc ) ok = 0;
  if( ok ){
    rc = sqlite3_exec(p->W, "SAVEPOINT migrate_diff_try", 0, 0, 0);
    if( rc ){ ok = 0; tryFailed(p, rc); }
    else inSave = 1;
  }
  for(i=0; ok && i<cw->n; i++){
    char *zCol, *zSql;
    if( colFind(ct, cw->a[i].name)>=0 ) continue;
    zCol = diffName(cw->a[i].name);
    zSql = zCol ? sqlf("ALTER TABLE %s DROP COLUMN %s", zTab, zCol) : 0;
    if( zSql==0 ){ setNomem(p); ok = 0; }
    else if( (rc = sqlite3_exec(p->W, zSql, 0, 0, 0))!=SQLITE_OK ){ ok = 0; tryFailed(p, rc); }
    else sqlite3_str_appendf(s, "%c%s", 1, zSql);
    sqlite3_free(zCol);
    sqlite3_free(zSql);
  }
  for(i=j; ok && i<ct->n; i++){
    char *zSql = sqlf("ALTER TABLE %s ADD COLUMN %s", zTab, azDef[i]);
    if( zSql==0 ){ setNomem(p); ok = 0; }
    else if( (rc = sqlite3_exec(p->W, zSql, 0, 0, 0))!=SQLITE_OK ){ ok = 0; tryFailed(p, rc); }
    else sqlite3_str_appendf(s, "%c%s", 1, zSql);
    sqlite3_free(zSql);
  }
  if( ok && rereadW(p)==SQLITE_OK ){
    const SchemaObj *o = findObj(&p->sW, 0, oT->name);
    ok = o && strcmp(o->sql, oT->sql)==0;
  }else{
    ok = 0;
  }
  if( inSave ){
    if( !ok ) sqlite3_exec(p->W, "ROLLBACK TO migrate_diff_try", 0, 0, 0);
    rc = sqlite3_exec(p->W, "RELEASE migrate_diff_try", 0, 0, 0);
    if( rc && p->rc==SQLITE_OK ){
      p->rc = rc==SQLITE_NOMEM ? rc : SQLITE_ERROR;
      if( rc!=SQLITE_NOMEM ) p->zErr = utilDbErr(p->W);
    }
  }
  zText = sqlite3_str_finish(s);
  if( ok && p->rc==SQLITE_OK && zText ){
    /* Written now: the data-loss notes first, then the statements. */
    char *z = zText;
    if( zNotes ) sqlite3_str_appendall(p->out, zNotes);
    while( z && *z==1 ){
      char *zNext = strchr(z+1, 1);
      sqlite3_str_appendf(p->out, "%.*s;\n", zNext ? (int)(zNext-z-1) : (int)strlen(z+1), z+1);
      z = zNext;
    }
  }else if( zText==0 && sqlite3_str_errcode(s) ){
    setNomem(p);
  }
  sqlite3_free(zText);
  sqlite3_free(zNotes);
  sqlite3_free(zTab);
  diffDefsFree(azDef, nDef);
  return ok && p->rc==SQLITE_OK;
}

/* A name for the new form that no object of either side has. */
static char *tempName(Plan *p, const char *zTab){
  int i;
  for(i=1; i<1000; i++){
    char *z = i==1 ? sqlite3_mprintf("%s_migrate_new", zTab)
                   : sqlite3_mprintf("%s_migrate_new%d", zTab, i);
    if( z==0 ) break;
    if( !findAny(&p->sW, z) && !findAny(&p->sT, z) ) return z;
    sqlite3_free(z);
  }
  setNomem(p);
  return 0;
}

/* The rowid's name the copy may use: one no column of either form takes. */
static const char *rowidName(const Cols *a, const Cols *b){
  static const char *const az[] = { "rowid", "oid", "_rowid_" };
  int i;
  for(i=0; i<3; i++) if( colFind(a, az[i])<0 && colFind(b, az[i])<0 ) return az[i];
  return 0;
}

static void rebuild(Plan *p, const char *zW, const SchemaObj *oT,
                    const Cols *cw, const Cols *ct, int tIpk, const char *zTSql,
                    const char *zWSql){
  char *zTmpRaw, *zTmp, *zOld, *zNew;
  sqlite3_str *ins = sqlite3_str_new(0), *sel = sqlite3_str_new(0);
  char *zIns, *zSel;
  int i, wRowid, tRowid, n = 0;
  { char *zShown = diffName(oT->name);
    if( zShown ) commentf(p, "rebuild table %s: ALTER TABLE cannot "
                                            "make its new form", zShown);
    else setNomem(p);
    sqlite3_free(zShown); }
  { char *zNotes = lossNotes(p, zW, cw, ct);
    if( zNotes && p->rc==SQLITE_OK ) sqlite3_str_appendall(p->out, zNotes);
    sqlite3_free(zNotes); }
  dropReaders(p, zW);
  if( rereadW(p) ){ sqlite3_free(sqlite3_str_finish(ins)); sqlite3_free(sqlite3_str_finish(sel)); return; }
  wRowid = isRowidTable(p, p->W, zW);
  tRowid = isRowidTable(p, p->T, oT->name);
  zTmpRaw = tempName(p, oT->name);
  zTmp = zTmpRaw ? diffName(zTmpRaw) : 0;
  zOld = diffName(zW);
  zNew = diffName(oT->name);
  if( zTmp && zOld && zNew ){
    emit(p, diffRenamedCreate(zTSql, zTmp));
    for(i=0; i<ct->n; i++){
      int k;
      if( ct->a[i].hidden ) continue;
      /* A generated column of the old form is read like any other: its
      ** values stay when the new form makes it a plain column. */
      k = colFind(cw, ct->a[i].name);
      if( k<0 || cw->a[k].hidden==1 ) continue;
      { char *a = diffName(ct->a[i].name), *b = diffName(cw->a[k].name);
        if( a==0 || b==0 ) setNomem(p);
        else{
          sqlite3_str_appendf(ins, "%s%s", n ? ", " : "", a);
          sqlite3_str_appendf(sel, "%s%s", n ? ", " : "", b);
          n++;
        }
        sqlite3_free(a); sqlite3_free(b); }
    }
    /* Rows keep their rowid: into the new INTEGER PRIMARY KEY when it is a
    ** new column, else into the new rowid when the new form has no alias. */
    if( wRowid && tRowid ){
      const char *zR = rowidName(cw, ct);
      if( tIpk>=0 && colFind(cw, ct->a[tIpk].name)<0 && zR ){
        char *a = diffName(ct->a[tIpk].name);
        if( a==0 ) setNomem(p);
        else{
          sqlite3_str_appendf(ins, "%s%s", n ? ", " : "", a);
          sqlite3_str_appendf(sel, "%s%s", n ? ", " : "", zR);
          n++;
        }
        sqlite3_free(a);
      }else if( tIpk<0 && zR ){
        sqlite3_str_appendf(ins, "%s%s", n ? ", " : "", zR);
        sqlite3_str_appendf(sel, "%s%s", n ? ", " : "", zR);
        n++;
      }
    }
  }else{
    setNomem(p);
  }
  zIns = sqlite3_str_finish(ins);
  zSel = sqlite3_str_finish(sel);
  if( n && (zIns==0 || zSel==0) ) setNomem(p);
  if( n ){
    emitf(p, "INSERT INTO %s(%s) SELECT %s FROM %s", zTmp, zIns,
                            zSel, zOld);
  }else if( p->isUp ? rowCount(p, p->W, zW)>0 : 1 ){
    commentf(p, "data loss: the rows of %s are not kept: no "
                               "column is in both forms", oT->name);
  }
  if( zTmp && diffHasWord(zWSql, "AUTOINCREMENT") && diffHasWord(zTSql, "AUTOINCREMENT") ){
    /* The next id stays past every id ever given, as AUTOINCREMENT promises. */
    emitf(p, "DELETE FROM sqlite_sequence WHERE name='%q'", zTmpRaw);
    emitf(p, "INSERT INTO sqlite_sequence(name, seq) SELECT '%q', "
                            "seq FROM sqlite_sequence WHERE name='%q'", zTmpRaw,
                            zW);
  }
  if( zOld ) emitf(p, "DROP TABLE %s", zOld);
  if( zTmp && zNew ) emitf(p, "ALTER TABLE %s RENAME TO %s", zTmp, zNew);
  sqlite3_free(zIns);
  sqlite3_free(zSel);
  sqlite3_free(zTmpRaw);
  sqlite3_free(zTmp);
  sqlite3_free(zOld);
  sqlite3_free(zNew);
}

/* A table both sides have, in different forms. */
static void changeTable(Plan *p, const char *zWName, const char *zTName){
  const SchemaObj *oW, *oT;
  char *zWCopy = sqlite3_mprintf("%s", zWName);
  Cols cw, ct;
  char *zTSql = 0, *zWSql = 0;
  const char *zRowsName;
  sqlite3 *pRows;
  int tIpk, hasRows;
  memset(&cw, 0, sizeof(cw));
  memset(&ct, 0, sizeof(ct));
  if( zWCopy==0 ){ setNomem(p); return; }
  if( rereadW(p) ){ sqlite3_free(zWCopy); return; }
  oW = findObj(&p->sW, 0, zWCopy);
  oT = findObj(&p->sT, 0, zTName);
  if( oW==0 || oT==0 ){ sqlite3_free(zWCopy); return; }
  zTSql = storedSql(p, p->T, oT);
  zWSql = storedSql(p, p->W, oW);
  if( p->rc ) goto done;
  if( sqlite3_strnicmp(oW->sql, "CREATE VIRTUAL", 14)==0
   || sqlite3_strnicmp(oT->sql, "CREATE VIRTUAL", 14)==0 ){
    /* A virtual table's rows are its module's: made again, empty. */
    commentf(p, "data loss: table %s is made again, empty "
                               "(a virtual table)", oT->name);
    dropReaders(p, oW->name);
    emitDrop(p, oW);
    emitf(p, "%s", zTSql);
    goto done;
  }
  readCols(p, p->W, oW->name, &cw);
  readCols(p, p->T, oT->name, &ct);
  pRows = rowsDb(p, oW->name, oT->name, &zRowsName);
  hasRows = p->rc==SQLITE_OK && rowCount(p, pRows, zRowsName)>0;
  tIpk = ipkColumn(&ct, isRowidTable(p, p->T, oT->name));
  checkNewColumns(p, oT->name, &cw, &ct, tIpk, hasRows);
  if( p->rc ) goto done;
  if( !tryAlter(p, oW, oT, &cw, &ct, zTSql) && p->rc==SQLITE_OK ){
    rebuild(p, zWCopy, oT, &cw, &ct, tIpk, zTSql, zWSql);
  }
done:
  colsFree(&cw);
  colsFree(&ct);
  sqlite3_free(zTSql);
  sqlite3_free(zWSql);
  sqlite3_free(zWCopy);
}

/* -------------------------------------------------------- renames */

/* The renames of the hints, in this direction: tables first (their
** columns are then named by the table's new name). */
static void renames(Plan *p){
  const Desired *d = p->pDes;
  int i, k;
  for(k=0; k<d->nRen; k++){
    const DiffRename *r = &d->aRen[p->isUp ? k : d->nRen-1-k];
    char *zA, *zB;
    if( !r->isTable || r->done ) continue;
    zA = diffName(p->isUp ? r->zFrom : r->zTo);
    zB = diffName(p->isUp ? r->zTo : r->zFrom);
    if( zA && zB ) emitf(p, "ALTER TABLE %s RENAME TO %s", zA, zB);
    else setNomem(p);
    sqlite3_free(zA);
    sqlite3_free(zB);
  }
  for(k=0; k<d->nRen; k++){
    const DiffRename *r = &d->aRen[p->isUp ? k : d->nRen-1-k];
    const char *zTable = r->zTable;
    char *zT, *zA, *zB;
    if( r->isTable || r->done ) continue;
    if( !p->isUp ){
      /* Down, the table has its old name by now. */
      for(i=0; i<d->nRen; i++){
        if( d->aRen[i].isTable && !d->aRen[i].done
         && sqlite3_stricmp(d->aRen[i].zTo, zTable)==0 ){
          zTable = d->aRen[i].zFrom;
        }
      }
    }
    zT = diffName(zTable);
    zA = diffName(p->isUp ? r->zFrom : r->zTo);
    zB = diffName(p->isUp ? r->zTo : r->zFrom);
    if( zT && zA && zB ){
      emitf(p, "ALTER TABLE %s RENAME COLUMN %s TO %s", zT, zA, zB);
    }else{
      setNomem(p);
    }
    sqlite3_free(zT);
    sqlite3_free(zA);
    sqlite3_free(zB);
  }
}

/* ------------------------------------------------------ the whole */

static const char *const azType[] = { "table", "index", "view", "trigger" };

static int fkViolations(Plan *p){
  return (int)queryInt(p, p->W, "SELECT count(*) FROM pragma_foreign_key_check", 0, 0);
}

/* Objects of rank r the copy has and the target has not, or not so. */
static int differs(Plan *p, const SchemaObj *oW){
  const SchemaObj *oT = findObj(&p->sT, oW->rank, oW->name);
  return oT==0 || strcmp(oT->sql, oW->sql)!=0;
}

static void plan(Plan *p){
  int i, r, nFk0;
  char **az = 0;
  int n = 0, nAlloc = 0;
  nFk0 = p->isUp ? fkViolations(p) : 0;
  renames(p);
  readSchema(p, p->T, &p->sT);
  if( rereadW(p) ) return;

  /* 2. Triggers, views, indexes that are gone or changed. */
  for(r=3; r>=1 && p->rc==SQLITE_OK; r--){
    int again = 1;
    while( again && p->rc==SQLITE_OK ){
      again = 0;
      for(i=0; i<p->sW.n; i++){
        const SchemaObj *o = &p->sW.a[i];
        if( o->rank!=r || !differs(p, o) ) continue;
        /* An index goes with its table when the table goes. */
        if( r==1 && !findObj(&p->sT, 0, o->tbl) ) continue;
        if( r==2 ){
          char *zView = sqlite3_mprintf("%s", o->name);
          if( zView==0 ){ setNomem(p); break; }
          emitDrop(p, o);
          dropReaders(p, zView);
          sqlite3_free(zView);
        }else{
          emitDrop(p, o);
        }
        again = 1;
        break;
      }
      if( again ) rereadW(p);
    }
  }

  /* 3. Tables that are gone. */
  for(i=0; p->rc==SQLITE_OK && i<p->sW.n; i++){
    if( p->sW.a[i].rank==0 && !findObj(&p->sT, 0, p->sW.a[i].name) ){
      if( utilArrayReserve((void**)&az, &nAlloc, n, sizeof(char*)) ){ setNomem(p); break; }
      if( (az[n++] = sqlite3_mprintf("%s", p->sW.a[i].name))==0 ) setNomem(p);
    }
  }
  for(i=0; p->rc==SQLITE_OK && i<n; i++){
    const SchemaObj *o;
    char *zShown = diffName(az[i]);
    if( zShown==0 ){ setNomem(p); break; }
    dropReaders(p, az[i]);
    if( rereadW(p)==SQLITE_OK && (o = findObj(&p->sW, 0, az[i]))!=0 ){
      if( p->isUp ){
        i64 nRow = rowCount(p, p->W, o->name);
        if( nRow>0 ){
          commentf(p, "data loss: drops table %s (%lld row%s)",
                                     zShown, nRow, nRow==1 ? "" : "s");
        }
      }else{
        commentf(p, "data loss: drops table %s", zShown);
      }
      emitDrop(p, o);
    }
    sqlite3_free(zShown);
  }
  for(i=0; i<n; i++) sqlite3_free(az[i]);
  sqlite3_free(az);

  /* 4. Tables in both, changed; 5. new tables. */
  for(i=0; p->rc==SQLITE_OK && i<p->sT.n; i++){
    const SchemaObj *oT = &p->sT.a[i], *oW;
    if( oT->rank!=0 ) continue;
    if( rereadW(p) ) break;
    oW = findObj(&p->sW, 0, oT->name);
    if( oW && strcmp(oW->sql, oT->sql)!=0 ){
      changeTable(p, oW->name, oT->name);
    }
  }
  for(i=0; p->rc==SQLITE_OK && i<p->sT.n; i++){
    const SchemaObj *oT = &p->sT.a[i];
    if( oT->rank!=0 || findObj(&p->sW, 0, oT->name) ) continue;
    emit(p, storedSql(p, p->T, oT));
  }

  /* 6. Indexes, views, triggers the copy lacks, in the target's words. */
  for(r=1; r<=3 && p->rc==SQLITE_OK; r++){
    if( rereadW(p) ) break;
    for(i=0; p->rc==SQLITE_OK && i<p->sT.n; i++){
      const SchemaObj *oT = &p->sT.a[i], *oW;
      if( oT->rank!=r ) continue;
      oW = findObj(&p->sW, r, oT->name);
      if( oW && strcmp(oW->sql, oT->sql)==0 ) continue;
      if( oW ) emitDrop(p, oW);
      emit(p, storedSql(p, p->T, oT));
    }
  }

  /* The script was seen to give the target schema, or it is not returned. */
  if( rereadW(p)==SQLITE_OK ){
    for(i=0; p->rc==SQLITE_OK && i<p->sT.n; i++){
      const SchemaObj *oT = &p->sT.a[i];
      const SchemaObj *oW = findObj(&p->sW, oT->rank, oT->name);
      if( oW==0 || strcmp(oW->sql, oT->sql)!=0 ){
        char *zShown = diffName(oT->name);
        fail(p, zShown ? sqlite3_mprintf("cannot write a migration that gives %s "
                                         "%s exactly as the %s has it",
                                         azType[oT->rank], zShown, p->isUp
                                         ? "desired schema" : "database") : 0);
        sqlite3_free(zShown);
      }
    }
    if( p->rc==SQLITE_OK && p->sW.n!=p->sT.n ){
      for(i=0; i<p->sW.n; i++){
        if( !findObj(&p->sT, p->sW.a[i].rank, p->sW.a[i].name) ){
          char *zShown = diffName(p->sW.a[i].name);
          fail(p, zShown ? sqlite3_mprintf("cannot write a migration that "
                                           "removes %s %s", azType[p->sW.a[i].rank],
                                           zShown) : 0);
          sqlite3_free(zShown);
          break;
        }
      }
    }
  }
  if( p->isUp && p->rc==SQLITE_OK ){
    int nFk = fkViolations(p);
    if( p->rc==SQLITE_OK && nFk>nFk0 ){
      fail(p, sqlite3_mprintf("the rows of the database break the foreign keys "
                              "of the desired schema: PRAGMA foreign_key_check "
                              "would report %d violation%s more", nFk-nFk0,
                              nFk-nFk0==1 ? "" : "s"));
    }
  }
}

static int direction(sqlite3 *db, const Desired *d, int isUp, char **pzOut,
                     char **pzErr){
  Plan p;
  memset(&p, 0, sizeof(p));
  p.isUp = isUp;
  p.pDes = d;
  p.pLive = db;
  p.T = isUp ? d->db : db;
  p.rc = scratchOpen(db, isUp ? db : d->db, &p.W, &p.zErr);
  p.out = sqlite3_str_new(0);
  if( p.rc==SQLITE_OK ) plan(&p);
  if( p.rc==SQLITE_OK && sqlite3_str_errcode(p.out) ) p.rc = SQLITE_NOMEM;
  if( p.rc==SQLITE_OK ){
    *pzOut = sqlite3_str_finish(p.out);
    if( *pzOut==0 ) *pzOut = sqlite3_mprintf("");
    if( *pzOut==0 ) p.rc = SQLITE_NOMEM;
  }else{
    sqlite3_free(sqlite3_str_finish(p.out));
    *pzErr = p.zErr;
    p.zErr = 0;
  }
  schemaFree(&p.sW);
  schemaFree(&p.sT);
  sqlite3_free(p.zErr);
  sqlite3_close(p.W);
  return p.rc;
}

/* ------------------------------------------------ the hints checked */

static int hasTable(Plan *p, sqlite3 *db, const char *zTab){
  return (int)queryInt(p, db, "SELECT count(*) FROM main.sqlite_schema WHERE"
                       " type='table' AND name=?1 COLLATE NOCASE", zTab, 0);
}

static int hasColumn(Plan *p, sqlite3 *db, const char *zTab, const char *zCol){
  return (int)queryInt(p, db, "SELECT count(*) FROM pragma_table_xinfo(?1, 'main')"
                       " WHERE name=?2 COLLATE NOCASE", zTab, zCol);
}

/* Each hint must name what is there: the old name in the database only,
** the new one in the desired schema only. */
static int checkHints(sqlite3 *db, Desired *d, const char *zShow,
                      char **pzErr){
  Plan p;
  int i, k, pass;
  memset(&p, 0, sizeof(p));
  for(pass=0; pass<2; pass++)
  for(i=0; p.rc==SQLITE_OK && i<d->nRen; i++){
    DiffRename *r = &d->aRen[i];
    char *zWhy = 0;
    if( r->isTable!=(pass==0) ) continue;
    if( r->isTable ){
      /* Done already (an earlier migration renamed it): the hint may stay
      ** in the schema file. */
      if( !hasTable(&p, db, r->zFrom) && hasTable(&p, db, r->zTo) ){
        r->done = 1;
      }else if( !hasTable(&p, db, r->zFrom) ){
        zWhy = sqlite3_mprintf("no table %s in the database", r->zFrom);
      }else if( !hasTable(&p, d->db, r->zTo) ){
        zWhy = sqlite3_mprintf("no table %s in the desired schema", r->zTo);
      }else if( hasTable(&p, db, r->zTo) ){
        zWhy = sqlite3_mprintf("table %s is in the database already", r->zTo);
      }else if( hasTable(&p, d->db, r->zFrom) ){
        zWhy = sqlite3_mprintf("table %s is still in the desired schema", r->zFrom);
      }
    }else{
      const char *zLive = r->zTable;
      for(k=0; k<d->nRen; k++){
        if( d->aRen[k].isTable && !d->aRen[k].done
         && sqlite3_stricmp(d->aRen[k].zTo, r->zTable)==0 ){
          zLive = d->aRen[k].zFrom;
        }
      }
      if( !hasColumn(&p, db, zLive, r->zFrom) && hasColumn(&p, db, zLive, r->zTo) ){
        r->done = 1;
      }else if( !hasColumn(&p, db, zLive, r->zFrom) ){
        zWhy = sqlite3_mprintf("no column %s.%s in the database", zLive, r->zFrom);
      }else if( !hasColumn(&p, d->db, r->zTable, r->zTo) ){
        zWhy = sqlite3_mprintf("no column %s.%s in the desired schema",
                               r->zTable, r->zTo);
      }else if( hasColumn(&p, db, zLive, r->zTo) ){
        zWhy = sqlite3_mprintf("column %s.%s is in the database already",
                               zLive, r->zTo);
      }else if( hasColumn(&p, d->db, r->zTable, r->zFrom) ){
        zWhy = sqlite3_mprintf("column %s.%s is still in the desired schema",
                               r->zTable, r->zFrom);
      }
    }
    if( p.rc==SQLITE_OK && zWhy ){
      *pzErr = sqlite3_mprintf("%s:%d: the rename hint cannot be followed: %s",
                               zShow, r->line, zWhy);
      p.rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
    sqlite3_free(zWhy);
  }
  if( p.rc && p.zErr ){ *pzErr = p.zErr; p.zErr = 0; }
  sqlite3_free(p.zErr);
  return p.rc;
}

int diffMake(sqlite3 *db, const char *zDesired, char **pzUp, char **pzDown,
             char **pzErr){
  Desired d;
  int rc = desiredLoad(db, zDesired, &d, pzErr);
  if( rc ) return rc;
  rc = checkHints(db, &d, d.zShow, pzErr);
  if( rc==SQLITE_OK && pzUp ) rc = direction(db, &d, 1, pzUp, pzErr);
  if( rc==SQLITE_OK && pzDown ){
    rc = direction(db, &d, 0, pzDown, pzErr);
    if( rc && pzUp ){ sqlite3_free(*pzUp); *pzUp = 0; }
  }
  desiredFree(&d);
  return rc;
}

void diffFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  sqlite3 *db = sqlite3_context_db_handle(ctx);
  const char *zDesired, *zWhich = "up";
  char *zOut = 0, *zErr = 0;
  int rc;
  if( callGuard(ctx, "migrate_diff", GUARD_NOT_BUSY) ) return;
  zDesired = utilArgText(ctx, argv[0], "migrate_diff", "the desired schema");
  if( zDesired==0 ) return;
  if( argc>1 ){
    zWhich = (const char*)sqlite3_value_text(argv[1]);
    if( zWhich==0 || (strcmp(zWhich, "up")!=0 && strcmp(zWhich, "down")!=0) ){
      ctxErrorMsg(ctx, "migrate_diff: the direction must be 'up' or 'down', "
                  "not '%s'", zWhich ? zWhich : "NULL");
      return;
    }
  }
  rc = strcmp(zWhich, "up")==0 ? diffMake(db, zDesired, &zOut, 0, &zErr)
                               : diffMake(db, zDesired, 0, &zOut, &zErr);
  if( rc==SQLITE_NOMEM && zErr==0 ){
    sqlite3_result_error_nomem(ctx);
  }else if( rc ){
    ctxErrorMsg(ctx, "migrate_diff: %s", zErr ? zErr : sqlite3_errstr(rc));
  }else{
    sqlite3_result_text(ctx, zOut, -1, sqlite3_free);
    zOut = 0;
  }
  sqlite3_free(zOut);
  sqlite3_free(zErr);
}
