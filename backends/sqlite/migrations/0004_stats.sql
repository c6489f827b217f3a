-- Supervisor KPIs (backends/sqlite/stats.py): one covering index per clock, so that each
-- KPI reads only the index entries of its window. Partial where the KPI is about open work.
-- IF NOT EXISTS: harmless if a store got these under another migration number.

-- arrivals, unanswered and abandoned: by creation time
CREATE INDEX IF NOT EXISTS stats_created
    ON contacts(created_at, channel, status, first_response_at);

-- average speed of answer: by assignment time
CREATE INDEX IF NOT EXISTS stats_assigned
    ON contacts(assigned_at, channel, created_at) WHERE assigned_at IS NOT NULL;

-- first response time (and first responses per agent): by first reply time
CREATE INDEX IF NOT EXISTS stats_first_response
    ON contacts(first_response_at, channel, created_at, assignee) WHERE first_response_at IS NOT NULL;

-- handle and resolution time, resolved per agent: by resolution time
CREATE INDEX IF NOT EXISTS stats_resolved
    ON contacts(resolved_at, channel, created_at, assigned_at, assignee) WHERE resolved_at IS NOT NULL;

-- SLA attainment: by the moment the SLA outcome became known (the first reply, the
-- resolution if there was no reply, or the due time if neither came first)
CREATE INDEX IF NOT EXISTS stats_sla
    ON contacts(min(coalesce(first_response_at, resolved_at, 9999999999), sla_due_at),
                channel, first_response_at, resolved_at, sla_due_at)
    WHERE sla_due_at IS NOT NULL;

-- live backlog: unresolved contacts only, in the order the backlog groups them
CREATE INDEX IF NOT EXISTS stats_open
    ON contacts(channel, priority, created_at, assignee)
    WHERE status <> 'resolved';

-- live agent load: unresolved contacts somebody holds, by holder
CREATE INDEX IF NOT EXISTS stats_held
    ON contacts(assignee, status, created_at, first_response_at, sla_due_at, channel)
    WHERE status <> 'resolved' AND assignee IS NOT NULL;

-- at risk: unresolved, unanswered contacts by SLA due time
CREATE INDEX IF NOT EXISTS stats_unanswered_due
    ON contacts(sla_due_at, channel, assignee)
    WHERE status <> 'resolved' AND first_response_at IS NULL;

-- CSAT / NPS: the scores of survey events, kept by triggers in a narrow table, because
-- reading them out of the events' JSON payloads costs a table lookup per answer. `channel`
-- is the surveyed contact's (filled in when the contact arrives after its survey).
-- A score that is missing or out of range is NULL (1..5 for CSAT, 0..10 for NPS).
CREATE TABLE IF NOT EXISTS survey_scores (
    event_id   INTEGER PRIMARY KEY,
    at         INTEGER NOT NULL,
    contact_id INTEGER,
    channel    TEXT,
    csat       INTEGER,
    nps        INTEGER
);
CREATE INDEX IF NOT EXISTS survey_scores_at ON survey_scores(at, channel, csat, nps);
CREATE INDEX IF NOT EXISTS survey_scores_contact ON survey_scores(contact_id);

INSERT OR REPLACE INTO survey_scores(event_id, at, contact_id, channel, csat, nps)
    SELECT e.id, e.at, e.contact_id, c.channel,
        CASE WHEN json_valid(e.payload) AND typeof(json_extract(e.payload, '$.csat')) = 'integer'
             AND json_extract(e.payload, '$.csat') BETWEEN 1 AND 5
             THEN json_extract(e.payload, '$.csat') END,
        CASE WHEN json_valid(e.payload) AND typeof(json_extract(e.payload, '$.nps')) = 'integer'
             AND json_extract(e.payload, '$.nps') BETWEEN 0 AND 10
             THEN json_extract(e.payload, '$.nps') END
    FROM events e LEFT JOIN contacts c ON c.id = e.contact_id WHERE e.kind = 'survey';

