/*
** dataloss.c — what a pending migration does to the rows already there,
** for migrate_check (doc/check.md "Rows"): on the scratch copy,
**
**   data_loss       the up drops a table that holds rows, or a column that
**                   holds values (not NULL);
**   roundtrip_rows  after the down, a table that was there before the up
**                   does not hold the rows it held then.
**
** Each table's rows are summed up in one scan, as SQLite steps through them:
** how many, and a hash of each row added up, so the sum does not depend on
** their order and nothing grows with the table; each column likewise, its
** values that are not NULL.  A table renamed, or a column, is recognised by
** the same sums under the new name, and is no loss.
**
** A sum stays good until a statement may have written the table: the scratch
** connection's authorizer names each table a statement writes as it is
** prepared (scratchWatch), those written by the triggers it fires and by
** the ON DELETE and ON UPDATE actions of foreign keys included, since SQLite
** prepares those programs with the statement and authorizes them too.  So
** only the tables a migration touches are read again, not the whole copy
** before and after every script.  Virtual tables, their shadow tables,
** SQLite's own and migrate's are not looked at, nor, once said, a table the
** scratch connection cannot read.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

typedef sqlite3_uint64 u64;

typedef struct ColSum {
  char *zName;
  i64 nValue;          /* values that are not NULL */
  u64 hash;            /* their hashes, added up */
} ColSum;

typedef struct TableSum {
  int nRef;
  int fresh;           /* no statement has written the table since the scan */
  char *zName;
  i64 nRow;
  u64 hash;            /* the rows' hashes, added up */
  ColSum *aCol;
  int nCol;
} TableSum;

struct DataLoss {
  sqlite3 *s;
  ScratchWatch watch;
  TableSum **apCache;  /* the newest sum of each table scanned */
  int nCache, nCacheAlloc;
  TableSum **apBefore; /* the tables as they were before the up */
  int nBefore;
  char **azUnread;     /* tables whose rows cannot be read: left out */
  int nUnread;
  char **azSay;        /* why, one finding each, until the step's end */
  int nSay;
};

static int isUnread(DataLoss *d, const char *zName){
  int i;
  for(i=0; i<d->nUnread; i++){
    if( sqlite3_stricmp(d->azUnread[i], zName)==0 ) return 1;
  }
  return 0;
}

/* A table the scratch connection cannot read (a generated column calling
** a function only the application has, say) is left out from then on, and
** said once, not at every step. */
static int leaveOut(DataLoss *d, const char *zName, char *zWhy){
  char **a = sqlite3_realloc64(d->azUnread, sizeof(char*)*(sqlite3_uint64)(d->nUnread+1));
  char **aSay = 0;
  char *zCopy = sqlite3_mprintf("%s", zName);
  char *zSay = zWhy ? sqlite3_mprintf("%s; its rows are not compared", zWhy) : 0;
  sqlite3_free(zWhy);
  if( a ){
    d->azUnread = a;
    aSay = sqlite3_realloc64(d->azSay, sizeof(char*)*(sqlite3_uint64)(d->nSay+1));
    if( aSay ) d->azSay = aSay;
  }
  if( aSay==0 || zCopy==0 || zSay==0 ){
    sqlite3_free(zCopy);
    sqlite3_free(zSay);
    return SQLITE_NOMEM;
  }
  d->azUnread[d->nUnread++] = zCopy;
  d->azSay[d->nSay++] = zSay;
  return SQLITE_OK;
}

/* The end of a step: a data_loss finding for each table it left out. */
static int stepEnd(DataLoss *d, int rc, LintFound xFound, void *pArg){
  int i;
  for(i=0; i<d->nSay; i++){
    if( rc==SQLITE_OK ) rc = xFound(pArg, "data_loss", d->azSay[i]);
    else sqlite3_free(d->azSay[i]);
  }
  d->nSay = 0;
  return rc;
}

