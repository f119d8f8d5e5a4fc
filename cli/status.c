/*
** status.c — status: the migrations table-valued function (by its name
** migrate_status, which no table of the app can hide), one line a row:
**
**   [x] 001_create_users       applied 2026-12-07T10:30:12.594Z
**   [ ] 009_task_priority      pending
**   Total: 9 | Applied: 8 | Pending: 1
**
** or, with --json, one JSON document the SQL call itself builds.  Exit
** status 3 when a migration is changed, missing or out of order:
** migrate_apply would refuse to run (doc/cli.md "Exit codes").  A repeatable migration whose
** file is gone is listed as missing but is no refusal.
*/
#include "cli.h"
#include <stdio.h>
#include <string.h>

/* The statuses, their marks, the names of their counts, and whether
** migrate_apply refuses the folder for a migration in it (a repeatable
** migration aside).  Ignored files come last: they are not migrations. */
static const struct {
  const char *zStatus, *zMark, *zCount;
  int bRefused;
} aStatus[] = {
  { "applied",      "[x]", "Applied",      0 },
  { "pending",      "[ ]", "Pending",      0 },
  { "changed",      "[!]", "Changed",      1 },
  { "missing",      "[?]", "Missing",      1 },
  { "out_of_order", "[<]", "Out of order", 1 },
  { "outdated",     "[~]", "Outdated",     0 },
  { "ignored",      "[-]", "Ignored",      0 },
};
#define N_STATUS (int)(sizeof(aStatus)/sizeof(aStatus[0]))

typedef struct Row Row;
struct Row { char *zLabel; int iStatus; char *zAt; };

typedef struct Rows Rows;
struct Rows {
  Row *a; int n, nAlloc; int bOom;
  int nRefused;            /* versioned rows changed, missing or out of order */
};

/* What a line calls a migration: its file without the parts every file of
** its format has (".sql", ".up", a diesel folder's "/up", a Prisma folder's
** "/migration"); without a file, <version>_<name>, as the extension names
** a stored migration.  An ignored file is no migration: its name, whole. */
static char *label(sqlite3_stmt *pStmt, int bIgnored){
  const char *zFile = (const char*)sqlite3_column_text(pStmt, 4);
  char *z;
  size_t n;
  static const char *azTail[] = { ".sql", ".up", "/up", "/migration" };
  int i;
  if( zFile==0 ){
    if( sqlite3_column_type(pStmt, 0)==SQLITE_NULL ){
      return sqlite3_mprintf("R__%s", sqlite3_column_text(pStmt, 1));
    }
    return sqlite3_mprintf("%lld_%s", sqlite3_column_int64(pStmt, 0),
                           sqlite3_column_text(pStmt, 1));
  }
  z = sqlite3_mprintf("%s", zFile);
  if( z==0 || bIgnored ) return z;
  n = strlen(z);
  for(i=0; i<(int)(sizeof(azTail)/sizeof(azTail[0])); i++){
    size_t k = strlen(azTail[i]);
    if( n>k && strcmp(z+n-k, azTail[i])==0 ){ n -= k; z[n] = 0; }
  }
  return z;
}

static int statusRow(Cli *p, sqlite3_stmt *pStmt, void *pArg){
  Rows *pRows = (Rows*)pArg;
  const char *zStatus = (const char*)sqlite3_column_text(pStmt, 2);
  const char *zAt = (const char*)sqlite3_column_text(pStmt, 3);
  Row *r;
  int i;
  (void)p;
  if( pRows->n==pRows->nAlloc ){
    int nNew = pRows->nAlloc ? pRows->nAlloc*2 : 16;
    Row *aNew = sqlite3_realloc64(pRows->a, sizeof(Row)*(unsigned)nNew);
    if( aNew==0 ){ pRows->bOom = 1; return CLI_ERROR; }
    pRows->a = aNew;
    pRows->nAlloc = nNew;
  }
  r = &pRows->a[pRows->n++];
  memset(r, 0, sizeof(*r));
  r->iStatus = N_STATUS-1;
  for(i=0; zStatus && i<N_STATUS; i++){
    if( strcmp(zStatus, aStatus[i].zStatus)==0 ){ r->iStatus = i; break; }
  }
  r->zLabel = label(pStmt, r->iStatus==N_STATUS-1);
  /* What migrate_apply refuses: a repeatable migration whose file is gone
  ** is not an error, so it is listed but does not count here. */
  if( aStatus[r->iStatus].bRefused && sqlite3_column_type(pStmt, 0)!=SQLITE_NULL ){
    pRows->nRefused++;
  }
  r->zAt = zAt ? sqlite3_mprintf("%s", zAt) : 0;
  if( r->zLabel==0 || (zAt && r->zAt==0) ){ pRows->bOom = 1; return CLI_ERROR; }
  return CLI_OK;
}

