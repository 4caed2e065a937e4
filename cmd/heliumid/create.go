package main

import (
	"context"
	"fmt"

	heliumid "github.com/heliumid/heliumid-go"
)

const createHelp = `Usage: heliumid create [--vendor-data V] [--method auto|manual] [--meta key=value ...] [--json]

Creates a verification session (POST /v1/verifications) and prints its id and
the link where the end-user verifies: open it on your phone, or send it.

--meta may be repeated; every value is sent as a JSON string ("--meta
attempt=2" stores "2"). With --json the output is {"id": ..., "link": ...}.

A create is not retried when the server may have acted on it (a timeout, a
5xx, a connection lost after sending): the session may exist, and the error
says how to look for it ("heliumid list --vendor-data V") before creating
another, which would be a second session, billed.

Examples:
  heliumid create --vendor-data user-42
  heliumid create --method manual --meta plan=pro --meta source=cli
  id=$(heliumid create --json | jq -r .id)
`

// createOutput is what "heliumid create --json" prints.
type createOutput struct {
	ID   string `json:"id"`
	Link string `json:"link"`
}

// create serves "heliumid create".
func (c *cli) create(ctx context.Context, args []string) int {
	fs := c.newFlagSet("create")
	keyFile := keyFlag(fs)
	vendorData := fs.String("vendor-data", "", "your own `identifier` for the session (a user id, an order number): how you find it again")
	method := fs.String("method", "", "how the session is decided: `auto|manual` (auto: Helium ID decides, the server's default; manual: an Identity Specialist reviews)")
	meta := metaFlag{}
	fs.Var(meta, "meta", "custom data stored with the session, as `key=value` (repeatable; values are strings)")
	asJSON := fs.Bool("json", false, "print JSON instead of text")
	pos, code, done := c.parse(fs, createHelp, args)
	if done {
		return code
	}
	if len(pos) > 0 {
		return c.usageError("create", fmt.Sprintf("unexpected argument %q (create takes flags only)", pos[0]))
	}
	req := &heliumid.CreateVerificationRequest{VendorData: *vendorData, Method: heliumid.Method(*method)}
	switch req.Method {
	case "", heliumid.MethodAuto, heliumid.MethodManual:
	default:
		return c.usageError("create", fmt.Sprintf("--method %q: want auto or manual", *method))
	}
	if len(meta) > 0 {
		req.Meta = meta
	}

	client, err := c.client(*keyFile)
	if err != nil {
		return c.fail("create", err)
	}
	defer client.CloseIdleConnections()
	created, err := client.CreateVerification(ctx, req)
	if err != nil {
		return c.failCreate(err, *vendorData)
	}
	if *asJSON {
		err = writeJSON(c.stdout, createOutput{ID: created.ID, Link: created.Link})
	} else {
		_, err = fmt.Fprintf(c.stdout, "id:   %s\nlink: %s\n", clean(created.ID), clean(created.Link))
	}
	if err != nil {
		return c.fail("create", err)
	}
	return exitOK
}
