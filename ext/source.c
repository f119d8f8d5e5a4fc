/*
** source.c — a directory of migration files -> migrations in version order,
** and reading one migration's files into memory (once) when it is needed.
**
** Names recognised (anything else in the directory is ignored):
**
**   NNN_name.sql                 one file: markers, or a plain up-only script
**   NNN_name.up.sql / .down.sql  a pair (golang-migrate, sqlx)
**   NNN_name/up.sql, down.sql    a folder (diesel); NNN may hold '-' and '_'
**                                separators: 2018-01-01-000000_x -> 20180101000000
**   V<N>__name.sql / U<N>__name.sql   Flyway versioned / undo
**
** Up and down files are paired by version, so their names may differ.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* One directory entry that is a migration file or folder.  Its strings are
** in the Source's pool, where the migration made from it points too. */
typedef struct Entry {
  i64 version;
  int kind;
  const char *name;   /* migration name */
  const char *file;   /* entry name in the directory */
} Entry;

typedef struct EntryList {
  Entry *a;
  int n, nAlloc;
  StrPool *pPool;     /* the Source's */
} EntryList;

static void entriesFree(EntryList *p){
  sqlite3_free(p->a);
  memset(p, 0, sizeof(*p));
}

/* Digits (for folders also the '-' of a diesel timestamp) before the '_'
** that starts the name.  Returns the length of the prefix, 0 if none. */
static int parseVersion(const char *z, int allowDash, i64 *pVersion, int *pOverflow){
  uint64_t v = 0;
  int i, nDigit = 0;
  *pOverflow = 0;
  for(i=0; ; i++){
    char c = z[i];
    if( c>='0' && c<='9' ){
      if( v > (uint64_t)(INT64_MAX - (c-'0'))/10 ) *pOverflow = 1;
      else v = v*10 + (uint64_t)(c-'0');
      nDigit++;
    }else if( !(allowDash && c=='-' && nDigit>0) ){
      break;
    }
  }
  if( nDigit==0 ) return 0;
  *pVersion = (i64)v;
  return i;
}

/*
** A diesel folder's timestamp -> its version.  diesel writes
** 2018-01-01-000000, but folders made by hand or by other tools also hold
** 2018-1-5-93000, 2018.01.05-09.30.00 or 20180105093000.  Each field is
** padded to its width (year 4, month 2, day 2, time 6 or h/m/s 2 each), so
** every spelling of one moment gives one number and the intended order is
** kept: 2018-1-5 sorts after 2018-01-01 instead of before it.  A field out
** of range (month 13, hour 24) is kept as written; only its order matters.
** Returns the length of the prefix before the '_', 0 if it is not one.
*/
static int dieselVersion(const char *z, i64 *pVersion, int *pOverflow){
  char aDigit[600];   /* a name is at most 255 bytes; past this: overflow */
  int nOut = 0, i = 0, nGroup = 0, nTime = 0;
  static const int aWidth[] = {4, 2, 2};
  *pOverflow = 0;
  while( 1 ){
    int start = i, n, w;
    while( z[i]>='0' && z[i]<='9' ) i++;
    n = i - start;
    if( n==0 ) return 0;
    if( nGroup<3 ){
      w = aWidth[nGroup];
    }else if( nGroup==3 && z[i]=='_' ){
      w = 6;                 /* HHMMSS in one field */
    }else{
      w = 2;                 /* HH, MM, SS as fields of their own */
    }
    if( nOut + (n>w ? n : w) + 16 >= (int)sizeof(aDigit) ){
      *pOverflow = 1;        /* too long for any version: keep scanning */
    }else{
      int nAdd = n>w ? n : w;
      for(; n<w; w--) aDigit[nOut++] = '0';
      memcpy(aDigit+nOut, z+start, (size_t)n);
      nOut += n;
      if( nGroup>=3 ) nTime += nAdd;
    }
    nGroup++;
    if( z[i]=='_' ) break;
    if( z[i]!='-' && z[i]!='.' && z[i]!=':' ) return 0;
    i++;
  }
  if( *pOverflow ) return i;
  if( nGroup>1 ){
    /* A missing day is the 1st; the time is right-filled to HHMMSS. */
    for(; nGroup<3; nGroup++){ aDigit[nOut++] = '0'; aDigit[nOut++] = '1'; }
    for(; nTime<6; nTime++) aDigit[nOut++] = '0';
  }
  {
    uint64_t v = 0;
    int k;
    for(k=0; k<nOut; k++){
      int c = aDigit[k]-'0';
      if( v > (uint64_t)(INT64_MAX - c)/10 ){ *pOverflow = 1; break; }
      v = v*10 + (uint64_t)c;
    }
    *pVersion = (i64)v;
  }
  return i;
}

