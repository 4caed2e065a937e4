package heliumid

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sessions returns a JSON array of n sessions with ids prefix0..prefixN-1.
func sessions(prefix string, n int) string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf(`{"id":"%s%d","status":"started"}`, prefix, i)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func ids(vs []*Verification) []string {
	out := make([]string, len(vs))
	for i, v := range vs {
		out[i] = v.ID
	}
	return out
}

func TestListVerificationsEncodesTheOptions(t *testing.T) {
	c, api := newFakeClient(t)
	api.on(http.MethodGet, testBaseURL+"/v1/verifications", respond(200, okEnvelope(sessions("v", 2))))

	got, err := c.ListVerifications(context.Background(), &ListVerificationsOptions{
		Status: StatusNotStarted, VendorData: "user 42&x", Page: 3, Limit: 2,
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"v0", "v1"}, ids(got))

	req, _ := api.last(t)
	assertSDKHeaders(t, req)
	assert.Equal(t, "/api/v1/verifications", req.URL.Path)
	q := req.URL.Query()
	assert.Equal(t, "not started", q.Get("status"))
	assert.Equal(t, "user 42&x", q.Get("vendorData"))
	assert.Equal(t, "3", q.Get("page"))
	assert.Equal(t, "2", q.Get("limit"))
	assert.Len(t, q, 4)

	_, err = c.ListVerifications(context.Background(), nil)
	require.NoError(t, err)
	req, _ = api.last(t)
	assert.Empty(t, req.URL.RawQuery, "nil options send no query")

	_, err = c.ListVerifications(context.Background(), &ListVerificationsOptions{})
	require.NoError(t, err)
	req, _ = api.last(t)
	assert.Empty(t, req.URL.RawQuery, "zero fields are omitted")
}

func TestListVerificationsAcceptsEveryDocumentedShape(t *testing.T) {
	shapes := map[string]string{
		"array":         sessions("v", 2),
		"verifications": `{"verifications":` + sessions("v", 2) + `,"page":1,"total":2}`,
		"items":         `{"items":` + sessions("v", 2) + `}`,
		"docs":          `{"docs":` + sessions("v", 2) + `,"totalDocs":"2","hasNextPage":false}`,
		"results":       `{"results":` + sessions("v", 2) + `,"pages":1}`,
	}
	for name, data := range shapes {
		t.Run(name, func(t *testing.T) {
			c, api := newFakeClient(t)
			api.otherwise(respond(200, okEnvelope(data)))
			got, err := c.ListVerifications(context.Background(), nil)
			require.NoError(t, err)
			assert.Equal(t, []string{"v0", "v1"}, ids(got))
			assert.Equal(t, StatusStarted, got[0].Status)
		})
	}
	for _, data := range []string{`[null]`, `{"items":[null]}`, `"nope"`, `{"items":"nope"}`, `null`} {
		c, api := newFakeClient(t)
		api.otherwise(respond(200, okEnvelope(data)))
		_, err := c.ListVerifications(context.Background(), nil)
		assert.ErrorIs(t, err, ErrUnexpectedResponse, data)
	}
	// An object without a known list key is an empty page, not an error:
	// the shape is undocumented, and "no sessions" is the safe reading.
	c, api := newFakeClient(t)
	api.otherwise(respond(200, okEnvelope(`{"total":0}`)))
	got, err := c.ListVerifications(context.Background(), nil)
	require.NoError(t, err)
	assert.Empty(t, got)
}

// pagedServer serves total sessions in pages of the requested limit (or
// defaultLimit), numbering pages from 1, and records the pages asked for.
type pagedServer struct {
	total, defaultLimit int
	shape               func(items string, page, limit int) string
	asked               []string
}

func (p *pagedServer) respond(req *http.Request) (*http.Response, error) {
	q := req.URL.Query()
	p.asked = append(p.asked, q.Get("page"))
	pageNo, _ := strconv.Atoi(q.Get("page"))
	pageNo = max(pageNo, 1)
	limit, _ := strconv.Atoi(q.Get("limit"))
	if limit == 0 {
		limit = p.defaultLimit
	}
	var items []string
	for i := (pageNo - 1) * limit; i < min(pageNo*limit, p.total); i++ {
		items = append(items, fmt.Sprintf(`{"id":"v%d","status":"started"}`, i))
	}
	arr := "[" + strings.Join(items, ",") + "]"
	data := arr
	if p.shape != nil {
		data = p.shape(arr, pageNo, limit)
	}
	return respond(200, okEnvelope(data))(req)
}

func collect(t *testing.T, c *Client, opts *ListVerificationsOptions) ([]string, error) {
	t.Helper()
	var got []string
	for v, err := range c.AllVerifications(context.Background(), opts) {
		if err != nil {
			return got, err
		}
		got = append(got, v.ID)
	}
	return got, nil
}

