package bench

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// BenchmarkMiddleware: the net/http middleware (the core's router, the decision read, the
// AuthInfo in the context) on the protected /mcp with a repeated RS256 token, and on an open
// path, in front of a handler that does nothing. The difference is the gate's cost.
func BenchmarkMiddleware(b *testing.B) {
	c := newCase("RS256")
	p := c.provider(b, true)
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	h := p.Middleware(ok)
	body := `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"x"}}`
	for _, tc := range []struct{ name, path, auth string }{
		{"protected", "/mcp", "Bearer " + c.tokens[0]},
		{"open", "/health", ""},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				r := httptest.NewRequest("POST", "https://mcp.bench.test"+tc.path, strings.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				r.Header.Set("Accept", "application/json, text/event-stream")
				if tc.auth != "" {
					r.Header.Set("Authorization", tc.auth)
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != 204 {
					b.Fatalf("%s: %d %s", tc.name, w.Code, w.Body)
				}
			}
		})
	}
}
