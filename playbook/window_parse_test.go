package playbook

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseSendWindowReadsWhatStringWrites(t *testing.T) {
	tests := []struct {
		in   string
		want *SendWindow
		err  string
	}{
		{"mon-fri 09:00-17:00", &SendWindow{Days: []string{"mon", "tue", "wed", "thu", "fri"}, Start: "09:00", End: "17:00"}, ""},
		{"mon,wed,fri 08:30-12:00", &SendWindow{Days: []string{"mon", "wed", "fri"}, Start: "08:30", End: "12:00"}, ""},
		{"every day 10:00-18:00", &SendWindow{Start: "10:00", End: "18:00"}, ""},
		{"", nil, ""},
		{"none", nil, ""},
		{"mon-fri", nil, "want days and hours"},
		{"fri-mon 09:00-17:00", nil, "range of days"},
		{"mon-fri 17:00-09:00", nil, "must be after start"},
		{"mon-fri 9-5", nil, "HH:MM"},
		{"sat,sun,holiday 09:00-17:00", nil, "must be one of"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseSendWindow(tt.in)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
			if got != nil {
				again, err := ParseSendWindow(got.String())
				require.NoError(t, err)
				require.Equal(t, got, again)
			}
		})
	}
}