static int endsWith(const char *z, size_t n, const char *zEnd){
  size_t m = strlen(zEnd);
  return n>m && memcmp(z+n-m, zEnd, m)==0;
}

static int addEntry(EntryList *p, i64 v, int kind, const char *zName, int nName,
                    const char *zFile){
  Entry *e;
  if( arrayReserve((void**)&p->a, &p->nAlloc, p->n, sizeof(Entry)) ) return SQLITE_NOMEM;
  e = &p->a[p->n];
  e->version = v;
  e->kind = kind;
  e->name = poolAdd(p->pPool, zName, (size_t)nName, "");
  e->file = poolAdd(p->pPool, zFile, strlen(zFile), "");
  if( e->name==0 || e->file==0 ) return SQLITE_NOMEM;
  p->n++;
  return SQLITE_OK;
}

/*
** Classify one directory entry.  Sets *pKind to 0 for names that are not
** migrations.  A name that looks like a migration but cannot be one is an
** error rather than silently skipped: skipping would drop a migration.
*/
int sourceClassify(const char *zFile, int isDir, int *pKind, i64 *pV,
                   const char **pzName, int *pnName, char **pzErr){
  size_t n = strlen(zFile);
  int nPre, overflow = 0;
  *pKind = 0;
  if( !isDir && (zFile[0]=='V' || zFile[0]=='U' || zFile[0]=='R')
   && endsWith(zFile, n, ".sql") ){
    const char *zSep = strstr(zFile, "__");
    if( zSep==0 ) return SQLITE_OK;
    if( zFile[0]=='R' ){
      if( zSep!=zFile+1 ) return SQLITE_OK;
      *pzErr = sqlite3_mprintf("%s: Flyway repeatable migrations (R__) are "
                               "not supported", zFile);
      return SQLITE_ERROR;
    }
    nPre = parseVersion(zFile+1, 0, pV, &overflow);
    if( nPre==0 ) return SQLITE_OK;
    if( zFile+1+nPre!=zSep ){
      *pzErr = sqlite3_mprintf("%s: version '%.*s' is not a whole number",
                               zFile, (int)(zSep-zFile-1), zFile+1);
      return SQLITE_ERROR;
    }
    *pKind = zFile[0]=='V' ? ENT_UP_WHOLE : ENT_DOWN_WHOLE;
    *pzName = zSep+2;
    *pnName = (int)(n - 4 - (size_t)(zSep+2-zFile));
  }else{
    nPre = isDir ? dieselVersion(zFile, pV, &overflow)
                 : parseVersion(zFile, 0, pV, &overflow);
    if( nPre==0 || zFile[nPre]!='_' ) return SQLITE_OK;
    *pzName = zFile+nPre+1;
    if( isDir ){
      *pKind = ENT_FOLDER;
      *pnName = (int)(n - (size_t)nPre - 1);
    }else if( endsWith(zFile, n, ".up.sql") ){
      *pKind = ENT_UP_WHOLE;
      *pnName = (int)(n - (size_t)nPre - 1 - 7);
    }else if( endsWith(zFile, n, ".down.sql") ){
      *pKind = ENT_DOWN_WHOLE;
      *pnName = (int)(n - (size_t)nPre - 1 - 9);
    }else if( endsWith(zFile, n, ".sql") ){
      *pKind = ENT_UP_MARKED;
      *pnName = (int)(n - (size_t)nPre - 1 - 4);
    }else{
      return SQLITE_OK;
    }
  }
  if( overflow ){
    *pKind = 0;
    *pzErr = sqlite3_mprintf("%s: version is larger than 9223372036854775807",
                             zFile);
    return SQLITE_ERROR;
  }
  return SQLITE_OK;
}

