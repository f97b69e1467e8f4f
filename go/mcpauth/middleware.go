//go:build cgo

package mcpauth

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
)

type authKey struct{}

// AuthFromContext returns the AuthInfo the Middleware put into a request's context, or nil
// when the request was not authenticated (an unprotected path).
func AuthFromContext(ctx context.Context) *AuthInfo {
	a, _ := ctx.Value(authKey{}).(*AuthInfo)
	return a
}

// WithAuth returns a copy of ctx carrying a (for adapters and tests).
func WithAuth(ctx context.Context, a *AuthInfo) context.Context {
	return context.WithValue(ctx, authKey{}, a)
}

// routeRequest is the request JSON of mcpauth_route.
type routeRequest struct {
	Method        string            `json:"method"`
	Path          string            `json:"path"`
	Query         string            `json:"query"`
	Headers       map[string]string `json:"headers"`
	Body          *string           `json:"body,omitempty"`
	BodyTruncated bool              `json:"bodyTruncated,omitempty"`
	Peer          string            `json:"peer,omitempty"`
}

// decision is the core's answer (see mcpauth.h, "The router, second form").
type decision struct {
	Action   string          `json:"action"`
	Status   int             `json:"status"`
	Headers  [][]string      `json:"headers"`
	Body     string          `json:"body"`
	Code     *int            `json:"code"`
	Auth     json.RawMessage `json:"auth"`
	MaxBytes int64           `json:"maxBytes"`
	Token    string          `json:"token"`
}

func newRouteRequest(r *http.Request) *routeRequest {
	h := make(map[string]string, len(r.Header)+1)
	for k, vs := range r.Header {
		h[strings.ToLower(k)] = strings.Join(vs, ", ")
	}
	if r.Host != "" {
		h["host"] = r.Host // net/http keeps Host out of r.Header
	}
	peer := r.RemoteAddr
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		peer = host
	}
	return &routeRequest{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Headers: h, Peer: peer}
}

// Middleware puts the libmcpauth router in front of next. For every request the core decides
// and the middleware only carries the decision out:
//
//   - "respond": metadata documents, the OAuth proxy's routes, and the 401/403 challenges,
//     written exactly as the core gives them;
//   - "need_body": the body is read (at most the size the core names) and the core asked
//     again; next still receives the whole body;
//   - "host_verify": the Provider's VerifyTokenFunc checks the token and the core completes
//     the decision (time, audience, resource and scope checks on the claims);
//   - "pass": next runs, with the AuthInfo in the context on a protected path
//     (AuthFromContext).
//
// The middleware holds no rule of its own about paths, scopes or challenges.
func (p *Provider) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		req := newRouteRequest(r)
		d, err := p.route(ctx, req, nil)
		hostUser := false
		for i := 0; err == nil && i < 3; i++ {
			switch d.Action {
			case "need_body":
				if req.Body != nil || req.BodyTruncated {
					d, err = nil, errString("the core asked for the body twice")
					break
				}
				p.readBody(r, req, d.MaxBytes)
				d, err = p.route(ctx, req, nil)
				continue
			case "host_verify":
				var result []byte
				result, hostUser = p.hostVerify(ctx, d.Token)
				d, err = p.route(ctx, req, result)
				continue
			}
			break
		}
		if err != nil {
			if ctx.Err() != nil {
				return // the client went away
			}
			log.Printf("mcpauth: router: %v", err)
			http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
			return
		}
		switch d.Action {
		case "respond":
			hd := w.Header()
			for _, kv := range d.Headers {
				if len(kv) == 2 {
					hd.Add(kv[0], kv[1])
				}
			}
			w.WriteHeader(d.Status)
			io.WriteString(w, d.Body)
		case "pass":
			if len(d.Auth) == 0 || string(d.Auth) == "null" {
				next.ServeHTTP(w, r)
				return
			}
			var info *AuthInfo
			if hostUser {
				info, err = parseAuth(d.Auth, "")
			} else {
				info, err = p.authFromText(d.Auth, "")
			}
			if err != nil {
				log.Printf("mcpauth: %v", err)
				http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
				return
			}
			next.ServeHTTP(w, r.WithContext(WithAuth(ctx, info)))
		default:
			log.Printf("mcpauth: router: unexpected decision %q", d.Action)
			http.Error(w, `{"error":"server_error"}`, http.StatusInternalServerError)
		}
	})
}

