package workflows_test

import (
	"os/exec"
	"strings"
	"testing"
)

// Workflow code does no I/O: it may reach the activity contracts, never the
// store, the mailer, the templates or the HTTP layer (PRODUCT.md §2).
func TestWorkflowsImportNoIO(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	forbidden := []string{
		"github.com/playbookd/playbookd/store",
		"github.com/playbookd/playbookd/mail",
		"github.com/playbookd/playbookd/templates",
		"github.com/playbookd/playbookd/activities",
		"github.com/playbookd/playbookd/api",
		"github.com/labstack/echo/v4",
		"github.com/jackc/pgx/v5",
		"github.com/sendgrid/sendgrid-go",
	}
	for _, dep := range strings.Fields(string(out)) {
		for _, f := range forbidden {
			if dep == f {
				t.Errorf("workflows depends on %s", dep)
			}
		}
	}
}
