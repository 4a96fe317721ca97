package store

// ReadDaysOnly makes PlaybookFigures read every period from the daily
// counts, for comparing with the monthly ones; it returns the undo.
func ReadDaysOnly() (undo func()) {
	monthsInReads = false
	return func() { monthsInReads = true }
}
