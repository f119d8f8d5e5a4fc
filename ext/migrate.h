/*
** migrate.h — the few types the extension's files share, and their internal API.
**
**   migrate.c   entry point: version check, registration table
**   config.c    per-connection settings (migrate_config)
**   util.c      error text, UTC time, the connection's running statements
**   sets.c      the migration set each connection works on, and its tables
**   logcols.c   migrate_log's columns added after its first layout
**   host.c      the engine the connection lives in: a libSQL replica, dqlite
**   sha256.c    checksums (and migrate_sha256)
**   sha256hw.c  SHA-256 blocks on the CPU's own instructions, where it has them
**   format.c    one file's text -> up/down sections and options (pure)
**   source.c    where migrations come from, whatever the backend; reading one
**   folder.c    a directory -> migrations in version order
**   journal.c   a Drizzle folder's meta/_journal.json -> its order
**   rowsource.c a query's rows -> migrations, for apps without a folder
**   history.c   the migrate_history and migrate_log tables
**   repeatable.c the migrate_repeatable table: repeatable migrations run
**   crc32.c     CRC-32, as Flyway checksums a script
**   script.c    run one script statement by statement, with file:line errors
**   txn.c       who owns the transaction, foreign keys, PRAGMAs restored
**   threads.c   SQLite's sorter threads, raised for the duration of a call
**   call.c      the frame of a call that changes the database
**   apply.c     migrate_apply, migrate_current: plan and run
**   rollback.c  migrate_rollback, migrate_rollback_to, migrate_reset
**   record.c    migrate_baseline, migrate_adopt: record without running
**   backup.c    migrate_backup, automatic backups and their retention
**   keycopy.c   the copy of an encrypted database, through the caller's connection
**   walckpt.c   when a WAL database's main file alone holds a snapshot
**   restore.c   migrate_restore
**   adopt.c     another tool's history -> which migrations it applied
**   adoptfind.c which other tool's history table this database holds
**   adoptrow.c  a version as another tool wrote it: number, name, revision
**   create.c    migrate_create: a new migration in the folder's convention
**   status.c    the migrations table-valued function
**   fileops.c   every file-system call, as a table (fileops.h)
**   winio.c     on Windows, the POSIX calls that table holds (elsewhere empty)
**   files.c     path safety, reading a file whole, writing files safely
**   stamp.c     a file's stat as proof it is unchanged since it was hashed
**   schema.c    the schema as canonical SQL text (and migrate_schema)
**   scratch.c   a private scratch database, and running a script on it
**   lint.c      what can be told about a script from its text alone
**   rowtab.c    table-valued functions whose rows are computed when queried
**   drift.c     migrate_drift: the live schema against the replayed history
**   check.c     migrate_check: pending migrations tried on a scratch copy
**   verify.c    a migration's verify section, run after its up script
**   integrity.c the integrity_check setting: SQLite's check before a commit
**   dataloss.c  migrate_check's rows findings: data dropped, rows not restored
**   repeatrun.c running the repeatable migrations due, inside apply's call
**   flyway.c    Flyway's repeatable migrations, for migrate_adopt
**   sqlsame.c   do two SQL texts differ in comments and blanks only
**   repair.c    migrate_repair: the history takes edited applied files
**   rollname.c  the applied migration migrate_rollback('<name>') names
**   outorder.c  the out_of_order setting: pending below the newest applied
**   diffsql.c   migrate_diff's statements: names, column definitions, texts
**   desired.c   migrate_diff's desired schema: its text, hints, a scratch copy
**   diffcopy.c  migrate_diff's scratch copy: each statement run as written
**   diff.c      migrate_diff: the migration from main to a desired schema
**
** The files form layers.  A file calls only into files of a lower layer,
** never into one of its own layer or above: the layers below are the single
** statement of that rule, and test/layers.test checks every object file's
** symbols against it (sqlite3_api, the API pointer migrate.c defines for
** every file, aside).
**
**   layer 0: winio sha256hw
**   layer 1: util fileops sha256 crc32 sets logcols threads
**   layer 2: files host format rowtab history script txn integrity
**            repeatable journal adoptfind adoptrow keycopy sqlsame stamp
**            walckpt
**   layer 3: folder rowsource schema lint scratch config verify rollname
**            outorder
**   layer 4: source backup dataloss diffsql
**   layer 5: adopt flyway status restore drift check call desired diffcopy
**   layer 6: repeatrun repair diff
**   layer 7: apply rollback create
**   layer 8: record
**   layer 9: migrate
**
** So the two backends of source.c (folder.c, rowsource.c) know nothing of
** each other or of it, and the data path of one call reads straight down:
**   config -> source -> history -> plan -> backup -> txn -> script -> history -> log
*/
#ifndef MIGRATE_H
#define MIGRATE_H

#include "platform.h"   /* before any system header */
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "sqlite3ext.h"
#include "fileops.h"
#include "pragmas.h"
#include "version.h"

/* The commit built, when the build says (the Makefile, in a git checkout). */
#ifndef MIGRATE_COMMIT
# define MIGRATE_COMMIT "unknown"
#endif
/* sqlite3_error_offset() and the DIRECTONLY flags we rely on need 3.38. */
#define MIGRATE_MIN_SQLITE 3038000
#define MIGRATE_MIN_SQLITE_TEXT "3.38.0"
/* A migration file larger than this is refused rather than read into memory. */
#define MIGRATE_MAX_FILE (256 * 1024 * 1024)

typedef sqlite3_int64 i64;

/* ---- config.c: per-connection settings --------------------------------- */
typedef struct MigrateConn MigrateConn;
struct MigrateConn {
  int nRef;          /* one per registered function/module holding it */
  int backup;        /* -1 = default (on for a file database), 0 off, 1 on */
  char *backupDir;   /* NULL = "backups" beside the database file */
  int backupKeep;    /* automatic backups to keep */
  int atomic;        /* 1: one call commits all of its migrations or none */
  int trace;         /* 1: print each step to stderr as it happens */
  int userVersion;   /* 1: keep PRAGMA user_version equal to the newest version */
  int outOfOrder;    /* 1: apply pending migrations older than the newest applied */
  int busy;          /* a migrate call is running: refuse re-entry */
  int integrityCheck;  /* INTEGRITY_*: SQLite's check of main before a commit */
  struct FkNames *pFkHint;  /* tables that had foreign-key violations at the
                            ** last check (txn.c): noted first next time */
  int threads;       /* 1: sorter threads during a call (threads.c) */
};
MigrateConn *connNew(void);
void connRelease(void *p);
int connBackupOn(MigrateConn *, sqlite3 *);
char *connBackupDir(MigrateConn *, sqlite3 *); /* sqlite3_free() it */
void configFunc(sqlite3_context *, int, sqlite3_value **);

/* ---- threads.c: sorter threads during a call ---------------------------- */
int threadsRaise(sqlite3 *, int on);      /* returns the value to restore */
void threadsRestore(sqlite3 *, int prev);

