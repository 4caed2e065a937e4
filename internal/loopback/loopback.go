// Package loopback keeps a server that listens on loopback from answering
// requests meant for another name: the guard against DNS rebinding that
// the fake servers (heliumidtest's own listener, "heliumid fake") apply.
//
// A web page the developer visits can make its own host name resolve to
// 127.0.0.1 and then talk to a local server as if it were same-origin, which
// defeats cross-origin checks. The browser still sends that host name in
// the Host header, so a loopback server that answers only loopback names
// is out of its reach.
package loopback

import (
	"fmt"
	"net"
	"net/http"
	"strings"
)

// IsHost reports whether hostport, a Host header's value (a name or an IP
// address, with or without a port), names the loopback interface:
// localhost or a name under .localhost (which browsers resolve to loopback
// themselves), an address of 127.0.0.0/8, or ::1.
func IsHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Only serves h the requests whose Host is a loopback name (or absent, as
// HTTP/1.0 allows: a browser always sends one), and answers any other with
// 421 Misdirected Request and a plain-text message that starts with name.
func Only(name string, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Host == "" || IsHost(r.Host) {
			h.ServeHTTP(w, r)
			return
		}
		Refuse(w, name, r.Host)
	})
}

// Refuse answers 421 Misdirected Request for a request to host, with a
// message that starts with name.
func Refuse(w http.ResponseWriter, name, host string) {
	if len(host) > 100 {
		host = host[:100] + "…"
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusMisdirectedRequest)
	fmt.Fprintf(w, "%s: refused: the Host header names %q, which is not a loopback name. This server listens on loopback and answers only requests for 127.0.0.1, [::1] or localhost (or a name under .localhost): a guard against DNS rebinding, by which a web page could reach it under a name of its own.\n", name, host)
}
