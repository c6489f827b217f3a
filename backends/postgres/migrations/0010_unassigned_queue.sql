-- The Unassigned queue (what operators poll for work: open statuses, no assignee) in queue
-- order. Without it the planner, reading assignee and status as independent, expects a few
-- hundred such contacts where a busy centre has tens of thousands, sorts them all in
-- parallel workers (about 200 ms a page at 1M contacts, 48,000 waiting) and falls over
-- under 200 operators; with it a page reads its first rows in order (about 1 ms).
CREATE INDEX IF NOT EXISTS contacts_unassigned_queue ON contacts(prio_sort, sla_sort, created_at, id)
    WHERE status <> 'resolved' AND assignee IS NULL;
-- Status and assignee are not independent (unassigned contacts are new ones): estimates
-- for the queue's other filters combined with "unassigned" read both together.
CREATE STATISTICS IF NOT EXISTS contacts_status_assignee (mcv) ON status, assignee FROM contacts;
ANALYZE contacts;