/* ---- integrity.c: the integrity_check setting ------------------------------ */
#define INTEGRITY_OFF   0
#define INTEGRITY_QUICK 1   /* PRAGMA quick_check */
#define INTEGRITY_FULL  2   /* PRAGMA integrity_check */
const char *integrityModeName(int mode);
int integrityModeParse(const char *z);     /* -1: not a mode */
/* Any result but "ok" is an error quoting the first problem. */
int integrityCheck(sqlite3 *, int mode, char **pzErr);

/* ---- util.c: errors, time, small strings -------------------------------- */
void ctxErrorMsg(sqlite3_context *, const char *zFmt, ...);
char *utilUtcNow(void);                 /* "2026-11-22T10:15:00.123Z"; sqlite3_free */
char *utilUtcStamp(void);               /* "20261122-101500-123" for file names */
double utilMsSince(const struct timespec *t0);
void utilClockNow(struct timespec *t);
int utilDbIsFile(sqlite3 *);            /* main is a real file (not :memory:/temp) */
const char *utilLastSlash(const char *zPath);  /* '/' (or '\\' on Windows), or NULL */
const char *sqlSkipSpace(const char *z);
i64 utilPragmaValue(sqlite3 *, const char *zSql, char *zText, int nText);
int utilPragmaRead(sqlite3 *, const char *zSql, i64 *pV);   /* errors too */
int utilRunningStatements(sqlite3 *, int *pIndirect);
int utilArrayReserve(void **pa, int *pnAlloc, int n, size_t szElem);
char *utilTextDup(const char *z, size_t n);    /* z[0..n) + NUL; sqlite3_free */
int utilOpenCommitted(sqlite3 *, sqlite3 **ppOut);
/* Those of the named tables ("'a', 'b'") that exist in main are plain
** tables without triggers: else an error saying what to do. */
int utilPlainTables(sqlite3 *, const char *zNames, char **pzErr);
int utilDbKeyed(sqlite3 *, int *pKeyed);  /* main is encrypted with a key (PRAGMA key) */
/* The guard of every function that may not run from a writing statement, a
** PRAGMA, a trigger or a CHECK constraint (always), nor, as flags ask, from a
** migration or beside other statements: 1 and the error set when refused. */
#define GUARD_NOT_BUSY 0x02  /* not from inside a migrate call */
#define GUARD_ALONE    0x04  /* no other statement of the connection running */
int callGuard(sqlite3_context *, const char *zFunc, int flags);
char *utilDbErr(sqlite3 *);   /* sqlite3_errmsg() copied, NULL: none */
int utilExec(sqlite3 *, const char *zSql, char **pzErr);  /* *pzErr if not set */
int utilCountLines(const char *zFrom, const char *zTo);
size_t utilUtf8Invalid(const char *z, size_t n);  /* offset of the first bad byte, or n */
const char *utilArgText(sqlite3_context *, sqlite3_value *, const char *zFunc,
                        const char *zWhat);   /* NULL, '' and NUL bytes refused */
int utilOpenPath(const char *zPath, int flags, const char *zQuery,
                 const char *zVfs, sqlite3 **ppDb);  /* a path, never a URI */
const char *sqlSkipQuoted(const char *z);  /* past the quoted token at z */
/*
** The way out of a transaction on an interrupted connection
** (doc/guarantees.md "Interrupted"): once sqlite3_interrupt() has been
** called, SQLite prepares and runs no statement on the connection, ROLLBACK
** included, until the statement that called migrate ends; but a statement
** that writes, interrupted, makes SQLite roll the whole transaction back
** itself.  So one such statement is kept prepared while a transaction of
** ours is open, and prepared again after anything that may expire it.
*/
typedef struct ForceRollback {
  sqlite3_stmt *pStmt;   /* PRAGMA main.user_version=<its value>: it writes */
  i64 userVersion;
} ForceRollback;
int utilArgInt(sqlite3_value *, i64 *pV, char **pzShown);  /* SQLITE_MISMATCH: not one */
int utilArgInteger(sqlite3_context *, sqlite3_value *, const char *zFunc,
                   const char *zWhat, i64 lo, i64 hi, i64 *pV);  /* 1: refused */
int utilForceArm(sqlite3 *, ForceRollback *);    /* (re)prepare; keeps the old on error */
int utilForceRollback(sqlite3 *, ForceRollback *);  /* 1: out of the transaction */
void utilForceFree(ForceRollback *);
/* SQL text as tokens, as SQLite's tokenizer splits it (for reading, never
** for deciding where a statement ends: sqlite3_prepare does that). */
#define SQLTOK_END    0
#define SQLTOK_WORD   1   /* a keyword or bare name */
#define SQLTOK_QUOTED 2   /* "name", [name], `name` */
#define SQLTOK_PUNCT  3   /* any other single byte: ( ) , . = ... */
#define SQLTOK_STRING 4   /* 'literal' */
typedef struct SqlTok { const char *z; int n; int kind; } SqlTok;
const char *sqlNextTok(const char *z, const char *zEnd, SqlTok *t);
int sqlTokIs(const SqlTok *, const char *zWord);   /* that keyword or bare name */
int sqlTokPunct(const SqlTok *, char c);
void sqlTokName(const SqlTok *, char *zOut, int nOut);  /* a name, unquoted */
/* Which names of az (at most 16, of 3 bytes or more) occur in z..zEnd,
** ASCII case ignored: bit i for az[i].  Exact, and quick where none does. */
typedef struct NameSet {
  const char *const *az;
  unsigned short aByte[3][256];   /* [k][c]: bit i when az[i][k] is c */
} NameSet;
void utilNameSetInit(NameSet *, const char *const *az);
unsigned utilNameSetFind(const NameSet *, const char *z, const char *zEnd);
/* sqlsame.c: 1 when two SQL texts differ in comments and blanks only (a
** blank that parts two tokens SQLite would read otherwise written together
** counts); else 0.  *pOffA, *pOffB: where the first difference is. */
int sqlSameTokens(const char *zA, const char *zB, size_t *pOffA, size_t *pOffB);
/* Strings that never move until utilPoolFree (zero-initialise the StrPool). */
typedef struct StrPool { struct PoolChunk *pHead; } StrPool;
char *utilPoolAdd(StrPool *, const char *z, size_t n, const char *zTail);
void *utilPoolAlloc(StrPool *, size_t n);   /* word-aligned */
void utilPoolFree(StrPool *);

/* ---- sets.c: the migration set of each connection (doc/reference.md) ---- */
#define SET_NAME_MAX 32
int setsNameFold(const char *zIn, char *zOut);  /* 0: not a set name */
int setsChoose(sqlite3 *, void *pOwner, const char *zName);  /* NULL: default */
int setsReserve(sqlite3 *, void *pOwner);  /* then setsChoose cannot fail */
void setsRelease(void *pOwner);
const char *setsName(sqlite3 *);     /* NULL: the default set */
const char *setsSuffix(sqlite3 *);   /* "" or "_auth": the set's table names */
char *setsSql(sqlite3 *, const char *zSql);  /* on the set's tables; sqlite3_free */
int setsPrepare(sqlite3 *, const char *zSql, sqlite3_stmt **);
int setsInDatabase(sqlite3 *, char ***paz, int *pn);  /* but the default */
/* SQL: is the table named X (a column) a set's history, or repeatable,
** table: migrate_history_<set>, migrate_repeatable_<set> (any case)? */
#define SETS_IS_HISTORY(X) \
  "(lower(" X ") GLOB 'migrate_history_[a-z]*' AND length(" X ")<=48" \
  " AND substr(lower(" X "), 17) NOT GLOB '*[^a-z0-9_]*')"