func expectIDs(n int) []string {
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = "v" + strconv.Itoa(i)
	}
	return out
}

func TestAllVerificationsPages(t *testing.T) {
	tests := []struct {
		name      string
		server    pagedServer
		opts      *ListVerificationsOptions
		wantPages []string
		wantN     int
	}{
		{"stops on a short page", pagedServer{total: 7}, &ListVerificationsOptions{Limit: 3}, []string{"", "2", "3"}, 7},
		{"stops on an empty page", pagedServer{total: 6}, &ListVerificationsOptions{Limit: 3}, []string{"", "2", "3"}, 6},
		{"page size from the first page", pagedServer{total: 5, defaultLimit: 2}, nil, []string{"", "2", "3"}, 5},
		{"nothing at all", pagedServer{total: 0, defaultLimit: 2}, nil, []string{""}, 0},
		{"starts at the caller's page", pagedServer{total: 7}, &ListVerificationsOptions{Limit: 3, Page: 2}, []string{"2", "3"}, 4},
		{"hasNextPage false ends it", pagedServer{total: 6, defaultLimit: 3, shape: func(items string, page, limit int) string {
			return fmt.Sprintf(`{"docs":%s,"hasNextPage":%t}`, items, page < 2)
		}}, nil, []string{"", "2"}, 6},
		{"totalPages ends it", pagedServer{total: 6, defaultLimit: 3, shape: func(items string, page, limit int) string {
			return fmt.Sprintf(`{"verifications":%s,"totalPages":2,"page":%d}`, items, page)
		}}, nil, []string{"", "2"}, 6},
		{"total and limit end it", pagedServer{total: 6, defaultLimit: 3, shape: func(items string, page, limit int) string {
			return fmt.Sprintf(`{"items":%s,"total":6,"limit":%d}`, items, limit)
		}}, nil, []string{"", "2"}, 6},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, api := newFakeClient(t)
			srv := tt.server
			api.otherwise(srv.respond)
			var before ListVerificationsOptions
			if tt.opts != nil {
				before = *tt.opts
			}
			got, err := collect(t, c, tt.opts)
			require.NoError(t, err)
			want := expectIDs(srv.total)
			if tt.opts != nil && tt.opts.Page > 1 {
				want = want[(tt.opts.Page-1)*tt.opts.Limit:]
			}
			assert.Equal(t, want, got)
			assert.Len(t, got, tt.wantN)
			assert.Equal(t, tt.wantPages, srv.asked)
			if tt.opts != nil {
				assert.Equal(t, before, *tt.opts, "the caller's options are not modified")
			}
		})
	}
}

func TestAllVerificationsStopsOnARepeatedPage(t *testing.T) {
	c, api := newFakeClient(t)
	api.otherwise(respond(200, okEnvelope(sessions("v", 3)))) // ignores ?page
	got, err := collect(t, c, nil)
	require.NoError(t, err)
	assert.Equal(t, []string{"v0", "v1", "v2"}, got)
	assert.Equal(t, 2, api.count(), "the second, identical page ends the walk")
}

func TestAllVerificationsStopsWhenTheCallerBreaks(t *testing.T) {
	c, api := newFakeClient(t)
	srv := pagedServer{total: 100, defaultLimit: 10}
	api.otherwise(srv.respond)
	n := 0
	for v, err := range c.AllVerifications(context.Background(), nil) {
		require.NoError(t, err)
		require.NotNil(t, v)
		n++
		if n == 15 {
			break
		}
	}
	assert.Equal(t, 15, n)
	assert.Equal(t, 2, api.count(), "no page is fetched after the break")
}

func TestAllVerificationsYieldsTheErrorOnceAndStops(t *testing.T) {
	c, api := newFakeClient(t, WithMaxRetries(0))
	api.otherwise(sequence(
		respond(200, okEnvelope(sessions("v", 2))),
		respond(401, errEnvelope(401, "Invalid API key")),
	))
	var got []string
	var errs []error
	for v, err := range c.AllVerifications(context.Background(), &ListVerificationsOptions{Limit: 2}) {
		if err != nil {
			assert.Nil(t, v)
			errs = append(errs, err)
			continue // a careless caller does not get a second error or an endless loop
		}
		got = append(got, v.ID)
	}
	assert.Equal(t, []string{"v0", "v1"}, got)
	require.Len(t, errs, 1)
	assert.ErrorIs(t, errs[0], ErrUnauthorized)
	assert.Equal(t, 2, api.count())

	for _, err := range c.AllVerifications(context.Background(), &ListVerificationsOptions{Limit: -1}) {
		assert.ErrorIs(t, err, ErrInvalidRequest, "bad options surface as the first element")
	}
}