type errString string

func (e errString) Error() string { return string(e) }

// readBody reads at most max bytes of the body for the core, and gives next the whole body.
func (p *Provider) readBody(r *http.Request, req *routeRequest, max int64) {
	if r.Body == nil || r.Body == http.NoBody {
		s := ""
		req.Body = &s
		return
	}
	if max < 0 {
		max = 0
	}
	buf, err := io.ReadAll(io.LimitReader(r.Body, max+1))
	rest := r.Body
	r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), rest), rest}
	if err != nil || int64(len(buf)) > max {
		req.BodyTruncated = true
		return
	}
	s := string(buf)
	req.Body = &s
}

type readCloser struct {
	io.Reader
	c io.Closer
}

func (rc readCloser) Close() error { return rc.c.Close() }

// hostVerify runs the host's VerifyTokenFunc for a host_verify decision and returns the
// result JSON for mcpauth_route_complete, and whether it carries the user (GetUserInfo).
func (p *Provider) hostVerify(ctx context.Context, token string) ([]byte, bool) {
	if p.verifyToken == nil {
		b, _ := json.Marshal(map[string]any{"error": "invalid_token",
			"detail": "the core asked the host to verify the token, but the Provider has no VerifyToken"})
		return b, false
	}
	claims, err := p.verifyToken(ctx, token)
	if err != nil {
		refusal := map[string]any{"error": "invalid_token", "detail": "VerifyToken refused the token: " + err.Error()}
		var me *Error
		if errors.As(err, &me) {
			switch c := me.Code; {
			case c >= CodeTokenTooLarge && c <= CodeTokenInactive, c == CodeInsufficientScope,
				c == CodeKeysUnavailable, c == CodeUpstream:
				refusal["code"] = int(c)
				if me.OAuthError != "" {
					refusal["error"] = me.OAuthError
				}
			}
		} else if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			refusal["code"] = int(CodeUpstream)
		}
		b, _ := json.Marshal(refusal)
		return b, false
	}
	res := map[string]any{"claims": claims}
	withUser := false
	if p.getUserInfo != nil {
		u, err := p.getUserInfo(claims)
		if err != nil || u == nil || u.UserID == "" {
			detail := "GetUserInfo returned no user"
			if err != nil {
				detail = "GetUserInfo refused the claims: " + err.Error()
			}
			b, _ := json.Marshal(map[string]any{"error": "invalid_token", "detail": detail})
			return b, false
		}
		res["user"] = u.Map()
		withUser = true
	}
	b, err := json.Marshal(res)
	if err != nil {
		b, _ = json.Marshal(map[string]any{"error": "invalid_token", "detail": "VerifyToken returned claims that are not JSON"})
		return b, false
	}
	return b, withUser
}

// route asks the core (mcpauth_route, or mcpauth_route_complete with a host result):
// non-blocking first, and blocking only when it needs network I/O.
func (p *Provider) route(ctx context.Context, req *routeRequest, hostResult []byte) (*decision, error) {
	data, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	call := func(flags uint) (*decision, int, error) {
		cb := callBufs.Get().(*callBuf)
		defer callBufs.Put(cb)
		rc := p.h.route(data, hostResult, flags|flagRouteWithToken, cb)
		text, has, detail := cb.answer()
		if rc != 0 {
			return nil, rc, newError(rc, detail)
		}
		if !has {
			return nil, rc, errString("the router produced no decision")
		}
		d := new(decision)
		if err := json.Unmarshal(text, d); err != nil {
			return nil, rc, err
		}
		return d, 0, nil
	}
	d, rc, err := call(flagRouteNonblock)
	if rc != int(CodeWouldBlock) {
		return d, err
	}
	if ctx.Done() == nil {
		d, _, err = call(0)
		return d, err
	}
	type res struct {
		d   *decision
		err error
	}
	ch := make(chan res, 1)
	go func() {
		d, _, err := call(0)
		ch <- res{d, err}
	}()
	select {
	case r := <-ch:
		return r.d, r.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
