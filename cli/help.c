/*
** help.c — the table of commands, --help, help COMMAND, and usage errors.
**
** Each command's help names the one SQL call it makes (doc/cli.md), so
** what the program does can be done from any connection with the extension.
*/
#include "cli.h"
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const Command aCommand[] = {
  { "up", 0, OPEN_CREATE, 0, 1, FLAG_DRYRUN, cmdUp, "[TARGET]",
    "apply the pending migrations (up to TARGET)",
    "Applies the pending migrations of the folder, in version order, in one\n"
    "transaction, after an automatic backup; with TARGET, only those whose\n"
    "version is at most TARGET.  With --dry-run, prints the scripts that would\n"
    "run and changes nothing (the database is opened read-only).\n"
    "\n"
    "  SELECT migrate_apply('DIR');\n"
    "  SELECT migrate_apply('DIR', TARGET);\n" },
  { "down", "rollback", OPEN_WRITE, 0, 1, FLAG_DRYRUN, cmdDown, "[N | VERSION_NAME]",
    "roll back the newest migration (or the newest N)",
    "Runs the stored down script of the newest applied migration, or of the\n"
    "newest N, newest first, in one transaction, after an automatic backup.\n"
    "An argument that is not a number is passed as text.  With --dry-run\n"
    "(a count only), prints the down scripts that would run and changes\n"
    "nothing (the database is opened read-only).\n"
    "\n"
    "  SELECT migrate_rollback();\n"
    "  SELECT migrate_rollback(N);\n"
    "  SELECT migrate_rollback('VERSION_NAME');\n" },
  { "status", 0, OPEN_READ, 0, 0, FLAG_JSON, cmdStatus, "",
    "list the migrations: applied, pending, changed, ...",
    "Lists the migrations of the folder merged with the history, one line\n"
    "each, then the counts.  Exit status 3 when a migration is changed,\n"
    "missing or out of order (up would refuse to run).  --json prints one\n"
    "JSON document.\n"
    "\n"
    "  SELECT version, name, status, applied_at, file FROM migrate_status('DIR');\n" },
  { "new", "create", OPEN_NONE, 1, 1, 0, cmdNew, "NAME",
    "write a new migration file (empty, or from a desired schema)",
    "Writes the next migration file of the folder, in the folder's own\n"
    "convention, and prints the path of the file to edit.  Needs no database.\n"
    "With --from SCHEMA (a .sql file of CREATE statements), the migration is\n"
    "the one migrate_diff makes from the database's schema (read only; an\n"
    "empty database without -d) to SCHEMA, up and down.\n"
    "\n"
    "  SELECT migrate_create('DIR', 'NAME');\n"
    "  SELECT migrate_create('DIR', 'NAME', 'SCHEMA');\n" },
  { "check", 0, OPEN_READ, 0, 0, FLAG_JSON, cmdCheck, "",
    "try the pending migrations on a scratch copy",
    "Tries every pending migration on a scratch copy of the database (up,\n"
    "down, up again) and reads their text for common mistakes; prints the\n"
    "findings.  Exit status 3 when there is any.  The database is only read.\n"
    "\n"
    "  SELECT version, name, \"check\", ok, detail FROM migrate_check('DIR');\n" },
  { "drift", 0, OPEN_READ, 0, 0, FLAG_JSON, cmdDrift, "",
    "compare the schema with the one the history makes",
    "Replays the stored up scripts on a scratch database and compares the\n"
    "schema they make with the database's.  Exit status 3 when they differ.\n"
    "\n"
    "  SELECT type, name, expected, actual FROM migrate_drift();\n" },
  { "schema", 0, OPEN_READ, 0, 1, 0, cmdSchema, "[PATH]",
    "print the schema as canonical SQL, or write PATH",
    "Prints the schema as canonical SQL text, or writes it to PATH (replacing\n"
    "the file) and prints PATH.\n"
    "\n"
    "  SELECT migrate_schema();\n"
    "  SELECT migrate_schema('PATH');\n" },
  { "backup", 0, OPEN_WRITE, 1, 1, 0, cmdBackup, "PATH",
    "copy the database to a new file (or into a folder)",
    "Writes a consistent copy of the database to PATH, a new file, or into\n"
    "PATH when it is a folder, and prints the path written.\n"
    "\n"
    "  SELECT migrate_backup('PATH');\n" },
  { "restore", 0, OPEN_CREATE, 1, 1, 0, cmdRestore, "PATH",
    "replace the database with a backup",
    "Replaces the whole database with the database file PATH, after an\n"
    "automatic backup of the current one.\n"
    "\n"
    "  SELECT migrate_restore('PATH');\n" },
  { "adopt", 0, OPEN_WRITE, 0, 0, 0, cmdAdopt, "",
    "record what another tool's history says is applied",
    "Reads which migrations another tool applied (dbmate, goose,\n"
    "golang-migrate, sqlx, diesel, Flyway, Prisma Migrate, ...) from its\n"
    "history table and records them as applied, without running them.\n"
    "\n"
    "  SELECT migrate_adopt('DIR');\n" },
  { "baseline", 0, OPEN_CREATE, 1, 1, 0, cmdBaseline, "VERSION",
    "record migrations up to VERSION as applied, unrun",
    "Records every migration of the folder up to VERSION as applied, without\n"
    "running it: for a database that already has those changes.\n"
    "\n"
    "  SELECT migrate_baseline('DIR', VERSION);\n" },
  { "repair", 0, OPEN_WRITE, 0, 0, FLAG_FORCE, cmdRepair, "",
    "repair the history (migrate_repair)",
    "Calls migrate_repair on the folder (doc/reference.md says what it\n"
    "repairs) and prints what it returns; --force passes 'force'.\n"
    "\n"
    "  SELECT migrate_repair('DIR');\n"
    "  SELECT migrate_repair('DIR', 'force');\n" },
  { "reset", 0, OPEN_WRITE, 0, 0, 0, cmdReset, "",
    "roll back every applied migration",
    "Rolls back every applied migration, newest first, in one transaction,\n"
    "after an automatic backup.\n"
    "\n"
    "  SELECT migrate_reset();\n" },
  { "current", 0, OPEN_READ, 0, 0, 0, cmdCurrent, "",
    "print the newest applied version",
    "Prints the newest applied version; nothing when none is applied.\n"
    "\n"
    "  SELECT migrate_current();\n" },
  { "version", 0, OPEN_NONE, 0, 0, 0, cmdVersion, "",
    "print the version of sqlite-migrate and of SQLite",
    "Prints the version of sqlite-migrate (the extension compiled in) and of\n"
    "the SQLite library it runs on.  Needs no database.\n"
    "\n"
    "  SELECT migrate_version(), sqlite_version();\n" },
  { "help", 0, OPEN_NONE, 0, 1, 0, cmdHelp, "[COMMAND]",
    "this text, or a command's",
    "Prints the list of commands, or what COMMAND does and the SQL it runs.\n" },
};

