package templates

import (
	htmlpkg "html"
	"strings"
)

// layoutHTML lays a rendered text body out as HTML, for templates that do
// not define their own "html" part: blank lines separate paragraphs, lines
// starting "- " become list items. Everything is escaped.
func layoutHTML(subject, text string) string {
	var b strings.Builder
	b.WriteString("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>")
	b.WriteString(htmlpkg.EscapeString(strings.TrimSpace(subject)))
	b.WriteString("</title></head>\n<body style=\"font-family: sans-serif; line-height: 1.5; max-width: 40em\">\n")
	for _, block := range strings.Split(strings.TrimSpace(text), "\n\n") {
		lines := strings.Split(strings.TrimSpace(block), "\n")
		var para []string
		inList := false
		flush := func() {
			if len(para) > 0 {
				b.WriteString("<p>" + strings.Join(para, "<br>\n") + "</p>\n")
				para = nil
			}
		}
		for _, line := range lines {
			if item, ok := strings.CutPrefix(strings.TrimSpace(line), "- "); ok {
				flush()
				if !inList {
					b.WriteString("<ul>\n")
					inList = true
				}
				b.WriteString("  <li>" + htmlpkg.EscapeString(item) + "</li>\n")
				continue
			}
			if inList {
				b.WriteString("</ul>\n")
				inList = false
			}
			para = append(para, htmlpkg.EscapeString(line))
		}
		if inList {
			b.WriteString("</ul>\n")
		}
		flush()
	}
	b.WriteString("</body></html>")
	return b.String()
}
