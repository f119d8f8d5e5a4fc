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

#include <string.h>

/* ------------------------------------------------------- one table */

/* The new columns a table with rows cannot take (doc/diff.md "What it
** refuses"): NOT NULL without a default, or part of the PRIMARY KEY (but
** for an INTEGER PRIMARY KEY, which the rows' rowids fill). */
static void checkNewColumns(DiffPlan *p, const char *zTab, const DiffCols *cw,
                            const DiffCols *ct, int tIpk, int hasRows){
  int i;
  for(i=0; hasRows && p->rc==SQLITE_OK && i<ct->n; i++){
    const DiffCol *k = &ct->a[i];
    if( k->hidden || planColFind(cw, k->name)>=0 || i==tIpk ) continue;
    if( !p->isUp && (k->pk || (k->notnull && !k->hasDflt)) ){
      /* The column the up script drops cannot come back with its values. */
      planFail(p, sqlite3_mprintf("the down script cannot add column %s.%s back: "
                                  "it is %s and %s holds rows; write the down "
                                  "script by hand", zTab, k->name, k->pk
                                  ? "part of the PRIMARY KEY"
                                  : "NOT NULL without a default", zTab));
    }else if( k->pk ){
      planFail(p, sqlite3_mprintf("cannot add column %s.%s: it is part of the "
                              "PRIMARY KEY and %s holds rows", zTab, k->name, zTab));
    }else if( k->notnull && !k->hasDflt ){
      planFail(p, sqlite3_mprintf("cannot add column %s.%s: it is NOT NULL without "
                              "a default and %s holds rows; give it a DEFAULT, "
                              "or add it nullable and fill it first", zTab,
                              k->name, zTab));
    }
  }
}

/* A statement tried on the copy failed: SQLite's refusal means "rebuild
** instead", but running out of memory is the call's failure, not an answer. */
static void tryFailed(DiffPlan *p, int rc){
  if( rc==SQLITE_NOMEM ) planNomem(p);
}

/* ALTER TABLE ADD/DROP COLUMN, tried on the copy: 1 when they gave exactly
** the target's form of the table (and were written), else 0 (and undone). */
static int tryAlter(DiffPlan *p, const SchemaObj *oW, const SchemaObj *oT,
                    const DiffCols *cw, const DiffCols *ct, const char *zTSql){
  char **azDef = 0;
  int nDef = 0, i, j, ok = 1, rc, inSave = 0, sErr;
  sqlite3_str *s;
  char *zTab, *zText, *zNotes = 0;
  if( p->rc ) return 0;
  /* The columns kept, in their order, then the new ones, at the end. */
  for(i=0, j=0; i<cw->n; i++){
    if( planColFind(ct, cw->a[i].name)<0 ) continue;
    if( j>=ct->n || sqlite3_stricmp(ct->a[j].name, cw->a[i].name)!=0 ) return 0;
    j++;
  }
  for(i=j; i<ct->n; i++) if( planColFind(cw, ct->a[i].name)>=0 ) return 0;
  /* What SQLite refuses to add to a table only once it holds rows: decided
  ** by the schema alone, so the script does not depend on whether the copy
  ** it was tried on had rows (the down script's copy has none). */
  for(i=j; i<ct->n; i++){
    if( ct->a[i].dfltVaries || (ct->a[i].notnull && !ct->a[i].hasDflt) ) return 0;
  }
  if( diffColumnDefs(zTSql, &azDef, &nDef) ){ planNomem(p); return 0; }
  if( nDef!=ct->n ){ diffDefsFree(azDef, nDef); return 0; }
  zTab = diffName(oW->name);
  s = sqlite3_str_new(0);
  if( zTab==0 ){ diffDefsFree(azDef, nDef); planNomem(p); sqlite3_free(sqlite3_str_finish(s)); return 0; }
  zNotes = planLossNotes(p, oW->name, cw, ct);
  if( p->rc ) ok = 0;
  if( ok ){
    rc = sqlite3_exec(p->W, "SAVEPOINT migrate_diff_try", 0, 0, 0);
    if( rc ){ ok = 0; tryFailed(p, rc); }
    else inSave = 1;
  }
  for(i=0; ok && i<cw->n; i++){
    char *zCol, *zSql;
    if( planColFind(ct, cw->a[i].name)>=0 ) continue;
    zCol = diffName(cw->a[i].name);
    zSql = zCol ? planSqlf("ALTER TABLE %s DROP COLUMN %s", zTab, zCol) : 0;
    if( zSql==0 ){ planNomem(p); ok = 0; }
    else if( (rc = sqlite3_exec(p->W, zSql, 0, 0, 0))!=SQLITE_OK ){ ok = 0; tryFailed(p, rc); }
    else sqlite3_str_appendf(s, "%c%s", 1, zSql);
    sqlite3_free(zCol);
    sqlite3_free(zSql);
  }
  for(i=j; ok && i<ct->n; i++){
    char *zSql = planSqlf("ALTER TABLE %s ADD COLUMN %s", zTab, azDef[i]);
    if( zSql==0 ){ planNomem(p); ok = 0; }
    else if( (rc = sqlite3_exec(p->W, zSql, 0, 0, 0))!=SQLITE_OK ){ ok = 0; tryFailed(p, rc); }
    else sqlite3_str_appendf(s, "%c%s", 1, zSql);
    sqlite3_free(zSql);
  }
  if( ok && planReread(p)==SQLITE_OK ){
    const SchemaObj *o = planFind(&p->sW, 0, oT->name);
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
  /* Read before sqlite3_str_finish(), which frees s. */
  sErr = sqlite3_str_errcode(s);
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
  }else if( zText==0 && sErr ){
    planNomem(p);
  }
  sqlite3_free(zText);
  sqlite3_free(zNotes);
  sqlite3_free(zTab);
  diffDefsFree(azDef, nDef);
  return ok && p->rc==SQLITE_OK;
}

