package historystats

import (
	"testing"

	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
)

func TestCountBillableActions(t *testing.T) {
	ev := func(t enumspb.EventType) *historypb.HistoryEvent { return &historypb.HistoryEvent{EventType: t} }
	marker := func(name string, task int64) *historypb.HistoryEvent {
		return &historypb.HistoryEvent{EventType: enumspb.EVENT_TYPE_MARKER_RECORDED,
			Attributes: &historypb.HistoryEvent_MarkerRecordedEventAttributes{MarkerRecordedEventAttributes: &historypb.MarkerRecordedEventAttributes{
				MarkerName: name, Details: map[string]*commonpb.Payloads{}, WorkflowTaskCompletedEventId: task}}}
	}
	h := &historypb.History{Events: []*historypb.HistoryEvent{
		ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED),
		ev(enumspb.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED), ev(enumspb.EVENT_TYPE_WORKFLOW_TASK_STARTED), ev(enumspb.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
		marker("Version", 4), marker("SideEffect", 4),
		marker("LocalActivity", 4), marker("LocalActivity", 4), marker("LocalActivity", 9),
		ev(enumspb.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED), ev(enumspb.EVENT_TYPE_ACTIVITY_TASK_STARTED), ev(enumspb.EVENT_TYPE_ACTIVITY_TASK_COMPLETED),
		ev(enumspb.EVENT_TYPE_TIMER_STARTED), ev(enumspb.EVENT_TYPE_TIMER_FIRED),
		ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED),
		ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED), ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_COMPLETED),
		ev(enumspb.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED),
	}}
	got := Count(h)
	want := Actions{Events: 18, Start: 1, Timers: 1, Activities: 1, Signals: 1, Updates: 1, SideEffects: 1, LocalActivities: 2}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if got.Total() != 8 {
		t.Errorf("total %d, want 8 (the version marker is free; local activities count once per workflow task)", got.Total())
	}
}

func TestLoadCommittedHistory(t *testing.T) {
	h, err := Load("../../workflows/testdata/histories/expansion.json")
	if err != nil {
		t.Fatal(err)
	}
	if a := Count(h); a.Start != 1 || a.Activities == 0 {
		t.Errorf("expansion history: %v", a)
	}
}
