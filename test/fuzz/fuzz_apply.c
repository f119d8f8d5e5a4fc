/*
** fuzz_apply.c — end to end: bytes -> a migrations folder -> migrate_apply
** and migrate_rollback on a fresh in-memory database.
**
** Input: two header bytes, then records separated by the byte 0x01.  A
** record is a path ("001_x.sql", "2018-01-01-000000_y/up.sql", or "dir/" for
** an empty folder), a newline, and the file's bytes.
**
**   byte 0, bit 0  atomic off          bit 4  the caller writes in its
**           bit 1  inside BEGIN ...           transaction first
**                  COMMIT              bit 5  change the first file after
**           bit 2  foreign_keys on            the first call
**           bit 3  a first call with   bit 6  no rollback at the end
**                  a target version    bit 7  a database file (with
**                                             automatic backups), not
**                                             :memory:
**   byte 1         that target version
**
** Invariants, for every call:
**   - the connection is back in the mode it was in (autocommit, or inside
**     the caller's transaction) and its settings are the same;
**   - no script reached ATTACH or DETACH past the refusal (scripts may not
**     call migrate_backup, migrate_restore or migrate_config here: the
**     harness denies them, so no file is written outside the scratch folder);
**   - apply only adds history rows, and those it adds are the first pending
**     migrations the migrations() table listed (all of them, up to the
**     target, when it succeeds, and it returns how many), each with the
**     SHA-256 of its up file's bytes; after a successful full apply every
**     migration is 'applied' and applying again does nothing;
**   - a failed call that owns one atomic transaction, or runs inside the
**     caller's, changes nothing (the db_fingerprint of test/tester.tcl:
**     settings, schema, rows, except migrate_log's failure rows);
**   - rollback removes the newest rows only, as many as it returns, and
**     refuses before running anything when one of them has no down script;
**   - the connection closes cleanly (no statement left open) and
**     LeakSanitizer finds nothing.
** Checks that compare the history are skipped when a script names
** migrate_history, migrate_log or migrations itself, and the nothing-changed checks when a script runs
** outside a transaction (transaction:false is documented as not atomic).
*/
#include "platform.h"   /* what the system shows, before its headers */
#include <sqlite3.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "fuzz.h"
#include "pragmas.h"

#define MAX_RECORDS   12
#define PROGRESS_OPS  64      /* VM steps between two progress callbacks */
#define BUDGET        20000   /* callbacks before a call is interrupted */

static char gBase[256];       /* this process's scratch folder */
static char gDir[300];        /* the migrations folder of one input */
static char gDb[300];         /* the database file, for bit 7 */
static int gBudget = -1;      /* callbacks left; -1: no limit */
static int gInterrupted;      /* the budget ran out during the call */
static int gAttach;           /* ATTACH or DETACH reached the authorizer */

typedef struct Opts {
  int atomicOff, callerTxn, fkOn, useTarget, callerWrites, editFirst, noRollback;
  int fileDb;
  sqlite3_int64 target;
  int hostile;       /* a file names the migrate tables itself */
  int noTxn;         /* a file may hold a transaction:false script */
  char zFirst[400];  /* the first file written, for editFirst */
} Opts;

/* ---- the scratch folder ------------------------------------------------ */

static int removeOne(const char *zPath, const struct stat *st, int flag,
                     struct FTW *ftw){
  (void)st; (void)flag; (void)ftw;
  remove(zPath);
  return 0;
}

static void removeTree(const char *zPath){
  nftw(zPath, removeOne, 16, FTW_DEPTH|FTW_PHYS);
}

static void cleanup(void){
  if( gBase[0] ) removeTree(gBase);
}

/* Case-insensitive search in bytes that may hold NULs. */
static int hasWord(const uint8_t *p, size_t n, const char *zWord){
  size_t m = strlen(zWord), i, j;
  for(i=0; i+m<=n; i++){
    for(j=0; j<m; j++){
      uint8_t c = p[i+j];
      if( c>='A' && c<='Z' ) c += 32;
      if( c!=(uint8_t)zWord[j] ) break;
    }
    if( j==m ) return 1;
  }
  return 0;
}

