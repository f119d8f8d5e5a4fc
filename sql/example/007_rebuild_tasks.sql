-- migrate:up
-- Rebuild tasks, the SQLite way (https://sqlite.org/lang_altertable.html#otheralter):
-- ALTER TABLE cannot add a CHECK, drop a column that has a CHECK, or add a
-- column whose default is not a constant. This migration does all three:
--   * status may only be 'todo', 'doing' or 'done'
--   * the old done flag goes (status says it)
--   * updated_at, NOT NULL, defaulting to the current time
-- No PRAGMA foreign_keys here: the extension turns enforcement off around the
-- transaction (so DROP TABLE tasks does not cascade into task_tags) and runs
-- foreign_key_check before it commits.
CREATE TABLE tasks_new (
  id          INTEGER PRIMARY KEY,
  project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  title       TEXT NOT NULL,
  notes       TEXT,
  status      TEXT NOT NULL DEFAULT 'todo'
              CHECK (status IN ('todo', 'doing', 'done')),
  due_date    TEXT,                       -- 'YYYY-MM-DD' or NULL
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Keep the ids: task_tags refers to them. A status outside the CHECK makes
-- this INSERT fail, and the whole migration with it.
INSERT INTO tasks_new (id, project_id, title, notes, status, due_date, created_at, updated_at)
SELECT id, project_id, title, notes, status, due_date, created_at, created_at
FROM tasks;

DROP TABLE tasks;
ALTER TABLE tasks_new RENAME TO tasks;

-- Indexes went with the old table.
CREATE INDEX tasks_project ON tasks(project_id);
CREATE INDEX tasks_due ON tasks(due_date) WHERE due_date IS NOT NULL;

-- migrate:down
-- Rebuild back to the shape 003 + 004 left: done flag again, status without
-- its CHECK (as the last column, where ADD COLUMN put it), no updated_at.
CREATE TABLE tasks_old (
  id          INTEGER PRIMARY KEY,
  project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  title       TEXT NOT NULL,
  notes       TEXT,
  done        INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
  due_date    TEXT,                       -- 'YYYY-MM-DD' or NULL
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  status      TEXT NOT NULL DEFAULT 'todo'
);

INSERT INTO tasks_old (id, project_id, title, notes, done, due_date, created_at, status)
SELECT id, project_id, title, notes, status = 'done', due_date, created_at, status
FROM tasks;

DROP TABLE tasks;
ALTER TABLE tasks_old RENAME TO tasks;

CREATE INDEX tasks_project ON tasks(project_id);
CREATE INDEX tasks_due ON tasks(due_date) WHERE due_date IS NOT NULL;
