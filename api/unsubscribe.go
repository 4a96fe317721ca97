package api

import (
	"errors"
	"html/template"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/store"
	"github.com/playbookd/playbookd/unsubscribe"
)

// unsubscribeHandlers serve the link in every email. GET shows a page with a
// button (mail scanners open links; they must not unsubscribe anyone); POST
// unsubscribes, which is also what mail clients' one-click (RFC 8058) does.
type unsubscribeHandlers struct {
	store Unsubscribes
	links *unsubscribe.Links
}

var unsubscribePage = template.Must(template.New("page").Parse(`<!doctype html>
<html><head><meta charset="utf-8"><title>Unsubscribe</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 4em auto">
{{if .Done}}<h1>You are unsubscribed</h1><p>{{.Email}} will get no more emails from us about {{.Account}}.</p>
{{else if .Error}}<h1>This link does not work</h1><p>{{.Error}}</p>
{{else}}<h1>Unsubscribe?</h1><p>Stop emails to {{.Email}} about {{.Account}}.</p>
<form method="post"><button type="submit">Unsubscribe</button></form>{{end}}
</body></html>`))

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