static int okComponent(const char *z){
  return z[0]!=0 && strcmp(z, ".")!=0 && strcmp(z, "..")!=0;
}

/* One record -> one file (or folder) in gDir; what cannot be made is
** skipped. */
static void writeRecord(Opts *o, const uint8_t *p, size_t n){
  const uint8_t *nl = memchr(p, '\n', n);
  size_t nName = nl ? (size_t)(nl-p) : n;
  const uint8_t *body = nl ? nl+1 : p+n;
  size_t nBody = nl ? n-nName-1 : 0;
  char zName[128], zPath[400], *zSlash;
  int fd;

  if( nName==0 || nName>=sizeof(zName) ) return;
  memcpy(zName, p, nName);
  zName[nName] = 0;
  if( strlen(zName)!=nName ) return;
  zSlash = strchr(zName, '/');
  if( zSlash ){
    *zSlash = 0;
    if( !okComponent(zName) || strchr(zSlash+1, '/') ) return;
    snprintf(zPath, sizeof(zPath), "%s/%s", gDir, zName);
    if( mkdir(zPath, 0755)!=0 && errno!=EEXIST ) return;
    if( zSlash[1]==0 ) return;
    if( !okComponent(zSlash+1) ) return;
    snprintf(zPath, sizeof(zPath), "%s/%s/%s", gDir, zName, zSlash+1);
  }else{
    if( !okComponent(zName) ) return;
    snprintf(zPath, sizeof(zPath), "%s/%s", gDir, zName);
  }
  fd = open(zPath, O_WRONLY|O_CREAT|O_TRUNC|O_NOFOLLOW|O_CLOEXEC, 0644);
  if( fd<0 ) return;
  while( nBody>0 ){
    ssize_t w = write(fd, body, nBody);
    if( w<=0 ) break;
    body += w;
    nBody -= (size_t)w;
  }
  close(fd);
  body = nl ? nl+1 : p+n;
  nBody = nl ? n-nName-1 : 0;
  if( hasWord(body, nBody, "migrate_history") || hasWord(body, nBody, "migrate_log")
   || hasWord(body, nBody, "migrations") ){
    o->hostile = 1;
  }
  if( hasWord(body, nBody, "transaction:false")
   || (hasWord(body, nBody, "+goose") && hasWord(body, nBody, "transaction")) ){
    o->noTxn = 1;
  }
  if( o->zFirst[0]==0 ) snprintf(o->zFirst, sizeof(o->zFirst), "%s", zPath);
}

/* ---- the connection ---------------------------------------------------- */

static int onProgress(void *p){
  (void)p;
  if( gBudget<0 ) return 0;
  if( gBudget==0 ){ gInterrupted = 1; return 1; }
  gBudget--;
  return 0;
}

/* Scripts may not attach (script.c refuses it: any that gets here is a
** finding), nor, in this harness, write files through the extension's own
** functions or change its settings behind the checks' back. */
static int onAuth(void *p, int op, const char *a, const char *b, const char *c,
                  const char *d){
  (void)p; (void)c; (void)d;
  if( op==SQLITE_ATTACH || op==SQLITE_DETACH ){
    gAttach = 1;
    return SQLITE_DENY;
  }
  if( op==SQLITE_FUNCTION && gBudget>=0 && b
   && (sqlite3_stricmp(b, "migrate_backup")==0 || sqlite3_stricmp(b, "migrate_restore")==0
    || sqlite3_stricmp(b, "migrate_config")==0) ){
    return SQLITE_DENY;
  }
  (void)a;
  return SQLITE_OK;
}

/* Every row of a query, as text, one line per row ("ERR: ..." on error). */
static void appendQuery(sqlite3 *db, sqlite3_str *pOut, const char *zSql){
  sqlite3_stmt *p = 0;
  int rc = sqlite3_prepare_v2(db, zSql, -1, &p, 0), i;
  while( rc==SQLITE_OK && sqlite3_step(p)==SQLITE_ROW ){
    for(i=0; i<sqlite3_column_count(p); i++){
      const char *z = (const char*)sqlite3_column_text(p, i);
      sqlite3_str_appendf(pOut, "%s|", z ? z : "NULL");
    }
    sqlite3_str_appendchar(pOut, 1, '\n');
  }
  if( rc==SQLITE_OK ) rc = sqlite3_finalize(p);
  else sqlite3_finalize(p);
  if( rc ) sqlite3_str_appendf(pOut, "ERR: %s\n", sqlite3_errmsg(db));
}

