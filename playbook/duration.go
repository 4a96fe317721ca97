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

// Duration is written as whole numbers of units, largest first: 90s, 15m,
// 4h, 3d, 2w, or combined as 1d12h; at offsets may be negative ("-120d"
// before a renewal date).
type Duration time.Duration

var units = []struct {
	suffix string
	size   time.Duration
}{{"w", Week}, {"d", Day}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}}

// ParseDuration reads the language's duration syntax.
func ParseDuration(s string) (Duration, error) {
	body, neg := strings.CutPrefix(strings.TrimSpace(s), "-")
	bad := fmt.Errorf("%q is not a duration: write whole numbers with units, largest first, such as 90s, 15m, 4h, 3d, 2w or 1d12h", s)
	if body == "" {
		return 0, bad
	}
	var total time.Duration
	next := 0 // units must come largest first, each at most once
	for body != "" {
		digits := len(body) - len(strings.TrimLeft(body, "0123456789"))
		if digits == 0 || digits == len(body) {
			return 0, bad
		}
		unit := -1
		for i := next; i < len(units); i++ {
			if strings.HasPrefix(body[digits:], units[i].suffix) {
				unit = i
				break
			}
		}
		if unit < 0 {
			return 0, bad
		}
		n, err := strconv.ParseInt(body[:digits], 10, 64)
		if err != nil || n > int64(MaxDuration/units[unit].size) {
			return 0, fmt.Errorf("duration %q is longer than %d days", s, MaxDuration/Day)
		}
		total += time.Duration(n) * units[unit].size
		if total > MaxDuration {
			return 0, fmt.Errorf("duration %q is longer than %d days", s, MaxDuration/Day)
		}
		body = body[digits+len(units[unit].suffix):]
		next = unit + 1
	}
	if neg {
		total = -total
	}
	return Duration(total), nil
}

// Std is the duration as a time.Duration.
func (d Duration) Std() time.Duration { return time.Duration(d) }

// String writes the duration in the largest unit that divides it, or else
// as days, hours, minutes and seconds ("89d4h").
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
	out := sign
	for _, u := range units[1:] {
		if n := v / u.size; n > 0 {
			out += fmt.Sprintf("%d%s", n, u.suffix)
			v -= n * u.size
		}
	}
	if v > 0 { // below a second: not expressible in the language
		out += v.String()
	}
	return out
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
