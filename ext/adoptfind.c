/*
** adoptfind.c — which other tool's history table this database holds, for
** migrate_adopt(): the tools it knows, the table (and shape) of each, and
** the query that reads it.  adopt.c reads the rows.
**
** Always main.<table>: the extension itself registers a table-valued
** function named "migrations", and a temp table may shadow a name.
**
** Two tools whose tables share a name are told apart by their columns
** (zNeed, zNot), so that at most one entry fits a table.  A table named
** migrations or _migrations that fits none of the shapes is the app's own
** data as far as anyone can tell: it is an error only when no other
** history is here, for adopting it would be adopting garbage.
*/
#include "migrate.h"
SQLITE_EXTENSION_INIT3

#include <string.h>

static const AdoptTool aTool[] = {
  { "golang-migrate", "schema_migrations", "dirty", 0, ADOPT_UPTO,
    "SELECT version, dirty FROM main.schema_migrations" },
  { "dbmate", "schema_migrations", 0, "dirty", ADOPT_LIST,
    "SELECT version FROM main.schema_migrations" },
  /* goose appends a row per apply and per rollback: the newest row of each
  ** version says whether it is applied.  Version 0 is goose's own start. */
  { "goose", "goose_db_version", 0, 0, ADOPT_LIST,
    "SELECT version_id FROM main.goose_db_version AS g WHERE version_id > 0"
    " AND is_applied AND id = (SELECT max(id) FROM main.goose_db_version"
    " WHERE version_id = g.version_id)" },
  { "sqlx", "_sqlx_migrations", 0, 0, ADOPT_LIST,
    "SELECT version FROM main._sqlx_migrations WHERE success" },
  { "diesel", "__diesel_schema_migrations", 0, 0, ADOPT_DIESEL,
    "SELECT version FROM main.__diesel_schema_migrations" },
  { "Flyway", "flyway_schema_history", 0, 0, ADOPT_LIST,
    "SELECT version FROM main.flyway_schema_history WHERE success"
    " AND version IS NOT NULL" },
  /* A row per attempt: one that failed (no finished_at) or was marked
  ** rolled back stays beside the row of a later attempt that succeeded. */
  { "Prisma", "_prisma_migrations", 0, 0, ADOPT_FOLDER,
    "SELECT migration_name, checksum FROM main._prisma_migrations"
    " WHERE finished_at IS NOT NULL AND rolled_back_at IS NULL" },
  /* Drizzle writes a row per migration it ran: the file's hash, and the
  ** time stamp of its journal entry. */
  { "Drizzle", "__drizzle_migrations", 0, 0, ADOPT_HASH,
    "SELECT hash, created_at FROM main.__drizzle_migrations ORDER BY id" },
  { "knex", "knex_migrations", 0, 0, ADOPT_NAME,
    "SELECT name FROM main.knex_migrations" },
  /* alembic keeps only the head revision(s); the chain is in its files. */
  { "alembic", "alembic_version", 0, 0, ADOPT_HEAD,
    "SELECT version_num FROM main.alembic_version ORDER BY 1" },
  /* migrations, _migrations: TypeORM's (timestamp, name), or an app's own
  ** runner's with a version column, or only the migration's name. */
  { "TypeORM", "migrations", "timestamp", 0, ADOPT_LIST,
    "SELECT \"timestamp\" FROM main.migrations" },
  { "the app's runner", "migrations", "version", "timestamp", ADOPT_LIST,
    "SELECT version FROM main.migrations" },
  { "the app's runner", "migrations", "name", "timestamp version", ADOPT_NAME,
    "SELECT name FROM main.migrations" },
  { "TypeORM", "_migrations", "timestamp", 0, ADOPT_LIST,
    "SELECT \"timestamp\" FROM main._migrations" },
  { "the app's runner", "_migrations", "version", "timestamp", ADOPT_LIST,
    "SELECT version FROM main._migrations" },
  { "the app's runner", "_migrations", "name", "timestamp version", ADOPT_NAME,
    "SELECT name FROM main._migrations" },
};

/* No table at all: rusqlite_migration and many hand-written runners keep
** only PRAGMA user_version (adopt.c decides whether it can be read). */
static const AdoptTool userVersionTool = {
  "PRAGMA user_version", 0, 0, 0, ADOPT_COUNT, 0
};

