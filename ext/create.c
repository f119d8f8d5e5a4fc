/*
** create.c — migrate_create(dir, name): a new, empty migration in the
** folder's own convention, never overwriting anything.
**
**   SELECT migrate_create('db/migrations', 'add_tags');
**   -> 'db/migrations/004_add_tags.sql'
**
** The newest migration in the folder decides the shape of the new one:
**
**   004_x.sql with migrate markers  -> 005_name.sql, migrate markers
**   004_x.sql with goose markers    -> 005_name.sql, goose markers
**   004_x.up.sql + .down.sql        -> 005_name.up.sql + 005_name.down.sql
**   V4__x.sql (+ U4__x.sql)         -> V5__name.sql + U5__name.sql
**   2024-01-02-030405_x/ (diesel)   -> <UTC now>_name/ with up.sql, down.sql
**   20240102030405_x/migration.sql  -> <UTC now>_name/migration.sql (Prisma:
**                                      no down script)
**   20240102030405_x.sql            -> <UTC now as YYYYMMDDHHMMSS>_name.sql
**
** migrate_create(dir, name, desired) writes the migration to a desired
** schema (migrate_diff, doc/diff.md) into the new files instead of leaving
** them empty: the up script, and the down script where the convention has
** one (Prisma's has none).
**
** A sequence keeps the newest file's zero padding (0004 -> 0005); a
** timestamp version is the current UTC time, or the newest plus one when the
** clock is behind it.  A Drizzle folder (meta/_journal.json) is refused:
** its journal is the generator's.  An empty or missing folder gets 001_name.sql with
** migrate markers.  The result is the path of the file to edit first: the
** up file (for a diesel folder, its up.sql; for a Prisma one, migration.sql).
*/
#include "migrate.h"
#include "fileops.h"
SQLITE_EXTENSION_INIT3

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STYLE_MIGRATE 1   /* one file, -- migrate:up / -- migrate:down */
#define STYLE_GOOSE   2   /* one file, -- +goose Up / -- +goose Down */
#define STYLE_PAIR    3   /* .up.sql and .down.sql */
#define STYLE_FLYWAY  4   /* V<n>__ and U<n>__ */
#define STYLE_DIESEL  5   /* a folder with up.sql and down.sql */
#define STYLE_PRISMA  6   /* a folder with migration.sql, up only */

/* Names become file names: keep them to what every file system and shell
** takes without quoting, and to what the folder scan reads back. */
static const char *badName(const char *z){
  size_t i, n = strlen(z);
  if( n>200 ) return "is longer than 200 bytes";
  for(i=0; i<n; i++){
    char c = z[i];
    if( !((c>='a' && c<='z') || (c>='A' && c<='Z') || (c>='0' && c<='9')
          || c=='_' || c=='-') ){
      return "may hold only letters, digits, '_' and '-'";
    }
  }
  if( z[0]=='-' ) return "must not start with '-'";
  return 0;
}

/* The digits (and diesel's '-') before the first '_' of the newest entry. */
static int versionWidth(const char *zFile){
  int i = (zFile[0]=='V') ? 1 : 0, n = 0;
  for(; zFile[i] && zFile[i]!='_'; i++) n++;
  return n;
}

/* Read how the newest migration is written: its style and version width. */
static int folderStyle(const Migration *m, int *pStyle, int *pWidth,
                       int *pDiesel, char **pzErr){
  Loaded ld;
  int rc;
  *pWidth = versionWidth(m->up.label);
  *pDiesel = strchr(m->up.label, '/')!=0;
  if( *pDiesel ){
    const char *zSlash = strchr(m->up.label, '/');
    if( strcmp(zSlash, "/migration.sql")==0 ){
      /* Prisma writes its timestamp as plain digits. */
      *pStyle = STYLE_PRISMA;
      *pDiesel = 0;
    }else{
      *pStyle = STYLE_DIESEL;
    }
    return SQLITE_OK;
  }
  if( m->up.label[0]=='V' ){ *pStyle = STYLE_FLYWAY; return SQLITE_OK; }
  if( m->how==FMT_WHOLE_UP ){ *pStyle = STYLE_PAIR; return SQLITE_OK; }
  rc = migrationLoad(m, &ld, pzErr);
  if( rc ) return rc;
  *pStyle = sqlite3_strlike("%+goose up%", ld.upText, 0)==0 ? STYLE_GOOSE
                                                             : STYLE_MIGRATE;
  loadedFree(&ld);
  return SQLITE_OK;
}

/* The next version's text: the next number in sequence, or UTC now. */
static char *nextVersion(i64 newest, int any, int width, int diesel){
  time_t now = time(0);
  struct tm tm;
  char zNow[32];
  i64 vNow;
  if( !any ) return sqlite3_mprintf("001");
  if( newest==INT64_MAX ) return sqlite3_mprintf("");   /* none after it */
  if( width<12 ){
    return sqlite3_mprintf("%0*lld", width, newest+1);
  }
  gmtime_r(&now, &tm);
  strftime(zNow, sizeof(zNow), "%Y%m%d%H%M%S", &tm);
  vNow = (i64)strtoll(zNow, 0, 10);
  if( vNow<=newest ) vNow = newest+1;
  if( diesel ){
    char z[32];
    snprintf(z, sizeof(z), "%014lld", vNow);
    return sqlite3_mprintf("%.4s-%.2s-%.2s-%.6s", z, z+4, z+6, z+8);
  }
  return sqlite3_mprintf("%lld", vNow);
}

