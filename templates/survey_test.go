package templates

import (
	"fmt"
	"strings"
	"testing"
)

// The survey built-ins show the question and every score's link, in the
// text part and as a tap target in the html part, which is inline-styled
// markup only; the csat one says each score in words. Both pass the html
// check, which runs for a range over the options.
func TestSurveyTemplatesRenderEveryLink(t *testing.T) {
	set, err := Builtin()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		template, kind string
		scores         []int
		question       string
		words          []string
	}{
		{"nps-survey", "nps", []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}, NPSQuestion, []string{"Not at all likely", "Extremely likely"}},
		{"csat-survey", "csat", []int{1, 2, 3, 4, 5}, CSATQuestion, []string{"Very dissatisfied", "Dissatisfied", "Neutral", "Satisfied", "Very satisfied"}},
	}
	for _, tt := range tests {
		t.Run(tt.template, func(t *testing.T) {
			src, err := builtinFS.ReadFile("builtin/" + tt.template + ".tmpl")
			if err != nil {
				t.Fatal(err)
			}
			Check(string(src), true, func(line int, msg string) { t.Errorf("line %d: %s", line, msg) })
			data := full
			data.Survey = NewSurvey(tt.kind, tt.scores, func(score int) string {
				return fmt.Sprintf("https://cs.test/v1/surveys/respond?token=%s.%d", tt.kind, score)
			})
			got, err := set.Render(tt.template, data)
			if err != nil {
				t.Fatal(err)
			}
			for _, part := range []string{got.Text, got.HTML} {
				if !strings.Contains(part, tt.question) {
					t.Errorf("no question in %q", part)
				}
				for _, w := range tt.words {
					if !strings.Contains(part, w) {
						t.Errorf("no %q in %q", w, part)
					}
				}
			}
			for _, o := range data.Survey.Options {
				if n := strings.Count(got.Text, o.URL+"\n"); n != 1 {
					t.Errorf("text has score %d's link %d times, want once on its line", o.Score, n)
				}
				if n := strings.Count(got.HTML, `href="`+o.URL+`"`); n != 1 {
					t.Errorf("html has score %d's link %d times, want once", o.Score, n)
				}
			}
			for _, banned := range []string{"<img", "<script", "<style", "class="} {
				if strings.Contains(got.HTML, banned) {
					t.Errorf("html has %s: inline styles only, no images, no script", banned)
				}
			}
			// Outside a survey (the zero Survey) it still renders, without links.
			empty, err := set.Render(tt.template, Data{})
			if err != nil || strings.Contains(empty.HTML, "href=") {
				t.Errorf("without a survey: %v, %q", err, empty.HTML)
			}
		})
	}
}

// A range over the survey's options keeps the html escaping check (on nil
// data the list is empty, so the check's execution ends); a range over a
// number still skips it, as it could run on without writing.
func TestCheckEscapesHTMLWithARangeOverTheOptions(t *testing.T) {
	open := `{{range .Survey.Options}}<a href="{{.URL}}">{{.Score}}</a>{{end}}<p title="x`
	if got := check(open, true); len(got) != 1 || !strings.Contains(got[0], "ends inside a tag") {
		t.Errorf("range over the options: %v, want the html to be checked", got)
	}
	if got := check(`{{range 5}}x{{end}}<p title="x`, true); len(got) != 0 {
		t.Errorf("range over a number: %v, want the escape check skipped", got)
	}
}
