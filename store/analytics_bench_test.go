package store_test

import (
	"fmt"
	"testing"
)

// What the analytics triggers cost the outbox's writers: an email written,
// sent and flagged delivered by SendGrid's webhook (three statements, as
// the email activity and the webhook make them), with the triggers and with
// them off (session_replication_role = replica). Run it on a quiet machine:
//
//	go test -run '^$' -bench EmailWrites -benchtime 2000x ./store
func BenchmarkEmailWrites(b *testing.B) {
	for _, tt := range []struct {
		name string
		role string
	}{{"with summaries", "origin"}, {"triggers off", "replica"}} {
		b.Run(tt.name, func(b *testing.B) {
			f := newFixture(b)
			run := f.startRun(b)
			conn, err := f.pool.Acquire(f.ctx)
			if err != nil {
				b.Fatal(err)
			}
			defer conn.Release()
			if _, err := conn.Exec(f.ctx, "SET session_replication_role = "+tt.role); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for i := range b.N {
				var id string
				if err := conn.QueryRow(f.ctx, `INSERT INTO emails (run_id, step_id, account_id, recipient, template, subject, html_body, text_body)
					VALUES ($1, 'welcome-email', 'acme', $2, 't', 's', 'h', 'x') RETURNING id`, run, fmt.Sprintf("p%d@acme.test", i)).Scan(&id); err != nil {
					b.Fatal(err)
				}
				if _, err := conn.Exec(f.ctx, `UPDATE emails SET status = 'sent', sent_at = now() WHERE id = $1`, id); err != nil {
					b.Fatal(err)
				}
				if _, err := conn.Exec(f.ctx, `UPDATE emails SET delivered = true WHERE id = $1`, id); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			if _, err := conn.Exec(f.ctx, "RESET session_replication_role"); err != nil {
				b.Fatal(err)
			}
		})
	}
}
