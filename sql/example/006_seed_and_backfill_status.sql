-- migrate:up
-- Default tags, and a sample project every new install starts with.
INSERT INTO tags (name) VALUES ('urgent'), ('waiting'), ('someday');

INSERT INTO users (email, name) VALUES ('demo@example.com', 'Demo User');

INSERT INTO projects (owner_id, name)
SELECT id, 'Getting started' FROM users WHERE email = 'demo@example.com';

WITH sample(title, done, due_date) AS (
  VALUES ('Read the README',             1, NULL),
         ('Write your first migration',  0, date('now', '+1 day')),
         ('Try migrate_rollback(); it''s safe', 0, NULL)
)
INSERT INTO tasks (project_id, title, done, due_date)
SELECT p.id, s.title, s.done, s.due_date
FROM sample AS s, projects AS p JOIN users AS u ON u.id = p.owner_id
WHERE u.email = 'demo@example.com' AND p.name = 'Getting started';

INSERT INTO task_tags (task_id, tag_id)
SELECT t.id, g.id FROM tasks AS t, tags AS g
WHERE t.title = 'Write your first migration' AND g.name = 'urgent';

-- Backfill: until now the app wrote only `done`, so every status is still
-- the 'todo' that 004 filled in. Carry the flag over.
UPDATE tasks SET status = 'done' WHERE done = 1;

-- migrate:down
-- Undo the backfill: before 006 no status was anything but 'todo'.
UPDATE tasks SET status = 'todo' WHERE status <> 'todo';

-- Remove the sample rows, children first. Foreign keys are not enforced
-- during a migration (so ON DELETE CASCADE does not fire); the extension
-- runs foreign_key_check before it commits.
DELETE FROM task_tags
WHERE tag_id IN (SELECT id FROM tags WHERE name IN ('urgent', 'waiting', 'someday'))
   OR task_id IN (SELECT t.id FROM tasks AS t
                  JOIN projects AS p ON p.id = t.project_id
                  JOIN users AS u ON u.id = p.owner_id
                  WHERE u.email = 'demo@example.com');
DELETE FROM tasks WHERE project_id IN
  (SELECT p.id FROM projects AS p JOIN users AS u ON u.id = p.owner_id
   WHERE u.email = 'demo@example.com');
DELETE FROM projects WHERE owner_id IN
  (SELECT id FROM users WHERE email = 'demo@example.com');
DELETE FROM users WHERE email = 'demo@example.com';
DELETE FROM tags WHERE name IN ('urgent', 'waiting', 'someday');
