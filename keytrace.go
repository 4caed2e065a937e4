package heliumid

import (
	"context"
	"net/http/httptrace"
	"strings"
)

// A middleware never sees the API key, and the request's context is one way
// it could: an httptrace.ClientTrace attached to it (by a middleware, as
// otelhttptrace does, or by the caller) hears every header the transport
// writes, in WroteHeaderField. The keyed request is therefore sent with a
// context whose trace hears the key as [REDACTED] and every other header
// as it is.
//
// httptrace.WithClientTrace cannot do this: it composes a new trace with the
// one already in the context, and that one would still hear the key. The
// wrapper below answers the context's trace lookup itself instead, with a
// copy of the trace (already composed with any earlier one) whose
// WroteHeaderField redacts.

// hideKeyFromTrace returns ctx, or, when ctx carries a ClientTrace that
// listens to the headers, a context whose trace hears the key redacted.
// Without a trace it allocates nothing.
func hideKeyFromTrace(ctx context.Context) context.Context {
	trace := httptrace.ContextClientTrace(ctx)
	if trace == nil || trace.WroteHeaderField == nil {
		return ctx
	}
	hidden := *trace
	heard := trace.WroteHeaderField
	hidden.WroteHeaderField = func(key string, value []string) {
		if strings.EqualFold(key, "X-Api-Key") { // HTTP/2 writes names in lowercase
			value = []string{redacted}
		}
		heard(key, value)
	}
	return &keyHidingContext{Context: ctx, trace: trace, hidden: &hidden}
}

// keyHidingContext is ctx with its ClientTrace replaced by hidden. Every
// other value, the deadline, cancellation and cause are ctx's own.
type keyHidingContext struct {
	context.Context
	trace  *httptrace.ClientTrace // as ctx holds it
	hidden *httptrace.ClientTrace
}

func (c *keyHidingContext) Value(key any) any {
	v := c.Context.Value(key)
	if trace, ok := v.(*httptrace.ClientTrace); ok && trace == c.trace {
		return c.hidden
	}
	return v
}