const Command *cliCommands(int *pN){
  *pN = (int)(sizeof(aCommand)/sizeof(aCommand[0]));
  return aCommand;
}

const Command *cliFindCommand(const char *zName){
  size_t i;
  for(i=0; i<sizeof(aCommand)/sizeof(aCommand[0]); i++){
    if( strcmp(aCommand[i].zName, zName)==0 ) return &aCommand[i];
    if( aCommand[i].zAlias && strcmp(aCommand[i].zAlias, zName)==0 ){
      return &aCommand[i];
    }
  }
  return 0;
}

/* The message on stderr, then where to read more: the command's help when
** the command is known, else the program's.  Returns CLI_USAGE. */
int cliUsageError(const Cli *p, const char *zFmt, ...){
  va_list ap;
  char *zMsg;
  va_start(ap, zFmt);
  zMsg = sqlite3_vmprintf(zFmt, ap);
  va_end(ap);
  fprintf(stderr, "sqlite-migrate: %s\n", zMsg ? zMsg : "out of memory");
  if( p && p->pCmd ){
    fprintf(stderr, "Run 'sqlite-migrate help %s' for its usage.\n", p->pCmd->zName);
  }else{
    fprintf(stderr, "Run 'sqlite-migrate --help' for usage.\n");
  }
  sqlite3_free(zMsg);
  return CLI_USAGE;
}

