package templates

import (
	htmlpkg "html"
	"strings"
)

// The layout marks its body and its footer with comments, so that an edit
// of the text replaces the body alone (the brand and footer stay as drafted)
// and the send puts the recipient's unsubscribe link in the footer.
// html/template drops comments from templates, so no hand-written html and
// no customer data carries these marks.
const (
	bodyStart   = "<!--playbookd:body-->"
	bodyEnd     = "<!--/playbookd:body-->"
	footerStart = "<!--playbookd:footer-->"
	footerEnd   = "<!--/playbookd:footer-->"
)

// fontStack is the system sans-serif of each platform; mail clients that
// know none of them fall back to Arial, never to a serif.
const fontStack = `-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif`

// Colours besides the brand's: body text, muted footer text, lines, page.
const (
	colorText  = "#1f2933"
	colorMuted = "#616e7c"
	colorLine  = "#e4e7eb"
	colorPage  = "#f4f5f7"
)

// layoutHTML lays a text-first template out: a centred column of at most
// 600px (the width mail clients are designed for) that narrows to the
// screen on a phone, in nested tables with inline styles, which every mail
// client renders; the brand's logo or name on an accent line of its
// colour; the text's Markdown-light; and a footer slot (footer).
func layoutHTML(b Brand, subject, text, footer string) string {
	b = b.normal()
	var h strings.Builder
	h.WriteString("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">" +
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>")
	h.WriteString(htmlpkg.EscapeString(strings.TrimSpace(subject)))
	h.WriteString("</title></head>\n")
	h.WriteString(`<body style="margin:0;padding:0;background-color:` + colorPage + `;">` + "\n")
	h.WriteString(`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="background-color:` + colorPage + `;">` +
		"<tr><td align=\"center\" style=\"padding:24px 12px;\">\n")
	h.WriteString(`<table role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0" style="max-width:600px;background-color:#ffffff;border-top:4px solid ` +
		b.Color + `;border-radius:4px;">` + "\n")
	h.WriteString(`<tr><td style="padding:20px 24px 4px 24px;font-family:` + fontStack + `;">`)
	if b.LogoURL != "" {
		h.WriteString(`<img src="` + htmlpkg.EscapeString(b.LogoURL) + `" alt="` + htmlpkg.EscapeString(b.Name) +
			`" height="40" style="display:block;height:40px;width:auto;max-width:200px;border:0;">`)
	} else {
		h.WriteString(`<span style="font-size:18px;font-weight:bold;color:` + b.Color + `;">` + htmlpkg.EscapeString(b.Name) + `</span>`)
	}
	h.WriteString("</td></tr>\n")
	h.WriteString(`<tr><td style="padding:16px 24px 8px 24px;font-family:` + fontStack + `;font-size:16px;line-height:1.5;color:` + colorText + `;">` + "\n")
	h.WriteString(bodyStart + "\n" + markdownHTML(text) + bodyEnd + "\n</td></tr>\n")
	h.WriteString(`<tr><td style="padding:16px 24px 20px 24px;border-top:1px solid ` + colorLine + `;font-family:` + fontStack +
		`;font-size:12px;line-height:1.5;color:` + colorMuted + `;">` + "\n")
	h.WriteString(footerStart + footer + footerEnd + "\n</td></tr>\n")
	h.WriteString("</table>\n</td></tr></table>\n</body></html>")
	return h.String()
}

// Layout is the html the neutral brand lays out for a subject and a
// Markdown-light text, with an empty footer (the send fills it in).
func Layout(subject, text string) string { return layoutHTML(Brand{}, subject, text, "") + "\n" }

// footerHTML is what every customer email ends with: who sends it, from
// which postal address, and how to unsubscribe. Without a link (a preview,
// a draft) it says the send adds it.
func footerHTML(b Brand, link string) string {
	b = b.normal()
	address := htmlpkg.EscapeString(b.PostalAddress)
	if address == "" {
		address = "Postal address not set (MAIL_POSTAL_ADDRESS)"
	}
	unsubscribe := "The unsubscribe link is added when the email is sent."
	if link != "" {
		// A bare link, as mail clients and unsubscribe checkers expect it.
		unsubscribe = `Don't want these emails? <a href="` + htmlpkg.EscapeString(link) + `">Unsubscribe</a>.`
	}
	return `<p style="margin:0 0 4px 0;">` + htmlpkg.EscapeString(b.Name) + " · " + address + "</p>" +
		`<p style="margin:0;">` + unsubscribe + "</p>"
}

// footerText is the plain-text part's footer, as footerHTML.
func footerText(b Brand, link string) string {
	b = b.normal()
	address := b.PostalAddress
	if address == "" {
		address = "postal address not set (MAIL_POSTAL_ADDRESS)"
	}
	if link == "" {
		link = "(the link is added when the email is sent)"
	}
	return "--\n" + b.Name + " · " + address + "\nUnsubscribe: " + link + "\n"
}

// withFooterHTML puts the footer in the html's slot: the layout's, or one
// added before </body> (or at the end) of hand-written html.
func withFooterHTML(html, footer string) string {
	if i := strings.Index(html, footerStart); i >= 0 {
		if j := strings.Index(html[i:], footerEnd); j >= 0 {
			return html[:i+len(footerStart)] + footer + html[i+j:]
		}
	}
	block := footerStart + `<div style="margin:24px 0 0 0;padding:12px 0 0 0;border-top:1px solid ` + colorLine + `;font-family:` + fontStack +
		`;font-size:12px;line-height:1.5;color:` + colorMuted + `;">` + footer + "</div>" + footerEnd
	if i := strings.LastIndex(html, "</body>"); i >= 0 {
		return html[:i] + block + "\n" + html[i:]
	}
	return strings.TrimRight(html, "\n") + "\n" + block + "\n"
}

// WithFooter is a customer email as sent: the footer with the brand's
// postal address and the recipient's unsubscribe link in the html (in the
// layout's slot, or added to hand-written html) and at the end of the text.
// Without a link it is the email as previewed. The html's footer is
// replaced, not added again; the text's is added: call it once per email.
func WithFooter(r Rendered, b Brand, link string) Rendered {
	if r.HTML != "" {
		r.HTML = withFooterHTML(r.HTML, footerHTML(b, link))
	}
	r.Text = strings.TrimRight(r.Text, "\n") + "\n\n" + footerText(b, link)
	return r
}

// laidOut reports whether html is the layout's (it has the body's marks).
func laidOut(html string) bool {
	i := strings.Index(html, bodyStart)
	return i >= 0 && strings.Contains(html[i:], bodyEnd)
}

// relayout replaces a laid-out html's title and body, keeping its brand
// and footer.
func relayout(html, subject, text string) string {
	i := strings.Index(html, bodyStart) + len(bodyStart)
	j := i + strings.Index(html[i:], bodyEnd)
	return retitle(html[:i]+"\n"+markdownHTML(text)+html[j:], subject)
}

// retitle replaces the layout's title.
func retitle(html, subject string) string {
	if a := strings.Index(html, "<title>"); a >= 0 {
		if z := strings.Index(html[a:], "</title>"); z >= 0 {
			return html[:a+len("<title>")] + htmlpkg.EscapeString(strings.TrimSpace(subject)) + html[a+z:]
		}
	}
	return html
}
