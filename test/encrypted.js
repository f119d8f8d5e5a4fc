// encrypted.js — test/encrypted.test's driver: migrate loaded into
// better-sqlite3-multiple-ciphers (SQLite with an encrypting codec), on a
// database encrypted with PRAGMA key, in one journal mode.
//
//   node test/encrypted.js <migrate.so> <empty folder> <delete|wal>
//
// Prints "OK <step> <what it saw>" per step; a call that fails shows its
// error as what it saw ("ERR <message>"). The package is loaded from
// test/node_modules only (test/deps.sh installs it there).
'use strict';
const fs = require('fs');
const path = require('path');
const Database = require(path.join(__dirname, 'node_modules',
                                   'better-sqlite3-multiple-ciphers'));

const [lib, dir, mode] = process.argv.slice(2);
const mig = path.join(dir, 'migrations');

function say(step, what) { console.log(`OK ${step} ${what}`); }
// The value of a one-column query, or "ERR <message>".
function one(db, sql) {
  try { return String(db.prepare(sql).pluck().get()); }
  catch (e) { return 'ERR ' + e.message; }
}
function open(file, cipher) {
  const db = new Database(file);
  if (cipher) {
    db.pragma(`cipher='${cipher}'`);
    if (cipher === 'sqlcipher') db.pragma('legacy=4');
    db.pragma("key='secret'");
  }
  // The entry point is named: SQLite would guess it from the file name, and
  // the sanitizer build is migrate-asan.so.
  db.loadExtension(lib, 'sqlite3_migrate_init');
  return db;
}
// What a refused call must leave as it was: tables, history, the journal
// mode, foreign keys, no transaction, no attached database, the rows.
// (A failed migrate_apply adds its row to migrate_log, as every failed
// call does: migrate_log is left out.)
function state(db) {
  const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type='table'"
                            + " AND name<>'migrate_log' AND name NOT LIKE 'notes%'"
                            + " ORDER BY name").pluck().all().join(',');
  const schemas = db.prepare('PRAGMA database_list').all().map(r => r.name).join(',');
  return `${tables}|${one(db, 'SELECT group_concat(version) FROM migrate_history')}|`
       + `${one(db, 'PRAGMA journal_mode')}|fk=${one(db, 'PRAGMA foreign_keys')}|`
       + `${db.inTransaction ? 'txn' : 'autocommit'}|${schemas}|`
       + `${one(db, 'SELECT group_concat(v) FROM items')}`;
}
// "not-plain" unless the file starts with SQLite's header (a file anyone
// can read without a key).
function head(p) {
  const b = fs.readFileSync(p).subarray(0, 16).toString('latin1');
  return b === 'SQLite format 3\0' ? 'plain' : 'not-plain';
}
function listing(p) {
  return fs.existsSync(p) ? fs.readdirSync(p).sort().join(',') || '(empty)' : '(none)';
}
// A backup: encrypted, unreadable without the key; with it: whole
// (quick_check), the rows of items and the history it holds.
function backup(p, cipher) {
  const nokey = new Database(p);
  const without = one(nokey, 'SELECT count(*) FROM sqlite_schema');
  nokey.close();
  const db = open(p, cipher);
  const r = `${head(p)}|${without}|${one(db, 'PRAGMA quick_check')}|`
          + `${one(db, 'SELECT group_concat(v) FROM items')}|`
          + `${one(db, 'SELECT group_concat(version) FROM migrate_history')}|`
          + `${one(db, 'PRAGMA journal_mode')}`;
  db.close();
  return r;
}
function autos(p) {
  return fs.readdirSync(p).filter(f => f.endsWith('.auto.db')).sort()
    .map(f => path.join(p, f));
}
function write(name, text) { fs.writeFileSync(path.join(mig, name), text); }

fs.mkdirSync(mig, { recursive: true });
write('001_users.sql', '-- migrate:up\nCREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);\n'
      + "INSERT INTO users(name) VALUES ('ada');\n-- migrate:down\nDROP TABLE users;\n");

