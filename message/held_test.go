package message

import (
	"testing"
	"time"
)

func TestRoughlySaysDurationsAsAPersonWould(t *testing.T) {
	for d, want := range map[time.Duration]string{
		30 * time.Second: "less than a minute", time.Minute: "1 minute", 60 * time.Minute: "60 minutes",
		3 * time.Hour: "3 hours", 24 * time.Hour: "1 day", 7 * 24 * time.Hour: "7 days",
	} {
		if got := Roughly(d); got != want {
			t.Errorf("Roughly(%s) = %q, want %q", d, got, want)
		}
	}
}
