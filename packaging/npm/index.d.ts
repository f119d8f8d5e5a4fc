/** A database that loads SQLite extensions, such as a better-sqlite3 Database. */
export interface ExtensionLoader {
  loadExtension(path: string, entryPoint?: string): unknown;
}
/** Loads migrate into db (only db) and returns db. */
export function load<T extends ExtensionLoader>(db: T): T;
/** The absolute path of the extension file in this package. */
export function getLoadablePath(): string;
/** The extension's entry point, for loaders that ask for it. */
export const ENTRY_POINT: 'sqlite3_migrate_init';
/** The package's version, the extension's migrate_version(). */
export const version: string;
