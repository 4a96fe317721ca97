package accounts

import "testing"

func TestSegmentFor(t *testing.T) {
	tests := []struct {
		arr  float64
		want string
	}{
		{0, "smb"},
		{24_999.99, "smb"},
		{25_000, "mid_market"},
		{99_999, "mid_market"},
		{100_000, "enterprise"},
		{2_500_000, "enterprise"},
	}
	for _, tt := range tests {
		if got := DefaultSegmentThresholds.SegmentFor(tt.arr); got != tt.want {
			t.Errorf("SegmentFor(%v) = %s, want %s", tt.arr, got, tt.want)
		}
	}
}
