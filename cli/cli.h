/*
** cli.h — sqlite-migrate, the command-line program: the types its files
** share.  Every command is one SQL call a user could type into any
** connection with the extension (doc/cli.md); the program only opens the
** connection, registers the extension on it, makes the migrate_config calls
** its flags ask for, runs that call and prints its result.
**
**   main.c      the order of things: arguments, connection, command, exit code
**   args.c      the command line and the environment -> a Cli
**   help.c      the table of commands, --help, help COMMAND, usage errors
**   conn.c      the connection: opened read-only or not, migrate registered,
**               the settings; running one statement and reporting its error
**   tty.c       whether stderr is a terminal (the trace is shown there)
**   commands.c  the commands whose result is one value (up, down, new, ...)
**   status.c    status: the migrations table, as lines or one JSON document
**   findings.c  check and drift: rows that are findings
**   dryrun.c    up --dry-run and down --dry-run: the scripts that would run
*/
#ifndef SQLITE_MIGRATE_CLI_H
#define SQLITE_MIGRATE_CLI_H

#if !defined(_WIN32) && !defined(_POSIX_C_SOURCE)
# define _POSIX_C_SOURCE 200809L   /* fileno, isatty under -std=c11 */
#endif

#include <sqlite3.h>

/* Exit codes (doc/cli.md "Exit codes"). */
#define CLI_OK     0   /* done */
#define CLI_ERROR  1   /* the SQL call, or opening the database, failed */
#define CLI_USAGE  2   /* the command line is wrong: nothing was opened */
#define CLI_FOUND  3   /* it ran, and found something (a finding, drift, ...) */

/* How a command opens the database. */
#define OPEN_NONE     0   /* no database: an in-memory connection */
#define OPEN_READ     1   /* read-only; a missing file reads as empty */
#define OPEN_WRITE    2   /* read-write; the file must exist */
#define OPEN_CREATE   3   /* read-write, created when missing */

/* Flags a command accepts beyond the common ones (Command.flags). */
#define FLAG_JSON     0x01
#define FLAG_DRYRUN   0x02
#define FLAG_FORCE    0x04

typedef struct Cli Cli;
typedef struct Command Command;

struct Cli {
  const char *zDb;         /* -d/--db, or SQLITE_MIGRATE_DB */
  const char *zDir;        /* -m/--dir, or SQLITE_MIGRATE_DIR, or db/migrations */
  const char *zCmd;        /* the command as typed (NULL: none) */
  char **azArg;            /* the command's arguments */
  int nArg;
  int bHelp;               /* -h/--help */
  int bVersion;            /* --version: the version command */
  int bQuiet;              /* -q/--quiet: nothing on stdout, no trace */
  int bJson;               /* --json */
  int bDryRun;             /* --dry-run */
  int bPrintSql;           /* --print-sql: print the SQL, run nothing */
  int bForce;              /* --force */
  int bTrace;              /* --trace: trace even when not on a terminal */
  int bNoBackup;           /* --no-backup */
  const char *zBackupDir;  /* --backup-dir */
  const char *zBackupKeep; /* --backup-keep */
  const char *zSet;        /* --set */
  const char *zFrom;       /* new --from PATH: the desired schema */
  const char *zTimeout;    /* --timeout MS (busy_timeout), default 5000 */
  char **azConfig;         /* --config KEY=VALUE, in order */
  int nConfig;
  int seenFlags;           /* FLAG_* given, checked against the command's */
  const Command *pCmd;     /* the command, once looked up */
  sqlite3 *db;
};

/* One command: its name, how it opens the database, how many arguments it
** takes, the flags it accepts beyond the common ones, and its work. */
struct Command {
  const char *zName;
  const char *zAlias;      /* another name for it, or NULL */
  int eOpen;               /* OPEN_* */
  int nMin, nMax;          /* arguments */
  int flags;               /* FLAG_* it accepts */
  int (*xRun)(Cli*);       /* returns an exit code */
  const char *zArgs;       /* its arguments, for the usage line */
  const char *zSummary;    /* one line, for --help */
  const char *zHelp;       /* help COMMAND: what it does, the SQL it runs */
};

/* args.c */
int cliParseArgs(Cli*, int argc, char **argv);

/* help.c */
const Command *cliFindCommand(const char *zName);
const Command *cliCommands(int *pN);
int cliUsageError(const Cli*, const char *zFmt, ...);
int cliHelp(const char *zCmd);

/* conn.c */
int cliOpen(Cli*);
void cliClose(Cli*);
int cliSettings(Cli*);
typedef int (*CliRowFunc)(Cli*, sqlite3_stmt*, void*);
int cliQuery(Cli*, const char *zSql, CliRowFunc xRow, void *pArg);
int cliOneValue(Cli*, const char *zSql, char **pzOut, int *pbNull);
void cliOut(const Cli*, const char *zFmt, ...);
int cliIsNumber(const char *z);

/* tty.c */
int cliStderrIsTerminal(void);

/* commands.c, status.c, findings.c, dryrun.c: one per command */
int cmdUp(Cli*);
int cmdDown(Cli*);
int cmdNew(Cli*);
int cmdSchema(Cli*);
int cmdBackup(Cli*);
int cmdRestore(Cli*);
int cmdAdopt(Cli*);
int cmdBaseline(Cli*);
int cmdRepair(Cli*);
int cmdReset(Cli*);
int cmdCurrent(Cli*);
int cmdVersion(Cli*);
int cmdHelp(Cli*);
int cmdStatus(Cli*);
int cmdCheck(Cli*);
int cmdDrift(Cli*);
int cmdDryRunUp(Cli*);
int cmdDryRunDown(Cli*);

#endif /* SQLITE_MIGRATE_CLI_H */
