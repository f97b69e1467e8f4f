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
	"strconv"
	"strings"
	"unicode/utf8"
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

// decision is the core's answer (see mcpauth.h, "The router, second form"), read by
// decodeDecision.
type decision struct {
	Action   string
	Status   int
	Headers  [][]string
	Body     string
	Code     *int
	Auth     string // the auth result's JSON text ("" when absent)
	MaxBytes int64
	Token    string
}

// decodeDecision reads a decision of the core's router: the members above, by their exact
// names; a member of another type than documented is an error (null reads as the zero value);
// unknown members are skipped. "auth" is kept as text, translated by authFromString only on a
// pass (and then from the memo for a repeated token).
func decodeDecision(src string) (*decision, error) {
	r := jsonReader{s: src}
	if r.peek() != '{' {
		return nil, errJSON
	}
	r.i++
	r.d++
	d := &decision{}
	for n := 0; ; n++ {
		k, more, err := r.member(n)
		if err != nil {
			return nil, err
		}
		if !more {
			break
		}
		if r.peek() == 'n' { // null: the zero value
			if err := r.lit("null"); err != nil {
				return nil, err
			}
			switch k {
			case "action":
				d.Action = ""
			case "status":
				d.Status = 0
			case "headers":
				d.Headers = nil
			case "body":
				d.Body = ""
			case "code":
				d.Code = nil
			case "auth":
				d.Auth = ""
			case "maxBytes":
				d.MaxBytes = 0
			case "token":
				d.Token = ""
			}
			continue
		}
		switch k {
		case "action":
			d.Action, err = r.strictStr()
		case "body":
			d.Body, err = r.strictStr()
		case "token":
			d.Token, err = r.strictStr()
		case "status":
			var v int64
			v, err = r.integer(strconv.IntSize)
			d.Status = int(v)
		case "code":
			var v int64
			if v, err = r.integer(strconv.IntSize); err == nil {
				c := int(v)
				d.Code = &c
			}
		case "maxBytes":
			d.MaxBytes, err = r.integer(64)
		case "headers":
			d.Headers, err = r.headerList()
		case "auth":
			d.Auth, err = r.raw()
		default:
			err = r.skip()
		}
		if err != nil {
			return nil, err
		}
	}
	if err := r.end(); err != nil {
		return nil, err
	}
	return d, nil
}

// strictStr reads a string; any other value is an error.
func (r *jsonReader) strictStr() (string, error) {
	if r.peek() != '"' {
		return "", errJSON
	}
	return r.str()
}

// integer reads a JSON number that is an integer of the given bit size.
func (r *jsonReader) integer(bits int) (int64, error) {
	if c := r.peek(); c != '-' && (c < '0' || c > '9') {
		return 0, errJSON
	}
	t, err := r.numSpan()
	if err != nil {
		return 0, err
	}
	v, err := strconv.ParseInt(t, 10, bits)
	if err != nil {
		return 0, errJSON
	}
	return v, nil
}

// headerList reads [[name, value], ...] (null entries and null strings read as empty).
func (r *jsonReader) headerList() ([][]string, error) {
	if r.peek() != '[' {
		return nil, errJSON
	}
	r.i++
	out := [][]string{}
	for n := 0; ; n++ {
		more, err := r.element(n)
		if err != nil {
			return nil, err
		}
		if !more {
			return out, nil
		}
		switch r.peek() {
		case 'n':
			if err := r.lit("null"); err != nil {
				return nil, err
			}
			out = append(out, nil)
			continue
		case '[':
		default:
			return nil, errJSON
		}
		r.i++
		kv := make([]string, 0, 2)
		for m := 0; ; m++ {
			more, err := r.element(m)
			if err != nil {
				return nil, err
			}
			if !more {
				break
			}
			s := ""
			if r.peek() == 'n' {
				err = r.lit("null")
			} else {
				s, err = r.strictStr()
			}
			if err != nil {
				return nil, err
			}
			kv = append(kv, s)
		}
		out = append(out, kv)
	}
}

// appendJSON writes the request JSON (what encoding/json would write for the struct tags
// above, without reflection).
func (q *routeRequest) appendJSON(b []byte) []byte {
	b = append(b, `{"method":`...)
	b = appendJSONString(b, q.Method)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, q.Path)
	b = append(b, `,"query":`...)
	b = appendJSONString(b, q.Query)
	b = append(b, `,"headers":`...)
	if q.Headers == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '{')
		first := true
		for k, v := range q.Headers {
			if !first {
				b = append(b, ',')
			}
			first = false
			b = appendJSONString(b, k)
			b = append(b, ':')
			b = appendJSONString(b, v)
		}
		b = append(b, '}')
	}
	if q.Body != nil {
		b = append(b, `,"body":`...)
		b = appendJSONString(b, *q.Body)
	}
	if q.BodyTruncated {
		b = append(b, `,"bodyTruncated":true`...)
	}
	if q.Peer != "" {
		b = append(b, `,"peer":`...)
		b = appendJSONString(b, q.Peer)
	}
	return append(b, '}')
}

// appendJSONString writes s as a JSON string. As in encoding/json, each byte of invalid UTF-8
// becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if n := plainLen(s[i:]); n > 0 { // header values, tokens: long plain runs
			i += n
			continue
		}
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError || size != 1 {
				i += size
				continue
			}
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"', '\\':
			b = append(b, '\\', c)
		case '\n':
			b = append(b, '\\', 'n')
		case '\r':
			b = append(b, '\\', 'r')
		case '\t':
			b = append(b, '\\', 't')
		default:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// plainLen is the length of the longest prefix of s, in whole words of eight bytes, that a JSON
// string holds as it is (no control character, '"', '\\' or byte of 0x80 and above).
func plainLen(s string) int {
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		q, bs := x^(ones*'"'), x^(ones*'\\')
		if (x|(x-ones*0x20)&^x|(q-ones)&^q|(bs-ones)&^bs)&highs != 0 {
			break
		}
	}
	return i
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
			if d.Auth == "" {
				next.ServeHTTP(w, r)
				return
			}
			var info *AuthInfo
			if hostUser {
				info, err = decodeAuth(d.Auth, "", false)
			} else {
				info, err = p.authFromString(d.Auth, "")
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
	data := req.appendJSON(make([]byte, 0, 512))
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
		d, err := decodeDecision(string(text))
		if err != nil {
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