/*
** Does main hold the table (with that column)?  A schema that cannot be read
** is an error, not "absent": out of memory or an I/O error here may have
** rolled back the call's transaction, and the call must not go on without.
*/
static int hasTable(sqlite3 *db, const char *zTable, const char *zColumn,
                    int nColumn, int *pFound, char **pzErr){
  sqlite3_stmt *p = 0;
  int rc = sqlite3_prepare_v2(db, zColumn ?
        "SELECT 1 FROM pragma_table_info(?1, 'main') WHERE name = ?2" :
        "SELECT 1 FROM main.sqlite_schema WHERE type = 'table' AND name = ?1",
        -1, &p, 0);
  *pFound = 0;
  if( rc==SQLITE_OK ){
    sqlite3_bind_text(p, 1, zTable, -1, SQLITE_STATIC);
    if( zColumn ) sqlite3_bind_text(p, 2, zColumn, nColumn, SQLITE_STATIC);
    rc = sqlite3_step(p);
    *pFound = rc==SQLITE_ROW;
    if( rc==SQLITE_ROW || rc==SQLITE_DONE ) rc = SQLITE_OK;
  }
  { int rcFin = sqlite3_finalize(p); if( rc==SQLITE_OK ) rc = rcFin; }
  if( rc && rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(db);
  return rc;
}

/* How many of the space-separated columns of zList the table has. */
static int columnsPresent(sqlite3 *db, const char *zTable, const char *zList,
                          int *pn, char **pzErr){
  int rc = SQLITE_OK;
  *pn = 0;
  while( zList && *zList && rc==SQLITE_OK ){
    int n = (int)strcspn(zList, " "), found = 0;
    rc = hasTable(db, zTable, zList, n, &found, pzErr);
    *pn += found;
    zList += n;
    zList += *zList==' ';
  }
  return rc;
}

/* Does the table fit the tool's shape: every zNeed column, no zNot one? */
static int shapeFits(sqlite3 *db, const AdoptTool *t, int *pFits, char **pzErr){
  int nNeed = 0, nHave = 0, nNot = 0, rc;
  const char *z;
  for(z=t->zNeed; z && *z; z++) nNeed += (z==t->zNeed || z[-1]==' ');
  rc = columnsPresent(db, t->zTable, t->zNeed, &nHave, pzErr);
  if( rc==SQLITE_OK ) rc = columnsPresent(db, t->zTable, t->zNot, &nNot, pzErr);
  *pFits = nHave==nNeed && nNot==0;
  return rc;
}

/* "schema_migrations, goose_db_version, ...": every table looked for, once. */
static char *tablesLookedFor(void){
  char *z = sqlite3_mprintf("%s", aTool[0].zTable);
  size_t i, j;
  for(i=1; z && i<sizeof(aTool)/sizeof(aTool[0]); i++){
    for(j=0; j<i && strcmp(aTool[j].zTable, aTool[i].zTable); j++){}
    if( j<i ) continue;
    {
      char *zNew = sqlite3_mprintf("%s, %s", z, aTool[i].zTable);
      sqlite3_free(z);
      z = zNew;
    }
  }
  return z;
}

/* No tool's table: PRAGMA user_version may still say something. */
static int noTable(sqlite3 *db, const char *zOddTable, const AdoptTool **ppTool,
                   char **pzErr){
  i64 uv = 0;
  char *zList;
  int rc;
  if( zOddTable ){
    *pzErr = sqlite3_mprintf("main.%s has none of the columns a migration "
                             "history is read from (timestamp, version, name): "
                             "if it is the app's own data, adopt with "
                             "migrate_baseline(dir, version)", zOddTable);
    return SQLITE_ERROR;
  }
  rc = utilPragmaRead(db, "PRAGMA main.user_version", &uv);
  if( rc ){
    if( rc!=SQLITE_NOMEM ) *pzErr = utilDbErr(db);
    return rc;
  }
  if( uv>0 ){
    *ppTool = &userVersionTool;
    return SQLITE_OK;
  }
  zList = tablesLookedFor();
  if( zList==0 ) return SQLITE_NOMEM;
  *pzErr = sqlite3_mprintf("no other tool's history table in this database "
                           "(looked for %s), and PRAGMA user_version is %lld",
                           zList, uv);
  sqlite3_free(zList);
  return SQLITE_ERROR;
}

/* A migrations or _migrations table here, when no shape above fitted it:
** the app's own data, as far as can be told. */
static int oddTable(sqlite3 *db, const char **pzOdd, char **pzErr){
  static const char *const azName[] = { "migrations", "_migrations" };
  size_t i;
  *pzOdd = 0;
  for(i=0; i<sizeof(azName)/sizeof(azName[0]) && *pzOdd==0; i++){
    int found = 0, rc = hasTable(db, azName[i], 0, 0, &found, pzErr);
    if( rc ) return rc;
    if( found ) *pzOdd = azName[i];
  }
  return SQLITE_OK;
}

int adoptFindTool(sqlite3 *db, const AdoptTool **ppTool, char **pzErr){
  size_t i;
  const AdoptTool *pFound = 0;
  const char *zOdd = 0;
  int rc;
  for(i=0; i<sizeof(aTool)/sizeof(aTool[0]); i++){
    const AdoptTool *t = &aTool[i];
    int found = 0;
    rc = hasTable(db, t->zTable, 0, 0, &found, pzErr);
    if( rc==SQLITE_OK && found && (t->zNeed || t->zNot) ){
      rc = shapeFits(db, t, &found, pzErr);
    }
    if( rc ) return rc;
    if( !found ) continue;
    if( pFound ){
      *pzErr = sqlite3_mprintf("this database holds the histories of both %s "
                               "(%s) and %s (%s); adopt one by hand with "
                               "migrate_baseline()", pFound->zName,
                               pFound->zTable, t->zName, t->zTable);
      return SQLITE_ERROR;
    }
    pFound = t;
  }
  if( pFound ){
    *ppTool = pFound;
    return SQLITE_OK;
  }
  rc = oddTable(db, &zOdd, pzErr);
  return rc ? rc : noTable(db, zOdd, ppTool, pzErr);
}
