package heliumid

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
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
				var header []string
				if e.header != "" {
					header = append(header, "X-Request-Id", e.header)
				}
				if e.contentType != "" {
					header = append(header, "Content-Type", e.contentType)
				}
				api := newFakeAPI()
				api.otherwise(respond(http.StatusBadRequest, e.body, header...))
				c, _ := api.serve(t, "HTTP/1.1", WithLogger(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
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

// escapedKey is a key with the bytes JSON and URLs escape: '/' (which PHP
// writes as "\/"), '+' and '='.
const escapedKey = "sk_live/Ab+9=xyz_0123"

// echoedKeyForms are the ways a server (PHP's json_encode, a JSON encoder that
// escapes every byte, a URL in a Location or an error page, a JSON body
// quoted inside another) may echo a key.
func echoedKeyForms(key string) map[string]string {
	every := func(format string) string {
		var b strings.Builder
		for i := 0; i < len(key); i++ {
			fmt.Fprintf(&b, format, key[i])
		}
		return b.String()
	}
	half := len(key) / 2
	return map[string]string{
		`\/ (PHP)`:               strings.ReplaceAll(key, "/", `\/`),
		`\u00xx every byte`:      every(`\u%04x`),
		`\u00XX every byte`:      every(`\u%04X`),
		`\u00XX some bytes`:      every(`\u%04X`)[:half*6] + key[half:],
		`%xx every byte`:         every("%%%02x"),
		`%XX every byte`:         every("%%%02X"),
		`query escaped`:          url.QueryEscape(key),
		`\\\/ (JSON in JSON)`:    strings.ReplaceAll(key, "/", `\\\/`),
		`\\u00XX (JSON in JSON)`: every(`\\u%04X`),
		`%25XX (encoded twice)`:  every("%%25%02X"),
	}
}

// unescapeAll decodes what echoedKeyForms encodes, as often as it was encoded.
func unescapeAll(s string) string {
	unicode := regexp.MustCompile(`\\+[uU]00([0-9a-fA-F]{2})`)
	percent := regexp.MustCompile(`%(?:25)*([0-9a-fA-F]{2})`)
	for range 3 {
		s = strings.NewReplacer(`\\`, `\`, `\/`, `/`).Replace(s)
		decode := func(m string, sub *regexp.Regexp) string {
			b, _ := strconv.ParseUint(sub.FindStringSubmatch(m)[1], 16, 8)
			return string(rune(b))
		}
		s = unicode.ReplaceAllStringFunc(s, func(m string) string { return decode(m, unicode) })
		s = percent.ReplaceAllStringFunc(s, func(m string) string { return decode(m, percent) })
	}
	return s
}

// assertNoEscapedKey fails when out, decoded, holds any 6 consecutive
// bytes of key.
func assertNoEscapedKey(t *testing.T, what, out, key string) {
	t.Helper()
	decoded := unescapeAll(out)
	for i := 0; i+6 <= len(key); i++ {
		if piece := key[i : i+6]; strings.Contains(decoded, piece) {
			t.Errorf("%s holds %q, a piece of the API key, once decoded: %q", what, piece, out)
			return
		}
	}
}

// TestTheKeyIsScrubbedInEveryEscapedForm: a server that echoes the key
// JSON-escaped or URL-encoded, in any mix, finds it scrubbed wherever the
// SDK shows server text: APIError.Body, the error's text (a message that is
// an object keeps its JSON), ResponseInfo's headers, a transport error, the
// log.
func TestTheKeyIsScrubbedInEveryEscapedForm(t *testing.T) {
	for form, echo := range echoedKeyForms(escapedKey) {
		t.Run(form, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			api := newFakeAPI()
			api.otherwise(respond(http.StatusBadRequest, fmt.Sprintf(`{"status":false,"message":{"field":"apiKey","got":"%s"},"echo":"%s"}`, echo, echo),
				"X-Echo", "key="+echo, "X-Request-Id", "r-"+echo))
			base, hc := serveOver(t, "HTTP/1.1", api)
			c, err := NewClient(escapedKey, WithBaseURL(base), WithHTTPClient(hc), WithLogger(logger))
			require.NoError(t, err)
			var info ResponseInfo
			_, err = c.GetVerification(context.Background(), "v", WithResponseInfo(&info))
			require.ErrorIs(t, err, ErrBadRequest)
			var apiErr *APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Contains(t, apiErr.Message, redacted, "the message still says where the key was")
			assertNoEscapedKey(t, "the error", err.Error(), escapedKey)
			assertNoEscapedKey(t, "Message", apiErr.Message, escapedKey)
			assertNoEscapedKey(t, "RequestID", apiErr.RequestID, escapedKey)
			assertNoEscapedKey(t, "Body", string(apiErr.Body), escapedKey)
			assertNoEscapedKey(t, "ResponseInfo.Header", fmt.Sprint(info.Header), escapedKey)
			assertNoEscapedKey(t, "ResponseInfo.RequestID", info.RequestID, escapedKey)

			raw := rawServer(t, "HTTP/1.1 200 OK\r\nEcho "+echo+"\r\n\r\n")
			c, err = NewClient(escapedKey, WithBaseURL(raw), WithMaxRetries(0), WithLogger(logger))
			require.NoError(t, err)
			_, err = c.GetVerification(context.Background(), "v")
			require.Error(t, err)
			for e := error(err); e != nil; e = errors.Unwrap(e) {
				assertNoEscapedKey(t, "a transport error in the chain", e.Error(), escapedKey)
			}
			assertNoEscapedKey(t, "the log", logs.String(), escapedKey)
		})
	}
}

// TestScrubbingLeavesTheSuccessPathAlone: a key-free text comes back as
// it was, and a long hostile body costs a bounded scan (only what is kept
// is scrubbed).
func TestScrubbingLeavesOtherTextAlone(t *testing.T) {
	c, err := NewClient(escapedKey)
	require.NoError(t, err)
	for _, s := range []string{"", "plain", `a\/b %2F \u002F`, "sk_live/Ab+9=xyz_012", strings.Repeat(`\u0073%73`, 100)} {
		assert.Equal(t, s, c.scrub(s))
	}
	assert.Equal(t, "x "+redacted+" y", c.scrub("x "+escapedKey+" y"))
	huge := bytes.Repeat([]byte(`\u0073%2F`), 1<<20)
	kept := c.keep(huge)
	assert.Len(t, kept, keptErrorBody)
}

// TestScrubbingOnlyWhatIsKeptEqualsScrubbingAll: replacePrefix, which scans
// only what the kept bytes need, gives the first bytes that scrubbing the
// whole text gives, for texts made of the key's forms (each byte in any of
// its forms, the deepest escapes included), pieces of them and filler, at
// every size limit the SDK uses and around them.
func TestScrubbingOnlyWhatIsKeptEqualsScrubbingAll(t *testing.T) {
	f := newKeyForms(escapedKey)
	rng := rand.New(rand.NewPCG(21, 4))
	form := func() string {
		var b strings.Builder
		for i := 0; i < len(escapedKey); i++ {
			c := escapedKey[i]
			switch rng.IntN(5) {
			case 0:
				b.WriteByte(c)
			case 1:
				fmt.Fprintf(&b, "%s%s%02X", strings.Repeat(`\`, 1+rng.IntN(maxBackslashes)), "u00", c)
			case 2:
				fmt.Fprintf(&b, "%%%s%02x", strings.Repeat("25", rng.IntN(maxPercent25+1)), c)
			case 3:
				b.WriteString(strings.Repeat(`\`, maxBackslashes) + fmt.Sprintf("u00%02x", c)) // the longest
			default:
				if c == '/' {
					b.WriteString(`\/`)
				} else {
					b.WriteByte(c)
				}
			}
		}
		return b.String()
	}
	var longest strings.Builder
	for i := 0; i < len(escapedKey); i++ {
		fmt.Fprintf(&longest, "%su00%02x", strings.Repeat(`\`, maxBackslashes), escapedKey[i])
	}
	require.Len(t, longest.String(), f.longest())
	packed := strings.Repeat(longest.String(), 600) + "tail" // every byte in the longest form: the most input per byte kept
	require.Greater(t, len(packed), f.enough(keptErrorBody))
	packedAll := f.replace(packed)
	for _, limit := range []int{maxMessage, keptErrorBody} {
		require.Equal(t, packedAll[:limit], f.replacePrefix(packed, limit))
	}
	for range 60 {
		var text strings.Builder
		for text.Len() < 8000 {
			switch rng.IntN(4) {
			case 0:
				text.WriteString(form())
			case 1:
				f := form()
				text.WriteString(f[:rng.IntN(len(f))]) // a piece
			case 2:
				text.WriteString(strings.Repeat(`x%\`, rng.IntN(50)))
			default:
				text.WriteString(strings.Repeat(".", rng.IntN(400)))
			}
		}
		s := text.String()
		all := f.replace(s)
		for _, limit := range []int{maxRequestID, maxSnippet, maxMessage, keptErrorBody, 1 + rng.IntN(3000)} {
			require.Equal(t, all[:min(len(all), limit)], f.replacePrefix(s, limit), "limit %d", limit)
		}
	}
}

func TestTheKeyNeverReachesAnErrorEvenWhenTheServerEchoesIt(t *testing.T) {
	c, api := newFakeClient(t, WithMaxRetries(0))
	api.otherwise(respond(401, errEnvelope(401, "Invalid API key "+testKey), "X-Request-Id", testKey))
	_, err := c.GetVerification(context.Background(), "ver_1")
	require.ErrorIs(t, err, ErrUnauthorized)
	var apiErr *APIError
	require.ErrorAs(t, err, &apiErr)
	assert.NotContains(t, err.Error(), testKey)
	assert.NotContains(t, string(apiErr.Body), testKey)
	assert.Contains(t, apiErr.Message, "[REDACTED]")
}