static void sumRelease(TableSum *p){
  int i;
  if( p==0 || --p->nRef>0 ) return;
  for(i=0; i<p->nCol; i++) sqlite3_free(p->aCol[i].zName);
  sqlite3_free(p->aCol);
  sqlite3_free(p->zName);
  sqlite3_free(p);
}

static int findSum(TableSum **a, int n, const char *zName){
  int i;
  for(i=0; i<n; i++){
    if( sqlite3_stricmp(a[i]->zName, zName)==0 ) return i;
  }
  return -1;
}

static void tableWritten(void *pArg, const char *zTable){
  DataLoss *d = (DataLoss*)pArg;
  int i = findSum(d->apCache, d->nCache, zTable);
  if( i>=0 ) d->apCache[i]->fresh = 0;
}

/* ---------------------------------------------------------------- hashing */

static u64 mix(u64 x){
  x ^= x>>30; x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x>>27; x *= 0x94d049bb133111ebULL;
  return x ^ (x>>31);
}

static u64 fnv(u64 h, const void *p, size_t n){
  const unsigned char *a = (const unsigned char*)p;
  size_t i;
  for(i=0; i<n; i++){ h ^= a[i]; h *= 0x100000001b3ULL; }
  return h;
}

/* A value's hash: its type and its bytes, so 1, 1.0 and '1' differ. */
static u64 valueHash(sqlite3_stmt *p, int i){
  int type = sqlite3_column_type(p, i);
  u64 h = fnv(0xcbf29ce484222325ULL, &type, sizeof(type));
  if( type==SQLITE_INTEGER ){
    i64 v = sqlite3_column_int64(p, i);
    h = fnv(h, &v, sizeof(v));
  }else if( type==SQLITE_FLOAT ){
    double v = sqlite3_column_double(p, i);
    h = fnv(h, &v, sizeof(v));
  }else if( type!=SQLITE_NULL ){
    const void *z = type==SQLITE_TEXT ? (const void*)sqlite3_column_text(p, i)
                                      : sqlite3_column_blob(p, i);
    h = fnv(h, z, (size_t)sqlite3_column_bytes(p, i));
  }
  return mix(h);
}

/* One scan of a table: a new sum, fresh, with one reference. */
static int scanTable(sqlite3 *s, const char *zName, TableSum **pp, char **pzErr){
  char *zSql = sqlite3_mprintf("SELECT * FROM main.\"%w\"", zName);
  sqlite3_stmt *p = 0;
  TableSum *t;
  int rc, i;
  *pp = 0;
  t = sqlite3_malloc64(sizeof(*t));
  if( zSql==0 || t==0 ){
    sqlite3_free(zSql);
    sqlite3_free(t);
    return SQLITE_NOMEM;
  }
  memset(t, 0, sizeof(*t));
  t->nRef = 1;
  t->fresh = 1;
  t->zName = sqlite3_mprintf("%s", zName);
  rc = t->zName ? sqlite3_prepare_v2(s, zSql, -1, &p, 0) : SQLITE_NOMEM;
  sqlite3_free(zSql);
  if( rc==SQLITE_OK ){
    t->nCol = sqlite3_column_count(p);
    t->aCol = sqlite3_malloc64(sizeof(ColSum)*(sqlite3_uint64)(t->nCol+1));
    if( t->aCol==0 ) rc = SQLITE_NOMEM;
    else memset(t->aCol, 0, sizeof(ColSum)*(size_t)(t->nCol+1));
  }
  for(i=0; rc==SQLITE_OK && i<t->nCol; i++){
    t->aCol[i].zName = sqlite3_mprintf("%s", sqlite3_column_name(p, i));
    if( t->aCol[i].zName==0 ) rc = SQLITE_NOMEM;
  }
  while( rc==SQLITE_OK && (rc = sqlite3_step(p))==SQLITE_ROW ){
    u64 row = 0;
    for(i=0; i<t->nCol; i++){
      u64 h = valueHash(p, i);
      row = mix(row ^ (h + (u64)(i+1)*0x9e3779b97f4a7c15ULL));
      if( sqlite3_column_type(p, i)!=SQLITE_NULL ){
        t->aCol[i].nValue++;
        t->aCol[i].hash += h;
      }
    }
    t->nRow++;
    t->hash += row;
    rc = SQLITE_OK;
  }
  if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  if( rc && rc!=SQLITE_NOMEM ){
    *pzErr = sqlite3_mprintf("cannot read the rows of table %s on the scratch "
                             "copy: %s", zName, sqlite3_errmsg(s));
  }
  sqlite3_finalize(p);
  if( rc ) sumRelease(t);
  else *pp = t;
  return rc;
}

