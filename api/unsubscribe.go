package api

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/unsubscribe"
)

// unsubscribeHandlers serve the link in every email. GET shows a page with a
// button (mail scanners open links; they must not unsubscribe anyone); POST
// unsubscribes, which is also what mail clients' one-click (RFC 8058) does.
type unsubscribeHandlers struct {
	store app.Unsubscribes
	links *unsubscribe.Links
}

// unsubscribeCSS is the page's only style: readable on a phone (it fits
// 390 px; a long address wraps), a large button that shows its focus. It
// is inline, allowed by its hash alone.
const unsubscribeCSS = `body{margin:0;padding:1.5rem 1rem;font:1.125rem/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2328;background:#fff}
main{max-width:32rem;margin:0 auto}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 1rem}
p{margin:0 0 1.25rem;overflow-wrap:anywhere}
button{font:inherit;font-weight:600;color:#fff;background:#0b57d0;border:0;border-radius:.5rem;padding:.75rem 1.5rem;min-height:3rem;width:100%;cursor:pointer}
button:focus-visible{outline:3px solid #1f2328;outline-offset:3px}
@media (min-width:30rem){button{width:auto}}`

// The one page customers see: it works without script (there is none),
// names what the button does, and fits a phone.
var unsubscribePage = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{if .Done}}You are unsubscribed{{else if .Error}}This link does not work{{else}}Unsubscribe{{end}}</title>
<style>` + unsubscribeCSS + `</style>
</head>
<body><main>
{{if .Done}}<h1>You are unsubscribed</h1><p>{{.Email}} will get no more emails from us about {{.Account}}.</p>
{{else if .Error}}<h1>This link does not work</h1><p>{{.Error}}</p>
{{else}}<h1>Unsubscribe?</h1><p id="what">Stop emails to {{.Email}} about {{.Account}}.</p>
<form method="post"><button type="submit" aria-describedby="what">Unsubscribe</button></form>{{end}}
</main></body></html>`))

// unsubscribeCSP allows the page's own style (by its hash) and its form,
// posting back to this address, and nothing else: no script, no image, no
// frame around it (clickjacking the button).
var unsubscribeCSP = pagePolicy(unsubscribeCSS)

// pagePolicy is the Content-Security-Policy of a public page whose only
// style is css: that style by its hash, forms posting to this site.
func pagePolicy(css string) string {
	sum := sha256.Sum256([]byte(css))
	return "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'; " +
		"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
}

// pageHeaders are those of every answer of the public pages (unsubscribe
// and survey links) under their policy: the console's but the referrer,
// since the address holds the link's token.
func pageHeaders(c echo.Context, csp string) {
	hdr := c.Response().Header()
	hdr.Set("Content-Security-Policy", csp)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Referrer-Policy", "no-referrer")
	hdr.Set("Cache-Control", "no-store")
}

type unsubscribeView struct {
	Done                  bool
	Email, Account, Error string
}

func (u unsubscribeHandlers) render(c echo.Context, status int, v unsubscribeView) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(status)
	return unsubscribePage.Execute(c.Response(), v)
}

func (u unsubscribeHandlers) page(c echo.Context) error {
	pageHeaders(c, unsubscribeCSP)
	id, err := u.links.Verify(c.QueryParam("token"))
	if err != nil {
		return u.render(c, http.StatusBadRequest, unsubscribeView{Error: "The unsubscribe link is incomplete or damaged."})
	}
	email, err := u.store.GetEmail(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return u.render(c, http.StatusNotFound, unsubscribeView{Error: "We could not find the email this link came from."})
	}
	if err != nil {
		return err
	}
	// The page names the account as its emails do, not by its internal id.
	acct, err := u.store.GetAccount(c.Request().Context(), email.AccountID)
	if err != nil {
		return err
	}
	return u.render(c, http.StatusOK, unsubscribeView{Email: email.Recipient, Account: acct.Name})
}

func (u unsubscribeHandlers) unsubscribe(c echo.Context) error {
	pageHeaders(c, unsubscribeCSP)
	id, err := u.links.Verify(c.QueryParam("token"))
	if err != nil {
		return u.render(c, http.StatusBadRequest, unsubscribeView{Error: "The unsubscribe link is incomplete or damaged."})
	}
	who, err := u.store.UnsubscribeByEmailID(c.Request().Context(), id)
	if errors.Is(err, store.ErrNotFound) {
		return u.render(c, http.StatusNotFound, unsubscribeView{Error: "We could not find the email this link came from."})
	}
	if err != nil {
		return err
	}
	return u.render(c, http.StatusOK, unsubscribeView{Done: true, Email: who.Email, Account: who.AccountName})
}
