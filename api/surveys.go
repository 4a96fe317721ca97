package api

import (
	"errors"
	"fmt"
	"html/template"
	"mime"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/internal/text"
	"github.com/playbookd/playbookd/internal/throttle"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/survey"
)

// surveyHandlers serve the links of survey emails, one per score. GET shows
// the question with the score picked and a form (mail scanners open links:
// a GET records nothing); POST records the answer, once per run, step and
// recipient. The form needs no CSRF token: it carries no ambient authority
// (no cookie, no session), only the signed link, which is the credential;
// another site holding a link could as well post it itself, and the page
// cannot be framed. A link that is not ours counts as a failed
// authentication of the client (the key throttle's record), so guessing is
// throttled as it is for keys.
type surveyHandlers struct {
	app      *app.App
	failures app.Throttle
}

// maxSurveyBody bounds a survey form: a token and a comment of
// survey.MaxComment characters, percent-encoded, fit many times over.
const maxSurveyBody = 64 << 10

// surveyCSS is the page's only style, as the unsubscribe page's: readable
// on a phone (it fits 360 px: the scale wraps), a large button, a textarea
// as wide as the page, focus shown. Inline, allowed by its hash alone.
const surveyCSS = `body{margin:0;padding:1.5rem 1rem;font:1.125rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#fff}
main{max-width:32rem;margin:0 auto}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem}
p{margin:0 0 1.25rem;overflow-wrap:anywhere}
ol{list-style:none;display:flex;flex-wrap:wrap;gap:.375rem;margin:0 0 .5rem;padding:0}
li{min-width:2.5rem;padding:.25rem 0;text-align:center;border:1px solid #8c959f;border-radius:.375rem;color:#57606a}
li.chosen{background:#0b57d0;border-color:#0b57d0;color:#fff;font-weight:700}
.ends{font-size:1rem;color:#57606a}
.error{color:#a40e26;font-weight:600}
label{display:block;font-weight:600;margin:0 0 .5rem}
textarea{box-sizing:border-box;display:block;width:100%;min-height:7rem;font:inherit;padding:.5rem;border:1px solid #8c959f;border-radius:.375rem;margin:0 0 1.25rem}
textarea:focus-visible{outline:3px solid #1f2328;outline-offset:2px}
button{font:inherit;font-weight:600;color:#fff;background:#0b57d0;border:0;border-radius:.5rem;padding:.75rem 1.5rem;min-height:3rem;width:100%;cursor:pointer}
button:focus-visible{outline:3px solid #1f2328;outline-offset:3px}
@media (min-width:30rem){button{width:auto}}`

// surveyCSP is unsubscribeCSP for the survey page's style.
var surveyCSP = pagePolicy(surveyCSS)