/*
** Does the new migration's name, read back the way the folder scan reads
** it, give a version after the newest?  Past the largest version there is,
** or past what the convention can spell (a diesel timestamp has 14
** digits), the next name would sort before the newest or not be read at
** all: refused instead (doc/reference.md "migrate_create").
*/
static int sortsAfter(int style, const char *zVer, const char *zName, i64 newest){
  char *zFile = style==STYLE_FLYWAY ? sqlite3_mprintf("V%s__%s.sql", zVer, zName)
              : style>=STYLE_DIESEL ? sqlite3_mprintf("%s_%s", zVer, zName)
              : sqlite3_mprintf("%s_%s.sql", zVer, zName);
  const char *zRead = 0;
  char *zErr = 0;
  int kind = 0, nRead = 0, ok;
  i64 v = 0;
  if( zFile==0 ) return -1;
  ok = folderClassify(zFile, style>=STYLE_DIESEL, &kind, &v, &zRead, &nRead, &zErr)==SQLITE_OK
    && kind!=0 && v>newest;
  sqlite3_free(zErr);
  sqlite3_free(zFile);
  return ok;
}

/* Write the up and down halves; if the second cannot be written, the first
** goes too, so a failed call leaves nothing behind. */
static int writePair(const char *zUp, const char *zUpText, const char *zDown,
                     const char *zDownText, char **pzErr){
  int rc = fileWriteNew(zUp, zUpText, pzErr);
  if( rc==SQLITE_OK && zDown ){
    rc = fileWriteNew(zDown, zDownText, pzErr);
    if( rc ) migrateFileOps.xUnlink(zUp);
  }
  return rc;
}

/* One file's text: each marker line, then its script. */
static char *sections(const char *zUpMark, const char *zUp, const char *zDownMark,
                      const char *zDown){
  sqlite3_str *p = sqlite3_str_new(0);
  sqlite3_str_appendall(p, zUpMark);
  sqlite3_str_appendall(p, "\n");
  sqlite3_str_appendall(p, zUp);
  sqlite3_str_appendall(p, "\n");
  sqlite3_str_appendall(p, zDownMark);
  sqlite3_str_appendall(p, "\n");
  sqlite3_str_appendall(p, zDown);
  return sqlite3_str_finish(p);
}

/* Create the files of the new migration; *pzPath is the up file's path. */
static int createFiles(const char *zDir, int style, const char *zVer,
                       const char *zName, const char *zBodyUp,
                       const char *zBodyDown, char **pzPath, char **pzErr){
  char *zUp = 0, *zDown = 0, *zFolder = 0, *zOwn = 0;
  const char *zUpText = zBodyUp ? zBodyUp : "", *zDownText = zBodyDown ? zBodyDown : "";
  int rc = SQLITE_OK;
  switch( style ){
    case STYLE_MIGRATE:
      zUp = sqlite3_mprintf("%s/%s_%s.sql", zDir, zVer, zName);
      zUpText = "-- migrate:up\n\n\n-- migrate:down\n\n";
      if( zBodyUp ){
        zUpText = zOwn = sections("-- migrate:up", zBodyUp, "-- migrate:down",
                                  zBodyDown);
      }
      break;
    case STYLE_GOOSE:
      zUp = sqlite3_mprintf("%s/%s_%s.sql", zDir, zVer, zName);
      zUpText = "-- +goose Up\n\n\n-- +goose Down\n\n";
      if( zBodyUp ){
        zUpText = zOwn = sections("-- +goose Up", zBodyUp, "-- +goose Down",
                                  zBodyDown);
      }
      break;
    case STYLE_PAIR:
      zUp = sqlite3_mprintf("%s/%s_%s.up.sql", zDir, zVer, zName);
      zDown = sqlite3_mprintf("%s/%s_%s.down.sql", zDir, zVer, zName);
      break;
    case STYLE_FLYWAY:
      zUp = sqlite3_mprintf("%s/V%s__%s.sql", zDir, zVer, zName);
      zDown = sqlite3_mprintf("%s/U%s__%s.sql", zDir, zVer, zName);
      break;
    case STYLE_PRISMA:
      zFolder = sqlite3_mprintf("%s/%s_%s", zDir, zVer, zName);
      zUp = sqlite3_mprintf("%s/migration.sql", zFolder);
      break;
    default: /* STYLE_DIESEL */
      zFolder = sqlite3_mprintf("%s/%s_%s", zDir, zVer, zName);
      zUp = sqlite3_mprintf("%s/up.sql", zFolder);
      zDown = sqlite3_mprintf("%s/down.sql", zFolder);
      break;
  }
  if( zUp==0 || zUpText==0 || (style>=STYLE_PAIR && style<=STYLE_DIESEL && zDown==0)
   || (style>=STYLE_DIESEL && zFolder==0) ){
    rc = SQLITE_NOMEM;
  }else if( zFolder && migrateFileOps.xMkdir(zFolder, 0755)!=0 ){
    *pzErr = sqlite3_mprintf("cannot create %s: %s", zFolder, strerror(errno));
    rc = SQLITE_ERROR;
  }else{
    rc = writePair(zUp, zUpText, zDown, zDownText, pzErr);
    if( rc && zFolder ) migrateFileOps.xRmdir(zFolder);
  }
  sqlite3_free(zDown);
  sqlite3_free(zFolder);
  sqlite3_free(zOwn);
  if( rc ){
    sqlite3_free(zUp);
    zUp = 0;
  }
  *pzPath = zUp;
  return rc;
}