#define SETS_IS_REPEATABLE(X) \
  "(lower(" X ") GLOB 'migrate_repeatable_[a-z]*' AND length(" X ")<=51" \
  " AND substr(lower(" X "), 20) NOT GLOB '*[^a-z0-9_]*')"

/* ---- logcols.c: migrate_log's later columns ----------------------------- */
#define LOGCOL_SET  0x01   /* set_name TEXT */
#define LOGCOL_ROWS 0x02   /* rows_changed INTEGER */
#define LOGCOL_WAIT 0x04   /* lock_wait_ms REAL */
#define LOGCOL_ALL  0x07
#define LOGCOLS_DEFS ",\n  set_name TEXT,\n  rows_changed INTEGER,\n  lock_wait_ms REAL"
int logColumns(sqlite3 *, unsigned *pHas);          /* which main.migrate_log has */
int logColumnsAdd(sqlite3 *, char **pzErr);         /* ALTER TABLE the missing in */

/* ---- host.c: the engine the connection lives in (doc/replicated.md) ----- */
int hostIsReplica(sqlite3 *, int *pIs);   /* main is a libSQL replica */
int hostIsDqlite(sqlite3 *);              /* main is in a dqlite node's VFS */

/* ---- sha256hw.c: SHA-256 on the CPU's own instructions ------------------ */
/* The instructions this CPU has and this build can use ("x86 SHA
** extensions", "ARMv8 SHA2"), or NULL: then sha256HwBlocks must not be
** called.  Asks the CPU each time: sha256.c asks once. */
const char *sha256HwName(void);
/* nBlock 64-byte blocks at p into the state h, with the round constants K. */
void sha256HwBlocks(uint32_t h[8], const uint32_t K[64],
                    const unsigned char *p, size_t nBlock);

/* ---- sha256.c ----------------------------------------------------------- */
void sha256Hex(const void *, size_t, char zOut[65]);
const char *sha256ImplName(void);   /* what hashes: sha256HwName(), "portable" */

/* sha256.c also defines the SQL helper migrate_sha256(x). */
void sha256Func(sqlite3_context *, int, sqlite3_value **);

/* ---- format.c: one file's text -> sections and options (pure) ------------ */
typedef struct Section {
  int present;
  size_t off, len;   /* byte range of the script body in the file text */
  int line;          /* file line number of the body's first byte */
  size_t markerOff;  /* start of the marker line (== off when there is none) */
  int hasOptions;    /* the marker line carried options: keep it when stored */
  int noTxn;         /* transaction:false */
} Section;
typedef struct Sections {
  Section up, down;
  Section verify;    /* -- migrate:verify: run after the up, never stored */
} Sections;
/* How a file's text is split: markers inside one file, or the whole file. */
#define FMT_MARKED     1   /* NNN_name.sql: migrate/goose markers, or plain */
#define FMT_WHOLE_UP   2   /* the whole file is the up script */
#define FMT_WHOLE_DOWN 3   /* the whole file is the down script */
#define FMT_WHOLE_VERIFY 4 /* the whole file is a verify section (verify.sql) */
int formatSplit(const char *z, size_t n, int how, Sections *, int *pErrLine,
                char **pzErr);
char *formatStored(const char *z, const Section *, int isDown); /* history text */
/* A script to run: a range of a file's text, or of a stored text. */
typedef struct Script {
  const char *z;   /* not NUL-terminated */
  size_t n;
  int line;        /* file line of z[0] */
  int noTxn;
} Script;
/* formatSplit with its error as "<zShow>:<line>: <why>" in *pzErr. */
int formatSplitNamed(const char *zShow, const char *z, size_t n, int how,
                     Sections *, char **pzErr);
void formatScript(const char *z, const Section *, Script *);
/* A script as migrate_history stores it (formatStored) -> the Script to run;
** the stored text may lead with its marker line, to keep its options. */
int formatStoredScript(const char *zStored, int isDown, const char *zShow,
                       Script *, char **pzErr);


/* ---- stamp.c: a file's stat, recorded once its hash was checked --------- */
/* ino 0: nothing to trust (no file, not a regular file, no inode given). */
typedef struct FileStamp {
  i64 size, mtimeNs, ctimeNs;
  sqlite3_uint64 ino, dev;
} FileStamp;
#define STAMP_TEXT_MAX 128
void stampFromStat(const struct stat *, FileStamp *);
i64 stampClock(void);                           /* seconds, the wall clock */
int stampSettled(const FileStamp *, i64 listedAt);
/* A checksum's text (64 hex digits) folded to 16 hex digits: its eight
** 8-byte pieces XORed, so an edit of any one character changes the result.
** 0 when zChecksum is not 64 bytes long: no stat vouches for it. */
int stampFold(const char *zChecksum, char zOut[17]);
/* The text migrate_history.file_stat holds for it and a checksum folded
** (stampFold): 0 and "" when the stamp can vouch for nothing. */
int stampText(const FileStamp *, const char *zFold, char *zOut);
int stampVouches(const FileStamp *, const char *zChecksum, const char *zStored);
/* Stats are written only where the connection may write: a read-only one
** checks as any other and writes nothing. */
int stampWritable(sqlite3 *);
/* rc of a stat's write is a constraint that a file_stat column made by
** someone else puts on it (a CHECK, a STRICT type): the cache is optional,
** the call goes on without it.  1, and *pzErr freed, when it is. */
int stampRefused(int rc, char **pzErr);

