package heliumid

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"iter"
	"net/http"

	"github.com/google/go-querystring/query"
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
	if ctx == nil {
		return nil, errNilContext
	}
	cfg, err := c.callConfig(callOpts)
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
		if ctx == nil {
			yield(nil, errNilContext)
			return
		}
		cfg, err := c.callConfig(callOpts)
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

// UnmarshalJSON decodes a page as decodeSlow does; the shapes the SDK knows
// take a faster path to the same result (see scan).
func (p *page) UnmarshalJSON(b []byte) error {
	if p.scan(b) {
		return nil
	}
	*p = page{}
	return p.decodeSlow(b)
}

// decodeSlow is the reference decoding, with encoding/json.
func (p *page) decodeSlow(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		return json.Unmarshal(b, &p.items)
	}
	var obj struct {
		Verifications []*Verification `json:"verifications"`
		Items         []*Verification `json:"items"`
		Docs          []*Verification `json:"docs"`
		Results       []*Verification `json:"results"`
		TotalPages    flexInt         `json:"totalPages"`
		Pages         flexInt         `json:"pages"`
		Total         flexInt         `json:"total"`
		TotalDocs     flexInt         `json:"totalDocs"`
		Limit         flexInt         `json:"limit"`
		HasNextPage   *bool           `json:"hasNextPage"`
		HasNext       *bool           `json:"hasNext"`
	}
	if err := json.Unmarshal(b, &obj); err != nil {
		return err
	}
	p.setItems(obj.Verifications, obj.Items, obj.Docs, obj.Results)
	p.setNumbers(obj.TotalPages, obj.Pages, obj.Total, obj.TotalDocs, obj.Limit, obj.HasNextPage, obj.HasNext)
	return nil
}

// setItems keeps the first list the server sent, under whichever name.
func (p *page) setItems(lists ...[]*Verification) {
	for _, list := range lists {
		if list != nil {
			p.items = list
			return
		}
	}
}

func (p *page) setNumbers(totalPages, pages, total, totalDocs, limit flexInt, hasNextPage, hasNext *bool) {
	p.totalPages = int(max(totalPages, pages))
	p.total = int(max(total, totalDocs))
	p.limit = int(limit)
	p.hasNext = hasNextPage
	if p.hasNext == nil {
		p.hasNext = hasNext
	}
}

// The members of a page object, in the order of the switch in scan.
var pageNames = []string{
	"verifications", "items", "docs", "results",
	"totalPages", "pages", "total", "totalDocs", "limit",
	"hasNextPage", "hasNext",
}

// scan is the fast path of UnmarshalJSON, for a blank p. json.Unmarshal
// would validate the whole page, then find the end of each session before
// handing it to Verification.UnmarshalJSON: two passes over every session
// before its own decoding starts. scan walks the page once and hands each
// session straight to its decoder. It reports true only where decodeSlow
// would have succeeded with the same result (see Verification.scan for the
// rules); anything else returns false, for UnmarshalJSON to start over.
func (p *page) scan(b []byte) bool {
	if p.items != nil || p.hasNext != nil {
		return false
	}
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '[' {
		items, ok := scanSessions(b)
		p.items = items
		return ok
	}
	var (
		lists                                      [4][]*Verification
		totalPages, pages, total, totalDocs, limit flexInt
		hasNextPage, hasNext                       *bool
	)
	numbers := [...]*flexInt{&totalPages, &pages, &total, &totalDocs, &limit}
	ok := scanObject(b, pageNames, func(i int, val []byte) bool {
		switch {
		case i < len(lists):
			items, ok := scanSessions(val)
			lists[i] = items
			return ok
		case i < len(lists)+len(numbers):
			return validJSONValue(val) && numbers[i-len(lists)].UnmarshalJSON(val) == nil
		case i == len(pageNames)-2:
			return scanBool(val, &hasNextPage)
		default:
			return scanBool(val, &hasNext)
		}
	})
	if !ok {
		return false
	}
	p.setItems(lists[:]...)
	p.setNumbers(totalPages, pages, total, totalDocs, limit, hasNextPage, hasNext)
	return true
}

// scanSessions decodes a JSON array of sessions (or null, which is no
// list) as encoding/json decodes it into []*Verification: an empty array is
// an empty, non-nil list and a null element a nil session.
func scanSessions(b []byte) ([]*Verification, bool) {
	if string(b) == "null" {
		return nil, true
	}
	w := jsonWalker{b: b}
	if !w.open('[') {
		return nil, false
	}
	items := []*Verification{}
	for more := w.first(); more; more = w.next() {
		val, ok := w.element()
		if !ok {
			return nil, false
		}
		switch {
		case string(val) == "null":
			items = append(items, nil)
		case val[0] == '{':
			v := new(Verification)
			if !v.scan(val) {
				return nil, false
			}
			items = append(items, v)
		default:
			return nil, false
		}
	}
	return items, !w.err && w.end()
}

// scanBool decodes a member of a *bool field: true, false or null.
func scanBool(val []byte, dst **bool) bool {
	switch string(val) {
	case "true":
		*dst = &jsonTrue
	case "false":
		*dst = &jsonFalse
	case "null":
		*dst = nil
	default:
		return false
	}
	return true
}

func (p *page) validate() string {
	for _, v := range p.items {
		if v == nil {
			return "the list holds a null session"
		}
	}
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
