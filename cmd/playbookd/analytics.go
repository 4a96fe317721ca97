package main

import (
	"context"
	"log/slog"
	"time"
)

// analyticsSummaries is what the analytics commands need of the store.
type analyticsSummaries interface {
	CompactAnalytics(ctx context.Context) (int64, error)
	RebuildAnalytics(ctx context.Context) error
}

// foldAnalytics folds the analytics deltas into the summaries every
// interval until ctx ends. A failed fold is retried at the next tick: the
// deltas stay, and readers add them in meanwhile.
func foldAnalytics(ctx context.Context, st analyticsSummaries, every time.Duration, log *slog.Logger) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if _, err := st.CompactAnalytics(ctx); err != nil && ctx.Err() == nil {
			log.Warn("folding analytics deltas", "error", err)
		}
	}
}

// rebuildAnalytics is `playbookd rebuild-analytics`.
func rebuildAnalytics(ctx context.Context, st analyticsSummaries, log *slog.Logger) error {
	began := time.Now()
	if err := st.RebuildAnalytics(ctx); err != nil {
		return err
	}
	log.Info("analytics summaries rebuilt from history", "took", time.Since(began).Round(time.Millisecond).String())
	return nil
}
