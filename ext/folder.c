/*
** folder.c — a directory of migration files -> a Source, in version order.
**
** Names recognised (anything else in the directory is ignored):
**
**   NNN_name.sql                 one file: markers, or a plain up-only script
**   NNN_name.up.sql / .down.sql  a pair (golang-migrate, sqlx)
**   NNN_name/up.sql, down.sql    a folder (diesel); NNN may hold '-' and '_'
**                                separators: 2018-01-01-000000_x -> 20180101000000
**   NNN_name/migration.sql       a folder (Prisma Migrate): the up script; a
**                                down.sql beside it is its down script
**   V<N>__name.sql / U<N>__name.sql   Flyway versioned / undo
**   R__name.sql                  Flyway repeatable: no version, run again
**                                whenever it changes (repeatrun.c)
**
** Up and down files are paired by version, so their names may differ.  A
** folder with a Drizzle journal (meta/_journal.json) is read in its order
** instead (journal.c).  Other .sql files are kept as ignored, to be shown.
** Only names are read here: each migration gets the paths of its files in
** the folder, read when it is needed (source.c).
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/*
** The listing is made in the array the migrations end in (one slot per up
** file or folder, made into its migration in place once sorted), so ten
** thousand migrations cost one array, not a listing and then a copy.  While
** listed, a slot holds its version, its name, its kind (ENT_*) in `how`, its
** file's name as up.label (one string in the pool: a path in the folder,
** which is kept once, as Migration.folder) and its lstat in `stamp`.
** A down file, which needs neither a name nor a stat, is a Down: a tenth of
** a slot.
*/
typedef struct Down {
  i64 version;
  const char *file;   /* its name in the folder, in the pool */
} Down;

typedef struct EntryList {
  Migration *a;       /* up files, folders and repeatables: listed slots */
  int n, nAlloc;
  Down *aDown;        /* down files */
  int nDown, nDownAlloc;
  int nRep;           /* slots that are repeatables */
  Ignored *aIgn;      /* .sql files that are not migrations */
  int nIgn, nIgnAlloc;
  StrPool *pPool;     /* the Source's */
} EntryList;

static void entriesFree(EntryList *p){
  sqlite3_free(p->a);
  sqlite3_free(p->aDown);
  sqlite3_free(p->aIgn);
  memset(p, 0, sizeof(*p));
}

#define WHY_NO_FORMAT "its name matches no migration format"
#define WHY_NOT_IN_JOURNAL "meta/_journal.json does not list it"
#define JOURNAL "meta/_journal.json"

static char *shownName(const char *zFile, int *pBad);

/* Its name is kept as it is shown: clean text, whatever the file's bytes. */
static int addIgnored(EntryList *p, const char *zFile, const char *zWhy){
  Ignored *g;
  int bad;
  char *zShow;
  if( utilArrayReserve((void**)&p->aIgn, &p->nIgnAlloc, p->nIgn, sizeof(Ignored)) ){
    return SQLITE_NOMEM;
  }
  zShow = shownName(zFile, &bad);
  if( zShow==0 ) return SQLITE_NOMEM;
  g = &p->aIgn[p->nIgn];
  g->file = utilPoolAdd(p->pPool, zShow, strlen(zShow), "");
  g->why = zWhy;
  sqlite3_free(zShow);
  if( g->file==0 ) return SQLITE_NOMEM;
  p->nIgn++;
  return SQLITE_OK;
}

