package store_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/store"
)

// BenchmarkRiskAlertsOfABook times the inbox's read of risk alerts (and
// the daily digests) on a large book: 10,000 accounts, 100 CSMs of 100
// accounts under 10 managers under a VP, 300,000 alerts over 90 days
// (100,000 in the 30 days the inbox reads), each with its firing; a fifth
// started a run whose approval (at the CSM's manager) and task (at the VP)
// are all still open: 6,000 pending approvals per manager and 60,000 open
// tasks at the VP, far more than a real ladder holds. Figures are reported,
// never asserted: go test -run '^$' -bench RiskAlertsOfABook -benchtime 30x ./store
func BenchmarkRiskAlertsOfABook(b *testing.B) {
	f := newFixture(b)
	_, err := f.pool.Exec(f.ctx, `
		INSERT INTO team_members (email, name, level) VALUES ('vp-0@cs.test', 'VP 0', 'vp_cs');
		INSERT INTO team_members (email, name, level, manager_id)
			SELECT 'mgr-' || i || '@cs.test', 'Manager ' || i, 'senior_csm', (SELECT id FROM team_members WHERE email = 'vp-0@cs.test')
			FROM generate_series(0, 9) i;
		INSERT INTO team_members (email, name, level, manager_id)
			SELECT 'csm-' || i || '@cs.test', 'CSM ' || i, 'csm', (SELECT id FROM team_members WHERE email = 'mgr-' || (i / 10) || '@cs.test')
			FROM generate_series(0, 99) i;
		INSERT INTO accounts (id, name, arr, segment, csm_id, timezone)
			SELECT 'acct-' || i, 'Account ' || i, 50000, 'mid_market', (SELECT id FROM team_members WHERE email = 'csm-' || (i % 100) || '@cs.test'), 'UTC'
			FROM generate_series(0, 9999) i;
		INSERT INTO risk_alerts (account_id, band_from, band_to, score, occasion, created_at)
			SELECT 'acct-' || (i % 10000), 'yellow', 'red', 35, '#snapshot-' || i, now() - (i % 90) * interval '1 day' - (i % 1440) * interval '1 minute'
			FROM generate_series(1, 300000) i;
		INSERT INTO trigger_firings (account_id, playbook_key, occasion, status, processed_at, risk_alert_id)
			SELECT account_id, 'red-recovery', 'band:red' || occasion, 'started', now(), id FROM risk_alerts;
		INSERT INTO runs (id, account_id, playbook_key, playbook_version, workflow_id, temporal_run_id, status)
			SELECT gen_random_uuid(), account_id, 'red-recovery-' || id, 1, 'wf-' || id, 'r', 'running'
			FROM risk_alerts WHERE id % 5 = 0;
		UPDATE trigger_firings f SET run_id = r.id FROM runs r
			WHERE r.account_id = f.account_id AND r.playbook_key = 'red-recovery-' || substring(f.occasion FROM '[0-9]+$');
		INSERT INTO approvals (run_id, step_id, account_id, assignee_id, draft, expires_at, created_at)
			SELECT r.id, 'c-level-outreach', r.account_id, m.manager_id, '{}', now() + interval '1 day', x.created_at
			FROM runs r JOIN risk_alerts x ON r.playbook_key = 'red-recovery-' || x.id
			JOIN accounts a ON a.id = r.account_id JOIN team_members m ON m.id = a.csm_id;
		INSERT INTO tasks (run_id, step_id, account_id, assignee_id, title, created_at)
			SELECT r.id, 'leadership-escalation', r.account_id, (SELECT id FROM team_members WHERE email = 'vp-0@cs.test'), 'Escalation', x.created_at
			FROM runs r JOIN risk_alerts x ON r.playbook_key = 'red-recovery-' || x.id;
		ANALYZE`)
	require.NoError(b, err)
	for _, member := range []struct{ name, email string }{
		{"csm (100 accounts)", "csm-42@cs.test"},
		{"manager (approvals on 1,000 accounts)", "mgr-4@cs.test"},
		{"vp (tasks on every started run)", "vp-0@cs.test"},
		{"every account (admin)", ""},
	} {
		b.Run(member.name, func(b *testing.B) {
			for b.Loop() {
				alerts, err := f.st.RiskAlerts(f.ctx, store.RiskAlertFilter{MemberEmail: member.email, Unseen: member.email != "", Limit: 11})
				require.NoError(b, err)
				require.NotEmpty(b, alerts)
			}
		})
	}
	b.Run("daily digests of the whole team", func(b *testing.B) {
		for b.Loop() {
			_, err := f.st.Digests(f.ctx, time.Now())
			require.NoError(b, err)
		}
	})
}