static int statusLines(Cli *p){
  Rows rows;
  int rc, i, w = 0;
  int aCount[N_STATUS];
  char *zSql = sqlite3_mprintf(
      "SELECT version, name, status, applied_at, file FROM migrate_status(%Q)", p->zDir);
  memset(&rows, 0, sizeof(rows));
  memset(aCount, 0, sizeof(aCount));
  rc = cliQuery(p, zSql, statusRow, &rows);
  sqlite3_free(zSql);
  if( rows.bOom ) fprintf(stderr, "sqlite-migrate: out of memory\n");
  if( rc==CLI_OK && !p->bPrintSql ){
    for(i=0; i<rows.n; i++){
      int n = (int)strlen(rows.a[i].zLabel);
      if( n>w ) w = n;
      aCount[rows.a[i].iStatus]++;
    }
    for(i=0; i<rows.n; i++){
      Row *r = &rows.a[i];
      if( r->zAt ){
        cliOut(p, "%s %-*s  %s %s\n", aStatus[r->iStatus].zMark, w, r->zLabel,
               aStatus[r->iStatus].zStatus, r->zAt);
      }else{
        cliOut(p, "%s %-*s  %s\n", aStatus[r->iStatus].zMark, w, r->zLabel,
               aStatus[r->iStatus].zStatus);
      }
    }
    /* Ignored files are listed, but they are not migrations. */
    cliOut(p, "Total: %d | Applied: %d | Pending: %d",
           rows.n - aCount[N_STATUS-1], aCount[0], aCount[1]);
    for(i=2; i<N_STATUS; i++){
      if( aCount[i] ) cliOut(p, " | %s: %d", aStatus[i].zCount, aCount[i]);
    }
    cliOut(p, "\n");
    if( rows.nRefused ) rc = CLI_FOUND;
  }
  for(i=0; i<rows.n; i++){
    sqlite3_free(rows.a[i].zLabel);
    sqlite3_free(rows.a[i].zAt);
  }
  sqlite3_free(rows.a);
  return rows.bOom ? CLI_ERROR : rc;
}

/* The document, and whether anything is changed, missing or out of order. */
static int jsonRow(Cli *p, sqlite3_stmt *pStmt, void *pArg){
  cliOut(p, "%s\n", sqlite3_column_text(pStmt, 0));
  *(int*)pArg = sqlite3_column_int(pStmt, 1);
  return CLI_OK;
}

static int statusJson(Cli *p){
  int nBad = 0, rc;
  char *zSql = sqlite3_mprintf(
      "SELECT json_object("
        "'current', migrate_current(), "
        "'migrations', json_group_array(json_object("
          "'version', version, 'name', name, 'status', status, "
          "'applied_at', applied_at, 'file', file)), "
        "'total', count(*) FILTER (WHERE status <> 'ignored'), "
        "'applied', count(*) FILTER (WHERE status = 'applied'), "
        "'pending', count(*) FILTER (WHERE status = 'pending'), "
        "'changed', count(*) FILTER (WHERE status = 'changed'), "
        "'missing', count(*) FILTER (WHERE status = 'missing'), "
        "'out_of_order', count(*) FILTER (WHERE status = 'out_of_order'), "
        "'outdated', count(*) FILTER (WHERE status = 'outdated'), "
        "'ignored', count(*) FILTER (WHERE status = 'ignored')), "
      "count(*) FILTER (WHERE status IN ('changed', 'missing', 'out_of_order')"
      " AND version IS NOT NULL) "
      "FROM migrate_status(%Q)", p->zDir);
  rc = cliQuery(p, zSql, jsonRow, &nBad);
  sqlite3_free(zSql);
  if( rc==CLI_OK && nBad ) rc = CLI_FOUND;
  return rc;
}

int cmdStatus(Cli *p){
  return p->bJson ? statusJson(p) : statusLines(p);
}
