// Package browsertest drives a real headless Chromium (Debian's, through
// chromedp) for the console's browser tests, and writes screenshots of the
// pages they visit.
package browsertest

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/playbookd/playbookd/store/storetest"
)

// PathEnv names the Chromium binary; chromium on PATH otherwise.
const PathEnv = "CHROMIUM_PATH"

// ScreenshotDirEnv names where screenshots go; .data/screenshots in the
// repository otherwise (ignored by git).
const ScreenshotDirEnv = "PLAYBOOKD_SCREENSHOTS"

// Widths the console must work at: a laptop and a phone.
const (
	Desktop = 1280
	Phone   = 390
)

// New starts a headless Chromium for the test, closed when it ends. Without
// Chromium the test is skipped, or failed when storetest.RequireEnv is set.
func New(t testing.TB) context.Context {
	t.Helper()
	path := os.Getenv(PathEnv)
	if path == "" {
		path, _ = exec.LookPath("chromium")
	}
	if path == "" {
		storetest.Unavailable(t, "Chromium not found (install Debian's chromium or set %s)", PathEnv)
	}
	// The flags a root user in a closed network needs: no sandbox (root),
	// and nothing that phones home (refused connections slow every start).
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(Desktop, 900),
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// Start the browser now, on the test's context: the first run's context
	// owns the browser (a derived one with a timeout would close it).
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	// Every action of the test is bounded: a wait for what never appears
	// fails the test with a deadline instead of hanging the suite. Derived
	// after the start, its end cancels actions, not the browser.
	bounded, cancelBounded := context.WithTimeout(ctx, testBound)
	t.Cleanup(cancelBounded)
	return bounded
}

// testBound is the longest a browser test's actions may take together: a
// page load under -race on a loaded machine takes seconds, not minutes.
const testBound = 4 * time.Minute

// ScreenshotDir is where a test run writes its screenshots.
func ScreenshotDir(t testing.TB) string {
	dir := os.Getenv(ScreenshotDirEnv)
	if dir == "" {
		_, file, _, _ := runtime.Caller(0)
		dir = filepath.Join(filepath.Dir(file), "..", "..", ".data", "screenshots")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("screenshots: %v", err)
	}
	return dir
}

// Screenshot captures the whole current page at the width (px) into
// <dir>/<name>-<width>.png.
func Screenshot(ctx context.Context, t testing.TB, name string, width int64) {
	t.Helper()
	err := chromedp.Do(ctx, chromedp.EmulateViewport(width, 900))
	var png []byte
	if err == nil {
		png, err = chromedp.Run(ctx, chromedp.FullScreenshot(100)) // 100: PNG (below it, JPEG)
	}
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	file := filepath.Join(ScreenshotDir(t), strings.ReplaceAll(name, "/", "-")+"-"+itoa(width)+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
}

func itoa(n int64) string {
	const digits = "0123456789"
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{digits[n%10]}, b...)
	}
	return string(b)
}
