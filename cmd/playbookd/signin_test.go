package main

import (
	"testing"

	"github.com/playbookd/playbookd/internal/config"
	"github.com/playbookd/playbookd/signin"
)

// The redirect URL registered with the identity provider is where the
// console takes the callback.
func TestOIDCCallbackPathsAgree(t *testing.T) {
	if config.OIDCCallbackPath != signin.CallbackPath {
		t.Fatalf("config says %q, signin %q", config.OIDCCallbackPath, signin.CallbackPath)
	}
}
