package api

import (
	"slices"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/team"
)

// routes declares every route and who may call it. A csm key reads, and
// changes only its ladder's work (decisions, tasks, events and notes of
// its ladder's accounts), whose own checks apply; only admins manage keys
// and deactivate members.
func routes(r router, h *handlers) {
	r.get("/healthz", healthz, public)
	r.get("/readyz", readyz(h.ready), public)
	r.get("/openapi.json", serveSpec(h.spec), public)
	if h.metrics != nil {
		r.get("/metrics", echo.WrapHandler(h.metrics.Handler()), public)
	}
	// Recipients follow these from their inbox: the link is signed.
	r.get("/v1/unsubscribe", h.unsubscribe.page, public)
	r.post("/v1/unsubscribe", h.unsubscribe.unsubscribe, public)
	// GET shows the answer a survey link picked, POST records it; the form
	// is read under its own, smaller limit.
	r.get("/v1/surveys/respond", h.surveys.page, public)
	r.post("/v1/surveys/respond", h.surveys.answer, public, ownBody)
	// SendGrid signs its batches.
	r.post("/v1/webhooks/sendgrid", h.webhook.handle, public, ownBody)

	r.post("/v1/keys", h.createKey, allow(team.Admins...))
	r.get("/v1/keys", h.listKeys, allow(team.Admins...))
	r.post("/v1/keys/:id/revoke", h.revokeKey, allow(team.Admins...))
	// The webhook URLs that are credentials: only admins write them, ops
	// (who write definitions naming them) list their names, nobody reads
	// a value back.
	r.get("/v1/secrets", h.listSecrets, allow(team.SecretListers...))
	r.put("/v1/secrets/:name", h.putSecret, allow(team.Admins...))
	r.delete("/v1/secrets/:name", h.deleteSecret, allow(team.Admins...))
	r.post("/v1/team", h.upsertTeamMember, allow(team.Operators...))
	r.get("/v1/team", h.listTeam, allow(team.Readers...))
	r.post("/v1/team/:email/deactivate", h.deactivateMember, allow(team.Admins...))
	r.post("/v1/team/:email/reactivate", h.reactivateMember, allow(team.Admins...))
	r.post("/v1/accounts", h.upsertAccount, allow(team.Operators...))
	r.get("/v1/accounts", h.listAccounts, allow(team.Readers...))
	r.post("/v1/accounts/import", h.importAccounts, allow(team.Operators...), ownBody)
	r.get("/v1/accounts/imports/:id", h.getImport, allow(team.Readers...))
	r.get("/v1/accounts/:id", h.getAccount, allow(team.Readers...))
	r.post("/v1/accounts/:id/events", h.reportEvent, allow(team.Reporters...))
	r.post("/v1/accounts/:id/notes", h.addNote, allow(team.Reporters...))
	r.get("/v1/accounts/:id/timeline", h.accountTimeline, allow(team.Readers...))
	r.post("/v1/accounts/:id/health", h.recordHealth, allow(team.Operators...))
	r.get("/v1/accounts/:id/health", h.healthHistory, allow(team.Readers...))
	r.get("/v1/metrics/portfolio", h.getPortfolio, allow(team.Readers...))
	r.get("/v1/playbooks", h.listPlaybooks, allow(team.Readers...))
	r.get("/v1/playbooks/schema.json", h.playbookSchema, allow(team.Readers...))
	r.get("/v1/playbooks/template-fields", h.templateFields, allow(team.Readers...))
	r.post("/v1/playbooks", h.createPlaybook, allow(team.Designers...))
	r.post("/v1/playbooks/validate", h.validatePlaybook, allow(team.Designers...))
	r.get("/v1/playbooks/:key", h.getPlaybook, allow(team.Readers...))
	r.post("/v1/playbooks/:key/versions/:version/publish", h.publishPlaybook, allow(team.Designers...))
	r.get("/v1/playbooks/:key/versions", h.listPlaybookVersions, allow(team.Readers...))
	// Moving live runs to another version is running the playbooks: ops.
	r.post("/v1/playbooks/:key/versions/:version/moves", h.moveRuns, allow(team.Operators...))
	r.get("/v1/playbooks/:key/diff", h.diffPlaybookVersions, allow(team.Readers...))
	r.post("/v1/playbooks/:key/duplicate", h.duplicatePlaybook, allow(team.Designers...))
	r.post("/v1/playbooks/:key/retire", h.retirePlaybook, allow(team.Designers...))
	r.post("/v1/playbooks/:key/unretire", h.unretirePlaybook, allow(team.Designers...))
	r.post("/v1/playbooks/:key/simulate", h.simulatePlaybook, allow(team.Designers...))
	r.get("/v1/playbooks/:key/timeline.svg", h.playbookTimelineSVG, allow(team.Readers...))
	r.get("/v1/playbooks/:key/analytics", h.getPlaybookAnalytics, allow(team.Readers...))
	r.post("/v1/runs", h.startRun, allow(team.Operators...))
	r.get("/v1/runs", h.listRuns, allow(team.Readers...))
	r.get("/v1/runs/:id", h.getRun, allow(team.Readers...))
	r.post("/v1/runs/:id/cancel", h.controlRun("cancel"), allow(team.Operators...))
	r.post("/v1/runs/:id/pause", h.controlRun("pause"), allow(team.Operators...))
	r.post("/v1/runs/:id/resume", h.controlRun("resume"), allow(team.Operators...))
	r.get("/v1/approvals", h.listApprovals, allow(team.Readers...))
	r.post("/v1/approvals/:id/decision", h.decideApproval, allow(team.Deciders...))
	r.get("/v1/emails", h.listEmails, allow(team.Readers...))
	r.get("/v1/alerts", h.listRiskAlerts, allow(team.Readers...))
	r.post("/v1/alerts/:id/seen", h.markRiskAlertSeen, allow(team.Deciders...))
	r.get("/v1/tasks", h.listTasks, allow(team.Readers...))
	r.post("/v1/tasks", h.createTask, allow(team.Reporters...))
	r.post("/v1/tasks/:id/complete", h.completeTask, allow(team.Deciders...))
	r.post("/v1/tasks/:id/reassign", h.reassignTask, allow(team.Reporters...))
	r.post("/v1/tasks/:id/snooze", h.snoozeTask, allow(team.Reporters...))
}