/* The connection settings a call must leave as they were. */
static const char *const azSetting[] = {
  MIGRATE_PRAGMA_NAMES,
  /* Refused outright in migrations, never restored: must never change. */
  "writable_schema", "locking_mode", 0
};

static char *settings(sqlite3 *db){
  sqlite3_str *s = sqlite3_str_new(db);
  int i;
  for(i=0; azSetting[i]; i++){
    char *zSql = sqlite3_mprintf("PRAGMA %s", azSetting[i]);
    sqlite3_str_appendf(s, "%s=", azSetting[i]);
    appendQuery(db, s, zSql);
    sqlite3_free(zSql);
  }
  sqlite3_str_appendf(s, "autocommit=%d\n", sqlite3_get_autocommit(db));
  appendQuery(db, s, "SELECT name, file FROM pragma_database_list "
                     "WHERE name<>'temp' ORDER BY seq");
  return sqlite3_str_finish(s);
}

/* test/tester.tcl's db_fingerprint: settings, schema and every row, less
** migrate_log's failure and backup rows. */
static char *fingerprint(sqlite3 *db){
  sqlite3_str *s = sqlite3_str_new(db);
  sqlite3_stmt *p = 0;
  char *z = settings(db);
  sqlite3_str_appendall(s, z);
  sqlite3_free(z);
  appendQuery(db, s, "PRAGMA user_version");
  appendQuery(db, s, "SELECT type, name, tbl_name, sql FROM main.sqlite_schema"
                     " WHERE tbl_name<>'migrate_log' ORDER BY type, name");
  appendQuery(db, s, "SELECT type, name, tbl_name, sql FROM temp.sqlite_schema"
                     " ORDER BY type, name");
  if( sqlite3_prepare_v2(db, "SELECT name FROM main.sqlite_schema WHERE type="
        "'table' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name", -1, &p, 0)
      ==SQLITE_OK ){
    while( sqlite3_step(p)==SQLITE_ROW ){
      const char *zTab = (const char*)sqlite3_column_text(p, 0);
      const char *zWhere = "";
      char *zSql;
      if( zTab==0 ) continue;
      if( strcmp(zTab, "migrate_log")==0 ){
        zWhere = " WHERE outcome IS NOT 'failed' AND action IS NOT 'backup'";
      }else if( strcmp(zTab, "sqlite_sequence")==0 ){
        zWhere = " WHERE name IS NOT 'migrate_log'";
      }
      /* Each row as one quoted text, sorted: row order is not state. */
      zSql = sqlite3_mprintf(
        "SELECT (SELECT group_concat('quote(\"' || replace(name, '\"', '\"\"')"
        " || '\")', '||'',''||') FROM pragma_table_info(%Q))", zTab);
      {
        sqlite3_stmt *q = 0;
        char *zRow = 0;
        if( sqlite3_prepare_v2(db, zSql, -1, &q, 0)==SQLITE_OK
         && sqlite3_step(q)==SQLITE_ROW && sqlite3_column_text(q, 0) ){
          zRow = sqlite3_mprintf("%s", sqlite3_column_text(q, 0));
        }
        sqlite3_finalize(q);
        sqlite3_free(zSql);
        /* migrate_log may be created by the failure row it then hides. */
        if( strcmp(zTab, "migrate_log")!=0 ) sqlite3_str_appendf(s, "rows of %s:\n", zTab);
        if( zRow ){
          zSql = sqlite3_mprintf("SELECT r FROM (SELECT %s AS r FROM main.\"%w\"%s)"
                                 " ORDER BY r", zRow, zTab, zWhere);
          appendQuery(db, s, zSql);
          sqlite3_free(zSql);
          sqlite3_free(zRow);
        }
      }
    }
  }
  sqlite3_finalize(p);
  return sqlite3_str_finish(s);
}