CREATE TRIGGER IF NOT EXISTS survey_scores_insert AFTER INSERT ON events
WHEN new.kind = 'survey'
BEGIN
    INSERT OR REPLACE INTO survey_scores(event_id, at, contact_id, channel, csat, nps) VALUES (
        new.id, new.at, new.contact_id,
        (SELECT channel FROM contacts WHERE id = new.contact_id),
        CASE WHEN json_valid(new.payload) AND typeof(json_extract(new.payload, '$.csat')) = 'integer'
             AND json_extract(new.payload, '$.csat') BETWEEN 1 AND 5
             THEN json_extract(new.payload, '$.csat') END,
        CASE WHEN json_valid(new.payload) AND typeof(json_extract(new.payload, '$.nps')) = 'integer'
             AND json_extract(new.payload, '$.nps') BETWEEN 0 AND 10
             THEN json_extract(new.payload, '$.nps') END);
END;

CREATE TRIGGER IF NOT EXISTS survey_scores_update AFTER UPDATE OF kind, at, payload, contact_id
ON events
BEGIN
    DELETE FROM survey_scores WHERE event_id = old.id;
    INSERT INTO survey_scores(event_id, at, contact_id, channel, csat, nps) SELECT
        new.id, new.at, new.contact_id,
        (SELECT channel FROM contacts WHERE id = new.contact_id),
        CASE WHEN json_valid(new.payload) AND typeof(json_extract(new.payload, '$.csat')) = 'integer'
             AND json_extract(new.payload, '$.csat') BETWEEN 1 AND 5
             THEN json_extract(new.payload, '$.csat') END,
        CASE WHEN json_valid(new.payload) AND typeof(json_extract(new.payload, '$.nps')) = 'integer'
             AND json_extract(new.payload, '$.nps') BETWEEN 0 AND 10
             THEN json_extract(new.payload, '$.nps') END
    WHERE new.kind = 'survey';
END;

CREATE TRIGGER IF NOT EXISTS survey_scores_delete AFTER DELETE ON events
WHEN old.kind = 'survey'
BEGIN
    DELETE FROM survey_scores WHERE event_id = old.id;
END;

CREATE TRIGGER IF NOT EXISTS survey_scores_contact_insert AFTER INSERT ON contacts
BEGIN
    UPDATE survey_scores SET channel = new.channel WHERE contact_id = new.id;
END;

CREATE TRIGGER IF NOT EXISTS survey_scores_contact_channel AFTER UPDATE OF channel ON contacts
BEGIN
    UPDATE survey_scores SET channel = new.channel WHERE contact_id = new.id;
END;

-- Hourly rollup of the windowed KPIs, per channel (and per agent for their output), kept
-- exact by triggers on contacts: each contact adds itself to the hour in which each of its
-- clocks stopped (see backends/sqlite/stats.py); a change subtracts the old row and adds
-- the new one. Long windows sum these rows for their whole hours and read the contacts only
-- at the edges. Keep the triggers and the backfill in step with the queries of stats.py.
CREATE TABLE IF NOT EXISTS kpi_hourly (
    hour    INTEGER NOT NULL,  -- unix seconds / 3600 of the clock stop
    channel TEXT NOT NULL,
    arrivals       INTEGER NOT NULL DEFAULT 0,
    unanswered     INTEGER NOT NULL DEFAULT 0,
    abandoned      INTEGER NOT NULL DEFAULT 0,
    assigned       INTEGER NOT NULL DEFAULT 0,
    asa_sum        INTEGER NOT NULL DEFAULT 0,
    first_replies  INTEGER NOT NULL DEFAULT 0,
    frt_sum        INTEGER NOT NULL DEFAULT 0,
    resolved       INTEGER NOT NULL DEFAULT 0,
    resolution_sum INTEGER NOT NULL DEFAULT 0,
    handled        INTEGER NOT NULL DEFAULT 0,
    aht_sum        INTEGER NOT NULL DEFAULT 0,
    sla_met        INTEGER NOT NULL DEFAULT 0,
    sla_breached   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, channel)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS kpi_agent_hourly (
    hour     INTEGER NOT NULL,
    channel  TEXT NOT NULL,
    assignee TEXT NOT NULL,
    first_replies  INTEGER NOT NULL DEFAULT 0,
    resolved       INTEGER NOT NULL DEFAULT 0,
    handled        INTEGER NOT NULL DEFAULT 0,
    aht_sum        INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (hour, channel, assignee)
) WITHOUT ROWID;

