package templates

import (
	"fmt"
	htmlpkg "html"
	"net/url"
	"strings"
)

// Markdown-light is what the text of a text-first template may use, for the
// layout to show: blank lines between paragraphs, line breaks, "- " list
// items, "# " and "## " headings, **bold** and [label](https://link) (http,
// https and mailto only; any other link stays text as written). Everything
// is escaped. The plain-text part keeps the Markdown, which reads well as
// it is, but for links: "label (https://link)".
//
// What the template's fields print is text, never markup: a contact named
// "**Pat**" or an account named "[Win](https://evil.example)" is shown as
// written. Rendering marks each field's output with litOpen/litClose
// (literalFunc), and markup is only read outside those marks; inside a
// link's or a bold's delimiters, a field is content (a link's URL may carry
// an account id).
const (
	litOpen  = '\uE000' // private use: never in text a person means
	litClose = '\uE001'
)

// literalFunc marks what a field prints as literal text. A line break
// closes the mark and opens it again on the next line, so a line always
// reads on its own (a field cannot start a list item).
// Its argument is a value already made (bounded where it was made); the
// part's buffer bounds what it prints.
func literalFunc(args ...any) (string, error) {
	s := strings.Map(func(r rune) rune {
		if r == litOpen || r == litClose {
			return -1
		}
		return r
	}, fmt.Sprint(values(args)...))
	if s == "" {
		return "", nil
	}
	return string(litOpen) + strings.ReplaceAll(s, "\n", string(litClose)+"\n"+string(litOpen)) + string(litClose), nil
}

// mdText is a text with, for each rune, whether it is literal.
type mdText struct {
	r   []rune
	lit []bool
}

// readMarks takes the marks out of a text.
func readMarks(s string) mdText {
	var t mdText
	in := false
	for _, r := range s {
		switch r {
		case litOpen:
			in = true
		case litClose:
			in = false
		default:
			t.r = append(t.r, r)
			t.lit = append(t.lit, in)
		}
	}
	return t
}

func (t mdText) slice(i, j int) mdText { return mdText{t.r[i:j], t.lit[i:j]} }

func (t mdText) String() string { return string(t.r) }

// markup reports whether the text at i is s, written as markup (not by a
// field).
func (t mdText) markup(i int, s string) bool {
	for _, r := range s {
		if i >= len(t.r) || t.r[i] != r || t.lit[i] {
			return false
		}
		i++
	}
	return true
}

// find is the first i >= from where markup s starts; -1 when none.
func (t mdText) find(from int, s string) int {
	for i := from; i < len(t.r); i++ {
		if t.markup(i, s) {
			return i
		}
	}
	return -1
}

// lines splits the text at line breaks.
func (t mdText) lines() []mdText {
	var out []mdText
	start := 0
	for i, r := range t.r {
		if r == '\n' {
			out = append(out, t.slice(start, i))
			start = i + 1
		}
	}
	return append(out, t.slice(start, len(t.r)))
}

// trim drops spaces at both ends.
func (t mdText) trim() mdText {
	i, j := 0, len(t.r)
	for i < j && (t.r[i] == ' ' || t.r[i] == '\t' || t.r[i] == '\r') {
		i++
	}
	for j > i && (t.r[j-1] == ' ' || t.r[j-1] == '\t' || t.r[j-1] == '\r') {
		j--
	}
	return t.slice(i, j)
}

// Inline styles: mail clients drop <style> blocks, some all of them.
const (
	styleP  = `margin:0 0 16px 0;`
	styleUL = `margin:0 0 16px 0;padding:0 0 0 24px;`
	styleLI = `margin:0 0 4px 0;`
	styleH1 = `margin:0 0 16px 0;font-size:22px;line-height:1.3;font-weight:bold;`
	styleH2 = `margin:0 0 12px 0;font-size:18px;line-height:1.3;font-weight:bold;`
)

