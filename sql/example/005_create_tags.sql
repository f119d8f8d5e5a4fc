-- migrate:up
-- Tags are shared by everyone; a task can carry any number of them.
CREATE TABLE tags (
  id    INTEGER PRIMARY KEY,
  name  TEXT NOT NULL UNIQUE COLLATE NOCASE
);

CREATE TABLE task_tags (
  task_id  INTEGER NOT NULL REFERENCES tasks(id) ON DELETE CASCADE,
  tag_id   INTEGER NOT NULL REFERENCES tags(id) ON DELETE CASCADE,
  PRIMARY KEY (task_id, tag_id)
) WITHOUT ROWID;

-- The primary key covers task_id; deleting a tag needs this one.
CREATE INDEX task_tags_tag ON task_tags(tag_id);

-- migrate:down
DROP TABLE task_tags;
DROP TABLE tags;
