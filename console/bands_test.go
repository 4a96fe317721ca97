package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/playbookd/playbookd/console"
	"github.com/playbookd/playbookd/health"
	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/store/storetest"
	"github.com/playbookd/playbookd/templates"
)

// Under seed 004's four bands, orange (high risk, 50-69) shows wherever a
// band does: the account's badge and chart, the list's filter, the
// portfolio's bars and the CSM's risk alert. A three-band console offers no
// orange filter or region, but still shows and counts the orange snapshots
// it finds (they keep the band their model gave).
func TestOrangeBandInTheConsole(t *testing.T) {
	l := storetest.NewLadder(t)
	set, err := templates.Builtin()
	require.NoError(t, err)
	consoleOf := func(model health.Model) (*app.App, *browser) {
		a, _ := app.Build(app.Deps{Store: l.Store, Engine: startingEngine{&fakeTemporal{}, l.Store}, Templates: set, Health: model})
		srv := serve(t, console.Config{App: a, AdminKey: adminKey})
		return a, signedIn(t, srv, keyOf(t, l.Store, storetest.CSM))
	}
	four, casey := consoleOf(health.Presets["seed-004"])
	for _, s := range []float64{95, 75, 55} {
		_, err := four.Triggers.RecordHealth(context.Background(), l.AccountID, score(s), time.Time{})
		require.NoError(t, err)
	}

	pages := []struct {
		path     string
		has, not []string
	}{
		{"/console/accounts/acme", []string{`<span class="badge orange">orange 55</span>`, `<rect class="area orange"`,
			`<circle class="point orange"`, "the latest is 55 (orange)", "green from 90, yellow from 70, orange from 50, red below"}, nil},
		{"/console/accounts?scope=all", []string{`<option value="orange">orange</option>`, `<span class="badge orange">orange</span>`}, nil},
		{"/console/accounts?scope=all&band=orange", []string{`<option value="orange" selected>`, ">Acme<"}, nil},
		{"/console/accounts?scope=all&band=yellow", nil, []string{">Acme<"}},
		{"/console/portfolio", []string{"Orange: 1 (", `class="bar orange"`}, nil},
		{"/console/", []string{`<span class="badge orange">orange</span> Health fell from yellow to orange (score 55)`}, nil},
	}
	for _, p := range pages {
		resp, html := casey.get(p.path)
		require.Equal(t, 200, resp.StatusCode, p.path)
		for _, s := range p.has {
			require.Contains(t, html, s, p.path)
		}
		for _, s := range p.not {
			require.NotContains(t, html, s, p.path)
		}
	}

	_, casey = consoleOf(health.Presets["seed-003"])
	_, html := casey.get("/console/accounts?scope=all")
	require.NotContains(t, html, `<option value="orange"`, "three bands: no orange filter")
	_, html = casey.get("/console/accounts?scope=all&band=orange")
	require.Contains(t, html, `<option value="orange" selected>`, "unless asked for")
	require.Contains(t, html, ">Acme<")
	_, html = casey.get("/console/accounts/acme")
	require.NotContains(t, html, `class="area orange"`)
	require.Contains(t, html, "green from 80, yellow from 50, red below")
	require.Contains(t, html, `<circle class="point orange"`, "the snapshot keeps its band")
	_, html = casey.get("/console/portfolio")
	require.Contains(t, html, "Orange: 1 (", "counted while there are some")
	require.Equal(t, 1, strings.Count(html, `class="bar orange"`))
}
