package triggers

import (
	"encoding/json"
	"fmt"
	"regexp"
)

// EventName is what an account event's name looks like: first_login.
var EventName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,62}$`)

// MaxEventDataBytes bounds an event's data, as JSON.
const MaxEventDataBytes = 16 << 10

// EventFieldError is a part of a reported event that cannot be recorded.
type EventFieldError struct{ Field, Message string }

// CheckEvent lists what is wrong with an event someone reports, before
// Event records it: the API and the console refuse the same events.
func CheckEvent(name string, data map[string]any) []EventFieldError {
	var errs []EventFieldError
	if !EventName.MatchString(name) {
		errs = append(errs, EventFieldError{"name", "required: a lower-case event name such as first_login"})
	}
	if raw, err := json.Marshal(data); err != nil || len(raw) > MaxEventDataBytes {
		errs = append(errs, EventFieldError{"data", fmt.Sprintf("at most %d KiB as JSON", MaxEventDataBytes>>10)})
	}
	return errs
}
