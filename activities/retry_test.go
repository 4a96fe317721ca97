package activities

import (
	"testing"
	"time"
)

func TestRetryDelayDoublesToAMinuteWithJitter(t *testing.T) {
	for _, tc := range []struct {
		attempt  int32
		jitter   float64
		min, max time.Duration
	}{
		{1, 0.5, time.Second, time.Second},
		{2, 0.5, 2 * time.Second, 2 * time.Second},
		{6, 0.5, 32 * time.Second, 32 * time.Second},
		{7, 0.5, time.Minute, time.Minute},
		{40, 0.5, time.Minute, time.Minute},
		{3, 0, 2 * time.Second, 2 * time.Second},             // half of 4 s
		{3, 0.999, 5990 * time.Millisecond, 6 * time.Second}, // one and a half
	} {
		got := retryDelay(tc.attempt, tc.jitter)
		if got < tc.min || got > tc.max {
			t.Errorf("attempt %d jitter %v: %s, want %s..%s", tc.attempt, tc.jitter, got, tc.min, tc.max)
		}
	}
}
