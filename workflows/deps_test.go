package workflows_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The layering of the repository, as a table: every package of ours and
// the packages of ours it may import (non-test imports). A new import edge,
// or a new package, fails TestImportTable until the table says so: a
// layering change is made here, deliberately, where review sees it.
//
// Layers, bottom up:
//   - pure leaves: the account model, the health model, email content, the
//     webhook guard, the edges' text rules; they import nothing of ours and
//     do no I/O;
//   - the definition language and the templates, pure too, over the leaves;
//   - what workflow code sees (activities/contract) and workflow code itself
//     (workflows, simulate): deterministic, no store, no mailer, no HTTP;
//   - the store (PostgreSQL), over the pure value types only;
//   - side effects (activities) and services (runs, triggers, playbooks);
//   - the application core (internal/app): the one place the services are
//     wired and the interfaces the edges call are declared, with the use
//     cases more than one edge needs;
//   - the edges: api, console (over internal/app), worker, commands.
//
// To add a package, add its row (path below the module → what it may
// import); to add an edge, add it to the importer's row.
var mayImport = map[string][]string{
	// Pure leaves.
	"accounts":              nil,
	"health":                nil,
	"message":               nil,
	"states":                nil, // the states of runs, approvals, tasks, emails and versions, as types
	"internal/netguard":     nil,
	"internal/historystats": nil,
	"internal/text":         nil, // the text rules both edges apply
	"internal/invalid":      nil, // what is wrong with a request, field by field, for every service and both edges
	"internal/throttle":     nil, // failed authentications by client, for both edges (in memory)
	"metrics":               nil,
	"migrations":            nil,
	"unsubscribe":           nil,
	"survey":                {"accounts"}, // NPS and CSAT: scales, categories, signed answer links, figures by segment
	"mail":                  {"states"},   // senders: I/O, but over plain values

	// The language and the templates.
	"playbook":  {"accounts", "internal/netguard", "internal/text", "survey"},
	"templates": {"accounts", "message"}, // accounts: the declared custom fields

	// Workflow code and what it sees of activities.
	"activities/contract": {"message", "states"},
	"workflows":           {"accounts", "activities/contract", "message", "playbook", "states"},
	"simulate":            {"accounts", "activities/contract", "message", "playbook", "states", "survey", "templates", "workflows"},

	// The system of record: no activities, no workflows, no HTTP.
	"store": {"accounts", "health", "message", "states", "survey"},

	// Side effects and services.
	"compose":    {"health", "store", "survey", "templates"}, // a recipient's email from the records
	"activities": {"accounts", "activities/contract", "compose", "internal/netguard", "mail", "message", "states", "store", "survey", "templates", "unsubscribe"},
	"runs":       {"accounts", "activities/contract", "catalog", "message", "playbook", "states", "store", "workflows"},
	"triggers":   {"accounts", "activities/contract", "health", "playbook", "runs", "store", "survey"},
	"playbooks":  {"playbook"},                                                                               // the built-in definitions; seeding does not reach into store types
	"team":       nil,                                                                                        // who may act on whose work
	"catalog":    {"playbook", "playbooks", "store"},                                                         // drafts, validation, publishing
	"approvals":  {"compose", "internal/invalid", "message", "runs", "states", "store", "team", "templates"}, // deciding
	"tasks":      {"internal/invalid", "store", "team"},                                                      // completing, ad-hoc tasks, reassigning, snoozing
	"timeline":   {"internal/invalid", "store", "team"},                                                      // an account's notes and audit events, as people read them
	"portfolio":  {"store", "survey"},                                                                        // the portfolio report (bands, retention, outcomes)
	"analytics":  {"health", "playbook", "states", "store", "survey"},                                        // a playbook's figures per version and step
	"imports":    {"activities/contract", "store", "triggers", "workflows"},                                  // bulk imports, applied by a workflow
	"signin":     {"mail", "states", "store"},                                                                // members sign in: emailed links, single sign-on

	// The application core: services wired once, the edges' interfaces
	// declared once, the shared use cases. Never an edge, never workflow
	// code or activities.
	"internal/app": {"accounts", "analytics", "approvals", "catalog", "compose", "health", "imports", "internal/invalid", "internal/netguard", "internal/throttle", "mail", "message", "playbook", "portfolio", "runs", "signin", "simulate", "states", "store", "survey", "tasks", "team", "templates", "timeline", "triggers", "workflows"},

	// The edges: they reach the services through internal/app (the other
	// packages are there for their types and errors; mayWire says none is
	// built here), never workflows.
	"api":              {"accounts", "analytics", "approvals", "catalog", "health", "imports", "internal/app", "internal/invalid", "internal/text", "internal/throttle", "metrics", "playbook", "runs", "simulate", "states", "store", "survey", "tasks", "team", "templates", "timeline", "triggers", "unsubscribe"},
	"console":          {"accounts", "analytics", "approvals", "catalog", "health", "internal/app", "internal/invalid", "internal/text", "internal/throttle", "playbook", "portfolio", "runs", "signin", "simulate", "states", "store", "survey", "tasks", "team", "templates", "timeline", "triggers"},
	"internal/config":  {"accounts", "health", "internal/netguard", "message", "playbook"},
	"worker":           {"activities", "workflows"},
	"cmd/playbookd":    {"accounts", "activities", "api", "catalog", "console", "internal/app", "internal/config", "internal/netguard", "mail", "metrics", "migrations", "playbook", "playbooks", "signin", "simulate", "store", "survey", "templates", "unsubscribe", "worker", "workflows"},
	"cmd/bench":        {"internal/historystats", "playbook", "playbooks", "simulate", "templates", "workflows"},
	"cmd/seedcoverage": {"playbook", "playbooks", "templates"},
	"e2e":              nil,

	// Test helpers, imported by tests only.
	"store/storetest":       {"migrations", "store"},
	"internal/sendgridtest": {"store/storetest"},
	"internal/temporaltest": {"store/storetest"},
	"internal/browsertest":  {"store/storetest"},
	"internal/mailtest":     {"mail", "states"},
}

