package playbook

import (
	"slices"
	"strings"
	"time"
)

// NextOpen is t when it falls inside the window in loc, else the window's
// next opening. A nil window is always open.
func (w *SendWindow) NextOpen(t time.Time, loc *time.Location) time.Time {
	if w == nil {
		return t
	}
	sh, sm := clock(w.Start)
	eh, em := clock(w.End)
	local := t.In(loc)
	for i := 0; i <= 7; i++ {
		y, m, d := local.Date()
		day := time.Date(y, m, d+i, 12, 0, 0, 0, loc) // noon: safe from DST edges
		if len(w.Days) > 0 && !slices.Contains(w.Days, Weekdays[(int(day.Weekday())+6)%7]) {
			continue
		}
		open := time.Date(day.Year(), day.Month(), day.Day(), sh, sm, 0, 0, loc)
		close := time.Date(day.Year(), day.Month(), day.Day(), eh, em, 0, 0, loc)
		switch {
		case i == 0 && !t.Before(open) && t.Before(close):
			return t
		case t.Before(open):
			return open
		}
	}
	return t // no allowed day (validation prevents this)
}

// clock reads a validated HH:MM.
func clock(s string) (int, int) {
	if len(s) != 5 {
		return 0, 0
	}
	return int(s[0]-'0')*10 + int(s[1]-'0'), int(s[3]-'0')*10 + int(s[4]-'0')
}

// String writes the window as CS ops read it, e.g. "mon-fri 09:00-17:00".
func (w *SendWindow) String() string {
	days := "every day"
	if n := len(w.Days); n > 0 {
		days = strings.Join(w.Days, ",")
		first := slices.Index(Weekdays, w.Days[0])
		if n > 2 && first >= 0 && first+n <= len(Weekdays) && slices.Equal(Weekdays[first:first+n], w.Days) {
			days = w.Days[0] + "-" + w.Days[n-1]
		}
	}
	return days + " " + w.Start + "-" + w.End
}