// surveyPage: no script (there is none), a form that posts back to the
// link's own address, the picked score shown among the scale, and the
// question in the email's words; nothing about the account or recipient.
var surveyPage = template.Must(template.New("survey").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<style>` + surveyCSS + `</style>
</head>
<body><main>
{{define "scale"}}<ol aria-label="Scores from {{.Low}} to {{.High}}">{{range .Scale}}{{if eq . $.Score}}<li class="chosen" aria-current="true">{{.}}</li>{{else}}<li>{{.}}</li>{{end}}{{end}}</ol>
<p class="ends">{{.Ends}}</p>{{end}}
{{if eq .State "ask"}}<h1>{{.Question}}</h1>
{{if .Sender}}<p class="ends">A question from {{.Sender}}.</p>{{end}}
<p id="answer">Your answer: <strong>{{.Score}}</strong></p>
{{template "scale" .}}
{{if .Error}}<p class="error" id="problem">{{.Error}}</p>{{end}}
<form method="post"><input type="hidden" name="token" value="{{.Token}}">
<label for="comment">Anything you would like to add? (optional)</label>
<textarea id="comment" name="comment" maxlength="{{.MaxComment}}" rows="4"{{if .Error}} aria-describedby="problem"{{end}}>{{.Comment}}</textarea>
<button type="submit" aria-describedby="answer">Send my answer</button></form>
<p class="ends">Picked the wrong score? Use another link in the email.</p>
{{else if eq .State "thanks"}}<h1>Thank you</h1>
<p>Your answer, <strong>{{.Score}}</strong>, is recorded.{{if .Sender}} Every answer is read at {{.Sender}}.{{end}}</p>
{{template "scale" .}}
{{else if eq .State "answered"}}<h1>We already have your answer</h1>
<p>You answered <strong>{{.Score}}</strong>. Your first answer stands; thank you.</p>
{{template "scale" .}}
{{else}}<h1>{{.Title}}</h1><p>{{.Error}}</p>{{end}}
</main></body></html>`))

type surveyView struct {
	app.SurveyView
	State, Title, Error, Token, Comment string
	MaxComment                          int
}

// Low and High are the scale's ends.
func (v surveyView) Low() int  { lo, _, _ := survey.Scale(v.Kind); return lo }
func (v surveyView) High() int { _, hi, _ := survey.Scale(v.Kind); return hi }

// Ends says what the scale's ends mean.
func (v surveyView) Ends() string {
	if v.Kind == survey.CSAT {
		return "1 = very unsatisfied, 5 = very satisfied"
	}
	return "0 = not at all likely, 10 = extremely likely"
}

func (h surveyHandlers) render(c echo.Context, status int, v surveyView) error {
	v.MaxComment = survey.MaxComment
	if v.Title == "" {
		switch v.State {
		case "ask":
			v.Title = "Your answer"
		case "thanks":
			v.Title = "Thank you"
		case "answered":
			v.Title = "We already have your answer"
		}
	}
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(status)
	if c.Request().Method == http.MethodHead {
		return nil
	}
	return surveyPage.Execute(c.Response(), v)
}

// refuse answers a request the page cannot serve: problem+json to a client
// that asks for JSON, else a page in plain words.
func (h surveyHandlers) refuse(c echo.Context, status int, title, detail string) error {
	if wantsJSON(c.Request()) {
		return problem(status, detail)
	}
	return h.render(c, status, surveyView{State: "error", Title: title, Error: detail})
}

// wantsJSON: the client asks for JSON and not for a page.
func wantsJSON(r *http.Request) bool {
	accept := r.Header.Get(echo.HeaderAccept)
	return strings.Contains(accept, "json") && !strings.Contains(accept, "text/html")
}

const badLink = "This link does not work"

// failed answers the errors of the survey use cases a person can cause.
func (h surveyHandlers) failed(c echo.Context, err error) error {
	switch {
	case errors.Is(err, survey.ErrBadToken): // app.ErrNoSurveyLinks is the server's fault: a 500, logged
		h.failures.Fail(c.RealIP())
		return h.refuse(c, http.StatusBadRequest, badLink, "The survey link is incomplete or damaged. Please use the link in the email as it is.")
	case errors.Is(err, store.ErrNoSurvey):
		return h.refuse(c, http.StatusNotFound, badLink, "We could not find the survey this link came from.")
	}
	return err
}

// throttled refuses a client that has sent too many bad links lately:
// done says the answer is written (or err).
func (h surveyHandlers) throttled(c echo.Context) (done bool, err error) {
	wait := h.failures.Wait(c.RealIP())
	if wait <= 0 {
		return false, nil
	}
	c.Response().Header().Set(echo.HeaderRetryAfter, throttle.RetryAfter(wait))
	return true, h.refuse(c, http.StatusTooManyRequests, "Please wait a moment",
		fmt.Sprintf("Too many damaged links came from this address. Please try again in %s seconds.", throttle.RetryAfter(wait)))
}

func (h surveyHandlers) page(c echo.Context) error {
	pageHeaders(c, surveyCSP)
	if done, err := h.throttled(c); done {
		return err
	}
	token := c.QueryParam("token")
	v, err := h.app.SurveyQuestion(c.Request().Context(), token)
	if err != nil {
		return h.failed(c, err)
	}
	if v.Answered {
		return h.render(c, http.StatusOK, surveyView{SurveyView: v, State: "answered"})
	}
	return h.render(c, http.StatusOK, surveyView{SurveyView: v, State: "ask", Token: token})
}

func (h surveyHandlers) answer(c echo.Context) error {
	pageHeaders(c, surveyCSP)
	if done, err := h.throttled(c); done {
		return err
	}
	req := c.Request()
	if mt, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType)); mt != echo.MIMEApplicationForm {
		return h.refuse(c, http.StatusUnsupportedMediaType, "This form cannot be read",
			"Send the form as the page does (Content-Type: application/x-www-form-urlencoded).")
	}
	req.Body = http.MaxBytesReader(c.Response(), req.Body, maxSurveyBody)
	if err := req.ParseForm(); err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return h.refuse(c, http.StatusRequestEntityTooLarge, "This form is too large", "The form is too large to read.")
		}
		return h.refuse(c, http.StatusBadRequest, "This form cannot be read", "The form could not be read.")
	}
	// The form's token, else the address's (the form posts back to the
	// link's address, which holds it too).
	token := req.PostForm.Get("token")
	if token == "" {
		token = c.QueryParam("token")
	}
	// Browsers send a textarea's line breaks as CRLF but count them as one
	// character against maxlength; so do we.
	comment := strings.ReplaceAll(req.PostForm.Get("comment"), "\r\n", "\n")
	if problem := text.Problem(comment, true); problem != "" {
		return h.askAgain(c, token, comment, "Your comment "+problem+". Please remove it and send again.")
	}
	v, err := h.app.AnswerSurvey(req.Context(), token, comment)
	switch {
	case errors.Is(err, survey.ErrCommentTooLong):
		return h.askAgain(c, token, comment, fmt.Sprintf("Your comment is too long: it may have at most %d characters.", survey.MaxComment))
	case err != nil:
		return h.failed(c, err)
	case v.Answered:
		return h.render(c, http.StatusOK, surveyView{SurveyView: v, State: "answered"})
	}
	return h.render(c, http.StatusOK, surveyView{SurveyView: v, State: "thanks"})
}

// askAgain shows the form again with what is wrong (400), the comment kept
// so that nothing typed is lost; a link that does not work says so instead.
func (h surveyHandlers) askAgain(c echo.Context, token, comment, why string) error {
	if wantsJSON(c.Request()) {
		return problem(http.StatusBadRequest, why, FieldError{Field: "comment", Message: why})
	}
	v, err := h.app.SurveyQuestion(c.Request().Context(), token)
	if err != nil {
		return h.failed(c, err)
	}
	if v.Answered {
		return h.render(c, http.StatusOK, surveyView{SurveyView: v, State: "answered"})
	}
	return h.render(c, http.StatusBadRequest, surveyView{SurveyView: v, State: "ask", Token: token, Comment: comment, Error: why})
}
