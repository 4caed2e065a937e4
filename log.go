package heliumid

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// debug logs one attempt: never the key, a body or personal data.
func (cfg *config) debug(ctx context.Context, r *call, attempt, status int, d time.Duration, reqID string) {
	if cfg.logger == nil || !cfg.logger.Enabled(ctx, slog.LevelDebug) {
		return
	}
	cfg.logger.LogAttrs(ctx, slog.LevelDebug, "heliumid: request",
		slog.String("method", r.method),
		slog.String("path", r.path),
		slog.Int("status", status),
		slog.Int("attempt", attempt),
		slog.Duration("duration", d),
		slog.String("request_id", reqID))
}

// warn logs a retry or giving up, with the (scrubbed) error.
func (cfg *config) warn(ctx context.Context, msg string, r *call, attempt int, err error, wait time.Duration) {
	if cfg.logger == nil || !cfg.logger.Enabled(ctx, slog.LevelWarn) {
		return
	}
	status := 0 // a transport error has none
	var apiErr *APIError
	if errors.As(err, &apiErr) {
		status = apiErr.StatusCode
	}
	cfg.logger.LogAttrs(ctx, slog.LevelWarn, msg,
		slog.String("method", r.method),
		slog.String("path", r.path),
		slog.Int("status", status),
		slog.Int("attempt", attempt),
		slog.Duration("wait", wait),
		slog.String("error", err.Error()))
}