DELETE FROM kpi_hourly;
DELETE FROM kpi_agent_hourly;
INSERT INTO kpi_hourly(hour, channel, arrivals, unanswered, abandoned)
    SELECT created_at / 3600, channel, sum(1), sum(status <> 'resolved' AND first_response_at IS NULL), sum(status = 'resolved' AND first_response_at IS NULL)
    FROM contacts WHERE true GROUP BY 1, 2
    ON CONFLICT(hour, channel) DO UPDATE SET arrivals = arrivals + excluded.arrivals, unanswered = unanswered + excluded.unanswered, abandoned = abandoned + excluded.abandoned;
INSERT INTO kpi_hourly(hour, channel, assigned, asa_sum)
    SELECT assigned_at / 3600, channel, sum(1), sum(max(assigned_at - created_at, 0))
    FROM contacts WHERE assigned_at IS NOT NULL GROUP BY 1, 2
    ON CONFLICT(hour, channel) DO UPDATE SET assigned = assigned + excluded.assigned, asa_sum = asa_sum + excluded.asa_sum;
INSERT INTO kpi_hourly(hour, channel, first_replies, frt_sum)
    SELECT first_response_at / 3600, channel, sum(1), sum(max(first_response_at - created_at, 0))
    FROM contacts WHERE first_response_at IS NOT NULL GROUP BY 1, 2
    ON CONFLICT(hour, channel) DO UPDATE SET first_replies = first_replies + excluded.first_replies, frt_sum = frt_sum + excluded.frt_sum;
INSERT INTO kpi_hourly(hour, channel, resolved, resolution_sum, handled, aht_sum)
    SELECT resolved_at / 3600, channel, sum(1), sum(max(resolved_at - created_at, 0)), sum(assigned_at IS NOT NULL), sum(coalesce(max(resolved_at - assigned_at, 0), 0))
    FROM contacts WHERE resolved_at IS NOT NULL GROUP BY 1, 2
    ON CONFLICT(hour, channel) DO UPDATE SET resolved = resolved + excluded.resolved, resolution_sum = resolution_sum + excluded.resolution_sum, handled = handled + excluded.handled, aht_sum = aht_sum + excluded.aht_sum;
INSERT INTO kpi_hourly(hour, channel, sla_met, sla_breached)
    SELECT min(coalesce(first_response_at, resolved_at, 9999999999), sla_due_at) / 3600, channel, sum(coalesce(coalesce(first_response_at, resolved_at) <= sla_due_at, 0)), sum(1 - coalesce(coalesce(first_response_at, resolved_at) <= sla_due_at, 0))
    FROM contacts WHERE sla_due_at IS NOT NULL GROUP BY 1, 2
    ON CONFLICT(hour, channel) DO UPDATE SET sla_met = sla_met + excluded.sla_met, sla_breached = sla_breached + excluded.sla_breached;
INSERT INTO kpi_agent_hourly(hour, channel, assignee, first_replies)
    SELECT first_response_at / 3600, channel, assignee, sum(1)
    FROM contacts WHERE first_response_at IS NOT NULL AND assignee IS NOT NULL GROUP BY 1, 2, 3
    ON CONFLICT(hour, channel, assignee) DO UPDATE SET first_replies = first_replies + excluded.first_replies;
