package heliumid

import (
	"net/http"
)

// ResponseInfo describes the last attempt of a call ([WithResponseInfo]):
// of [Client.WaitForDecision], its last poll; of [Client.AllVerifications],
// its last page, each of which counts its attempts from 1.
type ResponseInfo struct {
	StatusCode int         // the last response's HTTP status; 0 when the last attempt got no response
	Header     http.Header // the last response's headers; nil when the last attempt got no response
	RequestID  string      // its X-Request-Id (or Request-Id), for support tickets
	Attempts   int         // attempts sent: 1 + retries
}

// fill describes the last attempt o of a call that sent attempts requests.
func (info *ResponseInfo) fill(c *Client, o outcome, attempts int) {
	*info = ResponseInfo{StatusCode: o.status, RequestID: o.requestID, Attempts: attempts}
	if o.header != nil {
		info.Header = o.header.Clone()
		for name, values := range info.Header {
			for i, v := range values {
				values[i] = c.scrub(v) // a server may echo the key in any header
			}
			info.Header[name] = values
		}
	}
}