/* ------------------------------------------------------- the cache of sums */

/* The tables of main whose rows are looked at, a name a time to xEach. */
static int eachTable(sqlite3 *s, int (*xEach)(DataLoss*, const char*, void*),
                     DataLoss *d, void *pArg, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc = sqlite3_prepare_v2(s, "SELECT name FROM pragma_table_list "
      "WHERE schema='main' AND type='table' "
      "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
      "AND name NOT IN ('migrate_history', 'migrate_log', 'migrate_repeatable') "
      "ORDER BY name",
      -1, &p, 0);
  while( rc==SQLITE_OK && (rc = sqlite3_step(p))==SQLITE_ROW ){
    rc = xEach(d, (const char*)sqlite3_column_text(p, 0), pArg);
  }
  if( rc==SQLITE_DONE ) rc = SQLITE_OK;
  if( rc && rc!=SQLITE_NOMEM && *pzErr==0 ){
    *pzErr = sqlite3_mprintf("cannot list the tables of the scratch copy: %s",
                             sqlite3_errmsg(s));
  }
  sqlite3_finalize(p);
  return rc;
}

/* The sum of a table as it is now: the cached one when still fresh, else a
** new scan, which replaces it in the cache.  Not referenced for the caller. */
static int currentSum(DataLoss *d, const char *zName, TableSum **pp,
                      char **pzErr){
  int i = findSum(d->apCache, d->nCache, zName);
  TableSum *t;
  char *zWhy = 0;
  int rc;
  *pp = 0;
  if( i>=0 && d->apCache[i]->fresh ){
    *pp = d->apCache[i];
    return SQLITE_OK;
  }
  if( isUnread(d, zName) ) return SQLITE_OK;
  rc = scanTable(d->s, zName, &t, &zWhy);
  if( rc==SQLITE_NOMEM ){
    sqlite3_free(zWhy);
    return rc;
  }
  if( (rc&0xff)==SQLITE_INTERRUPT ){
    /* The application stopped the check: the table is readable. */
    *pzErr = zWhy;
    return rc;
  }
  if( rc ) return leaveOut(d, zName, zWhy);
  if( i<0 ){
    if( utilArrayReserve((void**)&d->apCache, &d->nCacheAlloc, d->nCache,
                         sizeof(TableSum*)) ){
      sumRelease(t);
      return SQLITE_NOMEM;
    }
    i = d->nCache++;
  }else{
    sumRelease(d->apCache[i]);
  }
  d->apCache[i] = t;
  *pp = t;
  return SQLITE_OK;
}

/* What is no longer a table loses its cached sum: a new table of that name
** is another table. */
static int markListed(DataLoss *d, const char *zName, void *pArg){
  int i = findSum(d->apCache, d->nCache, zName);
  if( i>=0 ) ((char*)pArg)[i] = 1;
  return SQLITE_OK;
}

static int syncCache(DataLoss *d, char **pzErr){
  char *aListed;
  int i, n = 0, rc;
  aListed = sqlite3_malloc64((sqlite3_uint64)d->nCache+1);
  if( aListed==0 ) return SQLITE_NOMEM;
  memset(aListed, 0, (size_t)d->nCache+1);
  rc = eachTable(d->s, markListed, d, aListed, pzErr);
  for(i=0; rc==SQLITE_OK && i<d->nCache; i++){
    if( aListed[i] ) d->apCache[n++] = d->apCache[i];
    else sumRelease(d->apCache[i]);
  }
  if( rc==SQLITE_OK ) d->nCache = n;
  sqlite3_free(aListed);
  return rc;
}

