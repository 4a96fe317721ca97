package api

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/accounts"
	"github.com/playbookd/playbookd/catalog"
	"github.com/playbookd/playbookd/internal/app"
	"github.com/playbookd/playbookd/states"
)

// moveRunsRequest chooses the live runs of from_version to move to the
// version in the path: of one segment, of the accounts named.
type moveRunsRequest struct {
	FromVersion int      `json:"from_version"`
	Segment     string   `json:"segment"`
	AccountIDs  []string `json:"account_ids"`
	// DryRun is a preview unless false: moving runs is asked for by name.
	DryRun *bool `json:"dry_run"`
}

// moveRuns previews moving live runs to another version of their playbook,
// run by run, or moves those at a safe point; the others stay, with why.
func (h *handlers) moveRuns(c echo.Context) error {
	to, err := strconv.Atoi(c.Param("version"))
	if err != nil || to < 1 || to > math.MaxInt32 {
		return problem(http.StatusBadRequest, "the path has an invalid version",
			FieldError{Field: "version", Message: "must be a whole number from 1 to 2147483647"})
	}
	var req moveRunsRequest
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	if err := req.check(); err != nil {
		return err
	}
	ctx := c.Request().Context()
	key := c.Param("key")
	target, err := h.app.Playbooks.Version(ctx, key, to)
	if err != nil {
		return err
	}
	// A draft can still be rewritten under the runs that moved to it.
	if target.Status == states.VersionDraft {
		return problem(http.StatusConflict, fmt.Sprintf("version %d of %s is a draft: publish it before moving runs to it", to, key),
			FieldError{Field: "version", Message: "a draft: publish it first"})
	}
	sc := app.MoveScope{Key: key, From: req.FromVersion, To: to, Segment: req.Segment, AccountIDs: req.AccountIDs}
	var plan app.MovePlan
	if req.DryRun == nil || *req.DryRun {
		plan, err = h.app.PreviewMove(ctx, sc)
	} else {
		plan, err = h.app.MoveRunsTo(ctx, sc, moverOf(c))
	}
	switch {
	case errors.Is(err, app.ErrSameVersion):
		return unprocessable([]FieldError{{Field: "from_version", Message: fmt.Sprintf("must differ from the version runs move to (%d): %v", to, err)}})
	case errors.Is(err, catalog.ErrNotFound):
		// The target was found above: it is the version the runs are on.
		return problem(http.StatusNotFound, fmt.Sprintf("playbook %s has no version %d", key, req.FromVersion),
			FieldError{Field: "from_version", Message: "no such version"})
	case errors.Is(err, app.ErrDraftTarget): // published to draft meanwhile cannot happen; a race with a rewrite can
		return problem(http.StatusConflict, err.Error(), FieldError{Field: "version", Message: "a draft: publish it first"})
	case errors.Is(err, app.ErrMovesUnavailable):
		return problem(http.StatusServiceUnavailable, err.Error())
	case err != nil:
		return err
	}
	return c.JSON(http.StatusOK, plan)
}

// check reports every bad field at once.
func (r moveRunsRequest) check() error {
	var fe fieldErrors
	if r.FromVersion < 1 || r.FromVersion > math.MaxInt32 {
		fe.add("from_version", "required: the version the runs are on, a whole number from 1 to 2147483647")
	}
	if r.Segment != "" && !accounts.Valid(accounts.Segments, r.Segment) {
		fe.add("segment", "must be one of %s, or left out for every segment", strings.Join(accounts.Segments, ", "))
	}
	if len(r.AccountIDs) > app.MaxMoveAccounts {
		fe.add("account_ids", "at most %d accounts; leave it out for every account", app.MaxMoveAccounts)
	} else {
		for i, id := range r.AccountIDs {
			if !accountIDPattern.MatchString(id) {
				fe.add(fmt.Sprintf("account_ids[%d]", i), "must be an account id: 1-128 letters, digits, '.', '_', ':' or '-', starting with a letter or digit")
			}
		}
	}
	return fe.err()
}

// moverOf names who moved runs in their run_moved events: the team member
// of the key, or else the key as audit columns name it.
func moverOf(c echo.Context) string {
	if who := actorOf(c); who.Email != "" {
		return who.Email
	}
	return callerOf(c)
}
