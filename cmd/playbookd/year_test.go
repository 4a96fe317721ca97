package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

// docs/first-year.md is what `playbookd year` prints today: a change to a
// built-in that moves the year fails here until the page is regenerated
// (go run ./cmd/playbookd year > docs/first-year.md).
func TestFirstYearPageIsCurrent(t *testing.T) {
	var out bytes.Buffer
	if err := yearCommand(context.Background(), nil, &out); err != nil {
		t.Fatal(err)
	}
	page, err := os.ReadFile("../../docs/first-year.md")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(page, out.Bytes()) {
		t.Fatal("docs/first-year.md is stale: run go run ./cmd/playbookd year > docs/first-year.md")
	}
	for _, want := range []string{"## enterprise", "## mid_market", "## smb",
		"| enterprise-cadence | schedule:2026-04-06 |", "| adoption | stage:adoption |", "seed 003 \"Cadence by Account Segment"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the year lacks %q", want)
		}
	}
}

func TestYearRefusesAnUnknownSegment(t *testing.T) {
	err := yearCommand(context.Background(), []string{"giant"}, &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), `unknown segment "giant"; one of enterprise, mid_market, smb`) {
		t.Fatalf("got %v", err)
	}
}
