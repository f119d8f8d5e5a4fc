'use strict';
// sqlite-migrate-ext: the migrate SQLite extension, built for one platform
// (package.json's "os" and "cpu" say which), and two ways to use it.
//
//   const Database = require('better-sqlite3');
//   const migrate = require('sqlite-migrate-ext');
//   const db = new Database('app.db');
//   migrate.load(db);
//   db.prepare("SELECT migrate_apply('db/migrations')").pluck().get();

const fs = require('fs');
const path = require('path');

const ENTRY_POINT = 'sqlite3_migrate_init';
const version = '@VERSION@';

// The extension file inside this package, for anything that loads SQLite
// extensions by path.
function getLoadablePath() {
  const file = path.join(__dirname, 'lib', `${process.platform}-${process.arch}`, 'migrate.so');
  if (!fs.existsSync(file)) {
    throw new Error(`sqlite-migrate-ext: this package holds no build for ` +
                    `${process.platform}-${process.arch} (${file} is missing)`);
  }
  return file;
}

// Load migrate into db, a better-sqlite3 Database (or anything with the same
// loadExtension(path, entryPoint)). Only db gains migrate's functions.
function load(db) {
  if (!db || typeof db.loadExtension !== 'function') {
    throw new TypeError('sqlite-migrate-ext: load(db) takes a database with a ' +
                        'loadExtension method, such as a better-sqlite3 Database');
  }
  db.loadExtension(getLoadablePath(), ENTRY_POINT);
  return db;
}

// Names only, no values: Node finds the named exports an ES module may
// import (import { load } from 'sqlite-migrate-ext') by reading this line.
module.exports = { load, getLoadablePath, ENTRY_POINT, version };
