package throttle

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// clock is a Failures whose time the test moves.
func clock(o Options) (*Failures, *time.Time) {
	f := New(o)
	now := time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)
	f.now = func() time.Time { return now }
	return f, &now
}

func TestFailuresThrottleTheClientThatFails(t *testing.T) {
	opts := Options{Every: 6 * time.Second, Burst: 3, Clients: 100}
	tests := []struct {
		name     string
		fail     []string      // failures, in order, at the start
		after    time.Duration // then the clock moves
		client   string
		wantWait time.Duration
	}{
		{name: "a client that never failed", fail: nil, client: "203.0.113.7"},
		{name: "under its burst", fail: []string{"203.0.113.7", "203.0.113.7"}, client: "203.0.113.7"},
		{name: "at its burst", fail: []string{"203.0.113.7", "203.0.113.7", "203.0.113.7"}, client: "203.0.113.7", wantWait: 6 * time.Second},
		{name: "past its burst (failing together)", fail: []string{"203.0.113.7", "203.0.113.7", "203.0.113.7", "203.0.113.7", "203.0.113.7"},
			client: "203.0.113.7", wantWait: 18 * time.Second},
		{name: "refilled over time", fail: []string{"203.0.113.7", "203.0.113.7", "203.0.113.7"}, after: 6 * time.Second, client: "203.0.113.7"},
		{name: "partly refilled", fail: []string{"203.0.113.7", "203.0.113.7", "203.0.113.7"}, after: 2 * time.Second,
			client: "203.0.113.7", wantWait: 4 * time.Second},
		{name: "another client is not held back", fail: []string{"203.0.113.7", "203.0.113.7", "203.0.113.7"}, client: "203.0.113.8"},
		{name: "an IPv6 /64 is one client", fail: []string{"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2:ffff::3"},
			client: "2001:db8:1:2::99", wantWait: 6 * time.Second},
		{name: "another /64 is another client", fail: []string{"2001:db8:1:2::1", "2001:db8:1:2::2", "2001:db8:1:2::3"},
			client: "2001:db8:1:3::1"},
		{name: "IPv4 written as IPv6", fail: []string{"::ffff:203.0.113.7", "203.0.113.7", "::ffff:203.0.113.7"},
			client: "203.0.113.7", wantWait: 6 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, now := clock(opts)
			for _, c := range tt.fail {
				f.Fail(c)
			}
			*now = now.Add(tt.after)
			require.Equal(t, tt.wantWait, f.Wait(tt.client))
		})
	}
}

// Memory is bounded: idle clients are forgotten, and past the cap the
// least recently failing one goes.
func TestFailuresRememberBoundedClients(t *testing.T) {
	f, now := clock(Options{Every: time.Second, Burst: 2, Clients: 50})
	for i := range 1000 {
		f.Fail(fmt.Sprintf("198.51.100.%d", i%250))
		f.Fail(fmt.Sprintf("10.%d.0.1", i))
	}
	require.Equal(t, 50, f.remembered(), "the cap holds")
	f.Fail("10.999.0.1")
	require.Equal(t, 50, f.remembered())
	require.NotZero(t, f.Wait("10.999.0.1"), "the latest is remembered")
	require.Zero(t, f.Wait("10.0.0.1"), "the oldest is forgotten")

	*now = now.Add(time.Minute) // every bucket is full again
	f.Fail("192.0.2.1")
	require.Equal(t, 1, f.remembered(), "idle clients are forgotten")
}

func TestRetryAfterRoundsUp(t *testing.T) {
	for wait, want := range map[time.Duration]string{time.Millisecond: "1", time.Second: "1", 5500 * time.Millisecond: "6", time.Minute: "60"} {
		require.Equal(t, want, RetryAfter(wait), wait)
	}
}
