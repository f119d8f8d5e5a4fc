// packages_node.js — the tarball of `make npm`, as a user has it after
// `npm install`, with better-sqlite3.
//
//   node packages_node.js DIR        (from the folder it was installed in)
//
// DIR is a fresh empty folder. Prints one "OK <step> <what it saw>" line per
// step, or "FAIL <step> <error>" and exits with status 1; test/packages.test
// checks the lines. better-sqlite3 is found through NODE_PATH,
// sqlite-migrate-ext in the node_modules of the current folder.
'use strict';
const fs = require('fs');
const path = require('path');

const MIGRATIONS = {
  '001_users.sql': '-- migrate:up\n' +
                   'CREATE TABLE users(id INTEGER PRIMARY KEY, name TEXT NOT NULL);\n' +
                   '-- migrate:down\n' +
                   'DROP TABLE users;\n',
  '002_seed.sql':  '-- migrate:up\n' +
                   "INSERT INTO users(name) VALUES (app_upper('ada'));\n" +
                   '-- migrate:down\n' +
                   'DELETE FROM users;\n',
};

function error(call) {
  try {
    call();
  } catch (e) {
    return `${e.name}: ${e.message}`;
  }
  return 'no error';
}

const work = process.argv[2];
const mdir = path.join(work, 'migrations');
fs.mkdirSync(mdir);
for (const [name, text] of Object.entries(MIGRATIONS)) fs.writeFileSync(path.join(mdir, name), text);

let step = 'require';
try {
  const Database = require('better-sqlite3');
  const migrate = require('sqlite-migrate-ext');
  const installed = require.resolve('sqlite-migrate-ext');
  console.log('OK require', installed === path.join(process.cwd(), 'node_modules',
              'sqlite-migrate-ext', 'index.js'), migrate.version,
              require('better-sqlite3/package.json').version.split('.')[0]);

  step = 'path';
  const file = migrate.getLoadablePath();
  console.log('OK path', path.relative(process.cwd(), file), fs.existsSync(file), migrate.ENTRY_POINT);

  step = 'load';
  const before = new Database(':memory:');
  const db = new Database(path.join(work, 'app.db'));
  db.function('app_upper', (s) => s.toUpperCase());
  console.log('OK load', migrate.load(db) === db,
              db.prepare('SELECT migrate_version()').pluck().get());

  step = 'apply';
  const status = () => db.prepare('SELECT version, status FROM migrations(?)').raw().all(mdir)
    .map((r) => r.join(':')).join(' ');
  console.log('OK apply', db.prepare('SELECT migrate_apply(?)').pluck().get(mdir), status(),
              db.prepare('SELECT name FROM users').pluck().get());

  step = 'rollback';
  console.log('OK rollback', db.prepare('SELECT migrate_rollback()').pluck().get(),
              db.prepare('SELECT count(*) FROM users').pluck().get(), status());

  step = 'twice';
  db.prepare("SELECT migrate_config('backup', 'off')").get();
  migrate.load(db);
  console.log('OK twice', db.prepare("SELECT migrate_config('backup')").pluck().get());

  // No other connection changed, open before or opened after.
  step = 'others';
  const after = new Database(':memory:');
  console.log('OK others', error(() => before.prepare('SELECT migrate_version()')), '|',
              error(() => after.prepare('SELECT migrate_version()')));

  // getLoadablePath() for a loader that derives the entry point itself.
  step = 'by_path';
  after.loadExtension(file);
  console.log('OK by_path', after.prepare('SELECT migrate_version()').pluck().get());

  step = 'not_database';
  console.log('OK not_database', error(() => migrate.load({})));

  step = 'close';
  for (const d of [before, after, db]) d.close();
  console.log('OK close');
} catch (e) {
  console.log('FAIL', step, `${e.name}: ${e.message}`);
  process.exit(1);
}
