package heliumid

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"

	"github.com/google/go-querystring/query"
	"github.com/heliumid/heliumid-go/internal/wire"
)

// ListVerificationsOptions filters and pages GET /v1/verifications. Zero
// fields are left out of the query.
type ListVerificationsOptions struct {
	Status     Status `url:"status,omitempty"`     // only sessions in this status
	VendorData string `url:"vendorData,omitempty"` // only sessions created with this VendorData
	Page       int    `url:"page,omitempty"`       // 1-based page number; 0 is the server's first page
	Limit      int    `url:"limit,omitempty"`      // page size; 0 is the server's default
}

func (o *ListVerificationsOptions) validate() error {
	if o == nil {
		return nil
	}
	if o.Page < 0 || o.Limit < 0 {
		return fmt.Errorf("%w: page (%d) and limit (%d) must not be negative", ErrInvalidRequest, o.Page, o.Limit)
	}
	return nil
}

// ListVerifications returns one page of sessions: GET /v1/verifications with
// opts as the query (nil opts: the server's first page and defaults). Use
// AllVerifications to walk every page.
func (c *Client) ListVerifications(ctx context.Context, opts *ListVerificationsOptions, callOpts ...Option) ([]*Verification, error) {
	cfg, err := c.startCall(ctx, callOpts)
	if err != nil {
		return nil, err
	}
	p, err := c.listPage(ctx, cfg, opts)
	if err != nil {
		return nil, err
	}
	return p.items, nil
}

func (c *Client) listPage(ctx context.Context, cfg *config, opts *ListVerificationsOptions) (*page, error) {
	if err := opts.validate(); err != nil {
		return nil, err
	}
	var q string
	if opts != nil {
		// go-querystring reads the url tags: the documented encoding, one
		// reflective walk of four fields per page (about a microsecond,
		// nothing beside the request it builds).
		values, err := query.Values(opts)
		if err != nil {
			return nil, fmt.Errorf("%w: encoding the list options: %v", ErrInvalidRequest, err)
		}
		q = values.Encode()
	}
	var p page
	if err := c.do(ctx, cfg, &call{op: "ListVerifications", route: routeVerifications, method: http.MethodGet, path: "/v1/verifications", query: q}, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// AllVerifications walks every session matching opts, page after page,
// starting at opts.Page (or the first page). It yields each session with a
// nil error; on failure it yields one nil session with the error and stops.
// Breaking out of the range loop stops it; no goroutine is involved, so
// nothing leaks. opts is not modified. callOpts apply to every page; an
// invalid one is yielded once, before any I/O.
//
// Paging stops on an empty page, a page shorter than the page size (opts.Limit,
// or else the first page's length), a page identical to the one before (a
// server that ignores the page parameter), or when the response's pagination
// numbers say it was the last.
func (c *Client) AllVerifications(ctx context.Context, opts *ListVerificationsOptions, callOpts ...Option) iter.Seq2[*Verification, error] {
	return func(yield func(*Verification, error) bool) {
		cfg, err := c.startCall(ctx, callOpts)
		if err != nil {
			yield(nil, err)
			return
		}
		var cur ListVerificationsOptions
		if opts != nil {
			cur = *opts
		}
		if cur.Page == 0 {
			cur.Page = 1
		}
		pageSize := cur.Limit
		var prev *page
		for {
			// The first request keeps the caller's options as given, so a
			// server that counts pages differently still starts where asked.
			reqOpts := cur
			if prev == nil && (opts == nil || opts.Page == 0) {
				reqOpts.Page = 0
			}
			p, err := c.listPage(ctx, cfg, &reqOpts)
			if err != nil {
				yield(nil, err)
				return
			}
			if len(p.items) == 0 || (prev != nil && p.sameItems(prev)) {
				return
			}
			for _, v := range p.items {
				if !yield(v, nil) {
					return
				}
			}
			if pageSize == 0 {
				pageSize = len(p.items)
			}
			if len(p.items) < pageSize || p.isLast(cur.Page) {
				return
			}
			prev = p
			cur.Page++
		}
	}
}

// page is the data of a list response, which Helium ID does not document: an
// array of sessions, or an object holding one (under "verifications",
// "items", "docs" or "results") beside pagination numbers.
type page struct {
	items []*Verification

	// Pagination, when the server gives it; zero or nil when it does not.
	totalPages int
	total      int
	limit      int
	hasNext    *bool
}

// wirePage is the object shape of a list's data as it comes over the wire:
// the sessions under one of four names, beside pagination numbers, each a
// number or a decimal string. The other shape, a bare array of sessions, is
// decoded into Verifications by decodeArray.
type wirePage struct {
	Verifications []*wireVerification `json:"verifications"`
	Items         []*wireVerification `json:"items"`
	Docs          []*wireVerification `json:"docs"`
	Results       []*wireVerification `json:"results"`
	TotalPages    json.RawMessage     `json:"totalPages"`
	Pages         json.RawMessage     `json:"pages"`
	Total         json.RawMessage     `json:"total"`
	TotalDocs     json.RawMessage     `json:"totalDocs"`
	Limit         json.RawMessage     `json:"limit"`
	HasNextPage   *bool               `json:"hasNextPage"`
	HasNext       *bool               `json:"hasNext"`
}

// decodeArray decodes body again, into env, for a list whose data turned
// out to be the array of sessions itself rather than an object: the
// envelope is decoded a second time, the price of the shape the fake and
// the documented examples do not use.
func (w *wirePage) decodeArray(body []byte, env *envelope) error {
	var items []*wireVerification
	*env = envelope{Data: &items}
	if err := json.Unmarshal(body, env); err != nil {
		return err
	}
	if env.Data != nil {
		*w = wirePage{Verifications: items}
		env.Data = w
	}
	return nil
}

func (p *page) wire() any { return new(wirePage) }

// fromWire keeps the first list the server sent, under whichever name, and
// the pagination numbers.
func (p *page) fromWire(w any) string {
	wp := w.(*wirePage)
	var list []*wireVerification
	for _, l := range [...][]*wireVerification{wp.Verifications, wp.Items, wp.Docs, wp.Results} {
		if l != nil {
			list = l
			break
		}
	}
	if list != nil {
		p.items = make([]*Verification, len(list))
		for i, wv := range list {
			if wv == nil {
				return "the list holds a null session"
			}
			p.items[i] = new(Verification)
			if msg := wv.into(p.items[i]); msg != "" {
				return fmt.Sprintf("session %d of the list: %s", i+1, msg)
			}
		}
	}
	p.totalPages = max(wire.Int(wp.TotalPages), wire.Int(wp.Pages))
	p.total = max(wire.Int(wp.Total), wire.Int(wp.TotalDocs))
	p.limit = wire.Int(wp.Limit)
	p.hasNext = cmp.Or(wp.HasNextPage, wp.HasNext)
	return ""
}

// isLast reports whether the pagination numbers say number was the last page.
func (p *page) isLast(number int) bool {
	switch {
	case p.hasNext != nil:
		return !*p.hasNext
	case p.totalPages > 0:
		return number >= p.totalPages
	case p.total > 0 && p.limit > 0:
		return number*p.limit >= p.total
	}
	return false
}

// sameItems reports whether p repeats q: the same sessions in the same order.
func (p *page) sameItems(q *page) bool {
	if len(p.items) != len(q.items) {
		return false
	}
	for i := range p.items {
		if p.items[i].ID != q.items[i].ID {
			return false
		}
	}
	return true
}