static const char zOptions[] =
  "Options (before or after the command):\n"
  "  -d, --db PATH           the database file (default: $SQLITE_MIGRATE_DB)\n"
  "  -m, --dir DIR           the migrations folder (default: $SQLITE_MIGRATE_DIR,\n"
  "                          else db/migrations)\n"
  "  --no-backup             no automatic backup\n"
  "  --backup-dir DIR        where the automatic backups go\n"
  "  --backup-keep N         how many automatic backups to keep\n"
  "  --set NAME              the migration set to work on\n"
  "  -c, --config KEY=VALUE  any setting of migrate_config\n"
  "  --trace                 each step on stderr, also off a terminal\n"
  "                          (on a terminal it is on unless -q)\n"
  "  --timeout MS            how long to wait for a lock (default 5000)\n"
  "  --print-sql             print the SQL the command would run; run nothing\n"
  "  -q, --quiet             nothing on stdout, no trace: the exit status says\n"
  "  -h, --help              this text; with a command, the command's\n"
  "  --version               the version command\n"
  "\n"
  "Each setting is a migrate_config call made before the command's call\n"
  "(--print-sql shows them); --timeout is PRAGMA busy_timeout.\n";

static const char zExit[] =
  "Exit status:\n"
  "  0  done\n"
  "  1  the SQL call failed (its message on stderr), or the database could\n"
  "     not be opened\n"
  "  2  usage error: nothing was run\n"
  "  3  it ran and found something: status (changed, missing, out of\n"
  "     order), check\n"
  "     (a finding), drift (a difference), up/down --dry-run (a migration\n"
  "     the call would refuse)\n";

/* help, --help, help COMMAND, COMMAND --help.  Prints on stdout. */
int cliHelp(const char *zCmd){
  size_t i;
  if( zCmd ){
    const Command *pCmd = cliFindCommand(zCmd);
    if( pCmd==0 ){
      Cli none;
      memset(&none, 0, sizeof(none));
      return cliUsageError(&none, "unknown command '%s'", zCmd);
    }
    printf("Usage: sqlite-migrate [options] %s%s%s\n", pCmd->zName,
           pCmd->zArgs[0] ? " " : "", pCmd->zArgs);
    if( pCmd->zAlias ) printf("   or: sqlite-migrate [options] %s%s%s\n",
                              pCmd->zAlias, pCmd->zArgs[0] ? " " : "", pCmd->zArgs);
    printf("\n%s", pCmd->zHelp);
    if( pCmd->flags ){
      printf("\nOptions of %s:\n", pCmd->zName);
      if( pCmd->flags & FLAG_JSON ) printf("  --json     one JSON document\n");
      if( pCmd->flags & FLAG_DRYRUN ){
        printf("  --dry-run  print the scripts that would run; change nothing\n");
      }
      if( pCmd->flags & FLAG_FORCE ) printf("  --force    migrate_repair('DIR', 'force')\n");
    }
    if( pCmd->xRun==cmdNew ){
      printf("\nOptions of new:\n"
             "  --from SCHEMA  migrate_create('DIR', 'NAME', 'SCHEMA')\n");
    }
    printf("\nDIR is the migrations folder (-m); "
           "'sqlite-migrate --help' lists the options.\n");
    return CLI_OK;
  }
  printf("Usage: sqlite-migrate [options] COMMAND [arguments]\n"
         "\n"
         "Schema migrations for a SQLite database.  Each command is one SQL\n"
         "call of the migrate extension, compiled in.\n"
         "\n"
         "Commands:\n");
  for(i=0; i<sizeof(aCommand)/sizeof(aCommand[0]); i++){
    char *zHead = sqlite3_mprintf("%s%s%s", aCommand[i].zName,
                                  aCommand[i].zArgs[0] ? " " : "", aCommand[i].zArgs);
    printf("  %-24s %s\n", zHead ? zHead : aCommand[i].zName, aCommand[i].zSummary);
    sqlite3_free(zHead);
  }
  printf("\n%s\n%s", zOptions, zExit);
  return CLI_OK;
}
