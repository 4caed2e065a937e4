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
		if errors.Is(err, heliumid.ErrInvalidOption) {
			err = fmt.Errorf("%w (from %s, or its default)", err, envBaseURL)
		}
		return nil, &configError{err}
	}
	return client, nil
}