/* ---- history and status ------------------------------------------------ */

typedef struct Row {
  sqlite3_int64 v;
  char checksum[65];
  char status[16];
  char file[300];
  int hasDown;
} Row;

typedef struct Rows {
  Row a[64];
  int n;
  int ok;            /* the query succeeded */
} Rows;

static void readRows(sqlite3 *db, const char *zSql, Rows *r){
  sqlite3_stmt *p = 0;
  int rc = sqlite3_prepare_v2(db, zSql, -1, &p, 0);
  memset(r, 0, sizeof(*r));
  if( rc==SQLITE_OK ) sqlite3_bind_text(p, 1, gDir, -1, SQLITE_STATIC);
  while( rc==SQLITE_OK && (rc = sqlite3_step(p))==SQLITE_ROW ){
    Row *w;
    rc = SQLITE_OK;
    if( r->n>=(int)(sizeof(r->a)/sizeof(r->a[0])) ) continue;
    w = &r->a[r->n++];
    w->v = sqlite3_column_int64(p, 0);
    snprintf(w->checksum, sizeof(w->checksum), "%s",
             sqlite3_column_text(p, 1) ? (const char*)sqlite3_column_text(p, 1) : "");
    snprintf(w->status, sizeof(w->status), "%s",
             sqlite3_column_text(p, 2) ? (const char*)sqlite3_column_text(p, 2) : "");
    snprintf(w->file, sizeof(w->file), "%s",
             sqlite3_column_text(p, 3) ? (const char*)sqlite3_column_text(p, 3) : "");
    w->hasDown = sqlite3_column_int(p, 4);
  }
  r->ok = rc==SQLITE_DONE;
  sqlite3_finalize(p);
}

static void readHistory(sqlite3 *db, Rows *r){
  readRows(db, "SELECT version, checksum, 'applied', '', down IS NOT NULL"
               " FROM main.migrate_history WHERE ?1 NOT NULL ORDER BY version", r);
  if( !r->ok ){
    /* No history table yet is an empty history. */
    int n = r->n;
    CHECK(n==0);
    r->ok = 1;
  }
}

/* The versioned migrations.  A repeatable one (R__x.sql) and a .sql file
** the folder scan does not read ('ignored', doc/formats.md "Files that are
** ignored") have no version: readUnversioned counts those. */
static void readStatus(sqlite3 *db, Rows *r){
  readRows(db, "SELECT version, checksum, status, file, reversible"
               " FROM migrations(?1) WHERE version IS NOT NULL ORDER BY version", r);
}

/* Rows without a version whose status is not zStatus or 'ignored'. */
static void readUnversioned(sqlite3 *db, const char *zStatus, Rows *r){
  char *zSql = sqlite3_mprintf("SELECT 0, '', status, file, 0 FROM migrations(?1)"
                               " WHERE version IS NULL AND status NOT IN (%Q,"
                               " 'ignored')", zStatus);
  readRows(db, zSql, r);
  sqlite3_free(zSql);
}

static const Row *findRow(const Rows *r, sqlite3_int64 v){
  int i;
  for(i=0; i<r->n; i++) if( r->a[i].v==v ) return &r->a[i];
  return 0;
}

/* The SHA-256 of a file's bytes, computed from the file as it is now. */
static void fileChecksum(sqlite3 *db, const char *zFile, char zOut[65]){
  char zPath[700];
  int fd;
  struct stat st;
  char *z = 0;
  sqlite3_stmt *p = 0;
  zOut[0] = 0;
  snprintf(zPath, sizeof(zPath), "%s/%s", gDir, zFile);
  fd = open(zPath, O_RDONLY|O_CLOEXEC);
  if( fd<0 ) return;
  if( fstat(fd, &st)==0 && (z = malloc((size_t)st.st_size+1))!=0
   && read(fd, z, (size_t)st.st_size)==st.st_size
   && sqlite3_prepare_v2(db, "SELECT migrate_sha256(?1)", -1, &p, 0)==SQLITE_OK ){
    sqlite3_bind_blob(p, 1, z, (int)st.st_size, SQLITE_STATIC);
    if( sqlite3_step(p)==SQLITE_ROW && sqlite3_column_text(p, 0) ){
      snprintf(zOut, 65, "%s", sqlite3_column_text(p, 0));
    }
  }
  sqlite3_finalize(p);
  free(z);
  close(fd);
}