/* -------------------------------------------------------------- the API */

int datalossOpen(sqlite3 *s, DataLoss **pp){
  DataLoss *d = sqlite3_malloc64(sizeof(*d));
  *pp = d;
  if( d==0 ) return SQLITE_NOMEM;
  memset(d, 0, sizeof(*d));
  d->s = s;
  d->watch.xWrite = tableWritten;
  d->watch.pArg = d;
  scratchWatch(s, &d->watch);
  return SQLITE_OK;
}

static void releaseBefore(DataLoss *d){
  int i;
  for(i=0; i<d->nBefore; i++) sumRelease(d->apBefore[i]);
  sqlite3_free(d->apBefore);
  d->apBefore = 0;
  d->nBefore = 0;
}

void datalossClose(DataLoss *d){
  int i;
  if( d==0 ) return;
  releaseBefore(d);
  for(i=0; i<d->nCache; i++) sumRelease(d->apCache[i]);
  sqlite3_free(d->apCache);
  for(i=0; i<d->nUnread; i++) sqlite3_free(d->azUnread[i]);
  sqlite3_free(d->azUnread);
  for(i=0; i<d->nSay; i++) sqlite3_free(d->azSay[i]);
  sqlite3_free(d->azSay);
  sqlite3_free(d);
}

static int addBefore(DataLoss *d, const char *zName, void *pArg){
  TableSum *t;
  int rc = currentSum(d, zName, &t, (char**)pArg);
  if( rc || t==0 ) return rc;
  if( d->nBefore%16==0 ){
    TableSum **a = sqlite3_realloc64(d->apBefore,
                                     sizeof(TableSum*)*(sqlite3_uint64)(d->nBefore+16));
    if( a==0 ) return SQLITE_NOMEM;
    d->apBefore = a;
  }
  t->nRef++;
  d->apBefore[d->nBefore++] = t;
  return SQLITE_OK;
}

int datalossBefore(DataLoss *d, LintFound xFound, void *pArg, char **pzErr){
  int rc;
  releaseBefore(d);
  rc = syncCache(d, pzErr);
  if( rc==SQLITE_OK ) rc = eachTable(d->s, addBefore, d, pzErr, pzErr);
  return stepEnd(d, rc, xFound, pArg);
}

/* A table of before the up as it is now (syncCache has run): its sum, or
** NULL when there is no table of that name any more. */
static int tableNow(DataLoss *d, const char *zName, TableSum **pp, char **pzErr){
  *pp = 0;
  if( findSum(d->apCache, d->nCache, zName)<0 ){
    /* Dropped since, and perhaps made again: then it is a new table. */
    sqlite3_stmt *p = 0;
    int rc = sqlite3_prepare_v2(d->s, "SELECT 1 FROM pragma_table_list "
        "WHERE schema='main' AND type='table' AND name=?1 COLLATE NOCASE",
        -1, &p, 0);
    if( rc==SQLITE_OK ){
      sqlite3_bind_text(p, 1, zName, -1, SQLITE_STATIC);
      rc = sqlite3_step(p);
    }
    sqlite3_finalize(p);
    if( rc==SQLITE_DONE ) return SQLITE_OK;
    if( rc!=SQLITE_ROW ){
      if( rc!=SQLITE_NOMEM ){
        *pzErr = sqlite3_mprintf("cannot list the tables of the scratch copy: "
                                 "%s", sqlite3_errmsg(d->s));
      }
      return rc;
    }
  }
  return currentSum(d, zName, pp, pzErr);
}

/* A table not there before the up with the same rows: t, renamed. */
typedef struct Renamed { const TableSum *pOld; int found; char **pzErr; } Renamed;
static int renamedOne(DataLoss *d, const char *zName, void *pArg){
  Renamed *r = (Renamed*)pArg;
  TableSum *t;
  int rc;
  if( r->found || findSum(d->apBefore, d->nBefore, zName)>=0 ) return SQLITE_OK;
  rc = currentSum(d, zName, &t, r->pzErr);
  if( rc==SQLITE_OK && t && t->nRow==r->pOld->nRow && t->hash==r->pOld->hash ){
    r->found = 1;
  }
  return rc;
}

