package otelheliumid_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"

	heliumid "github.com/heliumid/heliumid-go"
	"github.com/heliumid/heliumid-go/heliumidtest"
	"github.com/heliumid/heliumid-go/otelheliumid"
	"go.opentelemetry.io/otel/exporters/stdout/stdouttrace"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// The middleware on a client, its spans printed by OpenTelemetry's stdout
// exporter, against the fake server: one span per attempt, the retry of a
// 503 included, each a child of the caller's span.
func ExampleMiddleware() {
	// The stdout exporter writes each span as JSON as it ends. It writes to
	// a buffer here, so that the example can print a short summary of it
	// below; stdouttrace.New(stdouttrace.WithPrettyPrint()) writes to
	// os.Stdout.
	var out bytes.Buffer
	exporter, err := stdouttrace.New(stdouttrace.WithWriter(&out))
	if err != nil {
		log.Fatal(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(exporter))
	defer tp.Shutdown(context.Background())

	srv := heliumidtest.NewServer()
	defer srv.Close()
	// With otel.SetTracerProvider(tp) done at start-up, plain
	// otelheliumid.Middleware() would do.
	client := srv.Client(heliumid.WithMiddleware(otelheliumid.Middleware(otelheliumid.WithTracerProvider(tp))))

	ctx, signUp := tp.Tracer("example").Start(context.Background(), "sign-up")
	created, err := client.CreateVerification(ctx, &heliumid.CreateVerificationRequest{VendorData: "user-42"})
	if err != nil {
		log.Fatal(err)
	}
	srv.FailNext(1, heliumidtest.Failure{Status: http.StatusServiceUnavailable}) // the SDK retries the GET
	if _, err := client.GetVerification(ctx, created.ID); err != nil {
		log.Fatal(err)
	}
	signUp.End()

	printSpans(&out)
	// Output:
	// POST /v1/verifications in sign-up: http.response.status_code=200
	// GET /v1/verifications/{id} in sign-up: http.response.status_code=503 error.type=503 status=Error
	// GET /v1/verifications/{id} in sign-up: http.request.resend_count=1 http.response.status_code=200
	// sign-up
}

// printSpans prints the stdout exporter's spans, one line each: the name,
// the parent's name and the attributes that vary from attempt to attempt
// (the others, and the ids and times, are left out to keep the output
// short and the same from run to run).
func printSpans(r io.Reader) {
	type span struct {
		Name        string
		SpanContext struct{ SpanID string }
		Parent      struct{ SpanID string }
		Attributes  []struct {
			Key   string
			Value struct{ Value any }
		}
		Status struct{ Code string }
	}
	var spans []span
	names := map[string]string{}
	for dec := json.NewDecoder(r); ; {
		var s span
		if err := dec.Decode(&s); err == io.EOF {
			break
		} else if err != nil {
			log.Fatal(err)
		}
		spans = append(spans, s)
		names[s.SpanContext.SpanID] = s.Name
	}
	for _, s := range spans {
		line := s.Name
		if parent, ok := names[s.Parent.SpanID]; ok {
			line += " in " + parent + ":"
		}
		for _, a := range s.Attributes {
			switch a.Key {
			case "http.request.resend_count", "http.response.status_code", "error.type":
				line += fmt.Sprintf(" %s=%v", a.Key, a.Value.Value)
			}
		}
		if s.Status.Code == "Error" {
			line += " status=Error"
		}
		fmt.Println(line)
	}
}