/* ---- source.c, folder.c, rowsource.c: where migrations come from -------- */
/* One script of a migration: the label messages name it by.  A migration of
** a folder (Migration.folder set) reads it from the file the label names, a
** path in that folder; one from a query's row has its text in the row's
** RowTexts.  The strings live in the Source's pool.  (A folder of ten
** thousand migrations holds ten thousand Migrations: no field in them that
** only a query's rows use.) */
typedef struct MigrationText {
  const char *label;  /* "003_add_users.sql", "3_init (down)"; NULL: none */
} MigrationText;
typedef struct RowTexts {
  const char *zUp, *zDown;  /* NUL-terminated; zDown NULL: no down */
  size_t nUp, nDown;        /* their lengths: a row's text may hold a NUL */
} RowTexts;
typedef struct Migration {
  i64 version;
  const char *name;      /* "add_users" */
  MigrationText up;
  MigrationText down;    /* a separate down script (pair, folder, Flyway U,
                         ** a row's down column), or NULL */
  const char *verify;    /* a folder's verify.sql: its path in the folder,
                         ** which is also its label; or NULL */
  const RowTexts *row;   /* a query's row: the texts (in the pool); or NULL */
  FileStamp stamp;       /* the up file's stat as the folder was listed */
  const char *folder;    /* the folder its paths are in (the Source's
                         ** origin: one copy, not one per file), or NULL */
  int how;               /* FMT_MARKED or FMT_WHOLE_UP */
} Migration;
/* A .sql file of the folder that is not read as a migration: never in
** silence (status rows, the trace, and an error when nothing is read). */
typedef struct Ignored {
  const char *file;      /* its name in the folder */
  const char *why;       /* a static text */
} Ignored;
typedef struct Source {
  char *origin;          /* the folder (without a trailing '/'), or the query */
  Migration *a;
  int n;
  Ignored *aIgnored;
  int nIgnored;
  int hasJournal;        /* ordered by a Drizzle meta/_journal.json */
  Migration *aRep;       /* repeatable migrations (R__name.sql), in byte
                         ** order of name; version 0, how FMT_WHOLE_UP */
  int nRep;
  StrPool pool;          /* every string of every migration */
  i64 listedAt;          /* stampClock() before the folder was listed */
} Source;
/* A folder, or a query whose rows are migrations; sourceFree() it.  A folder
** whose .sql files are all ignored is an error here... */
int sourceOpen(sqlite3 *, const char *zDirOrQuery, Source *, char **pzErr);
/* ...but not for the status table, which shows them as rows, nor for
** migrate_create, which may write the first migration beside them. */
int sourceOpenListing(sqlite3 *, const char *zDirOrQuery, Source *, char **pzErr);
int sourceOpenFolder(const char *zDir, Source *, char **pzErr);
int sourceIsQuery(const char *);
void sourceFree(Source *);
Migration *sourceFind(Source *, i64 version);
/* The backends: each fills an empty Source, and leaves freeing it, on
** success or failure, to source.c. */
int folderRead(const char *zDir, Source *, char **pzErr);
int rowsourceRead(sqlite3 *, const char *zSql, Source *, char **pzErr);
/* One directory entry's name -> what it is (ENT_*, 0: not a migration), its
** version and its migration name (a range of zFile).  Pure; SQLITE_ERROR
** with *pzErr for a name that looks like a migration but cannot be one. */
#define ENT_UP_MARKED  1   /* NNN_name.sql */
#define ENT_UP_WHOLE   2   /* NNN_name.up.sql, V<N>__name.sql */
#define ENT_DOWN_WHOLE 3   /* NNN_name.down.sql, U<N>__name.sql */
#define ENT_FOLDER     4   /* NNN_name/ with up.sql inside */
#define ENT_REPEATABLE 5   /* R__name.sql: no version (*pVersion 0) */
int folderClassify(const char *zFile, int isDir, int *pKind, i64 *pVersion,
                   const char **pzName, int *pnName, char **pzErr);

/* journal.c: a Drizzle meta/_journal.json's entries, in its order; each
** file ("<tag>.sql") in pPool, the array sqlite3_free()d by the caller. */
typedef struct JournalEntry { const char *file; } JournalEntry;
int journalRead(const char *z, size_t n, const char *zShow, StrPool *pPool,
                JournalEntry **paEntry, int *pnEntry, char **pzErr);

/* One migration read into memory once: the bytes hashed are the bytes run. */
typedef struct Loaded {
  char *upText;    size_t nUp;
  char *downText;  size_t nDown;   /* separate down file's bytes, or NULL */
  Sections up;                     /* sections of upText */
  Sections down;                   /* sections of downText (its .down) */
  char *verifyText; size_t nVerify;  /* a folder's verify.sql, or NULL */
  Sections verify;                 /* sections of verifyText (its .verify) */
  char checksum[65];
} Loaded;
int migrationLoad(const Migration *, Loaded *, char **pzErr);
/* The checksum of an applied migration, as migrationLoad makes it, from its
** up file's bytes alone (nothing split or checked).  *pRecord: the
** listing's stat of the file may be recorded to vouch for it. */
int migrationHash(const Source *, const Migration *, char zSum[65],
                  int *pRecord, char **pzErr);
void loadedFree(Loaded *);
/* The up and down scripts of a loaded migration (Script: format.c). */
void loadedUp(const Loaded *, Script *);
int loadedDown(const Loaded *, Script *);     /* 0: no down script */
char *loadedStoredUp(const Loaded *);         /* sqlite3_free */
char *loadedStoredDown(const Loaded *);       /* NULL when none */

/* ---- verify.c: a migration's verify section (doc/formats.md "Verify") --- */
/* Runs it, if the migration has one, inside the open transaction: a row it
** returns or an SQL error is the error, with file and line. */
int verifyLoaded(sqlite3 *, const Migration *, const Loaded *, char **pzErr);

/* ---- history.c: migrate_history and migrate_log -------------------------- */
typedef struct Applied {
  i64 version;
  const char *name, *checksum, *appliedAt;  /* scripts: historyScripts() */
  const char *fileStat;  /* the stat that vouches for checksum, or NULL */
  double durationMs;
  int hasDuration;
  int hasDown;       /* a down script is stored; -1: not read (historyHasDown) */
} Applied;
/* What the table's row checks have found so far (history.c): rows a hand
** edit can leave that the code would otherwise misread. */
typedef struct HistoryFindings {
  char *zBadType;       /* quote() of the first version that is no integer */
  i64 prev, vDup, vNull, vCtl;
  int havePrev, run, nDup, haveNull, haveCtl;
} HistoryFindings;
/* The history read one row at a time, in version order, so memory does not
** grow with the number of applied migrations.  The row's strings live until
** the next historyNext() or historyClose(). */
typedef struct HistoryCursor {
  sqlite3_stmt *pStmt;  /* NULL when there is no history table */
  int eof;
  int statLayout;       /* STAT_*: the stat cache's column and index */
  int checking;         /* the row checks are made as it reads (find) */
  HistoryFindings find;
  Applied a;            /* the current row, unless eof */
} HistoryCursor;
int historyTableExists(sqlite3 *, int *pExists, char **pzErr);
int historyEnsure(sqlite3 *, char **pzErr);
int historyEnsureUnchecked(sqlite3 *, char **pzErr);  /* historyOpen checks */
int historyOpen(sqlite3 *, HistoryCursor *, char **pzErr);  /* on row one */
int historyOpenAgain(sqlite3 *, HistoryCursor *, char **pzErr);  /* unchecked */
int historyNext(HistoryCursor *, char **pzErr);
void historyClose(HistoryCursor *);
/* The history merged with the folder.  checkFirst: the table's row checks
** are a pass of their own before the first row; else they are made in the
** same pass, and what they find replaces xApplied's error, if any (so
** xApplied must change nothing a later refusal would leave behind). */
int historyMerge(sqlite3 *, Source *,
                 int (*xApplied)(void*, const Applied*, Migration*), void *,
                 int checkFirst, int *aPending, int *pnPending, i64 *pNewest,
                 char **pzErr);
int historyScripts(sqlite3 *, i64 version, char **pzUp, char **pzDown,
                   char **pzErr);
typedef struct HistoryDown {
  i64 version;
  char *zName;
  char *zDown;          /* NULL: it has none */
} HistoryDown;
int historyNewestDowns(sqlite3 *, i64 floor, i64 below, int n, HistoryDown *a,
                       int *pn, char **pzErr);
