package api

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/playbookd/playbookd/imports"
	"github.com/playbookd/playbookd/store"
)

// maxImportBytes bounds an import's body; imports.MaxRows bounds its rows.
const maxImportBytes = 32 << 20

// importRow is one row of an import, validated or refused.
type importRow struct {
	Row    int // 1-based data row (CSV: line number minus one)
	ID     string
	Errors []FieldError
	in     store.UpsertAccount
}

// importAccounts takes a JSON array of account objects (as POST
// /v1/accounts takes them) or CSV, checks every row on its own, and records
// the import, whose workflow writes the good rows. It answers 202 with the
// import to poll.
func (h *handlers) importAccounts(c echo.Context) error {
	req := c.Request()
	req.Body = http.MaxBytesReader(c.Response(), req.Body, maxImportBytes)
	mt, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	var (
		rows []importRow
		err  error
	)
	format := "json"
	switch mt {
	case echo.MIMEApplicationJSON:
		rows, err = h.jsonImportRows(req.Body)
	case "text/csv":
		format = "csv"
		rows, err = h.csvImportRows(req.Body)
	default:
		return problem(http.StatusUnsupportedMediaType, "send a JSON array (application/json) or CSV (text/csv)")
	}
	if err != nil {
		return err
	}
	im, err := h.app.Imports.Start(req.Context(), format, toImportRows(rows))
	switch {
	case errors.Is(err, imports.ErrNoRows):
		return problem(http.StatusBadRequest, "the import has no rows", FieldError{Field: "body", Message: "at least one account"})
	case errors.Is(err, imports.ErrTooManyRows):
		return problem(http.StatusRequestEntityTooLarge, fmt.Sprintf("at most %d rows per import; split the file", imports.MaxRows))
	case err != nil:
		return err
	}
	c.Response().Header().Set(echo.HeaderLocation, "/v1/accounts/imports/"+im.ID.String())
	return c.JSON(http.StatusAccepted, startedImportResponse(im))
}

func toImportRows(rows []importRow) []imports.Row {
	out := make([]imports.Row, len(rows))
	for i, r := range rows {
		out[i] = imports.Row{Row: r.Row, ID: r.ID, Account: r.in}
		for _, e := range r.Errors {
			out[i].Errors = append(out[i].Errors, imports.FieldError{Field: e.Field, Message: e.Message})
		}
	}
	return out
}

func (h *handlers) jsonImportRows(body io.Reader) ([]importRow, error) {
	all, err := io.ReadAll(body)
	if err != nil {
		return nil, decodeProblem(err)
	}
	if json.Valid(all) {
		if p := checkJSONBody(all); p != nil {
			return nil, p
		}
	}
	dec := json.NewDecoder(bytes.NewReader(all))
	var raws []json.RawMessage
	if err := dec.Decode(&raws); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) && typeErr.Field == "" {
			return nil, problem(http.StatusBadRequest, "the body must be a JSON array of accounts",
				FieldError{Field: "body", Message: "must be an array"})
		}
		return nil, decodeProblem(err)
	}
	rows := make([]importRow, len(raws))
	for i, raw := range raws {
		rows[i].Row = i + 1
		var req accountRequest
		d := json.NewDecoder(bytes.NewReader(raw))
		d.DisallowUnknownFields()
		if err := d.Decode(&req); err != nil {
			var p *Problem
			if errors.As(decodeProblem(err), &p) {
				rows[i].Errors = p.Errors
			}
			continue
		}
		h.validateRow(&rows[i], req)
	}
	return rows, nil
}

var csvColumns = []string{"id", "name", "arr", "segment", "csm_email", "timezone", "contract_start", "renewal_date",
	"lifecycle_stage", "status", "contacts"}