/*
** A migration's file name becomes its name in migrate_history, in every
** message and in the log: refuse one that is not UTF-8 text or holds a
** control character (a newline would split a message in two).  The name is
** shown with such bytes as \xHH, so the message itself stays clean text.
*/
static int checkName(const char *zFile, char **pzErr){
  size_t n = strlen(zFile), i;
  int ctrl = 0;
  sqlite3_str *pShow;
  for(i=0; i<n; i++){
    if( (unsigned char)zFile[i]<0x20 || zFile[i]==0x7F ) ctrl = 1;
  }
  if( !ctrl && utf8Invalid(zFile, n)==n ) return SQLITE_OK;
  pShow = sqlite3_str_new(0);
  for(i=0; i<n; ){
    size_t ok = utf8Invalid(zFile+i, n-i);
    size_t j;
    for(j=i; j<i+ok && (unsigned char)zFile[j]>=0x20 && zFile[j]!=0x7F; j++){}
    sqlite3_str_append(pShow, zFile+i, (int)(j-i));
    if( j<n ) sqlite3_str_appendf(pShow, "\\x%02X", (unsigned)(unsigned char)zFile[j]);
    i = j+1;
  }
  *pzErr = sqlite3_mprintf("%z: the file name %s; rename the file",
                           sqlite3_str_finish(pShow),
                           ctrl ? "holds a control character"
                                : "is not valid UTF-8");
  return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
}

static int cmpEntry(const void *a, const void *b){
  const Entry *x = (const Entry*)a, *y = (const Entry*)b;
  if( x->version!=y->version ) return x->version<y->version ? -1 : 1;
  return strcmp(x->file, y->file);
}

static int listDir(const char *zDir, EntryList *pList, char **pzErr){
  DIR *d = fileOps.xOpendir(zDir);
  struct dirent *de;
  int rc = SQLITE_OK;
  if( d==0 ){
    *pzErr = sqlite3_mprintf("cannot open directory '%s': %s", zDir, strerror(errno));
    return SQLITE_ERROR;
  }
  while( rc==SQLITE_OK && (errno = 0, de = fileOps.xReaddir(d))!=0 ){
    struct stat st;
    char *zPath;
    int kind, nName = 0, linkToDir = 0;
    i64 v = 0;
    const char *zName = 0;
    if( de->d_name[0]=='.' ) continue;
    zPath = sqlite3_mprintf("%s/%s", zDir, de->d_name);
    if( zPath==0 ){ rc = SQLITE_NOMEM; break; }
    if( fileOps.xLstat(zPath, &st)!=0 ){
      *pzErr = sqlite3_mprintf("cannot stat '%s': %s", zPath, strerror(errno));
      sqlite3_free(zPath);
      rc = SQLITE_ERROR;
      break;
    }
    if( S_ISLNK(st.st_mode) ){
      /* Classify a link by what it points at, so a linked folder is
      ** refused like a linked file instead of passing unseen.  A dangling
      ** link or a loop is still a link, refused below by its name. */
      struct stat stTarget;
      if( fileOps.xStat(zPath, &stTarget)==0 ){
        linkToDir = S_ISDIR(stTarget.st_mode);
      }else if( errno!=ENOENT && errno!=ELOOP ){
        *pzErr = sqlite3_mprintf("cannot stat '%s': %s", zPath, strerror(errno));
        sqlite3_free(zPath);
        rc = SQLITE_ERROR;
        break;
      }
    }
    sqlite3_free(zPath);
    rc = sourceClassify(de->d_name, S_ISDIR(st.st_mode) || linkToDir, &kind,
                        &v, &zName, &nName, pzErr);
    if( rc || kind==0 ) continue;
    rc = checkName(de->d_name, pzErr);
    if( rc ) break;
    if( S_ISLNK(st.st_mode) ){
      *pzErr = sqlite3_mprintf("%s: is a symbolic link; migrations are read "
                               "only from regular files", de->d_name);
      rc = SQLITE_ERROR;
    }else if( !S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode) ){
      *pzErr = sqlite3_mprintf("%s: is not a regular file", de->d_name);
      rc = SQLITE_ERROR;
    }else{
      rc = addEntry(pList, v, kind, zName, nName, de->d_name);
    }
  }
  if( rc==SQLITE_OK && errno!=0 ){
    *pzErr = sqlite3_mprintf("cannot read directory '%s': %s", zDir, strerror(errno));
    rc = SQLITE_ERROR;
  }
  fileOps.xClosedir(d);
  return rc;
}

