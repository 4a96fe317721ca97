// Package unsubscribe signs and checks the one-click unsubscribe links every
// email carries. A token names the outbox row it was sent with, so it says
// who unsubscribes without a lookup table, and an HMAC makes it unforgeable.
package unsubscribe

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strings"

	"github.com/google/uuid"
)

// ErrBadToken is returned for a token that is malformed or not ours.
var ErrBadToken = errors.New("invalid unsubscribe link")

// Links makes and checks unsubscribe links.
type Links struct {
	key     []byte
	baseURL string
}

// New makes links under baseURL (the API's public address) signed with key.
func New(key, baseURL string) *Links {
	return &Links{key: []byte(key), baseURL: strings.TrimRight(baseURL, "/")}
}

// Token signs an outbox id.
func (l *Links) Token(emailID uuid.UUID) string {
	return base64.RawURLEncoding.EncodeToString(emailID[:]) + "." + base64.RawURLEncoding.EncodeToString(l.mac(emailID))
}

// URL is the unsubscribe link for an outbox row.
func (l *Links) URL(emailID uuid.UUID) string {
	return l.baseURL + "/v1/unsubscribe?token=" + url.QueryEscape(l.Token(emailID))
}

// Verify returns the outbox id a token was made for.
func (l *Links) Verify(token string) (uuid.UUID, error) {
	idPart, macPart, ok := strings.Cut(token, ".")
	if !ok {
		return uuid.Nil, ErrBadToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(idPart)
	if err != nil || len(raw) != 16 {
		return uuid.Nil, ErrBadToken
	}
	sig, err := base64.RawURLEncoding.DecodeString(macPart)
	if err != nil {
		return uuid.Nil, ErrBadToken
	}
	id := uuid.UUID(raw)
	if !hmac.Equal(sig, l.mac(id)) {
		return uuid.Nil, ErrBadToken
	}
	return id, nil
}

func (l *Links) mac(id uuid.UUID) []byte {
	m := hmac.New(sha256.New, l.key)
	m.Write([]byte("unsubscribe:"))
	m.Write(id[:])
	return m.Sum(nil)[:16]
}