void historyDownsFree(HistoryDown *, int n);
int historyIrreversible(sqlite3 *, i64 floor, i64 n, i64 *pV, char **pzName,
                        int *pFound, char **pzErr);
int historyInsert(sqlite3 *, i64 version, const char *zName, const char *zSum,
                  const char *zUp, const char *zDown, const char *zAt,
                  const double *pMs, char **pzErr);   /* pMs NULL: not run */
int historyDelete(sqlite3 *, i64 version, char **pzErr);
int historyRepair(sqlite3 *, i64 version, const char *zSum, const char *zUp,
                  const char *zDown, char **pzErr);   /* migrate_repair */
int historyMax(sqlite3 *, i64 *pMax, int *pAny, char **pzErr);
/* The stat cache's layout (stamp.c): file_stat, and the index of the small
** columns, each made by migrate or not trusted. */
#define STAT_COLUMN     0x01  /* file_stat is a plain column */
#define STAT_COLUMN_BAD 0x02  /* a file_stat that is not: never used */
#define STAT_INDEXED    0x04  /* the index is migrate's, byte for byte */
#define STAT_NAME_TAKEN 0x08  /* something has the index's name */
int historyStatLayout(sqlite3 *, int *pLayout, char **pzErr);
int historyStatUpgrade(sqlite3 *, int *pUsable, char **pzErr);
int historyStatSet(sqlite3 *, sqlite3_stmt **, i64 version, const char *zStat,
                   char **pzErr);
int historyHasDown(sqlite3 *, sqlite3_stmt **, i64 version, int *pHas,
                   char **pzErr);
int historyLog(sqlite3 *, const char *zAction, const i64 *pVersion,
             const char *zName, const char *zOutcome, const char *zMsg,
             double ms);
/* rollname.c: the one applied migration zArg names ("add_tags",
** "8_add_tags", "008_add_tags.sql"): its version and name (sqlite3_free),
** or an error saying none or several do. */
int rollnameFind(sqlite3 *, const char *zArg, i64 *pV, char **pzName,
                 char **pzErr);
/* outorder.c: pending versions below *pFloor are refused (INT64_MIN: none
** is, with the setting on); the log message of one applied out of order. */
int outorderFloor(sqlite3 *, int on, i64 *pFloor, char **pzErr);
int outorderLabel(sqlite3 *, i64 version, const char *zLabel, char **pzMsg,
                  char **pzErr);
/* A migrate_log row's later columns (logcols.c); NULL or 0: NULL there. */
typedef struct LogExtra {
  const char *zSet;      /* the call's migration set; NULL: the default */
  int hasRows;           /* rows: rows its script changed */
  i64 rows;
  int hasWait;           /* waitMs: its transaction's wait for the lock */
  double waitMs;
  unsigned cols;         /* LOGCOL_* the table is known to have; 0: look */
} LogExtra;
int historyLogExtra(sqlite3 *, const char *zAction, const i64 *pVersion,
                    const char *zName, const char *zOutcome, const char *zMsg,
                    double ms, const LogExtra *);
/* An ok row of a call, kept until the call writes its rows (call.c). */
typedef struct LogRow {
  const char *zAction;   /* static text */
  char *zAt, *zName, *zMsg;
  int hasVersion;
  i64 version;
  double ms;             /* < 0: NULL */
  LogExtra x;            /* x.zSet: the set's name, kept for the call */
} LogRow;
int historyLogRows(sqlite3 *, const LogRow *, int n);

/* ---- repeatable.c: the migrate_repeatable table ------------------------ */
/* One row: a repeatable migration as it last ran (or was recorded). */
typedef struct RepeatRecord {
  char *name, *checksum, *appliedAt;
  char *up;            /* NULL unless read with scripts */
  char *fileStat;      /* the stat that vouches for checksum (stamp.c), or
                       ** NULL: none, or a file_stat column migrate did
                       ** not make */
  double durationMs;
  int hasDuration;
} RepeatRecord;
typedef struct RepeatRecords {
  RepeatRecord *a;     /* in byte order of name */
  int n;
} RepeatRecords;
int repeatTableExists(sqlite3 *, int *pExists, char **pzErr);
int repeatEnsure(sqlite3 *, char **pzErr);
int repeatRead(sqlite3 *, int withScripts, RepeatRecords *, char **pzErr);
void repeatRecordsFree(RepeatRecords *);
RepeatRecord *repeatFind(const RepeatRecords *, const char *zName);
int repeatScript(sqlite3 *, const char *zName, char **pzUp, char **pzErr);
int repeatUpsert(sqlite3 *, const char *zName, const char *zSum,
                 const char *zUp, const char *zAt, const double *pMs,
                 char **pzErr);   /* pMs NULL: recorded, not run */
/* The stat cache, as migrate_history's: file_stat added in place by the
** first call that records a stat (*pUsable 0: a column of that name that
** is not a plain one), then set row by row (*pp kept for the next). */
int repeatStatUpgrade(sqlite3 *, int *pUsable, char **pzErr);
int repeatStatSet(sqlite3 *, sqlite3_stmt **pp, const char *zName,
                  const char *zStat, char **pzErr);

/* ---- crc32.c ------------------------------------------------------------ */
/* Flyway's checksum of a script: CRC-32 over its lines without their line
** breaks, a leading BOM left out; as the signed 32-bit value it stores. */
i64 crc32Flyway(const char *z, size_t n);

/* ---- script.c: run one script statement by statement -------------------- */
#define SCRIPT_IN_TXN  0x01  /* inside the call's transaction or savepoint */
#define SCRIPT_FK_LIVE 0x02  /* foreign keys enforced and cannot be turned off */
#define SCRIPT_CLEAR   0x04  /* scriptMentions found no refused name in it */
/* What a script's text mentions anywhere, comments and strings included:
** SCRIPT_MENTIONS_PRAGMA, SCRIPT_MENTIONS_REFUSED (a name of code or files
** refused in migrations).  One pass, for the caller of scriptRun. */
#define SCRIPT_MENTIONS_PRAGMA  0x01
#define SCRIPT_MENTIONS_REFUSED 0x02
unsigned scriptMentions(const Script *);
/* pzNotes (or NULL): a line per statement skipped, for the trace. */
int scriptRun(sqlite3 *, const Script *, int flags, const char *zFile,
              char **pzErr, ForceRollback *pForce, char **pzNotes);
char *scriptRefusal(sqlite3 *, const char *zStmt, int flags);
/* A file's own BEGIN/COMMIT wrapper and its foreign-key PRAGMAs, skipped
** inside the call's transaction (script.c); *pLeading starts 1, *pSeen 0.
** Nonzero: skip it. */
int scriptAbsorbed(const char *zStmt, const char *zAfter, int flags,
                   int *pLeading, int *pSeen);