INSERT INTO kpi_agent_hourly(hour, channel, assignee, resolved, handled, aht_sum)
    SELECT resolved_at / 3600, channel, assignee, sum(1), sum(assigned_at IS NOT NULL), sum(coalesce(max(resolved_at - assigned_at, 0), 0))
    FROM contacts WHERE resolved_at IS NOT NULL AND assignee IS NOT NULL GROUP BY 1, 2, 3
    ON CONFLICT(hour, channel, assignee) DO UPDATE SET resolved = resolved + excluded.resolved, handled = handled + excluded.handled, aht_sum = aht_sum + excluded.aht_sum;

CREATE TRIGGER IF NOT EXISTS kpi_hourly_insert AFTER INSERT ON contacts
BEGIN
    INSERT INTO kpi_hourly(hour, channel, arrivals, unanswered, abandoned)
    SELECT new.created_at / 3600, new.channel, 1, new.status <> 'resolved' AND new.first_response_at IS NULL, new.status = 'resolved' AND new.first_response_at IS NULL
    WHERE true
    ON CONFLICT(hour, channel) DO UPDATE SET arrivals = arrivals + excluded.arrivals, unanswered = unanswered + excluded.unanswered, abandoned = abandoned + excluded.abandoned;
    INSERT INTO kpi_hourly(hour, channel, assigned, asa_sum)
    SELECT new.assigned_at / 3600, new.channel, 1, max(new.assigned_at - new.created_at, 0)
    WHERE new.assigned_at IS NOT NULL
    ON CONFLICT(hour, channel) DO UPDATE SET assigned = assigned + excluded.assigned, asa_sum = asa_sum + excluded.asa_sum;
    INSERT INTO kpi_hourly(hour, channel, first_replies, frt_sum)
    SELECT new.first_response_at / 3600, new.channel, 1, max(new.first_response_at - new.created_at, 0)
    WHERE new.first_response_at IS NOT NULL
    ON CONFLICT(hour, channel) DO UPDATE SET first_replies = first_replies + excluded.first_replies, frt_sum = frt_sum + excluded.frt_sum;
    INSERT INTO kpi_hourly(hour, channel, resolved, resolution_sum, handled, aht_sum)
    SELECT new.resolved_at / 3600, new.channel, 1, max(new.resolved_at - new.created_at, 0), new.assigned_at IS NOT NULL, coalesce(max(new.resolved_at - new.assigned_at, 0), 0)
    WHERE new.resolved_at IS NOT NULL
    ON CONFLICT(hour, channel) DO UPDATE SET resolved = resolved + excluded.resolved, resolution_sum = resolution_sum + excluded.resolution_sum, handled = handled + excluded.handled, aht_sum = aht_sum + excluded.aht_sum;
    INSERT INTO kpi_hourly(hour, channel, sla_met, sla_breached)
    SELECT min(coalesce(new.first_response_at, new.resolved_at, 9999999999), new.sla_due_at) / 3600, new.channel, coalesce(coalesce(new.first_response_at, new.resolved_at) <= new.sla_due_at, 0), 1 - coalesce(coalesce(new.first_response_at, new.resolved_at) <= new.sla_due_at, 0)
    WHERE new.sla_due_at IS NOT NULL
    ON CONFLICT(hour, channel) DO UPDATE SET sla_met = sla_met + excluded.sla_met, sla_breached = sla_breached + excluded.sla_breached;
    INSERT INTO kpi_agent_hourly(hour, channel, assignee, first_replies)
    SELECT new.first_response_at / 3600, new.channel, new.assignee, 1
    WHERE new.first_response_at IS NOT NULL AND new.assignee IS NOT NULL
    ON CONFLICT(hour, channel, assignee) DO UPDATE SET first_replies = first_replies + excluded.first_replies;
    INSERT INTO kpi_agent_hourly(hour, channel, assignee, resolved, handled, aht_sum)
    SELECT new.resolved_at / 3600, new.channel, new.assignee, 1, new.assigned_at IS NOT NULL, coalesce(max(new.resolved_at - new.assigned_at, 0), 0)
    WHERE new.resolved_at IS NOT NULL AND new.assignee IS NOT NULL
    ON CONFLICT(hour, channel, assignee) DO UPDATE SET resolved = resolved + excluded.resolved, handled = handled + excluded.handled, aht_sum = aht_sum + excluded.aht_sum;
