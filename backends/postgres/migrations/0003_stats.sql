-- Vista PostgreSQL store, schema version 3: supervisor KPIs (backends/postgres/stats.py),
-- one index per clock so that each windowed KPI reads only the contacts of its window,
-- and partial indexes of open work for the live figures (as the SQLite store's 0004).

CREATE INDEX stats_created ON contacts(created_at, channel, status, first_response_at);
CREATE INDEX stats_assigned ON contacts(assigned_at, channel, created_at)
    WHERE assigned_at IS NOT NULL;
CREATE INDEX stats_first_response ON contacts(first_response_at, channel, created_at, assignee)
    WHERE first_response_at IS NOT NULL;
CREATE INDEX stats_resolved ON contacts(resolved_at, channel, created_at, assigned_at, assignee)
    WHERE resolved_at IS NOT NULL;
-- the moment the SLA outcome became known: the first reply, else the resolution, else the
-- due time (keep the expression in step with SLA_SETTLED in stats.py)
CREATE INDEX stats_sla ON contacts(
    (least(coalesce(first_response_at, resolved_at, 9999999999), sla_due_at)), channel)
    WHERE sla_due_at IS NOT NULL;
CREATE INDEX stats_open ON contacts(channel, priority, created_at, assignee)
    WHERE status <> 'resolved';
CREATE INDEX stats_held ON contacts(assignee, status, created_at, first_response_at, sla_due_at)
    WHERE status <> 'resolved' AND assignee IS NOT NULL;
CREATE INDEX stats_unanswered_due ON contacts(sla_due_at, channel, assignee)
    WHERE status <> 'resolved' AND first_response_at IS NULL;
CREATE INDEX events_survey ON events(at) WHERE kind = 'survey';