/* ---- txn.c: who owns the transaction, savepoints, foreign keys ---------- */
struct FkSet;
struct FkNames;
struct PerDbPragmas;
typedef struct Txn {
  sqlite3 *db;
  int owned;          /* we issued BEGIN IMMEDIATE (else a savepoint) */
  int open;           /* a transaction or savepoint of ours is open */
  int fkOn;           /* PRAGMA foreign_keys was on when the call began */
  int deferWasOn;     /* savepoint mode: defer_foreign_keys before the call */
  int changed;        /* a script ran since the transaction began */
  struct FkSet *pBaseline;   /* foreign-key violations before that script ran,
                             ** of the tables it names (txn.c) */
  int fkMark;         /* savepoint migrate_fk: the state before that script */
  int retry;          /* only old violations: run the transaction again */
  int replay;         /* ... and now running it again, up to the mark */
  struct FkNames **ppHint;   /* the connection's tables with violations */
  int fkCaller;       /* 2: the calling statement reads a table (txn.c) */
  i64 aPragma[MIGRATE_NPRAGMA];  /* pragmas.h's, when the call began */
  struct PerDbPragmas *aPerDb;   /* each database's own PRAGMAs then */
  int nPerDb;
  ForceRollback force;   /* armed while a transaction of ours is open */
  int settingsTouched;   /* a script may have set a PRAGMA; see txnScriptSets */
  int interrupted;       /* the connection was interrupted during the call */
  int stuck;             /* interrupted, and no statement could roll back */
  int nBegun;            /* transactions of ours begun (BEGIN IMMEDIATE) */
  double lockWaitMs;     /* how long the newest of them waited for the lock */
} Txn;
int txnStart(Txn *, sqlite3 *);
int txnBegin(Txn *, char **pzErr);
int txnScriptStarting(Txn *, char **pzErr);
int txnCommit(Txn *, char **pzErr);
int txnAlive(Txn *, char **pzErr);   /* SQLite has not rolled it back */
void txnRollback(Txn *);
int txnFinish(Txn *, char **pzErr);
int txnPragmasRestore(Txn *);   /* pragmas.h's and every database's own */
void txnScriptSets(Txn *, unsigned mentions);  /* from scriptMentions */
int txnWriteProbe(Txn *, char **pzErr);     /* can the transaction write? */
void txnFkHintFree(struct FkNames *);       /* MigrateConn.pFkHint */

/* ---- files.c: path safety, reading files, writing them safely ---------- */
int fileReadWhole(const char *zPath, const char *zShow, char **pz, size_t *pn,
                  struct stat *pSt, char **pzErr);
int fileIsDir(const char *zPath);     /* 1, 0, or -1 with errno */
int filePathIsLive(sqlite3 *, const char *zPath);  /* the db, -wal, -shm, -journal */
char *fileCanonical(const char *zPath);  /* its folder resolved; sqlite3_free */
int fileSync(const char *zPath, int isDir);
void fileSyncParent(const char *zPath);
/* Temporary files are <dest>.migrate-tmp-<8 hex>, flock()ed while written. */
#define TEMP_MARK ".migrate-tmp-"
int fileMakeTemp(const char *zDest, char **pzTmp, int *pFd); /* new empty file beside zDest */
void fileRemoveTemp(const char *zTmp, int fd);   /* fd: its lock, or -1 */
int fileSweepTemps(const char *zDir);     /* remove dead writers' temporary files */
char *fileFolderOf(const char *zPath);    /* "." for a bare name; sqlite3_free */
int filePublish(const char *zTmp, const char *zDest, char **pzErr);
int fileWriteAll(int fd, const void *, size_t);
int fileWriteReplacing(sqlite3 *, const char *zPath, const char *zText,
                       char **pzErr);
int fileWriteNew(const char *zPath, const char *zText, char **pzErr);
int fileOpenDb(const char *zPath, int immutable, sqlite3 **, char **pzErr);
int fileQuickCheck(sqlite3 *, const char *zPath, char **pzErr);

/* ---- keycopy.c: an encrypted database copied with its own key ---------- */
/* All of these want autocommit mode, no transaction open, not even a
** statement's read (sqlite3_txn_state(db, 0)==SQLITE_TXN_NONE). */
int keycopyInto(sqlite3 *, const char *zTmp, char **pzErr);
int keycopySourceOpen(sqlite3 *, const char *zPath, char **pzErr);
void keycopySourceClose(sqlite3 *);
int keycopyReplace(sqlite3 *, char **pzErr);   /* main := the source */

/* ---- walckpt.c: the main file of a WAL database as a snapshot ---------- */
sqlite3 *walckptOpen(sqlite3 *pRead);    /* the connection that checkpoints */
int walckptComplete(sqlite3 *pCk);       /* 1: every frame is in the file */

/* ---- backup.c ----------------------------------------------------------- */
/* keyed: main is encrypted (utilDbKeyed), copied through db, which must
** then have no transaction open (keycopy.c). */
int backupAuto(sqlite3 *, MigrateConn *, int keyed, char **pzPath, char **pzErr);
void backupFunc(sqlite3_context *, int, sqlite3_value **);

/* ---- restore.c ---------------------------------------------------------- */
void restoreFunc(sqlite3_context *, int, sqlite3_value **);

/* ---- adoptfind.c: which other tool's history table is here -------------- */
/* How a tool's rows say what it applied (the first column of its query). */
#define ADOPT_LIST    1   /* a version a row: an integer or digits */
#define ADOPT_UPTO    2   /* one row, the newest version, and its dirty flag */
#define ADOPT_DIESEL  3   /* a folder's timestamp without its separators */
#define ADOPT_FOLDER  4   /* <digits>_<name>, and the up file's SHA-256 */
#define ADOPT_NAME    5   /* a file name or stem: <digits>, then _ . or end */
#define ADOPT_HASH    6   /* the SHA-256 of the file, and when it ran */
#define ADOPT_HEAD    7   /* the head revision: a migration's name carries it */
#define ADOPT_COUNT   8   /* no table: PRAGMA user_version counts them */
typedef struct AdoptTool {
  const char *zName;     /* shown in messages and the log */
  const char *zTable;    /* NULL for ADOPT_COUNT */
  const char *zNeed;     /* columns it must have, space-separated, or NULL */
  const char *zNot;      /* columns it must not have (another shape), or NULL */
  int how;               /* ADOPT_* */
  const char *zSql;      /* its rows: the version (or name, hash) first */
} AdoptTool;
/* The one tool whose table main holds; an error when none or several do.
** None, and PRAGMA user_version > 0: *ppTool is the ADOPT_COUNT entry. */
int adoptFindTool(sqlite3 *, const AdoptTool **ppTool, char **pzErr);

/* ---- adoptrow.c: a version as another tool wrote it (pure) --------------- */
int adoptVersionOf(sqlite3_value *, i64 *pV);  /* an integer, or digits (and -) */
/* "20221011172612_init" -> 20221011172612: digits, then '_'. */
int adoptFolderVersion(const char *z, i64 *pV);
/* A file name or stem: "001_init.sql", "001_init", "001", "001.sql" -> 1. */
int adoptNameVersion(const char *z, i64 *pV);
int adoptDieselMatch(const Source *, const char *zText, i64 *pV);
int adoptNameHasRevision(const char *zName, const char *zRev);

