-- migrate:up
-- A project belongs to one user; deleting the user deletes their projects.
CREATE TABLE projects (
  id          INTEGER PRIMARY KEY,
  owner_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  name        TEXT NOT NULL,
  created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
  UNIQUE (owner_id, name)      -- also serves lookups by owner_id
);

-- migrate:down
DROP TABLE projects;
