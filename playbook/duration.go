package playbook

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Day and Week are the calendar units of the language.
const (
	Day  = 24 * time.Hour
	Week = 7 * Day
)

// MaxDuration bounds every duration: ten years is longer than any playbook.
const MaxDuration = 3650 * Day

// Duration is a whole number of one unit: 90s, 15m, 4h, 3d, 2w; at offsets
// may be negative ("-120d" before a renewal date).
type Duration time.Duration

var units = []struct {
	suffix string
	size   time.Duration
}{{"w", Week}, {"d", Day}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}}

// ParseDuration reads the language's duration syntax.
func ParseDuration(s string) (Duration, error) {
	body, neg := strings.CutPrefix(strings.TrimSpace(s), "-")
	for _, u := range units {
		digits, ok := strings.CutSuffix(body, u.suffix)
		if !ok {
			continue
		}
		if digits == "" || strings.TrimLeft(digits, "0123456789") != "" {
			break
		}
		n, err := strconv.ParseInt(digits, 10, 64)
		if err != nil || n > int64(MaxDuration/u.size) {
			return 0, fmt.Errorf("duration %q is longer than %d days", s, MaxDuration/Day)
		}
		d := time.Duration(n) * u.size
		if neg {
			d = -d
		}
		return Duration(d), nil
	}
	return 0, fmt.Errorf("%q is not a duration: write a whole number and one unit, such as 90s, 15m, 4h, 3d or 2w", s)
}

// Std is the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String writes the duration in the largest unit that divides it.
func (d Duration) String() string {
	v := time.Duration(d)
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	if v == 0 {
		return "0d"
	}
	for _, u := range units {
		if v%u.size == 0 {
			return fmt.Sprintf("%s%d%s", sign, v/u.size, u.suffix)
		}
	}
	return sign + v.String()
}

// MarshalJSON writes the language syntax, so a definition round-trips.
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads the language syntax.
func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return fmt.Errorf("a duration must be a string such as \"3d\"")
	}
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func (d *Duration) decodeScalar(s string) error {
	v, err := ParseDuration(s)
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Ptr is a convenience for building definitions in Go.
func Ptr(d time.Duration) *Duration {
	v := Duration(d)
	return &v
}
