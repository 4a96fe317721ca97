package unsubscribe

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
)

func TestTokenRoundTripAndTampering(t *testing.T) {
	links := New("a-signing-key-of-at-least-32-characters", "https://cs.example/")
	id := uuid.New()
	token := links.Token(id)
	got, err := links.Verify(token)
	if err != nil || got != id {
		t.Fatalf("Verify = %v, %v", got, err)
	}
	u, _ := url.Parse(links.URL(id))
	if u.Host != "cs.example" || u.Path != "/v1/unsubscribe" || u.Query().Get("token") != token {
		t.Fatalf("URL = %s", links.URL(id))
	}
	other := uuid.New()
	forged := strings.Split(links.Token(other), ".")[0] + "." + strings.Split(token, ".")[1]
	for _, bad := range []string{"", "x", token + "x", "abc.def", forged, New("another-key-of-at-least-32-characters", "").Token(id)} {
		if _, err := links.Verify(bad); !errors.Is(err, ErrBadToken) {
			t.Errorf("Verify(%q) = %v, want ErrBadToken", bad, err)
		}
	}
}
