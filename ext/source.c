/*
** source.c — where migrations come from, as one Source whatever the backend,
** and reading one migration's texts into memory (once) when it is needed.
**
**   SELECT migrate_apply('db/migrations');                   -- a folder
**   SELECT migrate_apply('SELECT version, name, up FROM m'); -- a query
**
** Each backend fills an empty Source and knows nothing of the other:
** folder.c reads a directory's names, rowsource.c a query's rows.  A
** migration carries a label (how messages name it) and either the path of
** its file or its text; this file reads the one or copies the other.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

/* A folder named "select ..." is still reachable as "./select ...". */
int sourceIsQuery(const char *z){
  static const char *azKw[] = {"select", "with", "values"};
  size_t i;
  z = sqlSkipSpace(z);
  for(i=0; i<sizeof(azKw)/sizeof(azKw[0]); i++){
    size_t n = strlen(azKw[i]);
    if( sqlite3_strnicmp(z, azKw[i], (int)n)==0 ){
      char c = z[n];
      if( c==0 || c=='(' || c==' ' || c=='\t' || c=='\n' || c=='\r' ) return 1;
    }
  }
  return 0;
}

/* A folder of .sql files none of which is read: the user believes the
** database is up to date when nothing was even looked at. */
static int refuseAllIgnored(const Source *pSrc, char **pzErr){
  const Ignored *g = pSrc->aIgnored;
  if( pSrc->n>0 || pSrc->nRep>0 || pSrc->nIgnored==0 ) return SQLITE_OK;
  if( pSrc->nIgnored==1 ){
    *pzErr = sqlite3_mprintf("no migration in '%s': %s: %s (doc/formats.md)",
                             pSrc->origin, g->file, g->why);
  }else{
    *pzErr = sqlite3_mprintf("no migration in '%s': %s: %s; %d more file%s "
                             "not read (doc/formats.md)", pSrc->origin,
                             g->file, g->why, pSrc->nIgnored-1,
                             pSrc->nIgnored==2 ? " is" : "s are");
  }
  return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
}

int sourceOpenListing(sqlite3 *db, const char *zArg, Source *pSrc, char **pzErr){
  int rc;
  memset(pSrc, 0, sizeof(*pSrc));
  rc = sourceIsQuery(zArg) ? rowsourceRead(db, zArg, pSrc, pzErr)
                           : folderRead(zArg, pSrc, pzErr);
  if( rc ) sourceFree(pSrc);
  return rc;
}

int sourceOpen(sqlite3 *db, const char *zArg, Source *pSrc, char **pzErr){
  int rc = sourceOpenListing(db, zArg, pSrc, pzErr);
  if( rc==SQLITE_OK ){
    rc = refuseAllIgnored(pSrc, pzErr);
    if( rc ) sourceFree(pSrc);
  }
  return rc;
}

int sourceOpenFolder(const char *zDir, Source *pSrc, char **pzErr){
  int rc;
  memset(pSrc, 0, sizeof(*pSrc));
  rc = folderRead(zDir, pSrc, pzErr);
  if( rc ) sourceFree(pSrc);
  return rc;
}

void sourceFree(Source *pSrc){
  utilPoolFree(&pSrc->pool);
  sqlite3_free(pSrc->a);
  sqlite3_free(pSrc->aIgnored);
  sqlite3_free(pSrc->aRep);
  sqlite3_free(pSrc->origin);
  memset(pSrc, 0, sizeof(*pSrc));
}

Migration *sourceFind(Source *pSrc, i64 v){
  int lo = 0, hi = pSrc->n-1;
  while( lo<=hi ){
    int mid = (lo+hi)/2;
    if( pSrc->a[mid].version==v ) return &pSrc->a[mid];
    if( pSrc->a[mid].version<v ) lo = mid+1; else hi = mid-1;
  }
  return 0;
}

/* One text of a migration: its file read whole, or its row's text copied,
** so a Loaded owns its buffers either way. */
static int loadText(const Migration *m, const MigrationText *t, char **pz,
                    size_t *pn, char **pzErr){
  if( m->folder ){
    char *zPath = sqlite3_mprintf("%s/%s", m->folder, t->label);
    int rc = zPath ? fileReadWhole(zPath, t->label, pz, pn, 0, pzErr) : SQLITE_NOMEM;
    sqlite3_free(zPath);
    return rc;
  }
  if( t==&m->up ){
    *pz = utilTextDup(m->row->zUp, m->row->nUp);
    *pn = m->row->nUp;
  }else{
    *pz = utilTextDup(m->row->zDown, m->row->nDown);
    *pn = m->row->nDown;
  }
  return *pz ? SQLITE_OK : SQLITE_NOMEM;
}