// The encrypted database: SQLCipher's scheme, a key, one journal mode.
const file = path.join(dir, 'app.db');
let db = open(file, 'sqlcipher');
say('journal_mode', one(db, `PRAGMA journal_mode=${mode}`));
db.pragma('foreign_keys=ON');
db.exec("CREATE TABLE items(id INTEGER PRIMARY KEY, v TEXT);"
        + "INSERT INTO items(v) VALUES ('one'), ('two');"
        + "CREATE VIRTUAL TABLE notes USING fts5(body);"
        + "INSERT INTO notes VALUES ('hello world');");
say('encrypted', head(file));
say('state', state(db));

// migrate_check: the copy is read with the key; nothing is written.
let before = state(db);
const rows = db.prepare(`SELECT version, "check", ok FROM migrate_check('${mig}')`)
  .raw().all().map(r => r.join(':')).join(' ');
say('check', rows);
say('check_state', state(db) === before ? 'same' : state(db));
say('check_files', listing(dir));

// Automatic backups (on by default) refused where they cannot be taken:
// inside a transaction, and from a statement that reads a table.
db.exec('BEGIN');
say('apply_txn', one(db, `SELECT migrate_apply('${mig}')`));
db.exec('ROLLBACK');
say('apply_reading', one(db, `SELECT migrate_apply('${mig}') FROM items LIMIT 1`));
say('refused_state', state(db) === before ? 'same' : state(db));
say('refused_files', listing(dir));

// Automatic backups on: apply, twice; each backup is of the state before.
say('apply', one(db, `SELECT migrate_apply('${mig}')`));
write('002_tags.sql', '-- migrate:up\nCREATE TABLE tags(id INTEGER PRIMARY KEY);\n'
      + '-- migrate:down\nDROP TABLE tags;\n');
db.exec("INSERT INTO items(v) VALUES ('three')");
say('apply2', one(db, `SELECT migrate_apply('${mig}')`));
say('history', one(db, 'SELECT group_concat(version) FROM migrate_history'));
say('after_apply', state(db));
const [auto1, auto2] = autos(path.join(dir, 'backups'));
say('autos', autos(path.join(dir, 'backups')).length);
say('auto1', backup(auto1, 'sqlcipher'));
say('auto2', backup(auto2, 'sqlcipher'));
say('logged', one(db, "SELECT count(*) FROM migrate_log WHERE action='backup'"
                  + " AND outcome='ok'"));
// migrate_rollback takes its automatic backup the same way.
say('rollback', one(db, 'SELECT migrate_rollback()'));
say('rollback_autos', autos(path.join(dir, 'backups')).length);
say('rollback_auto', backup(autos(path.join(dir, 'backups'))[2], 'sqlcipher'));
say('reapply', one(db, `SELECT migrate_apply('${mig}')`));

// Another connection commits while the automatic backup is being copied
// (a generated column's function does it, as the copy computes it again).
// In WAL mode it can: the backup is not of the state the migration would
// run against, and the call fails, the file removed, nothing applied. In a
// rollback-journal mode it cannot: the copy's read lock keeps it out.
{
  const other = new Database(file, { timeout: 0 });
  other.pragma("cipher='sqlcipher'"); other.pragma('legacy=4'); other.pragma("key='secret'");
  let poked = 'no';
  db.function('poke', { deterministic: true }, (x) => {
    if (poked === 'no') {
      try { other.exec('INSERT INTO raced VALUES (1)'); poked = 'committed'; }
      catch (e) { poked = e.message; }
    }
    return x;
  });
  db.exec("CREATE TABLE raced(x); CREATE TABLE pokes(x, y AS (poke(x)) STORED);"
          + "INSERT INTO pokes(x) VALUES (1);");
  poked = 'no';
  const n = autos(path.join(dir, 'backups')).length;
  write('003_more.sql', '-- migrate:up\nCREATE TABLE more(id INTEGER PRIMARY KEY);\n'
        + '-- migrate:down\nDROP TABLE more;\n');
  say('race', one(db, `SELECT migrate_apply('${mig}')`));
  say('race_poked', poked);
  say('race_history', one(db, 'SELECT group_concat(version) FROM migrate_history'));
  say('race_new_autos', autos(path.join(dir, 'backups')).length - n);
  other.close();
  // Put the folder and the database back as the steps below expect.
  db.exec('DROP TABLE pokes; DROP TABLE raced');
  if (one(db, 'SELECT max(version) FROM migrate_history') === '3') {
    one(db, 'SELECT migrate_rollback()');
  }
  fs.rmSync(path.join(mig, '003_more.sql'));
  for (const f of autos(path.join(dir, 'backups')).slice(n)) fs.rmSync(f);
}

