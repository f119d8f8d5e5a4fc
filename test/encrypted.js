// encrypted.js — test/encrypted.test's driver: migrate loaded into
// better-sqlite3-multiple-ciphers (SQLite with an encrypting codec), on a
// database encrypted with PRAGMA key, in one journal mode.
//
//   node test/encrypted.js <migrate.so> <empty folder> <delete|wal>
//
// Prints "OK <step> <what it saw>" per step; a call that fails prints its
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
function open(file, key, cipher) {
  const db = new Database(file);
  if (key) {
    db.pragma(`cipher='${cipher}'`);
    if (cipher === 'sqlcipher') db.pragma('legacy=4');
    db.pragma(`key='${key}'`);
  }
  db.loadExtension(lib);
  return db;
}
// What a refused call must leave as it was: tables, history, the journal
// mode, no transaction, no attached database, the rows. (A failed
// migrate_apply adds its row to migrate_log, as every failed call does.)
function state(db) {
  const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type='table'"
                            + " AND name<>'migrate_log' ORDER BY name").pluck().all().join(',');
  const hist = one(db, "SELECT group_concat(version) FROM migrate_history");
  const schemas = db.prepare('PRAGMA database_list').all().map(r => r.name).join(',');
  return `${tables}|${hist}|${one(db, 'PRAGMA journal_mode')}|`
       + `${db.inTransaction ? 'txn' : 'autocommit'}|${schemas}|`
       + `${one(db, 'SELECT count(*) FROM items')}`;
}
// Is the file at p an SQLite database anyone can read, without a key?
function head(p) {
  const b = fs.readFileSync(p).subarray(0, 16).toString('latin1');
  return b === 'SQLite format 3\0' ? 'plain' : 'not-plain';
}
function listing(p) {
  return fs.existsSync(p) ? fs.readdirSync(p).sort().join(',') || '(empty)' : '(none)';
}
function write(name, text) { fs.writeFileSync(path.join(mig, name), text); }

fs.mkdirSync(mig, { recursive: true });
write('001_users.sql', '-- migrate:up\nCREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT);\n'
      + "INSERT INTO users(name) VALUES ('ada');\n-- migrate:down\nDROP TABLE users;\n");

// The encrypted database: SQLCipher's scheme, a key, one journal mode.
const file = path.join(dir, 'app.db');
let db = open(file, 'secret', 'sqlcipher');
say('journal_mode', one(db, `PRAGMA journal_mode=${mode}`));
db.exec("CREATE TABLE items(id INTEGER PRIMARY KEY, v TEXT);"
        + "INSERT INTO items(v) VALUES ('one'), ('two');");
say('encrypted', head(file));
const before = state(db);
say('state', before);

// Automatic backups on (the default): refused before anything is written.
say('apply', one(db, `SELECT migrate_apply('${mig}')`));
say('apply_state', state(db) === before ? 'same' : state(db));
say('apply_log', one(db, "SELECT action || '/' || outcome FROM migrate_log"));
say('apply_files', listing(dir));
say('apply_again', one(db, `SELECT migrate_apply('${mig}')`));

// migrate_backup: to a file, and to a folder that does not exist yet.
const bfile = path.join(dir, 'copy.db');
say('backup', one(db, `SELECT migrate_backup('${bfile}')`));
say('backup_dir', one(db, `SELECT migrate_backup('${path.join(dir, 'b')}/')`));
say('backup_state', state(db) === before ? 'same' : state(db));
say('backup_files', listing(dir));

// migrate_restore, of a file that exists.
fs.copyFileSync(file, path.join(dir, 'old.db'));
say('restore', one(db, `SELECT migrate_restore('${path.join(dir, 'old.db')}')`));
say('restore_state', state(db) === before ? 'same' : state(db));

// migrate_check works: the copy is read with the key, in memory.
const rows = db.prepare(`SELECT version, "check", ok FROM migrate_check('${mig}')`)
  .raw().all().map(r => r.join(':')).join(' ');
say('check', rows);
say('check_state', state(db) === before ? 'same' : state(db));
say('check_files', listing(dir));

// With automatic backups off, apply works, twice.
say('backup_off', one(db, "SELECT migrate_config('backup', 'off')"));
say('apply_off', one(db, `SELECT migrate_apply('${mig}')`));
write('002_tags.sql', '-- migrate:up\nCREATE TABLE tags(id INTEGER PRIMARY KEY);\n'
      + '-- migrate:down\nDROP TABLE tags;\n');
say('apply_off2', one(db, `SELECT migrate_apply('${mig}')`));
say('history', one(db, 'SELECT group_concat(version) FROM migrate_history'));
say('check_after', one(db, `SELECT count(*) FROM migrate_check('${mig}')`));
db.close();

// Still encrypted, and readable with the key only.
say('still_encrypted', head(file));
db = new Database(file);
say('without_key', one(db, 'SELECT count(*) FROM sqlite_schema'));
db.close();
db = open(file, 'secret', 'sqlcipher');
say('with_key', one(db, 'SELECT group_concat(name) FROM users') + ' '
    + one(db, 'PRAGMA quick_check'));
db.close();

// An encrypted database that has no page yet (the library's default
// cipher): the first apply is refused too, and no plain file is written.
const fresh = path.join(dir, 'fresh', 'new.db');
fs.mkdirSync(path.dirname(fresh));
db = open(fresh, 'secret', 'chacha20');
say('fresh_mode', one(db, `PRAGMA journal_mode=${mode}`));
say('fresh_apply', one(db, `SELECT migrate_apply('${mig}')`));
say('fresh_files', listing(path.dirname(fresh)));
db.close();

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
say('done', '');