// pending are edges the table forbids that work under way removes (none
// now). Each is allowed until it is gone; then the test fails until its
// entry is deleted, so the table stays exact.
var pending = map[string][]string{}

// mayNotReach are packages outside ours that a package may not depend on,
// even indirectly: workflow code and the pure packages do no I/O
// (PRODUCT.md §2), and the webhook guard's checks stay pure (the dialer
// that enforces them is in activities).
var mayNotReach = map[string][]string{
	"workflows":           {"github.com/jackc/pgx/v5", "github.com/labstack/echo/v4", "github.com/sendgrid/sendgrid-go"},
	"activities/contract": noIO,
	"accounts":            noIO,
	"health":              noIO,
	"message":             noIO,
	"states":              noIO,
	"playbook":            noIO,
	"templates":           noIO,
	"internal/netguard":   noIO,
	"internal/text":       noIO,
	"internal/invalid":    noIO,
}

var noIO = []string{"net", "net/http", "os/exec", "database/sql", "github.com/jackc/pgx/v5", "go.temporal.io/sdk/client"}

const module = "github.com/playbookd/playbookd"

type pkgInfo struct {
	imports []string // ours, relative to the module
	deps    []string // everything, transitively
}

// ourPackages lists every package of the module with its imports.
func ourPackages(t *testing.T) map[string]pkgInfo {
	t.Helper()
	out, err := exec.Command("go", "list", "-f", "{{.ImportPath}}\t{{join .Imports \" \"}}\t{{join .Deps \" \"}}", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	pkgs := map[string]pkgInfo{}
	for line := range strings.Lines(strings.TrimSpace(string(out))) {
		fields := strings.Split(strings.TrimSuffix(line, "\n"), "\t")
		var info pkgInfo
		for _, imp := range strings.Fields(fields[1]) {
			if rel, ok := strings.CutPrefix(imp, module+"/"); ok {
				info.imports = append(info.imports, rel)
			}
		}
		info.deps = strings.Fields(fields[2])
		pkgs[strings.TrimPrefix(fields[0], module+"/")] = info
	}
	return pkgs
}

func TestImportTable(t *testing.T) {
	pkgs := ourPackages(t)
	for pkg, info := range pkgs {
		allowed, known := mayImport[pkg]
		if !known {
			t.Errorf("%s is not in the import table: add it to the table in workflows/deps_test.go with the packages of ours it may import (today: %s)",
				pkg, orNone(info.imports))
			continue
		}
		for _, imp := range info.imports {
			if !slices.Contains(allowed, imp) && !slices.Contains(pending[pkg], imp) {
				t.Errorf("%s imports %s, which the import table does not allow: remove the import, or change the table in workflows/deps_test.go deliberately", pkg, imp)
			}
		}
		for _, imp := range pending[pkg] {
			if !slices.Contains(info.imports, imp) {
				t.Errorf("%s no longer imports %s: delete the pending entry in workflows/deps_test.go", pkg, imp)
			}
		}
	}
	for pkg := range mayImport {
		if _, ok := pkgs[pkg]; !ok {
			t.Errorf("%s is in the import table but is no package: remove its row", pkg)
		}
	}
	for pkg, deny := range mayNotReach {
		for _, dep := range pkgs[pkg].deps {
			if slices.Contains(deny, dep) {
				t.Errorf("%s depends on %s (go list -deps ./%s shows the way)", pkg, dep, pkg)
			}
		}
	}
}

// Only the application core wires the domain services: an edge (or the
// command) that built a runs.Service, a catalog.Service and so on of its
// own would be a second application with its own rules.
func TestOnlyTheApplicationCoreWiresServices(t *testing.T) {
	services := []string{}
	for pkg := range mayImport {
		services = append(services, path.Base(pkg))
	}
	for _, dir := range []string{"api", "console", "cmd/playbookd", "worker"} {
		files, err := filepath.Glob(filepath.Join("..", dir, "*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("no source in %s: %v", dir, err)
		}
		for _, file := range files {
			if strings.HasSuffix(file, "_test.go") {
				continue
			}
			f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			ast.Inspect(f, func(n ast.Node) bool {
				lit, ok := n.(*ast.CompositeLit)
				if !ok {
					return true
				}
				sel, ok := lit.Type.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				if pkg, ok := sel.X.(*ast.Ident); ok && sel.Sel.Name == "Service" && slices.Contains(services, pkg.Name) {
					t.Errorf("%s builds a %s.Service: take it from internal/app (app.Build) instead", file, pkg.Name)
				}
				return true
			})
		}
	}
}

func orNone(list []string) string {
	if len(list) == 0 {
		return "none"
	}
	return strings.Join(list, ", ")
}