/* What is at a path: 0 nothing, 1 a regular file, -1 a symbolic link,
** -2 something else, -3 it cannot be told (errno says why).  Only "no such
** file" is nothing: a down.sql that cannot be looked at is not absent. */
static int pathKind(const char *zPath){
  struct stat st;
  if( fileOps.xLstat(zPath, &st)!=0 ) return errno==ENOENT ? 0 : -3;
  if( S_ISLNK(st.st_mode) ) return -1;
  return S_ISREG(st.st_mode) ? 1 : -2;
}

static char *notRegular(const char *zFile, int kind){
  if( kind==-3 ) return sqlite3_mprintf("%s: cannot stat: %s", zFile, strerror(errno));
  return kind==-1
    ? sqlite3_mprintf("%s: is a symbolic link; migrations are read only from "
                      "regular files", zFile)
    : sqlite3_mprintf("%s: is not a regular file", zFile);
}

/* What is at dir/file, as pathKind says; -4 when out of memory. */
static int fileKind(const char *zDir, const char *zFile){
  char *zPath = sqlite3_mprintf("%s/%s", zDir, zFile);
  int k;
  if( zPath==0 ) return -4;
  k = pathKind(zPath);
  sqlite3_free(zPath);
  return k;
}

/* A diesel folder: up.sql is required, down.sql optional. */
static int folderFiles(StrPool *pPool, const char *zDir, const Entry *e,
                       Migration *m, char **pzErr){
  const char *zDown;
  int k;
  m->file = poolAdd(pPool, e->file, strlen(e->file), "/up.sql");
  zDown = poolAdd(pPool, e->file, strlen(e->file), "/down.sql");
  if( m->file==0 || zDown==0 ) return SQLITE_NOMEM;
  k = fileKind(zDir, m->file);
  if( k==-4 ) return SQLITE_NOMEM;
  if( k<=0 ){
    *pzErr = k==0 ? sqlite3_mprintf("%s: folder has no up.sql", e->file)
                  : notRegular(m->file, k);
    return SQLITE_ERROR;
  }
  k = fileKind(zDir, zDown);
  if( k==-4 ) return SQLITE_NOMEM;
  if( k<0 ){
    *pzErr = notRegular(zDown, k);
    return SQLITE_ERROR;
  }
  m->downFile = k==0 ? 0 : zDown;
  return SQLITE_OK;
}

/* Entries sharing one version -> one migration, or an error naming both. */
static int buildMigration(Source *pSrc, Entry *a, int n, Migration *m, char **pzErr){
  Entry *pUp = 0, *pDown = 0;
  int i;
  for(i=0; i<n; i++){
    Entry **pp = a[i].kind==ENT_DOWN_WHOLE ? &pDown : &pUp;
    if( *pp ){
      *pzErr = sqlite3_mprintf("two migrations have version %lld: %s and %s",
                               a[i].version, (*pp)->file, a[i].file);
      return SQLITE_ERROR;
    }
    *pp = &a[i];
  }
  if( pUp==0 ){
    *pzErr = sqlite3_mprintf("%s: down file without an up file", pDown->file);
    return SQLITE_ERROR;
  }
  if( pDown && pUp->kind!=ENT_UP_WHOLE ){
    *pzErr = sqlite3_mprintf("two migrations have version %lld: %s and %s",
                             pUp->version, pUp->file, pDown->file);
    return SQLITE_ERROR;
  }
  m->version = pUp->version;
  m->name = pUp->name;
  m->dir = pSrc->dir;
  if( pUp->kind==ENT_FOLDER ){
    m->how = FMT_WHOLE_UP;
    return folderFiles(&pSrc->pool, pSrc->dir, pUp, m, pzErr);
  }
  m->how = pUp->kind==ENT_UP_MARKED ? FMT_MARKED : FMT_WHOLE_UP;
  m->file = pUp->file;
  m->downFile = pDown ? pDown->file : 0;
  return SQLITE_OK;
}

