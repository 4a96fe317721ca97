package e2e

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/internal/browsertest"
)

// tab is a browser tab of a console test, with what its steps need.
type tab struct {
	t   *testing.T
	ctx context.Context
}

// shoot writes screenshots of the page at both widths.
func (b tab) shoot(name string) {
	b.t.Helper()
	browsertest.Screenshot(b.ctx, b.t, name, browsertest.Phone)
	browsertest.Screenshot(b.ctx, b.t, name, browsertest.Desktop)
}

// setValue sets a field as a person clearing it or picking an option
// would (chromedp's SetValue refuses some values).
func setValue(css, v string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`document.querySelector(%q).value = %q`, css, v)))
		return err
	})
}

// typeInto replaces a field's text and tells the page, as typing does.
func typeInto(css, v string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
		_, err := chromedp.Run(ctx, chromedp.Evaluate[bool](fmt.Sprintf(
			`(el => { el.value = %q; return el.dispatchEvent(new Event("input")); })(document.querySelector(%q))`, v, css)))
		return err
	})
}

// waitVisible waits for an element a script shows, failing after a while
// rather than hanging the test.
func (b tab) waitVisible(css string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	require.NoError(b.t, chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(css))), "waiting for %s", css)
}

// mainText is what the page says.
func (b tab) mainText() string {
	b.t.Helper()
	require.NoError(b.t, chromedp.Do(b.ctx, chromedp.WaitVisible(chromedp.CSS("main h1"))))
	text, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS("main")))
	require.NoError(b.t, err)
	return text
}

// submit does what posts a form and returns what the next page says:
// the flash of a redirect, or the heading of a refusal.
func (b tab) submit(steps ...chromedp.Action[chromedp.Void]) string {
	b.t.Helper()
	_, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`window.submitted = 1`))
	require.NoError(b.t, err)
	require.NoError(b.t, chromedp.Do(b.ctx, steps...))
	// The new page has no mark; while it loads, asking may fail.
	deadline := time.Now().Add(15 * time.Second)
	for {
		loaded, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!window.submitted && document.readyState === "complete"`))
		if err == nil && loaded {
			break
		}
		require.True(b.t, time.Now().Before(deadline), "the form's answer never loaded (%v)", err)
		time.Sleep(20 * time.Millisecond)
	}
	return b.mainText()
}