// migrate_backup: to a file, to a folder it creates; refused inside a
// transaction and from a statement that reads, before anything is made.
before = state(db);
const bfile = path.join(dir, 'copy.db');
say('backup', one(db, `SELECT migrate_backup('${bfile}') = '${bfile}'`));
say('backup_copy', backup(bfile, 'sqlcipher'));
{
  // The cipher settings are the database's, not the library's default:
  // the same key under the default cipher does not open it.
  const c = open(bfile, 'chacha20');
  say('backup_other_cipher', one(c, 'SELECT count(*) FROM sqlite_schema'));
  c.close();
}
{
  // The full-text index came along, and the connection is defensive again
  // (it is off while the index's shadow tables are filled).
  const c = open(bfile, 'sqlcipher');
  say('backup_fts', one(c, "SELECT body FROM notes WHERE notes MATCH 'hello'"));
  c.close();
  say('defensive', one(db, "INSERT INTO notes_data VALUES (99, x'00')"));
}
const bdir = path.join(dir, 'b');
say('backup_dir', one(db, `SELECT migrate_backup('${bdir}/') LIKE '${bdir}/app-%.db'`));
say('backup_dir_copy', backup(path.join(bdir, fs.readdirSync(bdir)[0]), 'sqlcipher'));
db.exec('BEGIN');
say('backup_txn', one(db, `SELECT migrate_backup('${path.join(dir, 'c1.db')}')`));
db.exec('ROLLBACK');
say('backup_reading', one(db, `SELECT migrate_backup('${path.join(dir, 'c2.db')}') FROM items LIMIT 1`));
say('backup_state', state(db) === before ? 'same' : state(db));
say('backup_files', listing(dir));

// migrate_restore: the backup is read with the key, the content replaced
// in one transaction, an automatic backup of what is replaced taken first.
db.exec("INSERT INTO items(v) VALUES ('four'); DELETE FROM notes;");
const changed = state(db);
say('restore_reading', one(db, `SELECT migrate_restore('${bfile}') FROM items LIMIT 1`));
const other = path.join(dir, 'other.db');
{
  const o = new Database(other);
  o.pragma("cipher='sqlcipher'"); o.pragma('legacy=4'); o.pragma("key='another'");
  o.exec('CREATE TABLE items(v)');
  o.close();
}
say('restore_other_key', one(db, `SELECT migrate_restore('${other}')`));
say('refused_restore_state', state(db) === changed ? 'same' : state(db));
say('restore', one(db, `SELECT migrate_restore('${bfile}') = '${bfile}'`));
say('restore_state', state(db) === before ? 'same' : state(db));
say('restore_fts', one(db, "SELECT body FROM notes WHERE notes MATCH 'hello'"));
say('restore_log', db.prepare("SELECT action || '/' || outcome FROM migrate_log"
    + " ORDER BY id DESC LIMIT 2").pluck().all().reverse().join(' '));
const autos3 = autos(path.join(dir, 'backups'));
say('restore_autos', autos3.length);
say('restore_auto', backup(autos3[autos3.length - 1], 'sqlcipher'));
say('defensive_after', one(db, "INSERT INTO notes_data VALUES (99, x'00')"));

// A copy that fails halfway (a generated column's function fails as the
// copy computes it again): the connection is left as it was, no file.
{
  let fail = false;
  db.function('boom', { deterministic: true }, (x) => {
    if (fail) throw new Error('boom');
    return x;
  });
  db.exec("CREATE TABLE booms(x, y AS (boom(x)) STORED); INSERT INTO booms(x) VALUES (1);");
  const withBooms = path.join(dir, 'booms.db');
  say('boom_backup', one(db, `SELECT migrate_backup('${withBooms}') = '${withBooms}'`));
  const files = listing(dir);
  const was = state(db);
  fail = true;
  say('boom_failed', one(db, `SELECT migrate_backup('${path.join(dir, 'never.db')}')`));
  say('boom_state', state(db) === was ? 'same' : state(db));
  say('boom_files', listing(dir) === files ? 'same' : listing(dir));
  say('boom_defensive', one(db, "INSERT INTO notes_data VALUES (99, x'00')"));
  // A restore that fails halfway changes nothing (backups off: the
  // automatic backup would fail first, on the same function).
  db.exec("INSERT INTO items(v) VALUES ('five')");
  const now = state(db);
  one(db, "SELECT migrate_config('backup', 'off')");
  say('boom_restore', one(db, `SELECT migrate_restore('${withBooms}')`));
  one(db, "SELECT migrate_config('backup', 'on')");
  say('boom_restore_state', state(db) === now ? 'same' : state(db));
  say('boom_restore_fts', one(db, "SELECT body FROM notes WHERE notes MATCH 'hello'"));
  fail = false;
}
db.close();