int sourceScan(const char *zDir, Source *pSrc, char **pzErr){
  EntryList list;
  int rc, i, j;
  size_t nDir = strlen(zDir);
  memset(pSrc, 0, sizeof(*pSrc));
  memset(&list, 0, sizeof(list));
  /* "dir/" and "dir" name the same folder; keep error paths tidy. */
  while( nDir>1 && zDir[nDir-1]=='/' ) nDir--;
  pSrc->dir = sqlite3_mprintf("%.*s", (int)nDir, zDir);
  if( pSrc->dir==0 ) return SQLITE_NOMEM;
  list.pPool = &pSrc->pool;
  rc = listDir(pSrc->dir, &list, pzErr);
  if( rc==SQLITE_OK && list.n>0 ){
    qsort(list.a, (size_t)list.n, sizeof(Entry), cmpEntry);
    pSrc->a = sqlite3_malloc64((sqlite3_uint64)list.n*sizeof(Migration));
    if( pSrc->a==0 ) rc = SQLITE_NOMEM;
  }
  for(i=0; rc==SQLITE_OK && i<list.n; i=j){
    Migration *m = &pSrc->a[pSrc->n];
    for(j=i+1; j<list.n && list.a[j].version==list.a[i].version; j++){}
    memset(m, 0, sizeof(*m));
    pSrc->n++;
    rc = buildMigration(pSrc, &list.a[i], j-i, m, pzErr);
  }
  entriesFree(&list);
  if( rc ) sourceFree(pSrc);
  return rc;
}

int sourceOpen(sqlite3 *db, const char *zArg, Source *pSrc, char **pzErr){
  if( sourceIsQuery(zArg) ) return sourceQuery(db, zArg, pSrc, pzErr);
  return sourceScan(zArg, pSrc, pzErr);
}