// router adds routes with what their access needs.
type router struct {
	e    *echo.Echo
	auth authenticator
	doc  *openapi3.T
}

// routeOption changes what a route's middleware does.
type routeOption int

// ownBody: the handler reads its body under its own limit and checks it
// itself (a bulk import row by row, a signed batch as signed).
const ownBody routeOption = 1

func (r router) get(path string, h echo.HandlerFunc, a access, opts ...routeOption) {
	r.add(echo.GET, path, h, a, opts)
}

func (r router) post(path string, h echo.HandlerFunc, a access, opts ...routeOption) {
	r.add(echo.POST, path, h, a, opts)
}

func (r router) put(path string, h echo.HandlerFunc, a access, opts ...routeOption) {
	r.add(echo.PUT, path, h, a, opts)
}

func (r router) delete(path string, h echo.HandlerFunc, a access, opts ...routeOption) {
	r.add(echo.DELETE, path, h, a, opts)
}

// add registers a route with its middleware, per route rather than on a
// group: a group's middleware makes echo answer 404 for a method a path
// does not have, instead of 405 with Allow. A route that takes a key checks
// it before anything else, then the request against the OpenAPI document.
func (r router) add(method, path string, h echo.HandlerFunc, a access, opts []routeOption) {
	own := slices.Contains(opts, ownBody)
	var mw []echo.MiddlewareFunc
	if !own {
		mw = append(mw, limitBody(maxBodyBytes))
	}
	if !a.isPublic() {
		mw = append(mw, r.auth.require(a), validateRequests(r.doc, own))
	}
	r.e.Add(method, path, h, mw...)
}
