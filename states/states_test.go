package states

import "testing"

func TestLiveRunsAreRunningOrPaused(t *testing.T) {
	for _, r := range Runs {
		want := r == RunRunning || r == RunPaused
		if r.Live() != want {
			t.Errorf("%s: live %v, want %v", r, r.Live(), want)
		}
	}
	if Run("unknown").Live() {
		t.Error("an unknown status is not live")
	}
}

func TestReachedEmailsAreTheOnesThatMayHaveGone(t *testing.T) {
	for _, e := range Emails {
		want := e != EmailFailed && e != EmailSkipped
		if e.Reached() != want {
			t.Errorf("%s: reached %v, want %v", e, e.Reached(), want)
		}
	}
}
