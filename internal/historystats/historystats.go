// Package historystats counts what Temporal Cloud bills as actions in a
// workflow history: the start, timers, activities, signals, updates, side
// effects, and local activities (all those of one workflow task count one).
// Queries are billed too but leave no event; version markers
// (workflow.GetVersion) are not billed.
package historystats

import (
	"fmt"
	"os"
	"strings"

	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"google.golang.org/protobuf/encoding/protojson"
)

// Actions are the billable actions of one history by kind.
type Actions struct {
	Events      int
	Start       int
	Timers      int
	Activities  int
	Signals     int
	Updates     int
	SideEffects int
	// LocalActivities counts workflow tasks that ran local activities.
	LocalActivities int
}

// Total is the number of billable actions.
func (a Actions) Total() int {
	return a.Start + a.Timers + a.Activities + a.Signals + a.Updates + a.SideEffects + a.LocalActivities
}

func (a Actions) String() string {
	return fmt.Sprintf("start %d, timers %d, activities %d, local activities %d, signals %d, updates %d, side effects %d",
		a.Start, a.Timers, a.Activities, a.LocalActivities, a.Signals, a.Updates, a.SideEffects)
}

// The Go SDK's marker names for workflow.SideEffect and local activities.
const (
	sideEffectMarker    = "SideEffect"
	localActivityMarker = "LocalActivity"
)

// Count counts a history's actions.
func Count(h *historypb.History) Actions {
	a := Actions{Events: len(h.Events)}
	localTasks := map[int64]bool{}
	for _, e := range h.Events {
		switch e.EventType {
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
			a.Start++
		case enumspb.EVENT_TYPE_TIMER_STARTED:
			a.Timers++
		case enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
			a.Activities++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
			a.Signals++
		case enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
			a.Updates++
		case enumspb.EVENT_TYPE_MARKER_RECORDED:
			attrs := e.GetMarkerRecordedEventAttributes()
			switch {
			case strings.EqualFold(attrs.GetMarkerName(), sideEffectMarker):
				a.SideEffects++
			case strings.EqualFold(attrs.GetMarkerName(), localActivityMarker):
				localTasks[attrs.GetWorkflowTaskCompletedEventId()] = true
			}
		}
	}
	a.LocalActivities = len(localTasks)
	return a
}

// Load reads a history written as protojson (the Temporal CLI's and the UI's
// JSON export).
func Load(path string) (*historypb.History, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	h := &historypb.History{}
	if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(raw, h); err != nil {
		return nil, fmt.Errorf("decode history %s: %w", path, err)
	}
	return h, nil
}