/* A name for the new form that no object of either side has. */
static char *tempName(DiffPlan *p, const char *zTab){
  int i;
  for(i=1; i<1000; i++){
    char *z = i==1 ? sqlite3_mprintf("%s_migrate_new", zTab)
                   : sqlite3_mprintf("%s_migrate_new%d", zTab, i);
    if( z==0 ) break;
    if( !planFindAny(&p->sW, z) && !planFindAny(&p->sT, z) ) return z;
    sqlite3_free(z);
  }
  planNomem(p);
  return 0;
}

/* The rowid's name the copy may use: one no column of either form takes. */
static const char *rowidName(const DiffCols *a, const DiffCols *b){
  static const char *const az[] = { "rowid", "oid", "_rowid_" };
  int i;
  for(i=0; i<3; i++) if( planColFind(a, az[i])<0 && planColFind(b, az[i])<0 ) return az[i];
  return 0;
}

static void rebuild(DiffPlan *p, const char *zW, const SchemaObj *oT,
                    const DiffCols *cw, const DiffCols *ct, int tIpk, const char *zTSql,
                    const char *zWSql){
  char *zTmpRaw, *zTmp, *zOld, *zNew;
  sqlite3_str *ins = sqlite3_str_new(0), *sel = sqlite3_str_new(0);
  char *zIns, *zSel;
  int i, wRowid, tRowid, n = 0;
  { char *zShown = diffName(oT->name);
    if( zShown ) planCommentf(p, "rebuild table %s: ALTER TABLE cannot "
                                            "make its new form", zShown);
    else planNomem(p);
    sqlite3_free(zShown); }
  { char *zNotes = planLossNotes(p, zW, cw, ct);
    if( zNotes && p->rc==SQLITE_OK ) sqlite3_str_appendall(p->out, zNotes);
    sqlite3_free(zNotes); }
  planDropReaders(p, zW);
  if( planReread(p) ){ sqlite3_free(sqlite3_str_finish(ins)); sqlite3_free(sqlite3_str_finish(sel)); return; }
  wRowid = planIsRowid(p, p->W, zW);
  tRowid = planIsRowid(p, p->T, oT->name);
  zTmpRaw = tempName(p, oT->name);
  zTmp = zTmpRaw ? diffName(zTmpRaw) : 0;
  zOld = diffName(zW);
  zNew = diffName(oT->name);
  if( zTmp && zOld && zNew ){
    planEmit(p, diffRenamedCreate(zTSql, zTmp));
    for(i=0; i<ct->n; i++){
      int k;
      if( ct->a[i].hidden ) continue;
      /* A generated column of the old form is read like any other: its
      ** values stay when the new form makes it a plain column. */
      k = planColFind(cw, ct->a[i].name);
      if( k<0 || cw->a[k].hidden==1 ) continue;
      { char *a = diffName(ct->a[i].name), *b = diffName(cw->a[k].name);
        if( a==0 || b==0 ) planNomem(p);
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
      if( tIpk>=0 && planColFind(cw, ct->a[tIpk].name)<0 && zR ){
        char *a = diffName(ct->a[tIpk].name);
        if( a==0 ) planNomem(p);
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
    planNomem(p);
  }
  zIns = sqlite3_str_finish(ins);
  zSel = sqlite3_str_finish(sel);
  if( n && (zIns==0 || zSel==0) ) planNomem(p);
  if( n ){
    planEmitf(p, "INSERT INTO %s(%s) SELECT %s FROM %s", zTmp, zIns,
                            zSel, zOld);
  }else if( p->isUp ? planRowCount(p, p->W, zW)>0 : 1 ){
    planCommentf(p, "data loss: the rows of %s are not kept: no "
                               "column is in both forms", oT->name);
  }
  if( zTmp && diffHasWord(zWSql, "AUTOINCREMENT") && diffHasWord(zTSql, "AUTOINCREMENT") ){
    /* The next id stays past every id ever given, as AUTOINCREMENT promises. */
    planEmitf(p, "DELETE FROM sqlite_sequence WHERE name='%q'", zTmpRaw);
    planEmitf(p, "INSERT INTO sqlite_sequence(name, seq) SELECT '%q', "
                            "seq FROM sqlite_sequence WHERE name='%q'", zTmpRaw,
                            zW);
  }
  if( zOld ) planEmitf(p, "DROP TABLE %s", zOld);
  if( zTmp && zNew ) planEmitf(p, "ALTER TABLE %s RENAME TO %s", zTmp, zNew);
  sqlite3_free(zIns);
  sqlite3_free(zSel);
  sqlite3_free(zTmpRaw);
  sqlite3_free(zTmp);
  sqlite3_free(zOld);
  sqlite3_free(zNew);
}

/* A table both sides have, in different forms. */
static void changeTable(DiffPlan *p, const char *zWName, const char *zTName){
  const SchemaObj *oW, *oT;
  char *zWCopy = sqlite3_mprintf("%s", zWName);
  DiffCols cw, ct;
  char *zTSql = 0, *zWSql = 0;
  const char *zRowsName;
  sqlite3 *pRows;
  int tIpk, hasRows;
  memset(&cw, 0, sizeof(cw));
  memset(&ct, 0, sizeof(ct));
  if( zWCopy==0 ){ planNomem(p); return; }
  if( planReread(p) ){ sqlite3_free(zWCopy); return; }
  oW = planFind(&p->sW, 0, zWCopy);
  oT = planFind(&p->sT, 0, zTName);
  if( oW==0 || oT==0 ){ sqlite3_free(zWCopy); return; }
  zTSql = planStoredSql(p, p->T, oT);
  zWSql = planStoredSql(p, p->W, oW);
  if( p->rc ) goto done;
  if( sqlite3_strnicmp(oW->sql, "CREATE VIRTUAL", 14)==0
   || sqlite3_strnicmp(oT->sql, "CREATE VIRTUAL", 14)==0 ){
    /* A virtual table's rows are its module's: made again, empty. */
    planCommentf(p, "data loss: table %s is made again, empty "
                               "(a virtual table)", oT->name);
    planDropReaders(p, oW->name);
    planEmitDrop(p, oW);
    planEmitf(p, "%s", zTSql);
    goto done;
  }
  planReadCols(p, p->W, oW->name, &cw);
  planReadCols(p, p->T, oT->name, &ct);
  pRows = planRowsDb(p, oW->name, oT->name, &zRowsName);
  hasRows = p->rc==SQLITE_OK && planRowCount(p, pRows, zRowsName)>0;
  tIpk = planIpkColumn(&ct, planIsRowid(p, p->T, oT->name));
  checkNewColumns(p, oT->name, &cw, &ct, tIpk, hasRows);
  if( p->rc ) goto done;
  if( !tryAlter(p, oW, oT, &cw, &ct, zTSql) && p->rc==SQLITE_OK ){
    rebuild(p, zWCopy, oT, &cw, &ct, tIpk, zTSql, zWSql);
  }
done:
  planColsFree(&cw);
  planColsFree(&ct);
  sqlite3_free(zTSql);
  sqlite3_free(zWSql);
  sqlite3_free(zWCopy);
}

/* -------------------------------------------------------- renames */

/* The renames of the hints, in this direction: tables first (their
** columns are then named by the table's new name). */
static void renames(DiffPlan *p){
  const Desired *d = p->pDes;
  int i, k;
  for(k=0; k<d->nRen; k++){
    const DiffRename *r = &d->aRen[p->isUp ? k : d->nRen-1-k];
    char *zA, *zB;
    if( !r->isTable || r->done ) continue;
    zA = diffName(p->isUp ? r->zFrom : r->zTo);
    zB = diffName(p->isUp ? r->zTo : r->zFrom);
    if( zA && zB ) planEmitf(p, "ALTER TABLE %s RENAME TO %s", zA, zB);
    else planNomem(p);
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
      planEmitf(p, "ALTER TABLE %s RENAME COLUMN %s TO %s", zT, zA, zB);
    }else{
      planNomem(p);
    }
    sqlite3_free(zT);
    sqlite3_free(zA);
    sqlite3_free(zB);
  }
}

/* ------------------------------------------------------ the whole */

static const char *const azType[] = { "table", "index", "view", "trigger" };

static int fkViolations(DiffPlan *p){
  return (int)planQueryInt(p, p->W, "SELECT count(*) FROM pragma_foreign_key_check", 0, 0);
}

/* Objects of rank r the copy has and the target has not, or not so. */
static int differs(DiffPlan *p, const SchemaObj *oW){
  const SchemaObj *oT = planFind(&p->sT, oW->rank, oW->name);
  return oT==0 || strcmp(oT->sql, oW->sql)!=0;
}

static void plan(DiffPlan *p){
  int i, r, nFk0;
  char **az = 0;
  int n = 0, nAlloc = 0;
  nFk0 = p->isUp ? fkViolations(p) : 0;
  renames(p);
  planReadSchema(p, p->T, &p->sT);
  if( planReread(p) ) return;

  /* 2. Triggers, views, indexes that are gone or changed. */
  for(r=3; r>=1 && p->rc==SQLITE_OK; r--){
    int again = 1;
    while( again && p->rc==SQLITE_OK ){
      again = 0;
      for(i=0; i<p->sW.n; i++){
        const SchemaObj *o = &p->sW.a[i];
        if( o->rank!=r || !differs(p, o) ) continue;
        /* An index goes with its table when the table goes. */
        if( r==1 && !planFind(&p->sT, 0, o->tbl) ) continue;
        if( r==2 ){
          char *zView = sqlite3_mprintf("%s", o->name);
          if( zView==0 ){ planNomem(p); break; }
          planEmitDrop(p, o);
          planDropReaders(p, zView);
          sqlite3_free(zView);
        }else{
          planEmitDrop(p, o);
        }
        again = 1;
        break;
      }
      if( again ) planReread(p);
    }
  }

  /* 3. Tables that are gone. */
  for(i=0; p->rc==SQLITE_OK && i<p->sW.n; i++){
    if( p->sW.a[i].rank==0 && !planFind(&p->sT, 0, p->sW.a[i].name) ){
      if( utilArrayReserve((void**)&az, &nAlloc, n, sizeof(char*)) ){ planNomem(p); break; }
      if( (az[n++] = sqlite3_mprintf("%s", p->sW.a[i].name))==0 ) planNomem(p);
    }
  }
  for(i=0; p->rc==SQLITE_OK && i<n; i++){
    const SchemaObj *o;
    char *zShown = diffName(az[i]);
    if( zShown==0 ){ planNomem(p); break; }
    planDropReaders(p, az[i]);
    if( planReread(p)==SQLITE_OK && (o = planFind(&p->sW, 0, az[i]))!=0 ){
      if( p->isUp ){
        i64 nRow = planRowCount(p, p->W, o->name);
        if( nRow>0 ){
          planCommentf(p, "data loss: drops table %s (%lld row%s)",
                                     zShown, nRow, nRow==1 ? "" : "s");
        }
      }else{
        planCommentf(p, "data loss: drops table %s", zShown);
      }
      planEmitDrop(p, o);
    }
    sqlite3_free(zShown);
  }
  for(i=0; i<n; i++) sqlite3_free(az[i]);
  sqlite3_free(az);

  /* 4. Tables in both, changed; 5. new tables. */
  for(i=0; p->rc==SQLITE_OK && i<p->sT.n; i++){
    const SchemaObj *oT = &p->sT.a[i], *oW;
    if( oT->rank!=0 ) continue;
    if( planReread(p) ) break;
    oW = planFind(&p->sW, 0, oT->name);
    if( oW && strcmp(oW->sql, oT->sql)!=0 ){
      changeTable(p, oW->name, oT->name);
    }
  }
  for(i=0; p->rc==SQLITE_OK && i<p->sT.n; i++){
    const SchemaObj *oT = &p->sT.a[i];
    if( oT->rank!=0 || planFind(&p->sW, 0, oT->name) ) continue;
    planEmit(p, planStoredSql(p, p->T, oT));
  }

  /* 6. Indexes, views, triggers the copy lacks, in the target's words. */
  for(r=1; r<=3 && p->rc==SQLITE_OK; r++){
    if( planReread(p) ) break;
    for(i=0; p->rc==SQLITE_OK && i<p->sT.n; i++){
      const SchemaObj *oT = &p->sT.a[i], *oW;
      if( oT->rank!=r ) continue;
      oW = planFind(&p->sW, r, oT->name);
      if( oW && strcmp(oW->sql, oT->sql)==0 ) continue;
      if( oW ) planEmitDrop(p, oW);
      planEmit(p, planStoredSql(p, p->T, oT));
    }
  }

  /* The script was seen to give the target schema, or it is not returned. */
  if( planReread(p)==SQLITE_OK ){
    for(i=0; p->rc==SQLITE_OK && i<p->sT.n; i++){
      const SchemaObj *oT = &p->sT.a[i];
      const SchemaObj *oW = planFind(&p->sW, oT->rank, oT->name);
      if( oW==0 || strcmp(oW->sql, oT->sql)!=0 ){
        char *zShown = diffName(oT->name);
        planFail(p, zShown ? sqlite3_mprintf("cannot write a migration that gives %s "
                                         "%s exactly as the %s has it",
                                         azType[oT->rank], zShown, p->isUp
                                         ? "desired schema" : "database") : 0);
        sqlite3_free(zShown);
      }
    }
    if( p->rc==SQLITE_OK && p->sW.n!=p->sT.n ){
      for(i=0; i<p->sW.n; i++){
        if( !planFind(&p->sT, p->sW.a[i].rank, p->sW.a[i].name) ){
          char *zShown = diffName(p->sW.a[i].name);
          planFail(p, zShown ? sqlite3_mprintf("cannot write a migration that "
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
      planFail(p, sqlite3_mprintf("the rows of the database break the foreign keys "
                              "of the desired schema: PRAGMA foreign_key_check "
                              "would report %d violation%s more", nFk-nFk0,
                              nFk-nFk0==1 ? "" : "s"));
    }
  }
}

static int direction(sqlite3 *db, const Desired *d, int isUp, char **pzOut,
                     char **pzErr){
  DiffPlan p;
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

static int hasTable(DiffPlan *p, sqlite3 *db, const char *zTab){
  return (int)planQueryInt(p, db, "SELECT count(*) FROM main.sqlite_schema WHERE"
                       " type='table' AND name=?1 COLLATE NOCASE", zTab, 0);
}

static int hasColumn(DiffPlan *p, sqlite3 *db, const char *zTab, const char *zCol){
  return (int)planQueryInt(p, db, "SELECT count(*) FROM pragma_table_xinfo(?1, 'main')"
                       " WHERE name=?2 COLLATE NOCASE", zTab, zCol);
}

/* Each hint must name what is there: the old name in the database only,
** the new one in the desired schema only. */
static int checkHints(sqlite3 *db, Desired *d, const char *zShow,
                      char **pzErr){
  DiffPlan p;
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
