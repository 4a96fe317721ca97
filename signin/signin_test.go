package signin

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"

	"github.com/playbookd/playbookd/mail"
	"github.com/playbookd/playbookd/store"
)

func TestNormaliseEmail(t *testing.T) {
	for in, want := range map[string]string{
		"casey@cs.example":                   "casey@cs.example",
		"  Casey@CS.Example \n":              "casey@cs.example",
		"":                                   "",
		"casey":                              "",
		"Casey <casey@cs.example>":           "",
		"casey@cs.example, other@cs.example": "",
		"ca\nsey@cs.example":                 "",
		strings.Repeat("a", 250) + "@x.io":   "",
	} {
		got, err := normaliseEmail(in)
		if got != want || (want == "") != (err != nil) {
			t.Errorf("normaliseEmail(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
}

// email_verified may be absent (the provider vouches for its addresses),
// a boolean or, from some providers, a string.
func TestEmailVerifiedClaim(t *testing.T) {
	for claim, want := range map[string]bool{
		"": true, "null": true, "true": true, `"true"`: true,
		"false": false, `"false"`: false, `"yes"`: false, "1": false, "{}": false,
	} {
		if got := verified(json.RawMessage(claim)); got != want {
			t.Errorf("verified(%s) = %v, want %v", claim, got, want)
		}
	}
}

// A link email carries its link on a line of its own, in the text and
// the HTML; LinkIn finds it, with the page to go to after.
func TestLinkEmail(t *testing.T) {
	s := &Service{From: mail.Address{Email: "cs@example.com"}, PublicBaseURL: "https://cs.example.com/"}
	msg := s.linkEmail(store.SignInMember{Email: "casey@cs.example", Name: "Casey <Lee>"}, "tok-en_1", "/console/accounts?band=red")
	link := LinkIn(msg)
	u, err := url.Parse(link)
	if err != nil || u.Host != "cs.example.com" || u.Path != LinkPath || u.Query().Get("token") != "tok-en_1" ||
		u.Query().Get("next") != "/console/accounts?band=red" {
		t.Fatalf("LinkIn = %q", link)
	}
	if msg.To.Email != "casey@cs.example" || !strings.Contains(msg.Text, "15 minutes") {
		t.Fatalf("message: %+v", msg)
	}
	if !strings.Contains(msg.HTML, "Casey &lt;Lee&gt;") || !strings.Contains(msg.HTML, `href="`+strings.ReplaceAll(link, "&", "&amp;")+`"`) {
		t.Fatalf("HTML: %s", msg.HTML)
	}
	if got := LinkURL("", "t", "/console/"); got != LinkPath+"?token=t" {
		t.Fatalf("LinkURL without a base or a next = %q", got)
	}
	if LinkIn(mail.Message{Text: "Hi,\nhttps://cs.example.com/console/\n"}) != "" {
		t.Fatal("no link: empty")
	}
}

func TestPendingRoundTrip(t *testing.T) {
	p := Pending{State: "s", Nonce: "n", Verifier: "v", Next: "/console/runs/1"}
	if got := DecodePending(p.Encode()); got != p {
		t.Fatalf("DecodePending(Encode()) = %+v", got)
	}
	for _, bad := range []string{"", "!!", "bm90IGpzb24"} {
		if got := DecodePending(bad); got != (Pending{}) {
			t.Fatalf("DecodePending(%q) = %+v", bad, got)
		}
	}
}