int migrationLoad(const Migration *m, Loaded *p, char **pzErr){
  int rc;
  memset(p, 0, sizeof(*p));
  rc = loadText(m, &m->up, &p->upText, &p->nUp, pzErr);
  if( rc==SQLITE_OK ){
    rc = formatSplitNamed(m->up.label, p->upText, p->nUp, m->how, &p->up, pzErr);
  }
  if( rc==SQLITE_OK && m->down.label ){
    rc = loadText(m, &m->down, &p->downText, &p->nDown, pzErr);
    if( rc==SQLITE_OK ){
      rc = formatSplitNamed(m->down.label, p->downText, p->nDown, FMT_WHOLE_DOWN,
                          &p->down, pzErr);
    }
  }
  if( rc==SQLITE_OK && m->verify ){
    MigrationText verify = { m->verify };
    rc = loadText(m, &verify, &p->verifyText, &p->nVerify, pzErr);
    if( rc==SQLITE_OK ){
      rc = formatSplitNamed(m->verify, p->verifyText, p->nVerify,
                            FMT_WHOLE_VERIFY, &p->verify, pzErr);
    }
    if( rc==SQLITE_OK && p->up.up.noTxn ){
      /* As for a verify section (format.c): nothing left to undo. */
      *pzErr = sqlite3_mprintf("%s: a verify section cannot check a "
                               "transaction:false migration: its up commits "
                               "as it runs, so a failed verify could not undo it",
                               m->verify);
      rc = *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
    }
  }
  if( rc==SQLITE_OK ) sha256Hex(p->upText, p->nUp, p->checksum);
  if( rc ) loadedFree(p);
  return rc;
}

/*
** What migrationLoad would give as the checksum: the up text's bytes hashed
** (a file's first st_size bytes, read through a descriptor that follows no
** link).  An applied migration needs nothing else: its scripts come from
** the history, so it is not split, and its down file is not read.
*/
int migrationHash(const Source *pSrc, const Migration *m, char zSum[65],
                  int *pRecord, char **pzErr){
  struct stat st;
  FileStamp now;
  char *zPath, *z;
  size_t n;
  int rc;
  *pRecord = 0;
  if( m->folder==0 ){
    sha256Hex(m->row->zUp, m->row->nUp, zSum);
    return SQLITE_OK;
  }
  zPath = sqlite3_mprintf("%s/%s", m->folder, m->up.label);
  if( zPath==0 ) return SQLITE_NOMEM;
  rc = fileReadWhole(zPath, m->up.label, &z, &n, &st, pzErr);
  sqlite3_free(zPath);
  if( rc ) return rc;
  sha256Hex(z, n, zSum);
  sqlite3_free(z);
  /* The listing's stat may vouch for this hash only if the file read is
  ** the one listed, unchanged since (stamp.c). */
  stampFromStat(&st, &now);
  *pRecord = now.ino!=0 && memcmp(&now, &m->stamp, sizeof(now))==0
             && stampSettled(&m->stamp, pSrc->listedAt);
  return SQLITE_OK;
}

void loadedFree(Loaded *p){
  sqlite3_free(p->upText);
  sqlite3_free(p->downText);
  sqlite3_free(p->verifyText);
  memset(p, 0, sizeof(*p));
}

void loadedUp(const Loaded *p, Script *pScr){
  formatScript(p->upText, &p->up.up, pScr);
}

/* The down script: a separate file's, or the down section of the one file. */
int loadedDown(const Loaded *p, Script *pScr){
  if( p->downText ){
    formatScript(p->downText, &p->down.down, pScr);
    return 1;
  }
  if( !p->up.down.present ) return 0;
  formatScript(p->upText, &p->up.down, pScr);
  return 1;
}

char *loadedStoredUp(const Loaded *p){
  return formatStored(p->upText, &p->up.up, 0);
}

char *loadedStoredDown(const Loaded *p){
  if( p->downText ) return formatStored(p->downText, &p->down.down, 1);
  if( !p->up.down.present ) return 0;
  return formatStored(p->upText, &p->up.down, 1);
}
