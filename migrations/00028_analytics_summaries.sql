-- +goose Up
-- Playbook analytics reads summaries, not history (issue 27). Whole-history
-- reports read every run and outbox row of the period (1.5-3.2 s at 100,000
-- runs); now triggers on the tables that hold history write what each change
-- adds to or takes from the figures, in the transaction that makes the change,
-- and the endpoint adds those up per day.
--
-- analytics_counts: n of metric (at bucket) for the runs of a playbook version
-- that started on day (UTC), per step ('' for the run's own figures).
-- analytics_deltas: what changes add, appended without locking anything: two
-- transactions never wait for each other on a counter, and webhook batches
-- cannot deadlock on shared rows. analytics_compact() folds them into
-- analytics_counts (the worker does every few seconds); readers add both, so
-- the figures are exact whether or not the fold has run.
-- analytics_rebuild() recomputes everything from history; a test holds the two
-- equal.

-- Each run's state that the figures need and no single row holds: which
-- steps it left records of (per source) and how far along the definition
-- that got it; its account's health band and ARR when it started and ended
-- (as known when it ended); when its account first logged in and first got
-- value after it started.
ALTER TABLE runs
    ADD COLUMN reached        text[]  NOT NULL DEFAULT '{}',
    ADD COLUMN furthest_pos   integer NOT NULL DEFAULT -1,
    ADD COLUMN band_at_start  text,
    ADD COLUMN band_at_end    text,
    ADD COLUMN arr_at_start   numeric(14,2),
    ADD COLUMN arr_at_end     numeric(14,2),
    ADD COLUMN first_login_at timestamptz,
    ADD COLUMN first_value_at timestamptz;

-- A survey email's figures count under the account's segment when it was
-- written, so that an answer later counts where its email did.
ALTER TABLE emails ADD COLUMN segment text;

-- Where each step comes in its version's definition (depth first, branches
-- in order): analytics.walk's order, which a test holds equal.
CREATE TABLE playbook_step_positions (
    playbook_key     text    NOT NULL,
    playbook_version integer NOT NULL,
    step_id          text    NOT NULL,
    pos              integer NOT NULL,
    PRIMARY KEY (playbook_key, playbook_version, step_id),
    FOREIGN KEY (playbook_key, playbook_version) REFERENCES playbook_versions (key, version) ON DELETE CASCADE
);

CREATE TABLE analytics_counts (
    playbook_key     text    NOT NULL,
    playbook_version integer NOT NULL,
    day              date    NOT NULL,
    step             text    NOT NULL,
    metric           text    NOT NULL,
    bucket           integer NOT NULL,
    n                bigint  NOT NULL,
    PRIMARY KEY (playbook_key, playbook_version, day, step, metric, bucket)
);

-- The same counts by month (the first day of the month): a year of days
-- reads as the whole months in it plus the days at its ends.
CREATE TABLE analytics_counts_monthly (
    playbook_key     text    NOT NULL,
    playbook_version integer NOT NULL,
    month            date    NOT NULL CHECK (extract(day FROM month) = 1),
    step             text    NOT NULL,
    metric           text    NOT NULL,
    bucket           integer NOT NULL,
    n                bigint  NOT NULL,
    PRIMARY KEY (playbook_key, playbook_version, month, step, metric, bucket)
);

CREATE TABLE analytics_deltas (
    id               bigserial PRIMARY KEY,
    playbook_key     text    NOT NULL,
    playbook_version integer NOT NULL,
    day              date    NOT NULL,
    step             text    NOT NULL,
    metric           text    NOT NULL,
    bucket           integer NOT NULL,
    n                bigint  NOT NULL
);
CREATE INDEX analytics_deltas_scope_idx ON analytics_deltas (playbook_key, playbook_version, day);

-- Overdue tasks are open tasks due before now: the days before today come
-- from the counts (by due day), today's from the tasks themselves.
CREATE INDEX tasks_open_due_idx ON tasks (due_at) WHERE status = 'open' AND run_id IS NOT NULL;

-- +goose StatementBegin
CREATE FUNCTION analytics_paused() RETURNS boolean LANGUAGE sql STABLE AS $$
    SELECT COALESCE(current_setting('playbookd.analytics_paused', true) = 'on', false)
$$;
-- +goose StatementEnd