/* ---- the calls --------------------------------------------------------- */

/* Run one migrate call; SQLITE_OK and its integer result, or an error. */
static int callMigrate(sqlite3 *db, const char *zSql, sqlite3_int64 arg,
                       sqlite3_int64 *pResult){
  sqlite3_stmt *p = 0;
  int rc = sqlite3_prepare_v2(db, zSql, -1, &p, 0);
  CHECK(rc==SQLITE_OK);
  if( sqlite3_bind_parameter_count(p)>=1 ) sqlite3_bind_text(p, 1, gDir, -1, SQLITE_STATIC);
  if( sqlite3_bind_parameter_count(p)>=2 ) sqlite3_bind_int64(p, 2, arg);
  gBudget = BUDGET;
  gInterrupted = 0;
  gAttach = 0;
  rc = sqlite3_step(p);
  gBudget = -1;
  if( rc==SQLITE_ROW ){
    *pResult = sqlite3_column_int64(p, 0);
    rc = sqlite3_step(p);
    CHECK(rc==SQLITE_DONE);
    rc = SQLITE_OK;
  }
  sqlite3_finalize(p);
  CHECK(!gAttach);
  return rc;
}

static void callerBegin(sqlite3 *db, const Opts *o){
  if( !o->callerTxn ) return;
  CHECK(sqlite3_exec(db, "BEGIN", 0, 0, 0)==SQLITE_OK);
  if( o->callerWrites ){
    CHECK(sqlite3_exec(db, "INSERT INTO caller VALUES(1)", 0, 0, 0)==SQLITE_OK);
  }
}

/* The caller's COMMIT; 0 if it failed and was rolled back instead. */
static int callerEnd(sqlite3 *db){
  int ok = 1;
  if( sqlite3_get_autocommit(db) ) return 1;
  if( sqlite3_exec(db, "COMMIT", 0, 0, 0)!=SQLITE_OK ){
    sqlite3_exec(db, "ROLLBACK", 0, 0, 0);
    ok = 0;
  }
  CHECK(sqlite3_get_autocommit(db));
  return ok;
}

/* The mode and settings after a call are those before it. */
static void checkConnection(sqlite3 *db, const Opts *o, const char *zSet0){
  char *zSet1;
  /* An interrupted write makes SQLite itself roll back the caller's whole
  ** transaction: no call can keep that. */
  if( o->callerTxn && gInterrupted ) return;
  CHECK(sqlite3_get_autocommit(db)==!o->callerTxn);
  zSet1 = settings(db);
  if( strcmp(zSet0, zSet1)!=0 ){
    fprintf(stderr, "settings before:\n%s\nafter:\n%s\n", zSet0, zSet1);
  }
  CHECK(strcmp(zSet0, zSet1)==0);
  sqlite3_free(zSet1);
}

/* Should a failed call have left everything as it was? */
static int failureChangesNothing(const Opts *o){
  if( o->callerTxn ) return !gInterrupted;
  return !o->atomicOff && !o->noTxn;
}

static void checkUnchanged(sqlite3 *db, const char *zFp0){
  char *zFp1 = fingerprint(db);
  if( strcmp(zFp0, zFp1)!=0 ){
    fprintf(stderr, "fingerprint before:\n%s\nafter:\n%s\n", zFp0, zFp1);
  }
  CHECK(strcmp(zFp0, zFp1)==0);
  sqlite3_free(zFp1);
}

