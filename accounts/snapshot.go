package accounts

import "time"

// Snapshot is what a run knows of its account: the facts conditions test
// and the dates `at` offsets count from. It travels in workflow histories
// (activity results, signals, continue-as-new state): its field names are
// the wire format, so keep them.
type Snapshot struct {
	ID             string
	Segment        string
	Status         string
	LifecycleStage string
	Timezone       string
	// RenewalAt and ContractStartAt are the dates at 09:00 in the account's
	// zone, as instants; nil when the account has no such date.
	RenewalAt       *time.Time
	ContractStartAt *time.Time
	Fields          map[string]any
	HealthScore     *float64
	HealthBand      string
}

// anchorHour is when a date-anchored step falls on its day, in the
// account's time zone: the start of a working day.
const anchorHour = 9

// AnchorInstant is a date-anchored step's moment: the date at 09:00 in the
// account's zone, as a UTC instant; nil for no date.
func AnchorInstant(date *time.Time, loc *time.Location) *time.Time {
	if date == nil {
		return nil
	}
	t := time.Date(date.Year(), date.Month(), date.Day(), anchorHour, 0, 0, 0, loc).UTC()
	return &t
}
