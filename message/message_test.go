package message

import (
	"encoding/json"
	"testing"
)

// Workflow histories carry edits and overrides in the key case of the type
// they were written with; every one of them must still decode.
func TestContentDecodesEveryKeyCase(t *testing.T) {
	want := Content{Subject: "Hi", HTML: "<p>Hi</p>", Text: "Hi"}
	tests := map[string]string{
		"before the tags (recorded histories)": `{"Subject":"Hi","HTML":"<p>Hi</p>","Text":"Hi"}`,
		"tagged (API answers, new histories)":  `{"subject":"Hi","html":"<p>Hi</p>","text":"Hi"}`,
	}
	for name, in := range tests {
		t.Run(name, func(t *testing.T) {
			var got Content
			if err := json.Unmarshal([]byte(in), &got); err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("got %+v, want %+v", got, want)
			}
		})
	}
}
