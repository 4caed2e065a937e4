package heliumid

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// assertNoKeyPiece fails when out holds any 6 consecutive bytes of the
// test key: a scrub that ran after a cut would leave a piece of it.
func assertNoKeyPiece(t *testing.T, what, out string) {
	t.Helper()
	for i := 0; i+6 <= len(testKey); i++ {
		if piece := testKey[i : i+6]; strings.Contains(out, piece) {
			t.Errorf("%s holds %q, a piece of the API key: %q", what, piece, out)
			return
		}
	}
}

// rawServer answers every connection with response, written as is after the
// request's head was read: a server whose bytes net/http cannot be trusted
// to produce.
func rawServer(t *testing.T, response string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer conn.Close()
				if _, err := http.ReadRequest(bufio.NewReader(conn)); err == nil {
					_, _ = conn.Write([]byte(response))
				}
			}()
		}
	}()
	return "http://" + ln.Addr().String() + "/api"
}

// TestATransportErrorNeverShowsTheKey: a server that echoes the key into a
// malformed header line makes net/http quote the line in its error; neither
// the caller's error nor the log may show it.
func TestATransportErrorNeverShowsTheKey(t *testing.T) {
	for name, response := range map[string]string{
		"header line without a colon": "HTTP/1.1 200 OK\r\nEcho " + testKey + "\r\n\r\n",
		"status line":                 "HTTP/1.1 2" + testKey + "\r\n\r\n",
	} {
		t.Run(name, func(t *testing.T) {
			var logs bytes.Buffer
			c, err := NewClient(testKey, WithBaseURL(rawServer(t, response)), WithMaxRetries(1),
				WithRetryBackoff(1, 1), WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
			require.NoError(t, err)
			_, err = c.GetVerification(context.Background(), "v")
			require.Error(t, err)
			assertNoKeyPiece(t, "the error", err.Error())
			assertNoKeyPiece(t, "the error's %+v", fmt.Sprintf("%+v", err))
			assertNoKeyPiece(t, "the log", logs.String())
			for e := error(err); e != nil; e = errors.Unwrap(e) {
				assertNoKeyPiece(t, "an error in the chain", e.Error())
			}
			assert.Contains(t, err.Error(), redacted, "the error still says what happened")
			assert.True(t, IsTransient(err), "a broken response is still transient")
		})
	}
}

// TestTheKeyIsScrubbedBeforeAnyCut: a key echoed across each size limit
// (message, snippet, request id, kept body) leaves no piece of itself.
func TestTheKeyIsScrubbedBeforeAnyCut(t *testing.T) {
	type echo struct {
		header, contentType, body string
	}
	cases := map[string]func(at int) echo{
		"envelope message": func(at int) echo {
			return echo{body: `{"status":false,"message":"` + strings.Repeat(".", at) + testKey + `","code":400}`, contentType: "application/json"}
		},
		"message list": func(at int) echo {
			return echo{body: `{"status":false,"message":["` + strings.Repeat(".", at) + `","` + testKey + `"]}`, contentType: "application/json"}
		},
		"non-JSON snippet": func(at int) echo {
			return echo{body: strings.Repeat(".", at) + testKey + strings.Repeat(".", 300), contentType: "text/plain"}
		},
		"key split by control characters": func(at int) echo {
			split := testKey[:8] + "\x01" + testKey[8:]
			return echo{body: strings.Repeat(".", at) + split, contentType: "text/plain"}
		},
		"request id": func(at int) echo {
			return echo{header: strings.Repeat(".", at) + testKey, body: `{"status":false,"message":"no"}`}
		},
		"kept body": func(at int) echo {
			return echo{body: `{"status":false,"message":"no","pad":"` + strings.Repeat(".", at) + testKey + `"}`}
		},
	}
	limits := map[string]int{
		"envelope message": maxMessage, "message list": maxMessage - 3, "non-JSON snippet": maxSnippet,
		"key split by control characters": maxSnippet, "request id": maxRequestID, "kept body": keptErrorBody - 38,
	}
	for name, build := range cases {
		t.Run(name, func(t *testing.T) {
			limit := limits[name]
			for _, at := range []int{limit - len(testKey) + 1, limit - len(testKey)/2, limit - 1, limit - 40} {
				e := build(at)
				var logs bytes.Buffer
				_, c := serve(t, func(w http.ResponseWriter, r *http.Request) {
					if e.header != "" {
						w.Header().Set("X-Request-Id", e.header)
					}
					if e.contentType != "" {
						w.Header().Set("Content-Type", e.contentType)
					}
					w.WriteHeader(http.StatusBadRequest)
					fmt.Fprint(w, e.body)
				})
				c.logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
				_, err := c.GetVerification(context.Background(), "v")
				require.ErrorIs(t, err, ErrBadRequest)
				var apiErr *APIError
				require.ErrorAs(t, err, &apiErr)
				where := fmt.Sprintf("at %d", at)
				assertNoKeyPiece(t, "the error "+where, err.Error())
				assertNoKeyPiece(t, "Message "+where, apiErr.Message)
				assertNoKeyPiece(t, "RequestID "+where, apiErr.RequestID)
				if name != "key split by control characters" { // Body is raw bytes: there it is no key
					assertNoKeyPiece(t, "Body "+where, string(apiErr.Body))
				}
				assertNoKeyPiece(t, "the log "+where, logs.String())
			}
		})
	}
}
