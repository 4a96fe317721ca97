package playbook

import (
	"fmt"
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

// ParseSendWindow reads a window as String writes it: days (mon-fri, a list
// such as mon,wed,fri, or "every day"), then HH:MM-HH:MM. "" and "none" are
// no window (nil): emails go at any hour.
func ParseSendWindow(s string) (*SendWindow, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "none" {
		return nil, nil
	}
	i := strings.LastIndexByte(s, ' ')
	if i < 0 {
		return nil, fmt.Errorf("want days and hours such as \"mon-fri 09:00-17:00\", got %q", s)
	}
	days, hours := strings.TrimSpace(s[:i]), s[i+1:]
	start, end, ok := strings.Cut(hours, "-")
	if !ok {
		return nil, fmt.Errorf("want hours as HH:MM-HH:MM, such as 09:00-17:00, got %q", hours)
	}
	w := &SendWindow{Start: start, End: end}
	switch {
	case days == "every day":
	case strings.Contains(days, "-"):
		from, to, _ := strings.Cut(days, "-")
		a, b := slices.Index(Weekdays, from), slices.Index(Weekdays, to)
		if a < 0 || b < a {
			return nil, fmt.Errorf("want a range of days such as mon-fri, got %q", days)
		}
		w.Days = slices.Clone(Weekdays[a : b+1])
	default:
		w.Days = strings.Split(days, ",")
	}
	v := &validator{}
	v.sendWindow(w)
	if len(v.errs) > 0 {
		return nil, fmt.Errorf("%s: %s", v.errs[0].Path, v.errs[0].Message)
	}
	return w, nil
}