END;

CREATE TRIGGER IF NOT EXISTS kpi_hourly_delete AFTER DELETE ON contacts
BEGIN
    INSERT INTO kpi_hourly(hour, channel, arrivals, unanswered, abandoned)
    SELECT old.created_at / 3600, old.channel, -(1), -(old.status <> 'resolved' AND old.first_response_at IS NULL), -(old.status = 'resolved' AND old.first_response_at IS NULL)
    WHERE true
    ON CONFLICT(hour, channel) DO UPDATE SET arrivals = arrivals + excluded.arrivals, unanswered = unanswered + excluded.unanswered, abandoned = abandoned + excluded.abandoned;
    INSERT INTO kpi_hourly(hour, channel, assigned, asa_sum)
    SELECT old.assigned_at / 3600, old.channel, -(1), -(max(old.assigned_at - old.created_at, 0))
    WHERE old.assigned_at IS NOT NULL
    ON CONFLICT(hour, channel) DO UPDATE SET assigned = assigned + excluded.assigned, asa_sum = asa_sum + excluded.asa_sum;
    INSERT INTO kpi_hourly(hour, channel, first_replies, frt_sum)
    SELECT old.first_response_at / 3600, old.channel, -(1), -(max(old.first_response_at - old.created_at, 0))
    WHERE old.first_response_at IS NOT NULL
    ON CONFLICT(hour, channel) DO UPDATE SET first_replies = first_replies + excluded.first_replies, frt_sum = frt_sum + excluded.frt_sum;
    INSERT INTO kpi_hourly(hour, channel, resolved, resolution_sum, handled, aht_sum)
    SELECT old.resolved_at / 3600, old.channel, -(1), -(max(old.resolved_at - old.created_at, 0)), -(old.assigned_at IS NOT NULL), -(coalesce(max(old.resolved_at - old.assigned_at, 0), 0))
    WHERE old.resolved_at IS NOT NULL
    ON CONFLICT(hour, channel) DO UPDATE SET resolved = resolved + excluded.resolved, resolution_sum = resolution_sum + excluded.resolution_sum, handled = handled + excluded.handled, aht_sum = aht_sum + excluded.aht_sum;
    INSERT INTO kpi_hourly(hour, channel, sla_met, sla_breached)
    SELECT min(coalesce(old.first_response_at, old.resolved_at, 9999999999), old.sla_due_at) / 3600, old.channel, -(coalesce(coalesce(old.first_response_at, old.resolved_at) <= old.sla_due_at, 0)), -(1 - coalesce(coalesce(old.first_response_at, old.resolved_at) <= old.sla_due_at, 0))
    WHERE old.sla_due_at IS NOT NULL
    ON CONFLICT(hour, channel) DO UPDATE SET sla_met = sla_met + excluded.sla_met, sla_breached = sla_breached + excluded.sla_breached;
    INSERT INTO kpi_agent_hourly(hour, channel, assignee, first_replies)
    SELECT old.first_response_at / 3600, old.channel, old.assignee, -(1)
    WHERE old.first_response_at IS NOT NULL AND old.assignee IS NOT NULL
    ON CONFLICT(hour, channel, assignee) DO UPDATE SET first_replies = first_replies + excluded.first_replies;
    INSERT INTO kpi_agent_hourly(hour, channel, assignee, resolved, handled, aht_sum)
    SELECT old.resolved_at / 3600, old.channel, old.assignee, -(1), -(old.assigned_at IS NOT NULL), -(coalesce(max(old.resolved_at - old.assigned_at, 0), 0))
    WHERE old.resolved_at IS NOT NULL AND old.assignee IS NOT NULL
    ON CONFLICT(hour, channel, assignee) DO UPDATE SET resolved = resolved + excluded.resolved, handled = handled + excluded.handled, aht_sum = aht_sum + excluded.aht_sum;