/* migrate_apply(dir) or migrate_apply(dir, target); returns success. */
static int checkedApply(sqlite3 *db, const Opts *o, int withTarget){
  Rows h0, h1, st;
  sqlite3_int64 target = withTarget ? o->target : INT64_MAX, n = -1;
  char *zFp0, *zSet0;
  int rc, i, k, nEligible = 0;

  callerBegin(db, o);
  readHistory(db, &h0);
  readStatus(db, &st);
  zFp0 = fingerprint(db);
  zSet0 = settings(db);
  rc = callMigrate(db, withTarget ? "SELECT migrate_apply(?1, ?2)"
                                  : "SELECT migrate_apply(?1)", target, &n);
  checkConnection(db, o, zSet0);
  if( rc && failureChangesNothing(o) ) checkUnchanged(db, zFp0);
  readHistory(db, &h1);

  if( !o->hostile && !(o->callerTxn && gInterrupted) ){
    /* Rows are only added, never changed. */
    for(i=0; i<h0.n; i++){
      const Row *r = findRow(&h1, h0.a[i].v);
      CHECK(r && strcmp(r->checksum, h0.a[i].checksum)==0);
    }
    k = h1.n - h0.n;
    CHECK(k>=0);
    if( rc==SQLITE_OK ) CHECK(k==n);
    if( rc && failureChangesNothing(o) ) CHECK(k==0);
    if( st.ok ){
      /* What was added is the first k pending migrations, in order. */
      int j = 0;
      for(i=0; i<st.n; i++){
        const Row *r;
        char zSum[65];
        if( strcmp(st.a[i].status, "pending")!=0 || st.a[i].v>target ) continue;
        nEligible++;
        r = findRow(&h1, st.a[i].v);
        if( j<k ){
          CHECK(r!=0);
          fileChecksum(db, st.a[i].file, zSum);
          CHECK(strcmp(r->checksum, zSum)==0);
          j++;
        }else{
          CHECK(r==0);
        }
      }
      CHECK(j==k);
      if( rc==SQLITE_OK ) CHECK(k==nEligible);
    }else if( !withTarget ){
      /* migrations() reads every file a full apply reads. */
      CHECK(rc!=SQLITE_OK);
    }
  }
  if( rc==SQLITE_OK && !withTarget && !o->hostile ){
    readStatus(db, &st);
    CHECK(st.ok);
    for(i=0; i<st.n; i++) CHECK(strcmp(st.a[i].status, "applied")==0);
    /* Every repeatable migration ran too. */
    readUnversioned(db, "applied", &st);
    CHECK(st.ok && st.n==0);
  }
  if( !callerEnd(db) ) rc = SQLITE_ABORT;
  sqlite3_free(zFp0);
  sqlite3_free(zSet0);
  return rc==SQLITE_OK;
}

/* migrate_rollback(n) of every applied migration, and one more. */
static void checkedRollback(sqlite3 *db, const Opts *o){
  Rows h0, h1;
  sqlite3_int64 n = -1;
  char *zFp0, *zSet0;
  int rc, i, k, noDown = 0;

  callerBegin(db, o);
  readHistory(db, &h0);
  for(i=0; i<h0.n; i++) if( !h0.a[i].hasDown ) noDown = 1;
  zFp0 = fingerprint(db);
  zSet0 = settings(db);
  rc = callMigrate(db, "SELECT migrate_rollback(?2)", h0.n+1, &n);
  checkConnection(db, o, zSet0);
  if( rc && (failureChangesNothing(o) || (noDown && !o->hostile)) ){
    checkUnchanged(db, zFp0);
  }
  readHistory(db, &h1);
  if( !o->hostile && !(o->callerTxn && gInterrupted) ){
    /* The newest rows go, the older ones stay as they were. */
    k = h0.n - h1.n;
    CHECK(k>=0);
    for(i=0; i<h1.n; i++){
      CHECK(h1.a[i].v==h0.a[i].v && strcmp(h1.a[i].checksum, h0.a[i].checksum)==0);
    }
    if( noDown ) CHECK(rc!=SQLITE_OK && k==0);
    if( rc==SQLITE_OK ) CHECK(k==n && k==h0.n);
    if( rc && failureChangesNothing(o) ) CHECK(k==0);
  }
  callerEnd(db);
  sqlite3_free(zFp0);
  sqlite3_free(zSet0);
}

/* Read every column of the status table, scripts included. */
static void readAllStatus(sqlite3 *db){
  sqlite3_stmt *p = 0;
  if( sqlite3_prepare_v2(db, "SELECT *, up, down, dir FROM migrations(?1)",
                         -1, &p, 0)!=SQLITE_OK ) return;
  sqlite3_bind_text(p, 1, gDir, -1, SQLITE_STATIC);
  while( sqlite3_step(p)==SQLITE_ROW ){}
  sqlite3_finalize(p);
}