/* A name a person means as SQL: "x.sql", also "X.SQL". */
static int looksLikeSql(const char *zFile){
  size_t n = strlen(zFile);
  return n>4 && sqlite3_stricmp(zFile+n-4, ".sql")==0;
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

static int addDown(EntryList *p, i64 v, const char *zFile){
  Down *d;
  char *zPath;
  if( utilArrayReserve((void**)&p->aDown, &p->nDownAlloc, p->nDown, sizeof(Down)) ){
    return SQLITE_NOMEM;
  }
  zPath = utilPoolAdd(p->pPool, zFile, strlen(zFile), "");
  if( zPath==0 ) return SQLITE_NOMEM;
  d = &p->aDown[p->nDown++];
  d->version = v;
  d->file = zPath;
  return SQLITE_OK;
}

static int addEntry(EntryList *p, i64 v, int kind, const char *zName, int nName,
                    const char *zFile, const struct stat *st){
  Migration *e;
  char *zPath;
  if( kind==ENT_DOWN_WHOLE ) return addDown(p, v, zFile);
  if( utilArrayReserve((void**)&p->a, &p->nAlloc, p->n, sizeof(Migration)) ){
    return SQLITE_NOMEM;
  }
  e = &p->a[p->n];
  memset(e, 0, sizeof(*e));
  e->version = v;
  e->how = kind;
  p->nRep += kind==ENT_REPEATABLE;
  stampFromStat(st, &e->stamp);
  e->name = utilPoolAdd(p->pPool, zName, (size_t)nName, "");
  zPath = utilPoolAdd(p->pPool, zFile, strlen(zFile), "");
  if( e->name==0 || zPath==0 ) return SQLITE_NOMEM;
  e->up.label = zPath;
  p->n++;
  return SQLITE_OK;
}

/* R__name.sql: a repeatable migration, known by its name alone, so the
** name may not be empty (doc/formats.md "Repeatable migrations"). */
static int classifyRepeatable(const char *zFile, size_t n, int *pKind, i64 *pV,
                              const char **pzName, int *pnName, char **pzErr){
  if( n==7 ){
    *pzErr = sqlite3_mprintf("%s: a repeatable migration needs a name: "
                             "R__<name>.sql", zFile);
    return SQLITE_ERROR;
  }
  *pKind = ENT_REPEATABLE;
  *pV = 0;
  *pzName = zFile+3;
  *pnName = (int)(n-7);
  return SQLITE_OK;
}

/*
** Classify one directory entry.  Sets *pKind to 0 for names that are not
** migrations.  A name that looks like a migration but cannot be one is an
** error rather than silently skipped: skipping would drop a migration.
*/
int folderClassify(const char *zFile, int isDir, int *pKind, i64 *pV,
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
      return classifyRepeatable(zFile, n, pKind, pV, pzName, pnName, pzErr);
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

/* A file name as clean text: bytes that are not UTF-8 or are control
** characters shown as \xHH.  *pBad: 0 clean, 1 not UTF-8, 2 a control. */
static char *shownName(const char *zFile, int *pBad){
  size_t n = strlen(zFile), i;
  sqlite3_str *pShow;
  *pBad = 0;
  for(i=0; i<n; i++){
    if( (unsigned char)zFile[i]<0x20 || zFile[i]==0x7F ) *pBad = 2;
  }
  if( *pBad==0 && utilUtf8Invalid(zFile, n)<n ) *pBad = 1;
  pShow = sqlite3_str_new(0);
  for(i=0; i<n; ){
    size_t ok = utilUtf8Invalid(zFile+i, n-i);
    size_t j;
    for(j=i; j<i+ok && (unsigned char)zFile[j]>=0x20 && zFile[j]!=0x7F; j++){}
    sqlite3_str_append(pShow, zFile+i, (int)(j-i));
    if( j<n ) sqlite3_str_appendf(pShow, "\\x%02X", (unsigned)(unsigned char)zFile[j]);
    i = j+1;
  }
  return sqlite3_str_finish(pShow);
}

/*
** A migration's file name becomes its name in migrate_history, in every
** message and in the log: refuse one that is not UTF-8 text or holds a
** control character (a newline would split a message in two).  The name is
** shown with such bytes as \xHH, so the message itself stays clean text.
*/
static int refuseBadName(const char *zFile, char **pzErr){
  int bad;
  char *zShow;
  size_t i, n = strlen(zFile);
  for(i=0; i<n && (unsigned char)zFile[i]>=0x20 && zFile[i]!=0x7F; i++){}
  if( i==n && utilUtf8Invalid(zFile, n)==n ) return SQLITE_OK;  /* the usual */
  zShow = shownName(zFile, &bad);
  if( zShow==0 ) return SQLITE_NOMEM;
  if( bad==0 ){
    sqlite3_free(zShow);
    return SQLITE_OK;
  }
  *pzErr = sqlite3_mprintf("%z: the file name %s; rename the file", zShow,
                           bad==2 ? "holds a control character"
                                  : "is not valid UTF-8");
  return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
}

static int cmpEntry(const void *a, const void *b){
  const Migration *x = (const Migration*)a, *y = (const Migration*)b;
  if( x->version!=y->version ) return x->version<y->version ? -1 : 1;
  return strcmp(x->up.label, y->up.label);
}

static int cmpDown(const void *a, const void *b){
  const Down *x = (const Down*)a, *y = (const Down*)b;
  if( x->version!=y->version ) return x->version<y->version ? -1 : 1;
  return strcmp(x->file, y->file);
}

/* The lstat of zName in the folder d (zDir); the error names its path. */
static int lstatEntry(DIR *d, const char *zDir, const char *zName,
                      struct stat *pSt, char **pzErr){
  char *zPath;
  int e;
  if( migrateFileOps.xLstatAt(d, zDir, zName, pSt)==0 ) return SQLITE_OK;
  e = errno;
  zPath = sqlite3_mprintf("%s/%s", zDir, zName);
  *pzErr = zPath ? sqlite3_mprintf("cannot stat '%s': %s", zPath, strerror(e)) : 0;
  sqlite3_free(zPath);
  return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
}

/* A migration is read from a regular file (or a folder, where dirOk). */
static int refuseNotRegular(const char *zName, const struct stat *pSt, int dirOk,
                            char **pzErr){
  if( S_ISLNK(pSt->st_mode) ){
    *pzErr = sqlite3_mprintf("%s: is a symbolic link; migrations are read "
                             "only from regular files", zName);
  }else if( !S_ISREG(pSt->st_mode) && !(dirOk && S_ISDIR(pSt->st_mode)) ){
    *pzErr = sqlite3_mprintf("%s: is not a regular file", zName);
  }else{
    return SQLITE_OK;
  }
  return *pzErr ? SQLITE_ERROR : SQLITE_NOMEM;
}

static int listDir(const char *zDir, EntryList *pList, char **pzErr){
  DIR *d = migrateFileOps.xOpendir(zDir);
  struct dirent *de;
  int rc = SQLITE_OK;
  if( d==0 ){
    *pzErr = sqlite3_mprintf("cannot open directory '%s': %s", zDir, strerror(errno));
    return SQLITE_ERROR;
  }
  while( rc==SQLITE_OK && (errno = 0, de = migrateFileOps.xReaddir(d))!=0 ){
    struct stat st;
    char *zPath = 0;
    int kind, nName = 0, linkToDir = 0;
    i64 v = 0;
    const char *zName = 0;
    if( de->d_name[0]=='.' ) continue;
#if !defined(_WIN32) && defined(DT_REG)
    if( de->d_type==DT_REG ){
      /* A regular file by the listing itself: a down file, or a file that
      ** is no migration, needs no stat; an up file, or a repeatable one, is
      ** stat-ed below, for the stat that may vouch for it (stamp.c). */
      memset(&st, 0, sizeof(st));
      st.st_mode = S_IFREG;
    }else
#endif
    if( (rc = lstatEntry(d, zDir, de->d_name, &st, pzErr))!=SQLITE_OK ) break;
    if( S_ISLNK(st.st_mode) ){
      /* Classify a link by what it points at, so a linked folder is
      ** refused like a linked file instead of passing unseen.  A dangling
      ** link or a loop is still a link, refused below by its name. */
      struct stat stTarget;
      zPath = sqlite3_mprintf("%s/%s", zDir, de->d_name);
      if( zPath==0 ){ rc = SQLITE_NOMEM; break; }
      if( migrateFileOps.xStat(zPath, &stTarget)==0 ){
        linkToDir = S_ISDIR(stTarget.st_mode);
      }else if( errno!=ENOENT && errno!=ELOOP ){
        *pzErr = sqlite3_mprintf("cannot stat '%s': %s", zPath, strerror(errno));
        sqlite3_free(zPath);
        rc = SQLITE_ERROR;
        break;
      }
      sqlite3_free(zPath);
    }
    rc = folderClassify(de->d_name, S_ISDIR(st.st_mode) || linkToDir, &kind,
                        &v, &zName, &nName, pzErr);
    if( rc==SQLITE_OK && kind==0 && !S_ISDIR(st.st_mode) && !linkToDir
     && looksLikeSql(de->d_name) ){
      /* Skipped, but never in silence (doc/formats.md "Files that are
      ** ignored"). */
      rc = addIgnored(pList, de->d_name, WHY_NO_FORMAT);
    }
    if( rc || kind==0 ) continue;
    rc = refuseBadName(de->d_name, pzErr);
    if( rc ) break;
    rc = refuseNotRegular(de->d_name, &st, 1, pzErr);
    if( rc==SQLITE_OK && st.st_ino==0
     && (kind==ENT_UP_MARKED || kind==ENT_UP_WHOLE || kind==ENT_REPEATABLE) ){
      /* Classified by the listing alone: its stat now, and what it says
      ** wins (it may have been replaced since it was listed). */
      rc = lstatEntry(d, zDir, de->d_name, &st, pzErr);
      if( rc==SQLITE_OK ) rc = refuseNotRegular(de->d_name, &st, 0, pzErr);
    }
    if( rc ) break;
    rc = addEntry(pList, v, kind, zName, nName, de->d_name, &st);
  }
  if( rc==SQLITE_OK && errno!=0 ){
    *pzErr = sqlite3_mprintf("cannot read directory '%s': %s", zDir, strerror(errno));
    rc = SQLITE_ERROR;
  }
  migrateFileOps.xClosedir(d);
  return rc;
}

/* What is at a path: 0 nothing, 1 a regular file, -1 a symbolic link,
** -2 something else, -3 it cannot be told (errno says why).  Only "no such
** file" is nothing: a down.sql that cannot be looked at is not absent. */
static int pathKindStamp(const char *zPath, FileStamp *pStamp){
  struct stat st;
  if( migrateFileOps.xLstat(zPath, &st)!=0 ) return errno==ENOENT ? 0 : -3;
  if( pStamp ) stampFromStat(&st, pStamp);
  if( S_ISLNK(st.st_mode) ) return -1;
  return S_ISREG(st.st_mode) ? 1 : -2;
}

static int pathKind(const char *zPath){
  return pathKindStamp(zPath, 0);
}

/* pathKindStamp of a file of the folder zDir (errno kept for -3). */
static int fileKindStamp(const char *zDir, const char *zFile, FileStamp *pStamp){
  char aPath[512];
  size_t nDir = strlen(zDir), nFile = strlen(zFile);
  char *zPath = nDir+nFile+2<=sizeof(aPath) ? aPath
                : sqlite3_malloc64((sqlite3_uint64)(nDir+nFile+2));
  int k, e;
  if( zPath==0 ){ errno = ENOMEM; return -3; }
  memcpy(zPath, zDir, nDir);
  zPath[nDir] = '/';
  memcpy(zPath+nDir+1, zFile, nFile+1);
  k = pathKindStamp(zPath, pStamp);
  e = errno;
  if( zPath!=aPath ) sqlite3_free(zPath);
  errno = e;
  return k;
}

static char *notRegular(const char *zFile, int kind){
  if( kind==-3 ) return sqlite3_mprintf("%s: cannot stat: %s", zFile, strerror(errno));
  return kind==-1
    ? sqlite3_mprintf("%s: is a symbolic link; migrations are read only from "
                      "regular files", zFile)
    : sqlite3_mprintf("%s: is not a regular file", zFile);
}

/* A file of the folder: its path in the folder, which is also its label,
** in the pool (the folder itself is kept once, as Migration.folder). */
static int textAt(StrPool *pPool, const char *zFile, const char *zTail,
                  MigrationText *t){
  t->label = utilPoolAdd(pPool, zFile, strlen(zFile), zTail);
  return t->label ? SQLITE_OK : SQLITE_NOMEM;
}

/* A listed file: its name is in the pool already. */
static void textOf(const char *zFile, MigrationText *t){
  t->label = zFile;
}

/* A diesel folder (up.sql) or a Prisma one (migration.sql): one of the two
** is required, and both would leave the up script in doubt; down.sql and
** verify.sql (doc/formats.md "Verify") are optional. */
static int folderFiles(StrPool *pPool, const char *zDir, const char *zFolder,
                       Migration *m, char **pzErr){
  MigrationText down, prisma, verify;
  FileStamp stPrisma;
  int k, kPrisma;
  memset(&down, 0, sizeof(down));
  memset(&prisma, 0, sizeof(prisma));
  memset(&verify, 0, sizeof(verify));
  if( textAt(pPool, zFolder, "/up.sql", &m->up)
   || textAt(pPool, zFolder, "/migration.sql", &prisma)
   || textAt(pPool, zFolder, "/down.sql", &down)
   || textAt(pPool, zFolder, "/verify.sql", &verify) ) return SQLITE_NOMEM;
  k = fileKindStamp(zDir, m->up.label, &m->stamp);
  if( k==-3 ){
    /* One that cannot be looked at is an error of its own, reported with
    ** its errno before anything else touches it; never "both" or "none". */
    *pzErr = notRegular(m->up.label, k);
    return SQLITE_ERROR;
  }
  kPrisma = fileKindStamp(zDir, prisma.label, &stPrisma);
  if( kPrisma==-3 ){
    *pzErr = notRegular(prisma.label, kPrisma);
    return SQLITE_ERROR;
  }
  if( k!=0 && kPrisma!=0 ){
    *pzErr = sqlite3_mprintf("%s: folder has both up.sql and migration.sql",
                             zFolder);
    return SQLITE_ERROR;
  }
  if( k==0 && kPrisma!=0 ){
    m->up = prisma;
    m->stamp = stPrisma;
    k = kPrisma;
  }
  if( k<=0 ){
    *pzErr = k==0 ? sqlite3_mprintf("%s: folder has no up.sql or migration.sql",
                                    zFolder)
                  : notRegular(m->up.label, k);
    return SQLITE_ERROR;
  }
  k = fileKindStamp(zDir, down.label, 0);
  if( k<0 ){
    *pzErr = notRegular(down.label, k);
    return SQLITE_ERROR;
  }
  if( k>0 ) m->down = down;
  k = fileKindStamp(zDir, verify.label, 0);
  if( k<0 ){
    *pzErr = notRegular(verify.label, k);
    return SQLITE_ERROR;
  }
  if( k>0 ) m->verify = verify.label;
  return SQLITE_OK;
}

/*
** The listed slots a[0..nUp) and down files aDown[0..nDown) of one version
** -> the migration *m, or an error naming two files.  The errors are those
** of a walk of all of them in byte order of file name: the first file whose
** kind (up or down) was met already is named with the one met before it.
** m may be a[0] itself: a[0] is copied before m is written.
*/
static int buildMigration(Source *pSrc, const Migration *a, int nUp,
                          const Down *aDown, int nDown, Migration *m,
                          char **pzErr){
  Migration up;
  const char *zFirst = 0, *zSecond = 0;
  if( nUp>1 ){ zFirst = a[0].up.label; zSecond = a[1].up.label; }
  if( nDown>1 && (zSecond==0 || strcmp(aDown[1].file, zSecond)<0) ){
    zFirst = aDown[0].file;
    zSecond = aDown[1].file;
  }
  if( zSecond ){
    *pzErr = sqlite3_mprintf("two migrations have version %lld: %s and %s",
                             nUp ? a[0].version : aDown[0].version, zFirst, zSecond);
    return SQLITE_ERROR;
  }
  if( nUp==0 ){
    *pzErr = sqlite3_mprintf("%s: down file without an up file", aDown[0].file);
    return SQLITE_ERROR;
  }
  if( nDown && a[0].how!=ENT_UP_WHOLE ){
    *pzErr = sqlite3_mprintf("two migrations have version %lld: %s and %s",
                             a[0].version, a[0].up.label, aDown[0].file);
    return SQLITE_ERROR;
  }
  up = a[0];
  memset(m, 0, sizeof(*m));
  m->folder = pSrc->origin;
  m->version = up.version;
  m->name = up.name;
  if( up.how==ENT_FOLDER ){
    m->how = FMT_WHOLE_UP;
    return folderFiles(&pSrc->pool, pSrc->origin, up.up.label, m, pzErr);
  }
  m->how = up.how==ENT_UP_MARKED ? FMT_MARKED : FMT_WHOLE_UP;
  m->stamp = up.stamp;
  m->up = up.up;
  if( nDown ) textOf(aDown[0].file, &m->down);
  return SQLITE_OK;
}

/* The migration named by entry k of the journal: version k (drizzle-kit
** writes k as the entry's "idx"), its name the tag after its number. */
static int journalMigration(Source *pSrc, const char *zFile, int k,
                            const char *zListed, const FileStamp *pStamp,
                            Migration *m){
  const char *zName = zFile;
  size_t nName;
  while( *zName>='0' && *zName<='9' ) zName++;
  zName = (zName>zFile && *zName=='_') ? zName+1 : zFile;
  nName = strlen(zName) - 4;
  memset(m, 0, sizeof(*m));
  m->version = k;
  m->folder = pSrc->origin;
  m->how = FMT_MARKED;
  m->name = utilPoolAdd(&pSrc->pool, zName, nName, "");
  if( m->name==0 ) return SQLITE_NOMEM;
  if( pStamp ) m->stamp = *pStamp;
  if( zListed ){
    textOf(zListed, &m->up);
    return SQLITE_OK;
  }
  return textAt(&pSrc->pool, zFile, "", &m->up);
}

/*
** A Drizzle folder: the journal's entries are the migrations, in its order,
** and nothing else is, as Drizzle itself reads it.  Every migration-like
** name it does not list is kept as ignored, so it is seen.
*/
static int journalOrder(Source *pSrc, EntryList *pList, const JournalEntry *aJ,
                        int nJ, char **pzErr){
  int k, i, rc = SQLITE_OK;
  int nList = pList->n + pList->nDown;   /* listed files: slots, then downs */
  int nAll = nList + pList->nIgn;
  int *aUsed = sqlite3_malloc64(sizeof(int)*(sqlite3_uint64)(nAll+1));
  pSrc->a = sqlite3_malloc64(sizeof(Migration)*(sqlite3_uint64)(nJ+1));
  if( aUsed==0 || pSrc->a==0 ){
    sqlite3_free(aUsed);
    return SQLITE_NOMEM;
  }
  for(i=0; i<nAll; i++) aUsed[i] = -1;
  for(k=0; rc==SQLITE_OK && k<nJ; k++){
    const char *zFile = aJ[k].file;
    int at = -1;
    for(i=0; at<0 && i<nAll; i++){
      const char *zHave = i<pList->n ? pList->a[i].up.label
                        : i<nList ? pList->aDown[i-pList->n].file
                        : pList->aIgn[i-nList].file;
      int isDir = i<pList->n && pList->a[i].how==ENT_FOLDER;
      if( !isDir && strcmp(zHave, zFile)==0 ) at = i;
    }
    if( at<0 ){
      *pzErr = sqlite3_mprintf(JOURNAL ": entry %d names %s, which is not a "
                               "file of '%s'", k, zFile, pSrc->origin);
      rc = SQLITE_ERROR;
    }else if( aUsed[at]>=0 ){
      *pzErr = sqlite3_mprintf(JOURNAL ": entries %d and %d both name %s",
                               aUsed[at], k, zFile);
      rc = SQLITE_ERROR;
    }else{
      aUsed[at] = k;
      rc = journalMigration(pSrc, zFile, k,
                            at<pList->n ? pList->a[at].up.label
                            : at<nList ? pList->aDown[at-pList->n].file : 0,
                            at<pList->n ? &pList->a[at].stamp : 0,
                            &pSrc->a[pSrc->n]);
      if( rc==SQLITE_OK ) pSrc->n++;
    }
  }
  /* What it does not list: migrations to other tools, ignored to Drizzle. */
  for(i=0; rc==SQLITE_OK && i<nList; i++){
    if( aUsed[i]<0 ){
      rc = addIgnored(pList, i<pList->n ? pList->a[i].up.label
                                        : pList->aDown[i-pList->n].file,
                      WHY_NOT_IN_JOURNAL);
    }
  }
  if( rc==SQLITE_OK ){
    int nKept = 0;
    for(i=0; i<pList->nIgn; i++){
      int used = i < nAll-nList && aUsed[nList+i]>=0;
      if( !used ) pList->aIgn[nKept++] = pList->aIgn[i];
    }
    pList->nIgn = nKept;
  }
  sqlite3_free(aUsed);
  return rc;
}

/* The folder's meta/_journal.json, when it has one: *pnJ -1 when not. */
static int journalLoad(Source *pSrc, JournalEntry **paJ, int *pnJ, char **pzErr){
  char *zPath = sqlite3_mprintf("%s/" JOURNAL, pSrc->origin), *z = 0;
  size_t n = 0;
  int rc = SQLITE_OK, kind;
  *paJ = 0;
  *pnJ = -1;
  if( zPath==0 ) return SQLITE_NOMEM;
  kind = pathKind(zPath);
  if( kind<0 ){
    *pzErr = notRegular(JOURNAL, kind);
    rc = SQLITE_ERROR;
  }else if( kind>0 ){
    rc = fileReadWhole(zPath, JOURNAL, &z, &n, 0, pzErr);
    if( rc==SQLITE_OK ) rc = journalRead(z, n, JOURNAL, &pSrc->pool, paJ, pnJ, pzErr);
  }
  sqlite3_free(z);
  sqlite3_free(zPath);
  return rc;
}

static int cmpIgnored(const void *a, const void *b){
  return strcmp(((const Ignored*)a)->file, ((const Ignored*)b)->file);
}

/*
** a[0..n) (elements of sz bytes, at most a Migration's) in the order of
** xCmp, sorted in place: an index of ints sorted by heapsort, then the
** elements moved along its cycles, each once.  qsort would take a second
** array outside SQLite's allocators, a tenth of the listing, just when the
** call's memory peaks.
*/
static void siftDown(const char *a, size_t sz, int (*xCmp)(const void*, const void*),
                     int *x, int i, int n){
  while( 1 ){
    int c = 2*i+1, t;
    if( c>=n ) return;
    if( c+1<n && xCmp(a+sz*(size_t)x[c], a+sz*(size_t)x[c+1])<0 ) c++;
    if( xCmp(a+sz*(size_t)x[i], a+sz*(size_t)x[c])>=0 ) return;
    t = x[i]; x[i] = x[c]; x[c] = t;
    i = c;
  }
}
static int sortInPlace(void *pArray, int n, size_t sz,
                       int (*xCmp)(const void*, const void*)){
  char *a = (char*)pArray;
  union { Migration m; Down d; } tmp;
  int *x, i;
  if( n<2 ) return SQLITE_OK;
  x = sqlite3_malloc64(sizeof(int)*(sqlite3_uint64)n);
  if( x==0 ) return SQLITE_NOMEM;
  for(i=0; i<n; i++) x[i] = i;
  for(i=n/2-1; i>=0; i--) siftDown(a, sz, xCmp, x, i, n);
  for(i=n-1; i>0; i--){
    int t = x[0]; x[0] = x[i]; x[i] = t;
    siftDown(a, sz, xCmp, x, 0, i);
  }
  /* x[k] is the element that belongs at k. */
  for(i=0; i<n; i++){
    int k = i, j;
    if( x[i]==i ) continue;
    memcpy(&tmp, a+sz*(size_t)i, sz);
    while( (j = x[k])!=i ){
      memcpy(a+sz*(size_t)k, a+sz*(size_t)j, sz);
      x[k] = k;
      k = j;
    }
    memcpy(a+sz*(size_t)k, &tmp, sz);
    x[k] = k;
  }
  sqlite3_free(x);
  return SQLITE_OK;
}

/* The listing in version order -> migrations, one per version, made in
** place: the slots become pSrc->a. */
static int versionOrder(Source *pSrc, EntryList *pList, char **pzErr){
  int i = 0, d = 0, rc = SQLITE_OK;
  Migration *a = pList->a;
  if( pList->n + pList->nDown==0 ) return SQLITE_OK;
  if( sortInPlace(a, pList->n, sizeof(Migration), cmpEntry)
   || sortInPlace(pList->aDown, pList->nDown, sizeof(Down), cmpDown) ){
    return SQLITE_NOMEM;
  }
  pSrc->a = a;
  pList->a = 0;
  while( rc==SQLITE_OK && (i<pList->n || d<pList->nDown) ){
    int j = i, e = d;
    i64 v;
    if( i<pList->n && (d>=pList->nDown || a[i].version<=pList->aDown[d].version) ){
      v = a[i].version;
    }else{
      v = pList->aDown[d].version;
    }
    while( j<pList->n && a[j].version==v ) j++;
    while( e<pList->nDown && pList->aDown[e].version==v ) e++;
    /* pSrc->n <= i: every migration made took a slot of its own.  An empty
    ** array is NULL, and no address may be taken inside it (undefined C). */
    rc = buildMigration(pSrc, a ? &a[i] : 0, j-i,
                        pList->aDown ? &pList->aDown[d] : 0, e-d,
                        a ? &a[pSrc->n] : 0, pzErr);
    pSrc->n++;
    i = j;
    d = e;
  }
  return rc;
}

static int cmpRepeatable(const void *a, const void *b){
  return strcmp(((const Migration*)a)->name, ((const Migration*)b)->name);
}

/* The repeatable entries of the list -> pSrc->aRep, in byte order of name;
** the versioned ones stay in the list. */
static int takeRepeatables(Source *pSrc, EntryList *pList){
  int i, n = 0, nRep = pList->nRep;
  if( nRep==0 ) return SQLITE_OK;   /* no second walk of the listing */
  for(i=0; i<pList->n; i++){
    Migration *e = &pList->a[i];
    Migration *m;
    if( e->how!=ENT_REPEATABLE ){
      if( n<i ) pList->a[n] = *e;   /* most folders have none: no copy */
      n++;
      continue;
    }
    if( pSrc->aRep==0 ){
      pSrc->aRep = sqlite3_malloc64((sqlite3_uint64)nRep*sizeof(Migration));
      if( pSrc->aRep==0 ) return SQLITE_NOMEM;
    }
    m = &pSrc->aRep[pSrc->nRep++];
    memset(m, 0, sizeof(*m));
    m->name = e->name;
    m->folder = pSrc->origin;
    m->how = FMT_WHOLE_UP;
    m->up = e->up;
    m->stamp = e->stamp;
  }
  pList->n = n;
  if( pSrc->nRep>1 ){
    qsort(pSrc->aRep, (size_t)pSrc->nRep, sizeof(Migration), cmpRepeatable);
  }
  return SQLITE_OK;
}

/* Fill the empty *pSrc from the folder zDir; the caller frees it, whatever
** the outcome (sourceFree). */
int folderRead(const char *zDir, Source *pSrc, char **pzErr){
  EntryList list;
  JournalEntry *aJ = 0;
  int rc, nJ = -1;
  size_t nDir = strlen(zDir);
  memset(&list, 0, sizeof(list));
  /* "dir/" and "dir" name the same folder; keep error paths tidy. */
  while( nDir>1 && zDir[nDir-1]=='/' ) nDir--;
  pSrc->origin = sqlite3_mprintf("%.*s", (int)nDir, zDir);
  if( pSrc->origin==0 ) return SQLITE_NOMEM;
  list.pPool = &pSrc->pool;
  pSrc->listedAt = stampClock();
  rc = listDir(pSrc->origin, &list, pzErr);
  if( rc==SQLITE_OK ) rc = journalLoad(pSrc, &aJ, &nJ, pzErr);
  if( rc==SQLITE_OK && nJ<0 ) rc = takeRepeatables(pSrc, &list);
  if( rc==SQLITE_OK ){
    pSrc->hasJournal = nJ>=0;
    rc = nJ>=0 ? journalOrder(pSrc, &list, aJ, nJ, pzErr)
               : versionOrder(pSrc, &list, pzErr);
  }
  if( rc==SQLITE_OK && list.nIgn>0 ){
    qsort(list.aIgn, (size_t)list.nIgn, sizeof(Ignored), cmpIgnored);
    pSrc->aIgnored = list.aIgn;
    pSrc->nIgnored = list.nIgn;
    list.aIgn = 0;
  }
  sqlite3_free(aJ);
  entriesFree(&list);
  return rc;
}
