package console

import (
	"testing"
	"time"

	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/store"
)

// Each change the move makes to a step reads in words, with its times as
// the viewer reads them.
func TestChangeWords(t *testing.T) {
	was := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	will := was.Add(26 * time.Hour)
	when := func(t time.Time) string { return t.Format("2 Jan 15:04") }
	for _, tt := range []struct {
		change       app.StepChange
		words, extra string
	}{
		{app.StepChange{Step: "welcome", Change: app.ChangeDone, Was: &was, Detail: "done: not done again"},
			"Done on 2 Mar 09:00 — not sent again", ""},
		{app.StepChange{Step: "welcome", Change: app.ChangeDone, Detail: "done: not in version 2"},
			"Done — not sent again", "not in version 2"},
		{app.StepChange{Step: "intro", Change: app.ChangeNotRun, Detail: "not run: it comes before where the run is"},
			"Added before where this run is — will not run", ""},
		{app.StepChange{Step: "check-in", Change: app.ChangeRuns, Will: &will, Detail: "task: Check in"},
			"Will now run on 3 Mar 11:00", "task: Check in"},
		{app.StepChange{Step: "survey", Change: app.ChangeNoLonger, Was: &was, Detail: "task: Survey"},
			"Will no longer run (was 2 Mar 09:00)", "task: Survey"},
		{app.StepChange{Step: "wrap-up", Change: app.ChangeMoves, Was: &was, Will: &will, Detail: "task: Wrap up"},
			"Moves from 2 Mar 09:00 to 3 Mar 11:00", "task: Wrap up"},
		{app.StepChange{Step: "qbr", Change: app.ChangeChanges, Was: &was, Will: &was, Detail: `was email: "QBR"; now email: "Our QBR"`},
			`Changes: was email: "QBR"; now email: "Our QBR"`, ""},
		{app.StepChange{Step: "qbr", Change: app.ChangeBoth, Was: &was, Will: &will, Detail: `was email: "QBR"; now email: "Our QBR"`},
			`Moves from 2 Mar 09:00 to 3 Mar 11:00 and changes: was email: "QBR"; now email: "Our QBR"`, ""},
		{app.StepChange{Change: app.ChangeUnchanged, Detail: "the rest of the run could not be simulated: no account"},
			"Not known: the rest of the run could not be simulated: no account", ""},
		{app.StepChange{Step: "odd", Change: app.ChangeRuns, Detail: "task: Odd"}, "Will now run on —", "task: Odd"},
	} {
		t.Run(tt.change.Change+" "+tt.change.Step, func(t *testing.T) {
			words, extra := changeWords(tt.change, when)
			if words != tt.words || extra != tt.extra {
				t.Errorf("changeWords = %q, %q; want %q, %q", words, extra, tt.words, tt.extra)
			}
		})
	}
}

// A run_moved event reads from its data as the database gives it back
// (numbers as float64), its time from the data, else the event's.
func TestMoveEventOf(t *testing.T) {
	created := time.Date(2026, 3, 2, 9, 0, 1, 0, time.UTC)
	for _, tt := range []struct {
		data map[string]any
		want movedEvent
	}{
		{map[string]any{"from_version": 1.0, "to_version": 2.0, "by": "ops@cs.test", "at": "2026-03-02T09:00:00Z", "resumes_at": "rest"},
			movedEvent{From: "1", To: "2", By: "ops@cs.test", ResumesAt: "rest", At: created.Add(-time.Second)}},
		{map[string]any{"from_version": 3, "to_version": 4.0, "at": "yesterday"},
			movedEvent{From: "3", To: "4", By: "someone", At: created}},
	} {
		got := moveEventOf(store.Event{Type: "run_moved", Data: tt.data, CreatedAt: created})
		if got != tt.want {
			t.Errorf("moveEventOf(%v) = %+v, want %+v", tt.data, got, tt.want)
		}
	}
}