/* ---- adopt.c: another tool's history -> which migrations it applied ----- */
int adoptForeign(sqlite3 *, Source *, int *aApplied, const char **pzTool,
                 char **pzErr);

/* ---- flyway.c: Flyway's repeatable migrations, for migrate_adopt -------- */
/* aAdopt[i] for pSrc->aRep[i]: 1 Flyway ran this very file (record it),
** -1 Flyway ran another text of it (leave it to run again), 0 never ran. */
int flywayRepeatables(sqlite3 *, Source *, int *aAdopt, char **pzErr);

/* ---- call.c: the frame of a call that changes the database -------------- */
#define CALL_APPLY    0
#define CALL_ROLLBACK 1
#define CALL_BASELINE 2   /* record as applied, run nothing */
#define CALL_ADOPT    3   /* record what another tool's history lists */
#define CALL_REPAIR   4   /* accept the current files of applied migrations */
#define CALL_LOG_BATCH 32   /* migrate_log rows written by one statement */
typedef struct Call {
  sqlite3 *db;
  MigrateConn *mc;
  const char *zFunc;   /* "migrate_apply", "migrate_rollback", ... */
  int kind;            /* CALL_APPLY ... */
  Txn t;
  int atomic;          /* commit everything at the end (else per migration) */
  i64 floor;           /* rollback: never below this version */
  int nDone;           /* migrations applied or rolled back so far */
  int backedUp;        /* the automatic backup was taken (or is not wanted) */
  int callerWrote;     /* the caller's transaction had written before us */
  int idleAtStart;     /* no transaction open, not even a statement's read */
  char *zBackup;       /* its path, until a commit has logged it */
  char *zNotes;        /* trace: statements the running script skipped */
  int hasFail;         /* failVersion/failName say which migration failed */
  int failNoVersion;   /* ... a repeatable one: failName alone */
  i64 failVersion;
  char *failName;
  char *zErr;
  int logReady;        /* migrate_log has this release's columns (logcols.c) */
  LogExtra fig;        /* the figures of the script that ran last, for its
                       ** log row (hasRows, hasWait) and trace line */
  int figTrace;        /* fig not yet shown in the trace */
  int nWaitLogged;     /* Txn.nBegun whose lock wait a log row holds */
  int nWaitTraced;     /* ... whose lock wait the trace has shown */
  LogRow aLogQ[CALL_LOG_BATCH];  /* ok rows not yet written (callLog) */
  int nLogQ;
  /* The state at the foreign-key mark (Txn.fkMark), which a retry of the
  ** transaction's migrations starts again from; trace lines already shown
  ** are not shown twice (quiet until the commit that asked for it). */
  struct { int nDone, logReady, nWaitLogged; } mark;
  int quiet;
  char *zQuietStep;    /* the step a quiet trace did not show */
} Call;
/* The verb: runs inside the frame, with the transaction not yet begun. */
typedef int (*CallBody)(Call *, const char *zDir, i64 arg);
void callRun(sqlite3_context *, const char *zFunc, int kind, CallBody,
             const char *zDir, i64 arg, i64 floor);
const char *callAction(int kind);          /* "apply", ... for migrate_log */
const char *callDirArg(sqlite3_context *, const char *zFunc, sqlite3_value *);
void callFailAt(Call *, i64 version, const char *zName);
void callFailAtRepeatable(Call *, const char *zName);
void callTraceStart(Call *, const char *zFmt, ...);
void callTraceEnd(Call *, int rc, double ms);
void callTraceIgnored(Call *, const Source *);
int callLog(Call *, const char *zAction, const i64 *pVersion,
            const char *zName, const char *zMsg, double ms);
int callLogFlush(Call *);             /* the rows callLog kept, written */
int callBackupOnce(Call *);
int callCommit(Call *);
int callRecommit(Call *);              /* commit, and begin the next one */
int callRunScript(Call *, const Script *, const char *zFile);
int callApplyStep(Call *, const Script *pUp, const char *zLabel, double *pMs);
int callRecord(Call *, const Migration *, const Loaded *, const double *pMs);

/* ---- repeatrun.c: repeatable migrations inside migrate_apply ------------ */
/* Which repeatables of pSrc are due (never run, or changed since), one
** per pSrc->aRep, found before anything runs. */
typedef struct RepeatDue {
  unsigned char due;     /* it runs in this call */
  unsigned char record;  /* not due, hashed, its settled stat to record */
  char sum[17];          /* for record: the checksum folded (stampFold) */
} RepeatDue;
int repeatPlan(Call *, Source *, RepeatDue **paDue);
int repeatRunDue(Call *, Source *, const RepeatDue *aDue);
int repeatRecordStats(Call *, const Source *, const RepeatDue *aDue);

/* ---- apply.c, rollback.c, record.c: the verbs ---------------------------- */
int applyPlan(Call *, Source *, i64 target, int **paIdx, int *pnIdx);
void applyFunc(sqlite3_context *, int, sqlite3_value **);
void currentFunc(sqlite3_context *, int, sqlite3_value **);
void rollbackFunc(sqlite3_context *, int, sqlite3_value **);
void rollbackToFunc(sqlite3_context *, int, sqlite3_value **);
void resetFunc(sqlite3_context *, int, sqlite3_value **);
void baselineFunc(sqlite3_context *, int, sqlite3_value **);
void adoptFunc(sqlite3_context *, int, sqlite3_value **);
void repairFunc(sqlite3_context *, int, sqlite3_value **);    /* repair.c */

/* ---- create.c ------------------------------------------------------------ */
void createFunc(sqlite3_context *, int, sqlite3_value **);

/* ---- status.c ----------------------------------------------------------- */
int statusRegister(sqlite3 *, MigrateConn *);

/* ---- schema.c: the schema of main as canonical SQL ---------------------- */
typedef struct SchemaObj {
  int rank;          /* 0 table, 1 index, 2 view, 3 trigger */
  char *name, *tbl;  /* tbl: the table an index or trigger belongs to */
  char *sql;         /* normalised CREATE statement, without ';' */
} SchemaObj;
typedef struct Schema {
  SchemaObj *a;      /* in canonical order */
  int n;
  i64 userVersion;
} Schema;
typedef struct SchemaChange {
  const SchemaObj *pOld, *pNew;   /* NULL: not on that side */
} SchemaChange;
char *schemaNormalize(const char *zSql);
int schemaRead(sqlite3 *, Schema *, char **pzErr);
void schemaFree(Schema *);
const char *schemaTypeName(const SchemaObj *);
char *schemaText(const Schema *);
int schemaDiff(const Schema *pOld, const Schema *pNew, SchemaChange **, int *pn);
void schemaFunc(sqlite3_context *, int, sqlite3_value **);