void createFunc(sqlite3_context *ctx, int argc, sqlite3_value **argv){
  const char *zDir, *zName, *zWhy, *zDesired = 0;
  Source src;
  char *zErr = 0, *zVer = 0, *zPath = 0, *zBodyUp = 0, *zBodyDown = 0;
  int rc, style = STYLE_MIGRATE, width = 3, diesel = 0;
  struct stat st;

  if( callGuard(ctx, "migrate_create", GUARD_NOT_BUSY) ) return;
  zDir = utilArgText(ctx, argv[0], "migrate_create", "the directory argument");
  if( zDir==0 ) return;
  zName = utilArgText(ctx, argv[1], "migrate_create", "the name");
  if( zName==0 ) return;
  if( (zWhy = badName(zName))!=0 ){
    ctxErrorMsg(ctx, "migrate_create: the name '%s' %s", zName, zWhy);
    return;
  }
  if( argc>2 ){
    /* The migration to a desired schema (doc/diff.md), made before any
    ** file is: a schema it cannot reach leaves the folder as it was. */
    zDesired = utilArgText(ctx, argv[2], "migrate_create", "the desired schema");
    if( zDesired==0 ) return;
    rc = diffMake(sqlite3_context_db_handle(ctx), zDesired, &zBodyUp,
                  &zBodyDown, &zErr);
    if( rc ){
      if( rc==SQLITE_NOMEM && zErr==0 ) sqlite3_result_error_nomem(ctx);
      else ctxErrorMsg(ctx, "migrate_create: %s", zErr ? zErr : sqlite3_errstr(rc));
      sqlite3_free(zErr);
      return;
    }
  }
  /* A missing folder is made (one level): the first migration starts it. */
  if( migrateFileOps.xStat(zDir, &st)!=0 && errno==ENOENT && migrateFileOps.xMkdir(zDir, 0755)!=0 ){
    ctxErrorMsg(ctx, "migrate_create: cannot create %s: %s", zDir,
                strerror(errno));
    return;
  }
  rc = sourceOpenFolder(zDir, &src, &zErr);
  if( rc==SQLITE_OK && src.hasJournal ){
    /* Drizzle reads only what its journal lists: a file made here would
    ** be ignored by Drizzle and by the folder scan alike. */
    zErr = sqlite3_mprintf("'%s' is ordered by meta/_journal.json, which "
                           "migrate_create does not write; make the migration "
                           "with Drizzle's generator", src.origin);
    rc = zErr ? SQLITE_ERROR : SQLITE_NOMEM;
    sourceFree(&src);
  }else if( rc==SQLITE_OK ){
    Migration *pNewest = src.n ? &src.a[src.n-1] : 0;
    if( pNewest ) rc = folderStyle(pNewest, &style, &width, &diesel, &zErr);
    if( rc==SQLITE_OK ){
      zVer = nextVersion(pNewest ? pNewest->version : 0, pNewest!=0, width,
                         diesel);
      if( zVer==0 ) rc = SQLITE_NOMEM;
    }
    if( rc==SQLITE_OK && pNewest ){
      int after = sortsAfter(style, zVer, zName, pNewest->version);
      if( after<0 ){
        rc = SQLITE_NOMEM;
      }else if( !after ){
        zErr = sqlite3_mprintf("no version after %lld can be written in this "
                               "folder's convention (%s)", pNewest->version,
                               pNewest->up.label);
        rc = zErr ? SQLITE_ERROR : SQLITE_NOMEM;
      }
    }
    if( rc==SQLITE_OK ){
      rc = createFiles(src.origin, style, zVer, zName, zBodyUp, zBodyDown,
                       &zPath, &zErr);
    }
    sourceFree(&src);
  }
  if( rc==SQLITE_NOMEM ){
    sqlite3_result_error_nomem(ctx);
  }else if( rc ){
    ctxErrorMsg(ctx, "migrate_create: %s", zErr ? zErr : sqlite3_errstr(rc));
  }else{
    sqlite3_result_text(ctx, zPath, -1, sqlite3_free);
    zPath = 0;
  }
  sqlite3_free(zPath);
  sqlite3_free(zVer);
  sqlite3_free(zErr);
  sqlite3_free(zBodyUp);
  sqlite3_free(zBodyDown);
}
