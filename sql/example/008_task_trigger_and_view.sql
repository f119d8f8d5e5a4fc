-- migrate:up
-- Keep updated_at current on every change the app makes. The WHEN clause
-- skips updates that set updated_at themselves, including this trigger's own.
CREATE TRIGGER tasks_touch_updated_at
AFTER UPDATE ON tasks
FOR EACH ROW WHEN NEW.updated_at = OLD.updated_at
BEGIN
  UPDATE tasks
  SET updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
  WHERE id = NEW.id;
END;

-- The app's home screen: what is still open, soonest first, with its tags.
CREATE VIEW open_tasks AS
SELECT t.id,
       u.email  AS owner,
       p.name   AS project,
       t.title,
       t.status,
       t.due_date,
       (SELECT group_concat(g.name, ', ')
        FROM task_tags AS tt JOIN tags AS g ON g.id = tt.tag_id
        WHERE tt.task_id = t.id) AS tags
FROM tasks AS t
JOIN projects AS p ON p.id = t.project_id
JOIN users AS u ON u.id = p.owner_id
WHERE t.status <> 'done'
ORDER BY t.due_date IS NULL, t.due_date, t.id;

-- migrate:down
DROP VIEW open_tasks;
DROP TRIGGER tasks_touch_updated_at;