/* ---- scratch.c: a private database to try scripts on -------------------- */
/* pCaller: the application's connection; an interrupt of it stops what
** runs on the scratch connection.  pCopyOf (or NULL): what to copy in. */
int scratchOpen(sqlite3 *pCaller, sqlite3 *pCopyOf, sqlite3 **ppOut, char **pzErr);
int scratchRun(sqlite3 *, const Script *, const char *zFile, char **pzErr);
/* Told the name of each table of main a statement prepared on the scratch
** connection may write (rows, columns, or the table itself), until set
** again; NULL: no one is told. */
typedef struct ScratchWatch {
  void (*xWrite)(void *pArg, const char *zTable);
  void *pArg;
} ScratchWatch;
void scratchWatch(sqlite3 *, ScratchWatch *);

/* ---- lint.c: findings from a script's text ------------------------------ */
/* Called once per finding; takes zDetail (sqlite3_free). */
typedef int (*LintFound)(void *pArg, const char *zCheck, char *zDetail);
int lintScript(sqlite3 *, const Script *, const char *zFile, LintFound, void *);

/* ---- dataloss.c: rows a migration loses, on the scratch copy ------------ */
/* Watches the scratch connection from datalossOpen on; close it after the
** connection.  Findings go to xFound with their check name (a table that
** cannot be read is one, once); *pzErr: what stopped a step. */
typedef struct DataLoss DataLoss;
int datalossOpen(sqlite3 *s, DataLoss **);
void datalossClose(DataLoss *);
int datalossBefore(DataLoss *, LintFound, void *, char **pzErr);  /* before the up */
int datalossAfterUp(DataLoss *, const char *zFile, LintFound, void *,
                    char **pzErr);                       /* data_loss */
int datalossAfterDown(DataLoss *, LintFound, void *, char **pzErr); /* roundtrip_rows */

/* ---- rowtab.c: table-valued functions computed whole -------------------- */
typedef struct RowCell {
  int type;            /* SQLITE_NULL, SQLITE_INTEGER or SQLITE_TEXT */
  i64 i;
  char *z;
} RowCell;
typedef struct RowSet {
  RowCell *a;          /* row after row, nCol cells each */
  int nCol, n, nAlloc; /* n cells so far */
} RowSet;
int rowsAddInt(RowSet *, i64);
int rowsAddText(RowSet *, const char *);   /* NULL: an SQL NULL */
typedef struct RowTab {
  const char *zName;   /* "migrate_check" */
  const char *zSchema; /* CREATE TABLE x(...): the argument column last */
  int nCol;            /* columns before the hidden argument */
  int hasArg;          /* one hidden argument column after them */
  /* pCtx: what rowtabRegister was given (the connection's settings) */
  int (*xFill)(sqlite3 *, void *pCtx, sqlite3_value *pArg, RowSet *, char **pzErr);
} RowTab;
/* xDestroy(pCtx) runs when the module goes, and when registration fails. */
int rowtabRegister(sqlite3 *, const RowTab *, void *pCtx, void (*xDestroy)(void*));

/* ---- drift.c, check.c --------------------------------------------------- */
int driftRegister(sqlite3 *, MigrateConn *);
int checkRegister(sqlite3 *, MigrateConn *);

/* ---- diffsql.c: the text of migrate_diff's statements (doc/diff.md) ---- */
char *diffName(const char *z);              /* bare or "quoted"; sqlite3_free */
char *diffTokName(const SqlTok *);          /* a name token, unquoted */
int diffMentions(const char *zSql, const char *zName);
int diffHasWord(const char *zSql, const char *zWord);
char *diffRenamedCreate(const char *zSql, const char *zNewName);
int diffColumnDefs(const char *zSql, char ***pazDef, int *pn);
void diffDefsFree(char **az, int n);

/* ---- desired.c: the desired schema of migrate_diff ---------------------- */
typedef struct DiffRename {
  int isTable;         /* 1: a table's name; 0: a column's */
  char *zTable;        /* a column's table, by its desired name */
  char *zFrom, *zTo;   /* the name in the database, in the desired schema */
  int line;            /* of the hint */
  int done;            /* the database has the new name already: passed over */
} DiffRename;
typedef struct Desired {
  sqlite3 *db;         /* a scratch database holding the desired schema */
  const char *zShow;   /* the file's path, or "desired schema" */
  DiffRename *aRen;    /* the rename hints, in the order written */
  int nRen;
} Desired;
int desiredLoad(sqlite3 *pCaller, const char *zArg, Desired *, char **pzErr);
void desiredFree(Desired *);

/* ---- diffcopy.c: the scratch copy migrate_diff's script runs on ------- */
typedef struct DiffCol {
  char *name;
  int notnull, hasDflt, pk, hidden;
  int isInteger;       /* declared type INTEGER: with pk, the rowid's alias */
  int dfltVaries;      /* the default is CURRENT_... or an expression */
} DiffCol;
typedef struct DiffCols { DiffCol *a; int n; } DiffCols;

/* After an error (rc) every plan* helper does nothing. */
typedef struct DiffPlan {
  sqlite3 *W;          /* the copy the script runs on as it is written */
  sqlite3 *T;          /* the target schema: the desired one, or main */
  sqlite3 *pLive;      /* the caller's database */
  int isUp;
  const Desired *pDes;
  sqlite3_str *out;
  Schema sW, sT;
  int rc;
  char *zErr;
} DiffPlan;
int planReadSchema(DiffPlan *p, sqlite3 *db, Schema *pOut);
int planReread(DiffPlan *p);
const SchemaObj *planFind(const Schema *s, int rank, const char *zName);
const SchemaObj *planFindAny(const Schema *s, const char *zName);
void planNomem(DiffPlan *p);
/* The first column of the first row of zSql, with ?1 and ?2 bound. */
i64 planQueryInt(DiffPlan *p, sqlite3 *db, const char *zSql, const char *z1,
                 const char *z2);
char *planStoredSql(DiffPlan *p, sqlite3 *db, const SchemaObj *o);
void planColsFree(DiffCols *c);
int planReadCols(DiffPlan *p, sqlite3 *db, const char *zTab, DiffCols *c);
int planColFind(const DiffCols *c, const char *zName);
int planIsRowid(DiffPlan *p, sqlite3 *db, const char *zTab);
int planIpkColumn(const DiffCols *c, int isRowid);
void planFail(DiffPlan *p, char *zMsg);
void planEmit(DiffPlan *p, char *zSql);
void planEmitf(DiffPlan *p, const char *zFmt, ...);
void planCommentf(DiffPlan *p, const char *zFmt, ...);
char *planSqlf(const char *zFmt, ...);
void planEmitDrop(DiffPlan *p, const SchemaObj *o);
void planDropReaders(DiffPlan *p, const char *zName);
sqlite3 *planRowsDb(DiffPlan *p, const char *zCopy, const char *zTarget,
                    const char **pzName);
i64 planRowCount(DiffPlan *p, sqlite3 *db, const char *zTab);
char *planLossNotes(DiffPlan *p, const char *zTab, const DiffCols *cw,
                    const DiffCols *ct);

/* ---- diff.c: migrate_diff ------------------------------------------------ */
/* The up and down scripts (either pointer may be NULL: not wanted). */
int diffMake(sqlite3 *, const char *zDesired, char **pzUp, char **pzDown,
             char **pzErr);
void diffFunc(sqlite3_context *, int, sqlite3_value **);

#endif /* MIGRATE_H */