void sourceFree(Source *pSrc){
  poolFree(&pSrc->pool);
  sqlite3_free(pSrc->a);
  sqlite3_free(pSrc->dir);
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

/*
** Read one file whole through a descriptor that does not follow a symbolic
** link, so what is hashed is exactly what is run, and refuse anything that
** is not a regular file of a sane size.
*/
static int readWhole(const char *zPath, const char *zShow, char **pz, size_t *pn,
                     char **pzErr){
  struct stat st;
  char *z;
  size_t got = 0;
  int fd = fileOps.xOpen(zPath, O_RDONLY|O_NOFOLLOW|O_CLOEXEC|O_NONBLOCK, 0);
  if( fd<0 ){
    *pzErr = sqlite3_mprintf("%s: cannot open for reading: %s", zShow, strerror(errno));
    return SQLITE_ERROR;
  }
  if( fileOps.xFstat(fd, &st)!=0 ){
    int e = errno;
    fileOps.xClose(fd);
    *pzErr = sqlite3_mprintf("%s: cannot stat: %s", zShow, strerror(e));
    return SQLITE_ERROR;
  }
  if( !S_ISREG(st.st_mode) ){
    fileOps.xClose(fd);
    *pzErr = sqlite3_mprintf("%s: is not a regular file", zShow);
    return SQLITE_ERROR;
  }
  if( st.st_size>MIGRATE_MAX_FILE ){
    fileOps.xClose(fd);
    *pzErr = sqlite3_mprintf("%s: file is larger than the %d MiB limit",
                             zShow, MIGRATE_MAX_FILE/(1024*1024));
    return SQLITE_ERROR;
  }
  z = sqlite3_malloc64((sqlite3_uint64)st.st_size + 1);
  if( z==0 ){ fileOps.xClose(fd); return SQLITE_NOMEM; }
  while( got<(size_t)st.st_size ){
    ssize_t r = fileOps.xRead(fd, z+got, (size_t)st.st_size-got);
    if( r<0 && errno==EINTR ) continue;
    if( r<=0 ){
      int e = errno;
      fileOps.xClose(fd);
      sqlite3_free(z);
      *pzErr = sqlite3_mprintf("%s: read failed: %s", zShow,
                               r<0 ? strerror(e) : "file shrank while reading");
      return SQLITE_ERROR;
    }
    got += (size_t)r;
  }
  fileOps.xClose(fd);
  z[got] = 0;
  *pz = z;
  *pn = got;
  return SQLITE_OK;
}

static int splitOrExplain(const char *zShow, const char *z, size_t n, int how,
                          Sections *pSec, char **pzErr){
  int line = 0;
  char *zMsg = 0;
  int rc = formatSplit(z, n, how, pSec, &line, &zMsg);
  if( rc==SQLITE_OK ) return SQLITE_OK;
  if( zMsg==0 ) return SQLITE_NOMEM;
  *pzErr = line>0 ? sqlite3_mprintf("%s:%d: %s", zShow, line, zMsg)
                  : sqlite3_mprintf("%s: %s", zShow, zMsg);
  sqlite3_free(zMsg);
  return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
}

/* dir/file, read whole. */
static int readFile(const Migration *m, const char *zFile, char **pz, size_t *pn,
                    char **pzErr){
  char *zPath = sqlite3_mprintf("%s/%s", m->dir, zFile);
  int rc;
  if( zPath==0 ) return SQLITE_NOMEM;
  rc = readWhole(zPath, zFile, pz, pn, pzErr);
  sqlite3_free(zPath);
  return rc;
}

int migrationLoad(const Migration *m, Loaded *p, char **pzErr){
  int rc;
  memset(p, 0, sizeof(*p));
  if( m->rowUp ){
    /* Copied, so a Loaded owns its buffers either way. */
    p->upText = textDup(m->rowUp, m->nRowUp);
    p->nUp = m->nRowUp;
    if( p->upText && m->rowDown ){
      p->downText = textDup(m->rowDown, m->nRowDown);
      p->nDown = m->nRowDown;
    }
    rc = p->upText==0 || (m->rowDown && p->downText==0) ? SQLITE_NOMEM : SQLITE_OK;
  }else{
    rc = readFile(m, m->file, &p->upText, &p->nUp, pzErr);
  }
  if( rc==SQLITE_OK ) rc = splitOrExplain(m->file, p->upText, p->nUp, m->how, &p->up, pzErr);
  if( rc==SQLITE_OK && m->downFile ){
    if( m->rowDown==0 ){
      rc = readFile(m, m->downFile, &p->downText, &p->nDown, pzErr);
    }
    if( rc==SQLITE_OK ){
      rc = splitOrExplain(m->downFile, p->downText, p->nDown, FMT_WHOLE_DOWN,
                          &p->down, pzErr);
    }
  }
  if( rc==SQLITE_OK ) sha256Hex(p->upText, p->nUp, p->checksum);
  if( rc ) loadedFree(p);
  return rc;
}

void loadedFree(Loaded *p){
  sqlite3_free(p->upText);
  sqlite3_free(p->downText);
  memset(p, 0, sizeof(*p));
}

static void toScript(const char *z, const Section *pSec, Script *pScr){
  pScr->z = z + pSec->off;
  pScr->n = pSec->len;
  pScr->line = pSec->line;
  pScr->noTxn = pSec->noTxn;
}

int loadedUp(const Loaded *p, Script *pScr){
  toScript(p->upText, &p->up.up, pScr);
  return 1;
}

/* The down script: a separate file's, or the down section of the one file. */
int loadedDown(const Loaded *p, Script *pScr){
  if( p->downText ){
    toScript(p->downText, &p->down.down, pScr);
    return 1;
  }
  if( !p->up.down.present ) return 0;
  toScript(p->upText, &p->up.down, pScr);
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