END;

CREATE TRIGGER IF NOT EXISTS kpi_hourly_update
AFTER UPDATE OF channel, status, created_at, assigned_at, first_response_at, resolved_at,
    sla_due_at, assignee ON contacts
BEGIN
    INSERT INTO kpi_hourly(hour, channel, arrivals, unanswered, abandoned)
    SELECT old.created_at / 3600, old.channel, -(1), -(old.status <> 'resolved' AND old.first_response_at IS NULL), -(old.status = 'resolved' AND old.first_response_at IS NULL)
    WHERE true
    ON CONFLICT(hour, channel) DO UPDATE SET arrivals = arrivals + excluded.arrivals, unanswered = unanswered + excluded.unanswered, abandoned = abandoned + excluded.abandoned;
    INSERT INTO kpi_hourly(hour, channel, assigned, asa_sum)
    SELECT old.assigned_at / 3600, old.channel, -(1), -(max(old.assigned_at - old.created_at, 0))
    WHERE old.assigned_at IS NOT NULL
    ON CONFLICT(hour, channel) DO UPDATE SET assigned = assigned + excluded.assigned, asa_sum = asa_sum + excluded.asa_sum;
    INSERT INTO kpi_hourly(hour, channel, first_replies, frt_sum)
    SELECT old.first_response_at / 3600, old.channel, -(1), -(max(old.first_response_at - old.created_at, 0))
    WHERE old.first_response_at IS NOT NULL
    ON CONFLICT(hour, channel) DO UPDATE SET first_replies = first_replies + excluded.first_replies, frt_sum = frt_sum + excluded.frt_sum;
    INSERT INTO kpi_hourly(hour, channel, resolved, resolution_sum, handled, aht_sum)
    SELECT old.resolved_at / 3600, old.channel, -(1), -(max(old.resolved_at - old.created_at, 0)), -(old.assigned_at IS NOT NULL), -(coalesce(max(old.resolved_at - old.assigned_at, 0), 0))
    WHERE old.resolved_at IS NOT NULL
    ON CONFLICT(hour, channel) DO UPDATE SET resolved = resolved + excluded.resolved, resolution_sum = resolution_sum + excluded.resolution_sum, handled = handled + excluded.handled, aht_sum = aht_sum + excluded.aht_sum;
    INSERT INTO kpi_hourly(hour, channel, sla_met, sla_breached)
    SELECT min(coalesce(old.first_response_at, old.resolved_at, 9999999999), old.sla_due_at) / 3600, old.channel, -(coalesce(coalesce(old.first_response_at, old.resolved_at) <= old.sla_due_at, 0)), -(1 - coalesce(coalesce(old.first_response_at, old.resolved_at) <= old.sla_due_at, 0))
    WHERE old.sla_due_at IS NOT NULL
    ON CONFLICT(hour, channel) DO UPDATE SET sla_met = sla_met + excluded.sla_met, sla_breached = sla_breached + excluded.sla_breached;
    INSERT INTO kpi_agent_hourly(hour, channel, assignee, first_replies)
    SELECT old.first_response_at / 3600, old.channel, old.assignee, -(1)
    WHERE old.first_response_at IS NOT NULL AND old.assignee IS NOT NULL
    ON CONFLICT(hour, channel, assignee) DO UPDATE SET first_replies = first_replies + excluded.first_replies;
    INSERT INTO kpi_agent_hourly(hour, channel, assignee, resolved, handled, aht_sum)
    SELECT old.resolved_at / 3600, old.channel, old.assignee, -(1), -(old.assigned_at IS NOT NULL), -(coalesce(max(old.resolved_at - old.assigned_at, 0), 0))
    WHERE old.resolved_at IS NOT NULL AND old.assignee IS NOT NULL
    ON CONFLICT(hour, channel, assignee) DO UPDATE SET resolved = resolved + excluded.resolved, handled = handled + excluded.handled, aht_sum = aht_sum + excluded.aht_sum;
    INSERT INTO kpi_hourly(hour, channel, arrivals, unanswered, abandoned)
    SELECT new.created_at / 3600, new.channel, 1, new.status <> 'resolved' AND new.first_response_at IS NULL, new.status = 'resolved' AND new.first_response_at IS NULL
    WHERE true
    ON CONFLICT(hour, channel) DO UPDATE SET arrivals = arrivals + excluded.arrivals, unanswered = unanswered + excluded.unanswered, abandoned = abandoned + excluded.abandoned;
    INSERT INTO kpi_hourly(hour, channel, assigned, asa_sum)
    SELECT new.assigned_at / 3600, new.channel, 1, max(new.assigned_at - new.created_at, 0)
    WHERE new.assigned_at IS NOT NULL
    ON CONFLICT(hour, channel) DO UPDATE SET assigned = assigned + excluded.assigned, asa_sum = asa_sum + excluded.asa_sum;
    INSERT INTO kpi_hourly(hour, channel, first_replies, frt_sum)
    SELECT new.first_response_at / 3600, new.channel, 1, max(new.first_response_at - new.created_at, 0)
    WHERE new.first_response_at IS NOT NULL
    ON CONFLICT(hour, channel) DO UPDATE SET first_replies = first_replies + excluded.first_replies, frt_sum = frt_sum + excluded.frt_sum;
    INSERT INTO kpi_hourly(hour, channel, resolved, resolution_sum, handled, aht_sum)
    SELECT new.resolved_at / 3600, new.channel, 1, max(new.resolved_at - new.created_at, 0), new.assigned_at IS NOT NULL, coalesce(max(new.resolved_at - new.assigned_at, 0), 0)
    WHERE new.resolved_at IS NOT NULL
    ON CONFLICT(hour, channel) DO UPDATE SET resolved = resolved + excluded.resolved, resolution_sum = resolution_sum + excluded.resolution_sum, handled = handled + excluded.handled, aht_sum = aht_sum + excluded.aht_sum;
    INSERT INTO kpi_hourly(hour, channel, sla_met, sla_breached)
    SELECT min(coalesce(new.first_response_at, new.resolved_at, 9999999999), new.sla_due_at) / 3600, new.channel, coalesce(coalesce(new.first_response_at, new.resolved_at) <= new.sla_due_at, 0), 1 - coalesce(coalesce(new.first_response_at, new.resolved_at) <= new.sla_due_at, 0)
    WHERE new.sla_due_at IS NOT NULL
    ON CONFLICT(hour, channel) DO UPDATE SET sla_met = sla_met + excluded.sla_met, sla_breached = sla_breached + excluded.sla_breached;
    INSERT INTO kpi_agent_hourly(hour, channel, assignee, first_replies)
    SELECT new.first_response_at / 3600, new.channel, new.assignee, 1
    WHERE new.first_response_at IS NOT NULL AND new.assignee IS NOT NULL
    ON CONFLICT(hour, channel, assignee) DO UPDATE SET first_replies = first_replies + excluded.first_replies;
    INSERT INTO kpi_agent_hourly(hour, channel, assignee, resolved, handled, aht_sum)
    SELECT new.resolved_at / 3600, new.channel, new.assignee, 1, new.assigned_at IS NOT NULL, coalesce(max(new.resolved_at - new.assigned_at, 0), 0)
    WHERE new.resolved_at IS NOT NULL AND new.assignee IS NOT NULL
    ON CONFLICT(hour, channel, assignee) DO UPDATE SET resolved = resolved + excluded.resolved, handled = handled + excluded.handled, aht_sum = aht_sum + excluded.aht_sum;
END;