-- The definition step a record belongs to: repeated steps carry "#n",
-- escalation tasks "/escalated-Ln" after the step id.
-- +goose StatementBegin
CREATE FUNCTION analytics_step(step_id text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT split_part(split_part(step_id, '/', 1), '#', 1)
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION analytics_day(t timestamptz) RETURNS date LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (t AT TIME ZONE 'UTC')::date
$$;
-- +goose StatementEnd

-- Durations are counted in buckets 2 % wide (a median read from them is
-- within 1 % of the exact one); -1 holds durations under a second.
-- +goose StatementBegin
CREATE FUNCTION analytics_bucket(seconds double precision) RETURNS integer LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN seconds < 1 THEN -1 ELSE floor(ln(seconds) / ln(1.02))::integer END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION analytics_cents(amount numeric) RETURNS bigint LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT round(COALESCE(amount, 0) * 100)::bigint
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION playbook_step_positions_of(definition jsonb) RETURNS TABLE (step_id text, pos integer)
LANGUAGE sql IMMUTABLE AS $$
    WITH RECURSIVE s (step, path) AS (
        SELECT x.step, ARRAY[0, x.i::integer] FROM jsonb_array_elements(COALESCE(definition -> 'steps', '[]')) WITH ORDINALITY AS x (step, i)
        UNION ALL
        SELECT c.step, s.path || ARRAY[c.list, c.i::integer]
        FROM s, LATERAL (
            SELECT 1 AS list, y.step, y.i FROM jsonb_array_elements(CASE WHEN jsonb_typeof(s.step -> 'then') = 'array' THEN s.step -> 'then' ELSE '[]' END) WITH ORDINALITY AS y (step, i)
            UNION ALL
            SELECT 2, y.step, y.i FROM jsonb_array_elements(CASE WHEN jsonb_typeof(s.step -> 'else') = 'array' THEN s.step -> 'else' ELSE '[]' END) WITH ORDINALITY AS y (step, i)
            UNION ALL
            SELECT 3, y.step, y.i FROM jsonb_array_elements(CASE WHEN jsonb_typeof(s.step -> 'on_timeout') = 'array' THEN s.step -> 'on_timeout' ELSE '[]' END) WITH ORDINALITY AS y (step, i)
            UNION ALL
            SELECT 4, y.step, y.i FROM jsonb_array_elements(CASE WHEN jsonb_typeof(s.step -> 'repeat' -> 'steps') = 'array' THEN s.step -> 'repeat' -> 'steps' ELSE '[]' END) WITH ORDINALITY AS y (step, i)
        ) c
    )
    SELECT id, max(pos)::integer FROM (
        SELECT step ->> 'id' AS id, row_number() OVER (ORDER BY path) - 1 AS pos FROM s) p
    WHERE id IS NOT NULL GROUP BY id
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION playbook_versions_positions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM playbook_step_positions WHERE playbook_key = NEW.key AND playbook_version = NEW.version;
    INSERT INTO playbook_step_positions (playbook_key, playbook_version, step_id, pos)
    SELECT NEW.key, NEW.version, p.step_id, p.pos FROM playbook_step_positions_of(NEW.definition) p;
    RETURN NULL;
END
$$;
-- +goose StatementEnd
CREATE TRIGGER playbook_versions_positions AFTER INSERT OR UPDATE OF definition ON playbook_versions
    FOR EACH ROW EXECUTE FUNCTION playbook_versions_positions();

-- ARR at t from the ARR history: the last row at or before t, else the
-- first after it (an account whose history starts later counts its first
-- known ARR); a churned account's is 0.
-- +goose StatementBegin
CREATE FUNCTION analytics_arr_at(account text, t timestamptz) RETURNS numeric LANGUAGE sql STABLE AS $$
    SELECT COALESCE((SELECT CASE WHEN h.status = 'active' THEN h.arr ELSE 0 END FROM arr_history h WHERE h.account_id = account
                     ORDER BY h.valid_from > t, CASE WHEN h.valid_from <= t THEN h.valid_from END DESC, h.valid_from, h.id DESC LIMIT 1), 0)
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION analytics_band_at(account text, t timestamptz) RETURNS text LANGUAGE sql STABLE AS $$
    SELECT band FROM health_snapshots h WHERE h.account_id = account AND h.measured_at <= t
    ORDER BY h.measured_at DESC, h.id DESC LIMIT 1
$$;
-- +goose StatementEnd

-- What one run row counts: its status, outcome and how far it got; its
-- duration; and once ended, health before and after with its account's
-- status now, and ARR at start, at end and now. Health and ARR now read the
-- account; accounts_analytics moves them when the account changes.
-- +goose StatementBegin
CREATE FUNCTION analytics_run_counts(r runs) RETURNS TABLE (step text, metric text, bucket integer, n bigint)
LANGUAGE sql STABLE AS $$
    SELECT '', 'run:' || r.status || ':' || COALESCE(r.outcome, ''), r.furthest_pos, 1::bigint
    UNION ALL
    SELECT '', 'duration:' || r.status || ':' || COALESCE(r.outcome, ''),
           analytics_bucket(extract(epoch FROM r.ended_at - r.started_at)::float8), 1
    WHERE r.ended_at IS NOT NULL
    UNION ALL
    SELECT '', m.metric, 0, m.n
    FROM accounts a, LATERAL (VALUES
        ('health:' || COALESCE(r.band_at_start, 'unscored') || ':' || COALESCE(r.band_at_end, 'unscored') || ':' || a.status, 1::bigint),
        ('arr:runs', 1),
        ('arr:start', analytics_cents(r.arr_at_start)),
        ('arr:end', analytics_cents(r.arr_at_end)),
        ('arr:now', CASE WHEN a.status = 'active' THEN analytics_cents(a.arr) ELSE 0 END),
        ('arr:expanded', (COALESCE(r.arr_at_end, 0) > COALESCE(r.arr_at_start, 0))::integer)) AS m (metric, n)
    WHERE r.ended_at IS NOT NULL AND a.id = r.account_id AND m.n <> 0
    UNION ALL
    SELECT '', 'milestone:first_login', analytics_bucket(extract(epoch FROM r.first_login_at - r.started_at)::float8), 1
    WHERE r.first_login_at IS NOT NULL
    UNION ALL
    SELECT '', 'milestone:first_value', analytics_bucket(extract(epoch FROM r.first_value_at - r.started_at)::float8), 1
    WHERE r.first_value_at IS NOT NULL
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION analytics_email_counts(e emails) RETURNS TABLE (step text, metric text, bucket integer, n bigint)
LANGUAGE sql STABLE AS $$
    SELECT analytics_step(e.step_id), m.metric, 0, m.n::bigint FROM (VALUES
        ('email:sent', (e.status IN ('sent', 'captured'))::integer),
        ('email:skipped', (e.status = 'skipped')::integer),
        ('email:failed', (e.status = 'failed')::integer),
        ('email:delivered', e.delivered::integer),
        ('email:opened', e.opened::integer),
        ('email:clicked', e.clicked::integer),
        ('email:bounced', e.bounced::integer),
        ('email:unsubscribed', e.unsubscribed::integer),
        ('survey:' || e.segment || ':sent', (e.survey IS NOT NULL AND e.status IN ('sent', 'captured'))::integer),
        ('survey:' || e.segment || ':answered', (e.survey IS NOT NULL AND e.status IN ('sent', 'captured')
                                                 AND EXISTS (SELECT 1 FROM survey_responses sr WHERE sr.email_id = e.id))::integer)
    ) AS m (metric, n)
    WHERE m.n <> 0
$$;
-- +goose StatementEnd

-- What an answer adds to its email's step. That its email was answered is
-- the email's figure (analytics_email_counts); the answer's trigger adds it.
-- +goose StatementBegin
CREATE FUNCTION analytics_response_counts(sr survey_responses) RETURNS TABLE (run_id uuid, step text, metric text, bucket integer, n bigint)
LANGUAGE sql STABLE AS $$
    SELECT e.run_id, analytics_step(e.step_id), 'survey:' || e.segment || ':' || m.metric, 0, m.n::bigint
    FROM emails e, LATERAL (VALUES
        ('nps', (sr.kind = 'nps')::integer),
        ('promoters', (sr.kind = 'nps' AND sr.category = 'promoter')::integer),
        ('passives', (sr.kind = 'nps' AND sr.category = 'passive')::integer),
        ('detractors', (sr.kind = 'nps' AND sr.category = 'detractor')::integer),
        ('csat', (sr.kind = 'csat')::integer),
        ('csat_sum', CASE WHEN sr.kind = 'csat' THEN sr.score ELSE 0 END)) AS m (metric, n)
    WHERE e.id = sr.email_id AND e.survey IS NOT NULL AND m.n <> 0
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION analytics_approval_counts(a approvals) RETURNS TABLE (step text, metric text, bucket integer, n bigint)
LANGUAGE sql STABLE AS $$
    SELECT analytics_step(a.step_id), 'approval:requested', 0, 1::bigint
    UNION ALL
    SELECT analytics_step(a.step_id), 'approval:' || a.status, 0, 1
    UNION ALL
    SELECT analytics_step(a.step_id), 'decision', analytics_bucket(extract(epoch FROM a.decided_at - a.created_at)::float8), 1
    WHERE a.status IN ('approved', 'rejected') AND a.decided_at IS NOT NULL
$$;
-- +goose StatementEnd

-- An open task with a due time also counts under its due day (days since
-- 2000-01-01), for the overdue figure.
-- +goose StatementBegin
CREATE FUNCTION analytics_task_counts(t tasks) RETURNS TABLE (step text, metric text, bucket integer, n bigint)
LANGUAGE sql STABLE AS $$
    SELECT analytics_step(t.step_id), 'task:created', 0, 1::bigint WHERE t.run_id IS NOT NULL
    UNION ALL
    SELECT analytics_step(t.step_id), 'task:done', 0, 1 WHERE t.run_id IS NOT NULL AND t.status = 'completed'
    UNION ALL
    SELECT analytics_step(t.step_id), 'task:open', 0, 1 WHERE t.run_id IS NOT NULL AND t.status = 'open'
    UNION ALL
    SELECT analytics_step(t.step_id), 'task:due', analytics_day(t.due_at) - date '2000-01-01', 1
    WHERE t.run_id IS NOT NULL AND t.status = 'open' AND t.due_at IS NOT NULL
$$;
-- +goose StatementEnd

-- A run's reached markers are "source:step".
-- +goose StatementBegin
CREATE FUNCTION analytics_marker_step(marker text) RETURNS text LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT substr(marker, strpos(marker, ':') + 1)
$$;
-- +goose StatementEnd

-- What a run's reached markers count: each step reached, once per source.
-- +goose StatementBegin
CREATE FUNCTION analytics_reach_counts(reached text[]) RETURNS TABLE (step text, metric text, bucket integer, n bigint)
LANGUAGE sql IMMUTABLE AS $$
    SELECT analytics_marker_step(m), 'reach:' || split_part(m, ':', 1), 0, 1::bigint FROM unnest(reached) AS m
$$;
-- +goose StatementEnd

-- Everything a run's records count: what moves with the run when it moves
-- to another version (or its playbook or start changes).
-- +goose StatementBegin
CREATE FUNCTION analytics_record_counts(r runs) RETURNS TABLE (step text, metric text, bucket integer, n bigint)
LANGUAGE sql STABLE AS $$
    SELECT c.step, c.metric, c.bucket, c.n FROM emails e, analytics_email_counts(e) c WHERE e.run_id = r.id
    UNION ALL
    SELECT c.step, c.metric, c.bucket, c.n FROM survey_responses sr, analytics_response_counts(sr) c WHERE sr.run_id = r.id
    UNION ALL
    SELECT c.step, c.metric, c.bucket, c.n FROM approvals a, analytics_approval_counts(a) c WHERE a.run_id = r.id
    UNION ALL
    SELECT c.step, c.metric, c.bucket, c.n FROM tasks t, analytics_task_counts(t) c WHERE t.run_id = r.id
    UNION ALL
    SELECT c.step, c.metric, c.bucket, c.n FROM analytics_reach_counts(r.reached) c
$$;
-- +goose StatementEnd

-- A run's first record of a step in one source (email, task, approval,
-- change) counts it as reached there, and moves how far the run got. The
-- update's condition is checked again against a row another transaction
-- changed meanwhile, so two records of one step at once count once.
-- +goose StatementBegin
CREATE FUNCTION analytics_reach(run uuid, src text, step_id text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    step   text := analytics_step(step_id);
    marker text := src || ':' || analytics_step(step_id);
    r      runs;
BEGIN
    IF run IS NULL OR step IS NULL THEN
        RETURN;
    END IF;
    UPDATE runs SET reached = runs.reached || marker,
                    furthest_pos = GREATEST(runs.furthest_pos, COALESCE((
                        SELECT p.pos FROM playbook_step_positions p
                        WHERE p.playbook_key = runs.playbook_key AND p.playbook_version = runs.playbook_version AND p.step_id = step), -1))
    WHERE runs.id = run AND NOT (marker = ANY (runs.reached))
    RETURNING * INTO r;
    IF FOUND THEN
        INSERT INTO analytics_deltas (playbook_key, playbook_version, day, step, metric, bucket, n)
        VALUES (r.playbook_key, r.playbook_version, analytics_day(r.started_at), step, 'reach:' || src, 0, 1);
    END IF;
END
$$;
-- +goose StatementEnd

-- Health and ARR at the run's start and end are fixed when it ends. The
-- account row is locked for share so that a change to the account commits
-- wholly before or after this run's figures read it.
-- +goose StatementBegin
CREATE FUNCTION runs_analytics_before() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- account events recorded before the run row was: only those at or after its start count
        SELECT min(e.created_at) FILTER (WHERE e.type = 'event:first_login'),
               min(e.created_at) FILTER (WHERE e.type = 'event:first_value')
        INTO NEW.first_login_at, NEW.first_value_at
        FROM events e WHERE e.account_id = NEW.account_id AND e.created_at >= NEW.started_at
                        AND e.type IN ('event:first_login', 'event:first_value');
    END IF;
    IF NEW.ended_at IS NOT NULL AND (TG_OP = 'INSERT' OR OLD.ended_at IS DISTINCT FROM NEW.ended_at) THEN
        PERFORM 1 FROM accounts WHERE id = NEW.account_id FOR SHARE;
        NEW.band_at_start := analytics_band_at(NEW.account_id, NEW.started_at);
        NEW.band_at_end := analytics_band_at(NEW.account_id, NEW.ended_at);
        NEW.arr_at_start := analytics_arr_at(NEW.account_id, NEW.started_at);
        NEW.arr_at_end := analytics_arr_at(NEW.account_id, NEW.ended_at);
    ELSIF NEW.ended_at IS NULL THEN
        NEW.band_at_start := NULL;
        NEW.band_at_end := NULL;
        NEW.arr_at_start := NULL;
        NEW.arr_at_end := NULL;
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION runs_analytics() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF analytics_paused() THEN
        RETURN NULL;
    END IF;
    INSERT INTO analytics_deltas (playbook_key, playbook_version, day, step, metric, bucket, n)
    SELECT k, v, d, step, metric, bucket, sum(n) FROM (
        SELECT NEW.playbook_key AS k, NEW.playbook_version AS v, analytics_day(NEW.started_at) AS d, c.step, c.metric, c.bucket, c.n
        FROM analytics_run_counts(NEW) c WHERE TG_OP <> 'DELETE'
        UNION ALL
        SELECT OLD.playbook_key, OLD.playbook_version, analytics_day(OLD.started_at), c.step, c.metric, c.bucket, -c.n
        FROM analytics_run_counts(OLD) c WHERE TG_OP <> 'INSERT'
    ) x GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(n) <> 0;
    -- A run that moved to another version (or playbook, or start day)
    -- takes its records' figures with it.
    IF TG_OP = 'UPDATE' AND (OLD.playbook_key, OLD.playbook_version, analytics_day(OLD.started_at))
                             IS DISTINCT FROM (NEW.playbook_key, NEW.playbook_version, analytics_day(NEW.started_at)) THEN
        INSERT INTO analytics_deltas (playbook_key, playbook_version, day, step, metric, bucket, n)
        SELECT k, v, d, step, metric, bucket, sum(n) FROM (
            SELECT NEW.playbook_key AS k, NEW.playbook_version AS v, analytics_day(NEW.started_at) AS d, c.step, c.metric, c.bucket, c.n
            FROM analytics_record_counts(NEW) c
            UNION ALL
            SELECT OLD.playbook_key, OLD.playbook_version, analytics_day(OLD.started_at), c.step, c.metric, c.bucket, -c.n
            FROM analytics_record_counts(OLD) c
        ) x GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(n) <> 0;
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER runs_analytics_before BEFORE INSERT OR UPDATE ON runs
    FOR EACH ROW EXECUTE FUNCTION runs_analytics_before();
CREATE TRIGGER runs_analytics AFTER INSERT OR DELETE ON runs
    FOR EACH ROW EXECUTE FUNCTION runs_analytics();
-- (paused in the condition: a rebuild updates every run without queueing a
-- trigger event for each)
CREATE TRIGGER runs_analytics_update AFTER UPDATE ON runs
    FOR EACH ROW WHEN (NOT analytics_paused() AND (OLD.playbook_key, OLD.playbook_version, OLD.started_at, OLD.status, OLD.outcome, OLD.ended_at,
                        OLD.furthest_pos, OLD.band_at_start, OLD.band_at_end, OLD.arr_at_start, OLD.arr_at_end,
                        OLD.first_login_at, OLD.first_value_at, OLD.account_id)
                       IS DISTINCT FROM
                       (NEW.playbook_key, NEW.playbook_version, NEW.started_at, NEW.status, NEW.outcome, NEW.ended_at,
                        NEW.furthest_pos, NEW.band_at_start, NEW.band_at_end, NEW.arr_at_start, NEW.arr_at_end,
                        NEW.first_login_at, NEW.first_value_at, NEW.account_id))
    EXECUTE FUNCTION runs_analytics();

-- +goose StatementBegin
CREATE FUNCTION emails_analytics_before() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.survey IS NOT NULL AND NEW.segment IS NULL THEN
        NEW.segment := (SELECT segment FROM accounts WHERE id = NEW.account_id);
    END IF;
    RETURN NEW;
END
$$;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE FUNCTION emails_analytics() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF analytics_paused() THEN
        RETURN NULL;
    END IF;
    INSERT INTO analytics_deltas (playbook_key, playbook_version, day, step, metric, bucket, n)
    SELECT r.playbook_key, r.playbook_version, analytics_day(r.started_at), x.step, x.metric, x.bucket, sum(x.n)
    FROM (SELECT c.step, c.metric, c.bucket, c.n FROM analytics_email_counts(NEW) c WHERE TG_OP <> 'DELETE'
          UNION ALL
          SELECT c.step, c.metric, c.bucket, -c.n FROM analytics_email_counts(OLD) c WHERE TG_OP <> 'INSERT') x
    JOIN runs r ON r.id = CASE WHEN TG_OP = 'DELETE' THEN OLD.run_id ELSE NEW.run_id END
    GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(x.n) <> 0;
    IF TG_OP = 'INSERT' THEN
        PERFORM analytics_reach(NEW.run_id, 'email', NEW.step_id);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER emails_analytics_before BEFORE INSERT ON emails
    FOR EACH ROW EXECUTE FUNCTION emails_analytics_before();
CREATE TRIGGER emails_analytics AFTER INSERT OR DELETE ON emails
    FOR EACH ROW EXECUTE FUNCTION emails_analytics();
CREATE TRIGGER emails_analytics_update AFTER UPDATE ON emails
    FOR EACH ROW WHEN ((OLD.run_id, OLD.step_id, OLD.status, OLD.delivered, OLD.opened, OLD.clicked, OLD.bounced, OLD.unsubscribed, OLD.survey, OLD.segment)
                       IS DISTINCT FROM
                       (NEW.run_id, NEW.step_id, NEW.status, NEW.delivered, NEW.opened, NEW.clicked, NEW.bounced, NEW.unsubscribed, NEW.survey, NEW.segment))
    EXECUTE FUNCTION emails_analytics();

-- +goose StatementBegin
CREATE FUNCTION survey_responses_analytics() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF analytics_paused() THEN
        RETURN NULL;
    END IF;
    INSERT INTO analytics_deltas (playbook_key, playbook_version, day, step, metric, bucket, n)
    SELECT r.playbook_key, r.playbook_version, analytics_day(r.started_at), x.step, x.metric, x.bucket, sum(x.n)
    FROM (SELECT c.run_id, c.step, c.metric, c.bucket, c.n FROM analytics_response_counts(NEW) c WHERE TG_OP <> 'DELETE'
          UNION ALL
          SELECT c.run_id, c.step, c.metric, c.bucket, -c.n FROM analytics_response_counts(OLD) c WHERE TG_OP <> 'INSERT'
          UNION ALL -- its email's answered figure, which reads whether it has an answer
          SELECT e.run_id, analytics_step(e.step_id), 'survey:' || e.segment || ':answered', 0,
                 CASE TG_OP WHEN 'INSERT' THEN 1 WHEN 'DELETE' THEN -1 ELSE 0 END
          FROM emails e WHERE e.id = COALESCE(NEW.email_id, OLD.email_id) AND e.survey IS NOT NULL AND e.status IN ('sent', 'captured')) x
    JOIN runs r ON r.id = x.run_id
    GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(x.n) <> 0;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER survey_responses_analytics AFTER INSERT OR UPDATE OR DELETE ON survey_responses
    FOR EACH ROW EXECUTE FUNCTION survey_responses_analytics();

-- +goose StatementBegin
CREATE FUNCTION approvals_analytics() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF analytics_paused() THEN
        RETURN NULL;
    END IF;
    INSERT INTO analytics_deltas (playbook_key, playbook_version, day, step, metric, bucket, n)
    SELECT r.playbook_key, r.playbook_version, analytics_day(r.started_at), x.step, x.metric, x.bucket, sum(x.n)
    FROM (SELECT c.step, c.metric, c.bucket, c.n FROM analytics_approval_counts(NEW) c WHERE TG_OP <> 'DELETE'
          UNION ALL
          SELECT c.step, c.metric, c.bucket, -c.n FROM analytics_approval_counts(OLD) c WHERE TG_OP <> 'INSERT') x
    JOIN runs r ON r.id = CASE WHEN TG_OP = 'DELETE' THEN OLD.run_id ELSE NEW.run_id END
    GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(x.n) <> 0;
    IF TG_OP = 'INSERT' THEN
        PERFORM analytics_reach(NEW.run_id, 'approval', NEW.step_id);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER approvals_analytics AFTER INSERT OR DELETE ON approvals
    FOR EACH ROW EXECUTE FUNCTION approvals_analytics();
CREATE TRIGGER approvals_analytics_update AFTER UPDATE ON approvals
    FOR EACH ROW WHEN ((OLD.run_id, OLD.step_id, OLD.status, OLD.created_at, OLD.decided_at)
                       IS DISTINCT FROM (NEW.run_id, NEW.step_id, NEW.status, NEW.created_at, NEW.decided_at))
    EXECUTE FUNCTION approvals_analytics();

-- +goose StatementBegin
CREATE FUNCTION tasks_analytics() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF analytics_paused() THEN
        RETURN NULL;
    END IF;
    INSERT INTO analytics_deltas (playbook_key, playbook_version, day, step, metric, bucket, n)
    SELECT r.playbook_key, r.playbook_version, analytics_day(r.started_at), x.step, x.metric, x.bucket, sum(x.n)
    FROM (SELECT c.step, c.metric, c.bucket, c.n FROM analytics_task_counts(NEW) c WHERE TG_OP <> 'DELETE'
          UNION ALL
          SELECT c.step, c.metric, c.bucket, -c.n FROM analytics_task_counts(OLD) c WHERE TG_OP <> 'INSERT') x
    JOIN runs r ON r.id = CASE WHEN TG_OP = 'DELETE' THEN OLD.run_id ELSE NEW.run_id END
    GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(x.n) <> 0;
    IF TG_OP = 'INSERT' THEN
        PERFORM analytics_reach(NEW.run_id, 'task', NEW.step_id);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER tasks_analytics AFTER INSERT OR DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION tasks_analytics();
CREATE TRIGGER tasks_analytics_update AFTER UPDATE ON tasks
    FOR EACH ROW WHEN ((OLD.run_id, OLD.step_id, OLD.status, OLD.due_at) IS DISTINCT FROM (NEW.run_id, NEW.step_id, NEW.status, NEW.due_at))
    EXECUTE FUNCTION tasks_analytics();

-- An account change a run made reaches its step; an account's first login
-- or first value is the first report at or after each of its runs started.
-- +goose StatementBegin
CREATE FUNCTION events_analytics() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF analytics_paused() THEN
        RETURN NULL;
    END IF;
    IF NEW.type = 'account_changed' THEN
        PERFORM analytics_reach(NEW.run_id, 'change', NEW.data ->> 'step_id');
    ELSIF NEW.type = 'event:first_login' THEN
        UPDATE runs SET first_login_at = NEW.created_at
        WHERE account_id = NEW.account_id AND started_at <= NEW.created_at
          AND (first_login_at IS NULL OR first_login_at > NEW.created_at);
    ELSIF NEW.type = 'event:first_value' THEN
        UPDATE runs SET first_value_at = NEW.created_at
        WHERE account_id = NEW.account_id AND started_at <= NEW.created_at
          AND (first_value_at IS NULL OR first_value_at > NEW.created_at);
    END IF;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER events_analytics AFTER INSERT ON events
    FOR EACH ROW WHEN (NEW.type IN ('account_changed', 'event:first_login', 'event:first_value'))
    EXECUTE FUNCTION events_analytics();

-- An account that churns, comes back or changes ARR moves its ended runs'
-- retention and ARR-now figures.
-- +goose StatementBegin
CREATE FUNCTION accounts_analytics() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was bigint := CASE WHEN OLD.status = 'active' THEN analytics_cents(OLD.arr) ELSE 0 END;
    now_ bigint := CASE WHEN NEW.status = 'active' THEN analytics_cents(NEW.arr) ELSE 0 END;
BEGIN
    IF analytics_paused() THEN
        RETURN NULL;
    END IF;
    INSERT INTO analytics_deltas (playbook_key, playbook_version, day, step, metric, bucket, n)
    SELECT r.playbook_key, r.playbook_version, analytics_day(r.started_at), '', m.metric, 0, sum(m.n)
    FROM runs r, LATERAL (VALUES
        ('health:' || COALESCE(r.band_at_start, 'unscored') || ':' || COALESCE(r.band_at_end, 'unscored') || ':' || OLD.status, -1::bigint),
        ('health:' || COALESCE(r.band_at_start, 'unscored') || ':' || COALESCE(r.band_at_end, 'unscored') || ':' || NEW.status, 1),
        ('arr:now', now_ - was)) AS m (metric, n)
    WHERE r.account_id = NEW.id AND r.ended_at IS NOT NULL
    GROUP BY 1, 2, 3, 4, 5 HAVING sum(m.n) <> 0;
    RETURN NULL;
END
$$;
-- +goose StatementEnd

CREATE TRIGGER accounts_analytics AFTER UPDATE ON accounts
    FOR EACH ROW WHEN ((OLD.status, OLD.arr) IS DISTINCT FROM (NEW.status, NEW.arr))
    EXECUTE FUNCTION accounts_analytics();

-- Folds the deltas into the counts, one fold at a time; returns the counts
-- it changed. Deltas written by transactions still open are left for the next.
-- +goose StatementBegin
CREATE FUNCTION analytics_compact() RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    folded bigint := 0;
    c      record;
BEGIN
    IF NOT pg_try_advisory_xact_lock(hashtext('playbookd.analytics_compact')) THEN
        RETURN 0;
    END IF;
    FOR c IN
        WITH d AS (DELETE FROM analytics_deltas RETURNING *),
        g AS (SELECT playbook_key, playbook_version, day, step, metric, bucket, sum(n) AS n FROM d
              GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(n) <> 0),
        daily AS (
            INSERT INTO analytics_counts AS t (playbook_key, playbook_version, day, step, metric, bucket, n)
            SELECT * FROM g
            ON CONFLICT (playbook_key, playbook_version, day, step, metric, bucket) DO UPDATE SET n = t.n + excluded.n
            RETURNING false AS monthly, t.playbook_key, t.playbook_version, t.day, t.step, t.metric, t.bucket, t.n),
        monthly AS (
            INSERT INTO analytics_counts_monthly AS t (playbook_key, playbook_version, month, step, metric, bucket, n)
            SELECT playbook_key, playbook_version, date_trunc('month', day)::date, step, metric, bucket, sum(n) FROM g
            GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(n) <> 0
            ON CONFLICT (playbook_key, playbook_version, month, step, metric, bucket) DO UPDATE SET n = t.n + excluded.n
            RETURNING true AS monthly, t.playbook_key, t.playbook_version, t.month, t.step, t.metric, t.bucket, t.n)
        SELECT * FROM daily UNION ALL SELECT * FROM monthly
    LOOP
        folded := folded + 1;
        IF c.n <> 0 THEN
            CONTINUE;
        END IF;
        -- nothing left to count: the row would only slow readers down
        IF c.monthly THEN
            DELETE FROM analytics_counts_monthly t WHERE (t.playbook_key, t.playbook_version, t.month, t.step, t.metric, t.bucket)
                                                      = (c.playbook_key, c.playbook_version, c.day, c.step, c.metric, c.bucket);
        ELSE
            DELETE FROM analytics_counts t WHERE (t.playbook_key, t.playbook_version, t.day, t.step, t.metric, t.bucket)
                                              = (c.playbook_key, c.playbook_version, c.day, c.step, c.metric, c.bucket);
        END IF;
    END LOOP;
    RETURN folded;
END
$$;
-- +goose StatementEnd

-- Recomputes every run's analytics state and every count from history.
-- Writers to the tables it reads wait while it runs (the lock also waits
-- for the transactions that already wrote deltas).
-- +goose StatementBegin
CREATE FUNCTION analytics_rebuild() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    LOCK TABLE analytics_deltas, analytics_counts, analytics_counts_monthly, runs, emails, tasks, approvals, events, survey_responses, accounts,
               playbook_versions IN SHARE ROW EXCLUSIVE MODE;
    PERFORM set_config('playbookd.analytics_paused', 'on', true);

    DELETE FROM playbook_step_positions;
    INSERT INTO playbook_step_positions (playbook_key, playbook_version, step_id, pos)
    SELECT v.key, v.version, p.step_id, p.pos FROM playbook_versions v, playbook_step_positions_of(v.definition) p;

    -- survey emails written before their segment was recorded count under the account's segment now
    UPDATE emails e SET segment = a.segment FROM accounts a
    WHERE e.survey IS NOT NULL AND e.segment IS NULL AND a.id = e.account_id;

    UPDATE runs r SET reached = x.reached, furthest_pos = x.furthest_pos, band_at_start = x.band_at_start, band_at_end = x.band_at_end,
                      arr_at_start = x.arr_at_start, arr_at_end = x.arr_at_end, first_login_at = x.first_login_at, first_value_at = x.first_value_at
    FROM (
        SELECT r0.id,
               COALESCE(rs.reached, '{}') AS reached, COALESCE(rs.furthest_pos, -1) AS furthest_pos,
               CASE WHEN r0.ended_at IS NOT NULL THEN analytics_band_at(r0.account_id, r0.started_at) END AS band_at_start,
               CASE WHEN r0.ended_at IS NOT NULL THEN analytics_band_at(r0.account_id, r0.ended_at) END AS band_at_end,
               CASE WHEN r0.ended_at IS NOT NULL THEN analytics_arr_at(r0.account_id, r0.started_at) END AS arr_at_start,
               CASE WHEN r0.ended_at IS NOT NULL THEN analytics_arr_at(r0.account_id, r0.ended_at) END AS arr_at_end,
               (SELECT min(e.created_at) FROM events e WHERE e.account_id = r0.account_id AND e.type = 'event:first_login'
                                                         AND e.created_at >= r0.started_at) AS first_login_at,
               (SELECT min(e.created_at) FROM events e WHERE e.account_id = r0.account_id AND e.type = 'event:first_value'
                                                         AND e.created_at >= r0.started_at) AS first_value_at
        FROM runs r0
        LEFT JOIN (
            SELECT u.run_id, array_agg(u.src || ':' || u.step ORDER BY u.src, u.step) AS reached, max(p.pos) AS furthest_pos
            FROM (
                SELECT 'email' AS src, run_id, analytics_step(step_id) AS step FROM emails
                UNION SELECT 'task', run_id, analytics_step(step_id) FROM tasks WHERE run_id IS NOT NULL
                UNION SELECT 'approval', run_id, analytics_step(step_id) FROM approvals
                UNION SELECT 'change', run_id, analytics_step(data ->> 'step_id') FROM events
                      WHERE type = 'account_changed' AND run_id IS NOT NULL AND data ->> 'step_id' IS NOT NULL
            ) u
            JOIN runs r1 ON r1.id = u.run_id
            LEFT JOIN playbook_step_positions p
                   ON p.playbook_key = r1.playbook_key AND p.playbook_version = r1.playbook_version AND p.step_id = u.step
            GROUP BY u.run_id
        ) rs ON rs.run_id = r0.id
    ) x
    WHERE r.id = x.id
      AND (r.reached, r.furthest_pos, r.band_at_start, r.band_at_end, r.arr_at_start, r.arr_at_end, r.first_login_at, r.first_value_at)
          IS DISTINCT FROM
          (x.reached, x.furthest_pos, x.band_at_start, x.band_at_end, x.arr_at_start, x.arr_at_end, x.first_login_at, x.first_value_at);

    DELETE FROM analytics_deltas;
    DELETE FROM analytics_counts;
    INSERT INTO analytics_counts (playbook_key, playbook_version, day, step, metric, bucket, n)
    SELECT k, v, d, step, metric, bucket, sum(n) FROM (
        SELECT r.playbook_key AS k, r.playbook_version AS v, analytics_day(r.started_at) AS d, c.step, c.metric, c.bucket, c.n
        FROM runs r, analytics_run_counts(r) c
        UNION ALL
        SELECT r.playbook_key, r.playbook_version, analytics_day(r.started_at), c.step, c.metric, c.bucket, c.n
        FROM runs r, analytics_reach_counts(r.reached) c
        UNION ALL
        SELECT r.playbook_key, r.playbook_version, analytics_day(r.started_at), c.step, c.metric, c.bucket, c.n
        FROM emails e JOIN runs r ON r.id = e.run_id, analytics_email_counts(e) c
        UNION ALL
        SELECT r.playbook_key, r.playbook_version, analytics_day(r.started_at), c.step, c.metric, c.bucket, c.n
        FROM survey_responses sr CROSS JOIN LATERAL analytics_response_counts(sr) c JOIN runs r ON r.id = c.run_id
        UNION ALL
        SELECT r.playbook_key, r.playbook_version, analytics_day(r.started_at), c.step, c.metric, c.bucket, c.n
        FROM approvals a JOIN runs r ON r.id = a.run_id, analytics_approval_counts(a) c
        UNION ALL
        SELECT r.playbook_key, r.playbook_version, analytics_day(r.started_at), c.step, c.metric, c.bucket, c.n
        FROM tasks t JOIN runs r ON r.id = t.run_id, analytics_task_counts(t) c
    ) x GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(n) <> 0;
    DELETE FROM analytics_counts_monthly;
    INSERT INTO analytics_counts_monthly (playbook_key, playbook_version, month, step, metric, bucket, n)
    SELECT playbook_key, playbook_version, date_trunc('month', day)::date, step, metric, bucket, sum(n)
    FROM analytics_counts GROUP BY 1, 2, 3, 4, 5, 6 HAVING sum(n) <> 0;
    PERFORM set_config('playbookd.analytics_paused', 'off', true);
END
$$;
-- +goose StatementEnd

SELECT analytics_rebuild();

-- +goose Down
DROP TRIGGER accounts_analytics ON accounts;
DROP TRIGGER events_analytics ON events;
DROP TRIGGER tasks_analytics_update ON tasks;
DROP TRIGGER tasks_analytics ON tasks;
DROP TRIGGER approvals_analytics_update ON approvals;
DROP TRIGGER approvals_analytics ON approvals;
DROP TRIGGER survey_responses_analytics ON survey_responses;
DROP TRIGGER emails_analytics_update ON emails;
DROP TRIGGER emails_analytics ON emails;
DROP TRIGGER emails_analytics_before ON emails;
DROP TRIGGER runs_analytics_update ON runs;
DROP TRIGGER runs_analytics ON runs;
DROP TRIGGER runs_analytics_before ON runs;
DROP TRIGGER playbook_versions_positions ON playbook_versions;
DROP FUNCTION analytics_rebuild();
DROP FUNCTION analytics_compact();
DROP FUNCTION accounts_analytics();
DROP FUNCTION events_analytics();
DROP FUNCTION tasks_analytics();
DROP FUNCTION approvals_analytics();
DROP FUNCTION survey_responses_analytics();
DROP FUNCTION emails_analytics();
DROP FUNCTION emails_analytics_before();
DROP FUNCTION runs_analytics();
DROP FUNCTION runs_analytics_before();
DROP FUNCTION analytics_reach(uuid, text, text);
DROP FUNCTION analytics_record_counts(runs);
DROP FUNCTION analytics_reach_counts(text[]);
DROP FUNCTION analytics_marker_step(text);
DROP FUNCTION analytics_task_counts(tasks);
DROP FUNCTION analytics_approval_counts(approvals);
DROP FUNCTION analytics_response_counts(survey_responses);
DROP FUNCTION analytics_email_counts(emails);
DROP FUNCTION analytics_run_counts(runs);
DROP FUNCTION analytics_band_at(text, timestamptz);
DROP FUNCTION analytics_arr_at(text, timestamptz);
DROP FUNCTION playbook_versions_positions();
DROP FUNCTION playbook_step_positions_of(jsonb);
DROP FUNCTION analytics_cents(numeric);
DROP FUNCTION analytics_bucket(double precision);
DROP FUNCTION analytics_day(timestamptz);
DROP FUNCTION analytics_step(text);
DROP FUNCTION analytics_paused();
DROP INDEX tasks_open_due_idx;
DROP TABLE analytics_deltas;
DROP TABLE analytics_counts_monthly;
DROP TABLE analytics_counts;
DROP TABLE playbook_step_positions;
ALTER TABLE emails DROP COLUMN segment;
ALTER TABLE runs
    DROP COLUMN first_value_at,
    DROP COLUMN first_login_at,
    DROP COLUMN arr_at_end,
    DROP COLUMN arr_at_start,
    DROP COLUMN band_at_end,
    DROP COLUMN band_at_start,
    DROP COLUMN furthest_pos,
    DROP COLUMN reached;