// csvImportRows reads a header row naming columns of csvColumns (any order,
// unknown ones refused); contacts are "role:email:name" entries separated by
// ";", the name optional.
func (h *handlers) csvImportRows(body io.Reader) ([]importRow, error) {
	r := csv.NewReader(body)
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return nil, problem(http.StatusBadRequest, "the CSV has no header row", FieldError{Field: "body", Message: "a header row naming the columns"})
	}
	if len(header) > len(csvColumns) {
		return nil, problem(http.StatusBadRequest, "the CSV header has too many columns",
			FieldError{Field: "header", Message: fmt.Sprintf("at most %d columns: %s", len(csvColumns), strings.Join(csvColumns, ", "))})
	}
	col := map[string]int{}
	var fe fieldErrors
	for i, name := range header {
		name = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(name, "\ufeff")))
		if !slices.Contains(csvColumns, name) {
			fe.add(fmt.Sprintf("header[%d]", i), "unknown column %q; columns are %s", name, strings.Join(csvColumns, ", "))
		}
		col[name] = i
	}
	if len(fe) > 0 {
		return nil, problem(http.StatusBadRequest, "the CSV header has unknown columns", fe...)
	}
	var rows []importRow
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		var maxErr *http.MaxBytesError
		if errors.As(err, &maxErr) {
			return nil, decodeProblem(err)
		}
		row := importRow{Row: len(rows) + 1}
		if err != nil {
			row.Errors = []FieldError{{Field: "row", Message: "unreadable CSV: " + err.Error()}}
			rows = append(rows, row)
			continue
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		req := accountRequest{ID: get("id"), Name: get("name"), Segment: get("segment"), CSMEmail: get("csm_email"),
			Timezone: get("timezone"), ContractStart: get("contract_start"), RenewalDate: get("renewal_date"),
			LifecycleStage: get("lifecycle_stage"), Status: get("status")}
		var pre fieldErrors
		if v := get("arr"); v != "" {
			arr, err := strconv.ParseFloat(strings.ReplaceAll(v, ",", ""), 64)
			if err != nil {
				pre.add("arr", "must be a number, not %q", v)
			} else {
				req.ARR = &arr
			}
		}
		for i, entry := range strings.Split(get("contacts"), ";") {
			if entry = strings.TrimSpace(entry); entry == "" {
				continue
			}
			parts := strings.SplitN(entry, ":", 3)
			if len(parts) < 2 {
				pre.add(fmt.Sprintf("contacts[%d]", i), "must be role:email or role:email:name")
				continue
			}
			ct := contactRequest{Role: strings.TrimSpace(parts[0]), Email: strings.TrimSpace(parts[1])}
			if len(parts) == 3 {
				ct.Name = strings.TrimSpace(parts[2])
			}
			req.Contacts = append(req.Contacts, ct)
		}
		h.validateRow(&row, req)
		if len(pre) > 0 {
			// An unreadable cell is reported as such, not as also missing.
			for _, e := range row.Errors {
				if !slices.ContainsFunc(pre, func(p FieldError) bool { return p.Field == e.Field }) {
					pre = append(pre, e)
				}
			}
			row.Errors = pre
		}
		rows = append(rows, row)
	}
}

func (h *handlers) validateRow(row *importRow, req accountRequest) {
	row.ID = req.ID
	limits := h.rowLimits(req)
	in, err := req.toStore(h.app.Segments)
	var p *Problem
	if errors.As(err, &p) || len(limits) > 0 {
		row.Errors = limits
		if p != nil {
			for _, e := range p.Errors {
				if !slices.ContainsFunc(limits, func(l FieldError) bool { return l.Field == e.Field }) {
					row.Errors = append(row.Errors, e)
				}
			}
		}
		if len(row.ID) > 128 {
			row.ID = row.ID[:128] // the row's errors say it is too long; the report stays small
		}
		return
	}
	row.in = in
}

// rowLimits checks a row against the document's limits of an account, as
// the body of POST /v1/accounts is checked.
func (h *handlers) rowLimits(req accountRequest) []FieldError {
	if h.accountSchema == nil {
		return nil
	}
	raw, err := json.Marshal(req)
	if err != nil {
		return []FieldError{{Field: "row", Message: "unreadable"}}
	}
	var v map[string]any
	if err := json.Unmarshal(raw, &v); err != nil {
		return []FieldError{{Field: "row", Message: "unreadable"}}
	}
	for k, x := range v {
		if x == nil || x == "" { // absent in the row: required fields are the handler's to report
			delete(v, k)
		}
	}
	return limitErrors(h.accountSchema, v)
}

func (h *handlers) getImport(c echo.Context) error {
	id, err := pathUUID(c, "id")
	if err != nil {
		return err
	}
	im, err := h.app.Imports.Get(c.Request().Context(), id)
	if err != nil {
		return notFoundAs(err, "import")
	}
	return c.JSON(http.StatusOK, importResponse(im))
}
