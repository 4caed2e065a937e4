package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	heliumid "github.com/heliumid/heliumid-go"
)

// Environment variables the commands read.
const (
	envAPIKey  = "HELIUMID_API_KEY"
	envBaseURL = "HELIUMID_BASE_URL"
)

// maxKeyFile bounds what --api-key-file reads: a key is a few dozen bytes.
const maxKeyFile = 64 << 10

// errNoKey is the message for a missing key; it names both ways to give one.
var errNoKey = errors.New("no API key: set " + envAPIKey + " or pass --api-key-file FILE (for \"heliumid fake\": " + envAPIKey + "=heliumidtest_key)")

// configError is an error in the configuration (key, base URL): exit code
// exitConfig.
type configError struct{ err error }

func (e *configError) Error() string { return e.err.Error() }
func (e *configError) Unwrap() error { return e.err }

// rewordedError is an SDK error worded for the command line (msg), with a
// hint to print after it ("" for none). errors.Is still sees the SDK's.
type rewordedError struct {
	err  error
	msg  string
	hint string
}

func (e *rewordedError) Error() string { return e.msg }
func (e *rewordedError) Unwrap() error { return e.err }

// keyFlag registers --api-key-file on fs and returns where its value goes.
func keyFlag(fs *flag.FlagSet) *string {
	return fs.String("api-key-file", "", "read the API key from `FILE` (\"-\": standard input) instead of $"+envAPIKey)
}

// apiKey returns the key from the file of --api-key-file when given, else
// from HELIUMID_API_KEY, trimmed. The error never contains the key.
func (c *cli) apiKey(keyFile string) (string, error) {
	if keyFile != "" {
		return c.readKeyFile(keyFile)
	}
	if v, ok := c.env(envAPIKey); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v), nil
	}
	return "", &configError{errNoKey}
}

func (c *cli) readKeyFile(name string) (string, error) {
	var r io.Reader
	if name == "-" {
		r = c.stdin
		name = "standard input"
	} else {
		f, err := os.Open(name)
		if err != nil {
			return "", &configError{fmt.Errorf("reading the API key: %w", err)}
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxKeyFile+1))
	switch {
	case err != nil:
		return "", &configError{fmt.Errorf("reading the API key from %s: %w", name, err)}
	case len(b) > maxKeyFile:
		return "", &configError{fmt.Errorf("the API key file %s is larger than %d bytes: is it the right file?", name, maxKeyFile)}
	}
	key := strings.TrimSpace(string(b))
	if key == "" {
		return "", &configError{fmt.Errorf("the API key file %s is empty", name)}
	}
	return key, nil
}

// baseURL returns HELIUMID_BASE_URL, or the production API.
func (c *cli) baseURL() string {
	if v, ok := c.env(envBaseURL); ok && strings.TrimSpace(v) != "" {
		return strings.TrimSpace(v)
	}
	return heliumid.DefaultBaseURL
}

// client builds a heliumid.Client from the key and base URL, with the SDK's
// own http.Client (bounded dial, TLS, header and overall waits; proxies from
// the environment). Call its CloseIdleConnections when done.
func (c *cli) client(keyFile string) (*heliumid.Client, error) {
	key, err := c.apiKey(keyFile)
	if err != nil {
		return nil, err
	}
	opts := []heliumid.Option{
		heliumid.WithBaseURL(c.baseURL()),
		heliumid.WithUserAgent("heliumid-cli/" + heliumid.Version),
	}
	client, err := heliumid.NewClient(key, append(opts, c.clientOptions...)...)
	if err != nil {
		return nil, newClientError(err, keyFile)
	}
	return client, nil
}

// optionSources names, for each SDK option the commands set from the
// environment or a flag, where its value came from: an error about the
// option is about that.
var optionSources = map[string]struct{ name, hint string }{
	"WithBaseURL": {envBaseURL, envBaseURL + " is the API's base URL: " + heliumid.DefaultBaseURL +
		", or http://127.0.0.1:8080/api for \"heliumid fake\""},
}

// newClientError words an error of heliumid.NewClient for the command
// line: in terms of the environment variable or flag that set the value
// (HELIUMID_BASE_URL, --api-key-file), not of the Go option (WithBaseURL).
// It never contains the key.
func newClientError(err error, keyFile string) error {
	msg := strings.TrimPrefix(err.Error(), "heliumid: ")
	if detail, ok := strings.CutPrefix(err.Error(), heliumid.ErrInvalidOption.Error()+": "); ok {
		option, detail, _ := strings.Cut(detail, ": ")
		if src, known := optionSources[option]; known {
			return &configError{&rewordedError{err: err, msg: src.name + ": " + detail, hint: src.hint}}
		}
	}
	// The SDK's message says what is wrong with the key after advice for
	// code that calls NewClient.
	if problem, ok := strings.CutPrefix(err.Error(), heliumid.ErrMissingAPIKey.Error()+": "); ok {
		src := envAPIKey
		if keyFile != "" {
			src = "--api-key-file " + keyFile
		}
		return &configError{&rewordedError{err: err, msg: "the API key from " + src + ": " + problem}}
	}
	return &configError{&rewordedError{err: err, msg: msg}}
}