int LLVMFuzzerInitialize(int *argc, char ***argv){
  const char *zTmp = getenv("TMPDIR");
  (void)argc; (void)argv;
  fuzzInit();
  snprintf(gBase, sizeof(gBase), "%s/migrate-fuzz-XXXXXX", zTmp ? zTmp : "/tmp");
  CHECK(mkdtemp(gBase)!=0);
  snprintf(gDir, sizeof(gDir), "%s/m", gBase);
  snprintf(gDb, sizeof(gDb), "%s/db/test.db", gBase);
  atexit(cleanup);
  return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size){
  Opts o;
  sqlite3 *db = 0;
  size_t i, start;
  int nRec = 0, ok;

  if( size<2 ) return 0;
  memset(&o, 0, sizeof(o));
  o.atomicOff    = (data[0] & 0x01)!=0;
  o.callerTxn    = (data[0] & 0x02)!=0;
  o.fkOn         = (data[0] & 0x04)!=0;
  o.useTarget    = (data[0] & 0x08)!=0;
  o.callerWrites = (data[0] & 0x10)!=0;
  o.editFirst    = (data[0] & 0x20)!=0;
  o.noRollback   = (data[0] & 0x40)!=0;
  o.fileDb       = (data[0] & 0x80)!=0;
  o.target       = data[1];

  removeTree(gDir);
  CHECK(mkdir(gDir, 0755)==0);
  if( o.fileDb ){
    /* The database, its journals and its backups folder, all fresh. */
    char zDbDir[300];
    snprintf(zDbDir, sizeof(zDbDir), "%s/db", gBase);
    removeTree(zDbDir);
    CHECK(mkdir(zDbDir, 0755)==0);
  }
  for(i=start=2; i<=size && nRec<MAX_RECORDS; i++){
    if( i==size || data[i]==0x01 ){
      if( i>start ){ writeRecord(&o, data+start, i-start); nRec++; }
      start = i+1;
    }
  }

  CHECK(sqlite3_open(o.fileDb ? gDb : ":memory:", &db)==SQLITE_OK);
  sqlite3_set_authorizer(db, onAuth, 0);
  sqlite3_progress_handler(db, PROGRESS_OPS, onProgress, 0);
  sqlite3_limit(db, SQLITE_LIMIT_LENGTH, 1000000);
  sqlite3_limit(db, SQLITE_LIMIT_SQL_LENGTH, 1000000);
  if( o.fkOn ) CHECK(sqlite3_exec(db, "PRAGMA foreign_keys=ON", 0, 0, 0)==SQLITE_OK);
  if( o.atomicOff ){
    CHECK(sqlite3_exec(db, "SELECT migrate_config('atomic','off')", 0, 0, 0)==SQLITE_OK);
  }
  if( o.callerWrites ){
    CHECK(sqlite3_exec(db, "CREATE TABLE caller(x)", 0, 0, 0)==SQLITE_OK);
  }

  if( o.useTarget ) checkedApply(db, &o, 1);
  if( o.editFirst && o.zFirst[0] ){
    int fd = open(o.zFirst, O_WRONLY|O_APPEND|O_NOFOLLOW|O_CLOEXEC);
    if( fd>=0 ){
      CHECK(write(fd, "\n-- edited\n", 11)==11);
      close(fd);
    }
  }
  ok = checkedApply(db, &o, 0);
  if( ok && !o.hostile ){
    /* Up to date: a second call applies nothing. */
    sqlite3_int64 n = -1;
    callerBegin(db, &o);
    if( callMigrate(db, "SELECT migrate_apply(?1)", 0, &n)==SQLITE_OK ) CHECK(n==0);
    else CHECK(gInterrupted);
    callerEnd(db);
  }
  readAllStatus(db);
  if( !o.noRollback ) checkedRollback(db, &o);

  /* A statement left unfinalized makes close fail. */
  CHECK(sqlite3_close(db)==SQLITE_OK);
  removeTree(gDir);
  return 0;
}