// Still encrypted, and readable with the key only.
say('still_encrypted', head(file));
db = new Database(file);
say('without_key', one(db, 'SELECT count(*) FROM sqlite_schema'));
db.close();

// In exclusive locking mode no second connection can tell the database is
// encrypted: it is taken as plain, and the codec refuses the page copy.
{
  const ex = path.join(dir, 'exclusive', 'ex.db');
  fs.mkdirSync(path.dirname(ex));
  const e = open(ex, 'sqlcipher');
  e.exec("CREATE TABLE t(a); INSERT INTO t VALUES (1);");
  e.pragma('locking_mode=EXCLUSIVE');
  one(e, 'SELECT count(*) FROM t');
  say('exclusive_backup', one(e, `SELECT migrate_backup('${path.join(dir, 'exclusive', 'copy.db')}')`));
  e.close();
  say('exclusive_files', fs.readdirSync(path.dirname(ex)).filter(f => !f.startsWith('ex.db')).join(',') || '(none)');
}

// A new encrypted database with no page yet (the library's default
// cipher): its first backup is encrypted too.
const fresh = path.join(dir, 'fresh', 'new.db');
fs.mkdirSync(path.dirname(fresh));
db = open(fresh, 'chacha20');
say('fresh_mode', one(db, `PRAGMA journal_mode=${mode}`));
say('fresh_apply', one(db, `SELECT migrate_apply('${mig}')`));
db.close();
const freshAuto = autos(path.join(dir, 'fresh', 'backups'));
say('fresh_autos', freshAuto.length);
say('fresh_backup', backup(freshAuto[0], 'chacha20'));

// A plain database through the same library (its codec's VFS, no key):
// backed up as before, and the backup opens without a key.
const plain = path.join(dir, 'plain', 'plain.db');
fs.mkdirSync(path.dirname(plain));
db = open(plain);
say('plain_mode', one(db, `PRAGMA journal_mode=${mode}`));
say('plain_apply', one(db, `SELECT migrate_apply('${mig}')`));
const pb = path.join(dir, 'plain', 'copy.db');
say('plain_backup', one(db, `SELECT migrate_backup('${pb}') = '${pb}'`));
say('plain_check', one(db, `SELECT count(*) FROM migrate_check('${mig}')`));
db.close();
say('plain_backups', fs.readdirSync(path.join(dir, 'plain', 'backups')).length);
db = new Database(pb);
say('plain_copy', head(pb) + ' ' + one(db, 'SELECT count(*) FROM migrate_history')
    + ' ' + one(db, 'PRAGMA quick_check'));
db.close();

// An encrypted database with a virtual table of a module the application
// registered: creating it in the copy would run that module's code with
// arguments the database chose (doc/guarantees.md "Hostile database
// files"), so the backup is refused, the module never called, no file.
const vt = path.join(dir, 'vt', 'vt.db');
fs.mkdirSync(path.dirname(vt));
db = open(vt, 'sqlcipher');
let made = 0;
db.exec('CREATE TABLE t(x)');
db.table('watch', (...args) => {
  made++;
  return { columns: ['x'], *rows() { yield { x: 1 }; } };
});
db.exec("CREATE VIRTUAL TABLE w USING watch('/etc/hostname')");
made = 0;
say('vt_backup', one(db, `SELECT migrate_backup('${path.join(dir, 'vt', 'copy.db')}')`));
say('vt_made', made);
say('vt_files', listing(path.join(dir, 'vt')));
db.close();
say('done', '');
