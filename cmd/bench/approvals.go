package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"
)

// runApprovalRace measures what a CSM who acts at once gets: n runs of
// bench-ask start together; the suite reads the pending approvals as the
// inbox does (GET /v1/approvals?status=pending, back to back) and decides each
// approval the moment it is first listed. Every decision on a listed
// approval must be accepted: a refusal (409) is a defect.
func runApprovalRace(ctx context.Context, opts approvalRaceOptions) report {
	var r report
	r.add("Machine", machine(ctx, opts.adminURL, opts.topology))
	s, err := startStack(ctx, stackOptions{repo: opts.repo, adminURL: opts.adminURL, topology: opts.topology})
	if err != nil {
		fatalf("%v", err)
	}
	cleanups = append(cleanups, s.close)
	defer s.close()
	s.setup(ctx, opts.approvals, askPlaybook)

	go parallel(opts.approvals, opts.concurrency, func(i int) {
		s.mustAt(ctx, s.base(i), 201, "POST", "/v1/runs", fmt.Sprintf(`{"playbook":"bench-ask","account_id":"acct-%d"}`, i))
	})
	var (
		mu       sync.Mutex
		statuses = map[int]int{}
		refusals []string
		wg       sync.WaitGroup
	)
	seen := map[string]bool{}
	started := time.Now()
	for len(seen) < opts.approvals && time.Since(started) < 5*time.Minute {
		status, body, err := s.raw(ctx, "GET", "/v1/approvals?status=pending&limit=500", "", "")
		if err != nil || status != 200 {
			fatalf("list approvals: %d %v %s", status, err, body)
		}
		var page struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		if err := json.Unmarshal(body, &page); err != nil {
			fatalf("list approvals: %v", err)
		}
		for i, a := range page.Items {
			if seen[a.ID] {
				continue
			}
			seen[a.ID] = true
			wg.Add(1)
			go func() {
				defer wg.Done()
				status, body, err := s.rawAt(ctx, s.base(i), "POST", "/v1/approvals/"+a.ID+"/decision",
					"application/json", `{"decision":"approve"}`)
				if err != nil {
					status = 0
				}
				mu.Lock()
				defer mu.Unlock()
				statuses[status]++
				if status != 200 && len(refusals) < 3 {
					refusals = append(refusals, fmt.Sprintf("%d %s", status, strings.TrimSpace(string(body))))
				}
			}()
		}
	}
	wg.Wait()
	refused := opts.approvals - statuses[200]
	r.section("Approvals decided the moment they are listed")
	r.add("", fmt.Sprintf(`%d runs of bench-ask started at once (%d concurrent starters); `+"`GET /v1/approvals?status=pending`"+`
read back to back, and each approval decided (`+"`POST /v1/approvals/{id}/decision`"+`, approve) as soon as it was first listed.

| approvals listed | decisions accepted (200) | refused or failed |
|---:|---:|---:|
| %d | %d | **%d** |
`, opts.approvals, opts.concurrency, len(seen), statuses[200], refused))
	if len(refusals) > 0 {
		r.add("First refusals", strings.Join(refusals, "; "))
	}
	if len(seen) < opts.approvals || refused > 0 {
		r.failed = true
	}
	return r
}

type approvalRaceOptions struct {
	repo, adminURL, topology string
	approvals, concurrency   int
}
