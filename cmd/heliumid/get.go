package main

import (
	"context"
	"fmt"
)

const getHelp = `Usage: heliumid get [--json] [--show-personal-data] ID

Shows one session (GET /v1/verifications/{id}): status and status code,
method, vendor data, meta, timestamps, and why it was not successful.

The end-user's personal data (docInfo: name, date of birth, document number;
doc and selfie: image keys and URLs) is left out, of the text and of the JSON,
unless you pass --show-personal-data. Vendor data and meta are shown: they
are what your integration sent.

With --json the output is the session as the API returns it (same field
names), without the personal data unless asked.

Examples:
  heliumid get 7e570000-0000-4000-8000-000000000001
  heliumid get --json ID | jq -r .status
  heliumid get --show-personal-data ID
`

// get serves "heliumid get".
func (c *cli) get(ctx context.Context, args []string) int {
	fs := c.newFlagSet("get")
	keyFile := keyFlag(fs)
	asJSON := fs.Bool("json", false, "print the session as JSON")
	showPII := fs.Bool("show-personal-data", false, "include the end-user's personal data (docInfo, doc, selfie)")
	pos, code, done := c.parse(fs, getHelp, args)
	if done {
		return code
	}
	switch {
	case len(pos) == 0:
		return c.usageError("get", "missing the session ID")
	case len(pos) > 1:
		return c.usageError("get", fmt.Sprintf("want one session ID, got %d arguments", len(pos)))
	}

	client, err := c.client(*keyFile)
	if err != nil {
		return c.fail("get", err)
	}
	defer client.CloseIdleConnections()
	v, err := client.GetVerification(ctx, pos[0])
	if err != nil {
		return c.fail("get", err)
	}
	if err := c.writeSession(v, *asJSON, *showPII); err != nil {
		return c.fail("get", err)
	}
	return exitOK
}
