package invalid

import (
	"errors"
	"fmt"
	"testing"
)

func TestAnErrorListsEveryBadFieldAndIsFoundWrapped(t *testing.T) {
	e := &Error{What: "task"}
	if e.Err() != nil {
		t.Fatal("no bad field: no error")
	}
	e.Add("title", "required")
	e.Add("due_at", "must be after %s", "now")
	err := fmt.Errorf("create: %w", e.Err())
	var got *Error
	if !errors.As(err, &got) || len(got.Errors) != 2 {
		t.Fatalf("errors.As found %v", got)
	}
	if want := "invalid task: title: required; due_at: must be after now"; got.Error() != want {
		t.Fatalf("%q, want %q", got.Error(), want)
	}
	if one := One("note", "body", "required"); one.Error() != "invalid note: body: required" {
		t.Fatalf("%q", one)
	}
}
