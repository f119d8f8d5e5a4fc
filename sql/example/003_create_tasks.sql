-- migrate:up
-- Tasks live in a project and go with it when the project is deleted.
-- Version 1 of the app only knows "done or not".
CREATE TABLE tasks (
  id          INTEGER PRIMARY KEY,
  project_id  INTEGER NOT NULL REFERENCES projects(id) ON DELETE CASCADE,
  title       TEXT NOT NULL,
  notes       TEXT,
  done        INTEGER NOT NULL DEFAULT 0 CHECK (done IN (0, 1)),
  due_date    TEXT,                       -- 'YYYY-MM-DD' or NULL
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

-- Foreign-key columns are not indexed automatically; the cascade needs one.
CREATE INDEX tasks_project ON tasks(project_id);

-- migrate:down
DROP TABLE tasks;   -- drops tasks_project with it
