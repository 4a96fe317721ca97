package store

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
)

// Rows scan into structs by column name (pgx.RowToStructByName): a query
// names its columns as the struct's fields (run_id fills RunID; alias the
// others, t.email AS assignee_email), and fields filled otherwise say
// db:"-". A column without a field, or a field without a column, is an
// error the first time the query runs, so every query is covered by a test.

// rowOf runs a query for one row; no row is ErrNotFound.
func rowOf[T any](ctx context.Context, q querier, sql string, args ...any) (T, error) {
	rows, _ := q.Query(ctx, sql, args...) // a failed query fails the collection
	v, err := pgx.CollectExactlyOneRow(rows, pgx.RowToStructByName[T])
	return v, notFound(err)
}

// rowsOf runs a query for a list; none is an empty list (the API's []).
func rowsOf[T any](ctx context.Context, q querier, sql string, args ...any) ([]T, error) {
	rows, _ := q.Query(ctx, sql, args...)
	out, err := pgx.CollectRows(rows, pgx.RowToStructByName[T])
	if err != nil {
		var v T
		return nil, fmt.Errorf("list %T: %w", v, err)
	}
	return out, nil
}

// Keyset is where a page of a list ordered by (time, id) ends; the next page
// starts after it. Nil: the first page.
type Keyset struct {
	At time.Time
	ID uuid.UUID
}

// keysetOrder is the order of a paged list: a time column, then the id
// column that breaks ties, as the query names them.
type keysetOrder struct {
	at, id      string
	newestFirst bool
}

// page runs one page of a list: query selects and filters (its WHERE over
// $1..$n, n = len(args)); page adds the rows after the keyset, the order and
// the limit.
func page[T any](ctx context.Context, q querier, query string, o keysetOrder, after *Keyset, n int, args ...any) ([]T, error) {
	cmp, dir := ">", ""
	if o.newestFirst {
		cmp, dir = "<", " DESC"
	}
	p := len(args) + 1
	query += fmt.Sprintf(`
		AND ($%d::timestamptz IS NULL OR (%s, %s) %s ($%d, $%d::uuid))
		ORDER BY %s%s, %s%s LIMIT $%d`, p, o.at, o.id, cmp, p, p+1, o.at, dir, o.id, dir, p+2)
	var (
		at *time.Time
		id *uuid.UUID
	)
	if after != nil {
		at, id = &after.At, &after.ID
	}
	return rowsOf[T](ctx, q, query, append(args, at, id, limit(n))...)
}

// limit bounds a list query: 100 rows unless asked, and never more than a
// page of 500 plus the one row that tells whether another page follows.
func limit(n int) int {
	switch {
	case n <= 0:
		return 100
	case n > 501:
		return 501
	}
	return n
}
