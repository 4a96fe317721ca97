package playbook

import (
	"os"
	"testing"
)

// FuzzParse: no input may panic the parser, and what it accepts must
// validate again after a JSON round trip.
func FuzzParse(f *testing.F) {
	if src, err := os.ReadFile("testdata/product-example.yaml"); err == nil {
		f.Add(src)
	}
	f.Add([]byte(`{"key":"k","name":"K","steps":[{"id":"a","wait":"1d"}]}`))
	f.Add([]byte("key: k\nname: K\nsteps: [{id: a, repeat: {every: 1d, times: 3, steps: [{id: b, wait: 1h}]}}]\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		def, err := Parse(src, opts)
		if err != nil {
			return
		}
		if err := def.Validate(opts); err != nil {
			t.Fatalf("accepted definition fails validation: %v", err)
		}
	})
}
