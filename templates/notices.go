package templates

import "embed"

// Notices are emails to the team about their work (an approval assigned
// or escalated), not to customers: they are kept out of Builtin's set so no
// playbook can send them, and they see a Notice rather than Data.
//
//go:embed notices/*.tmpl
var noticeFS embed.FS

// Notice is what a notice template sees.
type Notice struct {
	To       Person  // the team member told
	Account  Account // the account the work is for
	CSM      Person  // the account's CSM
	Playbook string
	Step     string
	Level    string // the ladder level, in words: "2 (senior csm)"
	Deadline string // when the approval escalates or expires, in words
	Link     string // the approval's console page; opening it decides nothing
}

// Notices parses the notice templates shipped with the binary.
func Notices() (*Set, error) { return parseDir(noticeFS, "notices") }

// RenderNotice fills a notice template in, within the bounds of an email.
func (s *Set) RenderNotice(name string, n Notice) (Rendered, error) {
	return s.render(name, n, false)
}

// Digest is what the daily digest sees: the risk on a team member's
// accounts since their last digest, their pending approvals and overdue
// tasks.
type Digest struct {
	To        Person
	Day       string // "Tue 1 Dec 2026"
	Inbox     string // the console inbox
	Risks     []DigestLine
	Approvals []DigestLine
	Overdue   []DigestLine
}

// DigestLine is one item of a digest.
type DigestLine struct {
	What    string // the approval's step and level, the task's title, what changed on the account
	Account string
	When    string // the approval's deadline, when the task was due, when the account changed
	Link    string // an approval's or the account's console page; "" for a task (the inbox has it)
	// Started is what a risk started and who holds it, in words ("" for
	// approvals and tasks).
	Started string
}

// RenderDigest fills the digest template in.
func (s *Set) RenderDigest(name string, d Digest) (Rendered, error) {
	return s.render(name, d, false)
}