/* A column of pNew not in pOld with the same values: c, renamed. */
static int columnRenamed(const ColSum *c, const TableSum *pOld,
                         const TableSum *pNew){
  int i, j;
  for(i=0; i<pNew->nCol; i++){
    const ColSum *n = &pNew->aCol[i];
    for(j=0; j<pOld->nCol; j++){
      if( sqlite3_stricmp(pOld->aCol[j].zName, n->zName)==0 ) break;
    }
    if( j==pOld->nCol && n->nValue==c->nValue && n->hash==c->hash ) return 1;
  }
  return 0;
}

static int columnNow(const TableSum *t, const char *zName){
  int i;
  for(i=0; i<t->nCol; i++){
    if( sqlite3_stricmp(t->aCol[i].zName, zName)==0 ) return 1;
  }
  return 0;
}

int datalossAfterUp(DataLoss *d, const char *zFile, LintFound xFound,
                    void *pArg, char **pzErr){
  int i, j, rc = syncCache(d, pzErr);
  for(i=0; rc==SQLITE_OK && i<d->nBefore; i++){
    TableSum *pOld = d->apBefore[i], *pNew = 0;
    if( pOld->nRow==0 ) continue;
    rc = tableNow(d, pOld->zName, &pNew, pzErr);
    if( rc==SQLITE_OK && pNew==0 && isUnread(d, pOld->zName) ) continue;
    if( rc==SQLITE_OK && pNew==0 ){
      Renamed r;
      r.pOld = pOld;
      r.found = 0;
      r.pzErr = pzErr;
      rc = eachTable(d->s, renamedOne, d, &r, pzErr);
      if( rc==SQLITE_OK && !r.found ){
        rc = xFound(pArg, "data_loss", sqlite3_mprintf("%s: drops table %s, "
                    "which holds %lld row%s", zFile, pOld->zName, pOld->nRow,
                    pOld->nRow==1 ? "" : "s"));
      }
      continue;
    }
    for(j=0; rc==SQLITE_OK && pNew!=pOld && j<pOld->nCol; j++){
      const ColSum *c = &pOld->aCol[j];
      if( c->nValue==0 || columnNow(pNew, c->zName)
       || columnRenamed(c, pOld, pNew) ){
        continue;
      }
      rc = xFound(pArg, "data_loss", sqlite3_mprintf("%s: drops column %s.%s, "
                  "which holds %lld value%s", zFile, pOld->zName, c->zName,
                  c->nValue, c->nValue==1 ? "" : "s"));
    }
  }
  return stepEnd(d, rc, xFound, pArg);
}

int datalossAfterDown(DataLoss *d, LintFound xFound, void *pArg, char **pzErr){
  int i, rc = syncCache(d, pzErr);
  for(i=0; rc==SQLITE_OK && i<d->nBefore; i++){
    TableSum *pOld = d->apBefore[i], *pNew = 0;
    rc = tableNow(d, pOld->zName, &pNew, pzErr);
    /* A table the down does not make again is a roundtrip row already. */
    if( rc || pNew==0 || pNew==pOld ) continue;
    if( pNew->nRow!=pOld->nRow ){
      rc = xFound(pArg, "roundtrip_rows", sqlite3_mprintf("down does not bring "
                  "back the rows of %s: %lld before the up, %lld after the down",
                  pOld->zName, pOld->nRow, pNew->nRow));
    }else if( pNew->hash!=pOld->hash ){
      rc = xFound(pArg, "roundtrip_rows", sqlite3_mprintf("down does not bring "
                  "back the rows of %s: %lld before the up and after the down, "
                  "but their values differ", pOld->zName, pOld->nRow));
    }
  }
  return stepEnd(d, rc, xFound, pArg);
}
