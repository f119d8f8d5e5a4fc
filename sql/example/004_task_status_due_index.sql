-- migrate:up
-- A three-state workflow replaces the done flag. ADD COLUMN is enough here:
-- a constant default fills every existing row. (The CHECK comes in 007.)
ALTER TABLE tasks ADD COLUMN status TEXT NOT NULL DEFAULT 'todo';

-- "What is due this week?" Only dated tasks are worth indexing.
CREATE INDEX tasks_due ON tasks(due_date) WHERE due_date IS NOT NULL;

-- migrate:down
DROP INDEX tasks_due;
ALTER TABLE tasks DROP COLUMN status;
