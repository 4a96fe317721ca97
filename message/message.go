// Package message holds the content of one email (subject, HTML and text)
// as it is drafted, edited, approved, stored and sent. It is a pure value
// type: the store, the activities, the templates and workflow code share it
// without depending on each other.
package message

// Content is the subject and bodies of one email. It travels in workflow
// histories (edits, overrides) and in API answers (approval drafts).
// Histories written before it had tags carry "Subject", "HTML" and "Text":
// encoding/json matches names without regard to case, so both decode.
type Content struct {
	Subject string `json:"subject"`
	HTML    string `json:"html"`
	Text    string `json:"text"`
}