// markdownHTML is the html of a Markdown-light text (with the marks of
// literalFunc, if any).
func markdownHTML(s string) string {
	var b strings.Builder
	var para []string
	inList := false
	flush := func() {
		if len(para) > 0 {
			b.WriteString(`<p style="` + styleP + `">` + strings.Join(para, "<br>\n") + "</p>\n")
			para = nil
		}
	}
	closeList := func() {
		if inList {
			b.WriteString("</ul>\n")
			inList = false
		}
	}
	for _, line := range readMarks(strings.TrimSpace(s)).lines() {
		line = line.trim()
		switch {
		case len(line.r) == 0: // a blank line ends the paragraph or the list
			flush()
			closeList()
		case line.markup(0, "- "):
			flush()
			if !inList {
				b.WriteString(`<ul style="` + styleUL + `">` + "\n")
				inList = true
			}
			b.WriteString(`  <li style="` + styleLI + `">` + inlineHTML(line.slice(2, len(line.r)).trim()) + "</li>\n")
		case line.markup(0, "# "), line.markup(0, "## "):
			flush()
			closeList()
			tag, style, n := "h1", styleH1, 2
			if line.markup(0, "## ") {
				tag, style, n = "h2", styleH2, 3
			}
			b.WriteString("<" + tag + ` style="` + style + `">` + inlineHTML(line.slice(n, len(line.r)).trim()) + "</" + tag + ">\n")
		default:
			closeList()
			para = append(para, inlineHTML(line))
		}
	}
	flush()
	closeList()
	return b.String()
}

// markdownText is the plain-text part of a Markdown-light text: as written,
// but for links, "label (url)", and without the marks.
func markdownText(s string) string {
	lines := readMarks(s).lines()
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = inline(l, false, true, true)
	}
	return strings.Join(out, "\n")
}

func inlineHTML(t mdText) string { return inline(t, true, true, true) }

// inline renders a line's **bold** and [links], as html or as text.
func inline(t mdText, html, bold, links bool) string {
	var b strings.Builder
	esc := func(s string) string {
		if html {
			return htmlpkg.EscapeString(s)
		}
		return s
	}
	for i := 0; i < len(t.r); {
		if bold && t.markup(i, "**") {
			if j := t.find(i+2, "**"); j > i+2 {
				inner := inline(t.slice(i+2, j), html, false, links)
				if html {
					b.WriteString("<strong>" + inner + "</strong>")
				} else {
					b.WriteString("**" + inner + "**")
				}
				i = j + 2
				continue
			}
		}
		if links && t.markup(i, "[") {
			if end, label, href, ok := link(t, i); ok {
				text := inline(label, html, bold, false)
				switch {
				case html:
					b.WriteString(`<a href="` + htmlpkg.EscapeString(href) + `" style="text-decoration:underline;">` + text + "</a>")
				case label.String() == href || "mailto:"+label.String() == href:
					b.WriteString(text)
				default:
					b.WriteString(text + " (" + strings.TrimPrefix(href, "mailto:") + ")")
				}
				i = end
				continue
			}
		}
		b.WriteString(esc(string(t.r[i])))
		i++
	}
	return b.String()
}

// link reads [label](url) at i: where it ends, the label and the URL. The
// brackets and parentheses must be markup; a field may fill the label or
// the URL in.
func link(t mdText, i int) (end int, label mdText, href string, ok bool) {
	mid := t.find(i+1, "](")
	if mid <= i+1 {
		return 0, mdText{}, "", false
	}
	if open := t.find(i+1, "["); open >= 0 && open < mid {
		return 0, mdText{}, "", false // [a [b](c): the inner one is the link
	}
	paren := t.find(mid+2, ")")
	if paren < 0 {
		return 0, mdText{}, "", false
	}
	href = strings.TrimSpace(t.slice(mid+2, paren).String())
	if !safeLink(href) {
		return 0, mdText{}, "", false
	}
	return paren + 1, t.slice(i+1, mid), href, true
}

// safeLink allows http(s) links to a host and mailto addresses: no
// javascript:, data: or relative links, nothing with spaces.
func safeLink(href string) bool {
	if href == "" || strings.ContainsAny(href, " \t\r\n<>\"") {
		return false
	}
	u, err := url.Parse(href)
	if err != nil {
		return false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		return u.Host != ""
	case "mailto":
		return u.Opaque != "" && strings.Contains(u.Opaque, "@")
	}
	return false
}
