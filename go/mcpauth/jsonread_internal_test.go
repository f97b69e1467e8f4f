package mcpauth

import (
	"bytes"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
	"unsafe"
)

var sample = []byte(`{"user":{"userId":"user-1","email":"ada@example.com","name":"Ada Lovelace","roles":[],"permissions":[]},"accessToken":"eyJhbGciOiJSUzI1NiIsImtpZCI6ImstUlMyNTYiLCJ0eXAiOiJKV1QifQ.eyJhdWQiOiJodHRwczovL21jcC5iZW5jaC50ZXN0L21jcCIsImNsaWVudF9pZCI6ImNsaWVudC0xIiwiZW1haWwiOiJhZGFAZXhhbXBsZS5jb20iLCJleHAiOjE3NjQ2OTQ0MDAsImlhdCI6MTc2NDY5MDgwMCwiaXNzIjoiaHR0cHM6Ly9pc3N1ZXIuYmVuY2gudGVzdCIsImp0aSI6Imp0aS0xIiwibmFtZSI6IkFkYSBMb3ZlbGFjZSIsInNjb3BlIjoibWNwOnJlYWQgbWNwOndyaXRlIiwic3ViIjoidXNlci0xIn0.abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmn","scopes":["mcp:read","mcp:write"],"permissions":[],"payload":{"aud":"https://mcp.bench.test/mcp","client_id":"client-1","email":"ada@example.com","exp":1764694400,"iat":1764690800,"iss":"https://issuer.bench.test","jti":"jti-1","name":"Ada Lovelace","scope":"mcp:read mcp:write","sub":"user-1"},"clientId":"client-1","expiresAt":1764694400,"resource":"https://mcp.bench.test/mcp"}`)

// readJSON decodes one JSON value (the whole input) generically.
func readJSON(b []byte, reuse string) (any, error) {
	r := jsonReader{s: string(b), reuse: reuse}
	v, err := r.value()
	if err != nil {
		return nil, err
	}
	return v, r.end()
}

func BenchmarkParseAuth(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := parseAuth(sample, ""); err != nil {
			b.Fatal(err)
		}
	}
}

// readJSON must agree with encoding/json: the same values for valid input, an error for
// invalid input.
func checkAgainstStdlib(t *testing.T, in []byte) {
	if !utf8.Valid(in) {
		// encoding/json replaces bad UTF-8 with U+FFFD; readJSON refuses it (the core emits
		// valid UTF-8 only)
		if _, err := readJSON(in, ""); err == nil {
			t.Fatalf("%q: invalid UTF-8 accepted", in)
		}
		return
	}
	var want any
	werr := json.Unmarshal(in, &want)
	got, gerr := readJSON(in, "")
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%q: encoding/json err=%v, readJSON err=%v", in, werr, gerr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q: got %#v, want %#v", in, got, want)
	}
}

var jsonSeeds = []string{
	`{}`, `[]`, `{"a":1,"b":[true,false,null],"c":{"d":"e"}}`, `"\u00e9\ud83d\ude00\n\t\\\"\/"`,
	`-0.5e+3`, `1E2`, `0`, `[1,2,3]`, ` { "k" : "v" } `, `"\ud800"`, `"\ud800\u0041"`,
	`01`, `1.`, `-`, `{"a":1,}`, `[1,]`, `{"a" 1}`, `"abc`, "\"\x01\"", `tru`, `nul`, `{"a":1}x`,
	"\"\xff\"", `"\x"`, `"\u12"`, `1e`, `--1`, `[[[[]]]]`, `{"":""}`, `"😀"`, string(sample),
}

func TestReadJSONAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range jsonSeeds {
		checkAgainstStdlib(t, []byte(s))
	}
	deep := strings.Repeat("[", 200) + strings.Repeat("]", 200)
	if _, err := readJSON([]byte(deep), ""); err == nil {
		t.Fatal("nesting beyond the limit accepted")
	}
	tok := "eyJ.tok.en"
	v, _ := readJSON([]byte(`{"accessToken":"`+tok+`"}`), tok)
	if s := v.(map[string]any)["accessToken"].(string); s != tok || unsafe.StringData(s) != unsafe.StringData(tok) {
		t.Fatal("the token was copied")
	}
}

func FuzzReadJSON(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if bytes.Count(in, []byte("["))+bytes.Count(in, []byte("{")) > 100 {
			return // beyond encoding/json's and our depth rules alike
		}
		checkAgainstStdlib(t, in)
	})
}

// authFromMap is the reference for decodeAuth: the auth result read generically (readJSON,
// itself checked against encoding/json), then translated member by member.
func authFromMap(m map[string]any) (*AuthInfo, error) {
	a := &AuthInfo{
		AccessToken: str(m["accessToken"]),
		Scopes:      strList(m["scopes"]),
		Permissions: strList(m["permissions"]),
		ClientID:    str(m["clientId"]),
		Resource:    str(m["resource"]),
	}
	a.Payload, _ = m["payload"].(map[string]any)
	if a.Payload == nil {
		a.Payload = map[string]any{}
	}
	if exp, ok := m["expiresAt"].(float64); ok {
		a.ExpiresAt = time.Unix(int64(exp), 0)
	}
	u, ok := m["user"].(map[string]any)
	if !ok {
		return nil, errJSON
	}
	a.User = userFromMap(u)
	return a, nil
}

func checkDecodeAuth(t *testing.T, in []byte) {
	var want *AuthInfo
	v, werr := readJSON(in, "")
	if werr == nil {
		if m, ok := v.(map[string]any); ok {
			want, werr = authFromMap(m)
		} else {
			werr = errJSON
		}
	}
	got, gerr := decodeAuth(string(in), "", false)
	if (werr == nil) != (gerr == nil) {
		t.Fatalf("%q: reference err=%v, decodeAuth err=%v", in, werr, gerr)
	}
	if werr == nil && !reflect.DeepEqual(got, want) {
		t.Fatalf("%q:\n got  %#v\n want %#v", in, got, want)
	}
}

var authSeeds = []string{
	string(sample),
	`{"user":{"userId":"u"}}`,
	`{"user":{"userId":"u","org":{"id":1},"roles":["a",1,null,"b"],"permissions":"x","email":null}}`,
	`{"user":{"userId":"u"},"scopes":null,"permissions":[[]],"payload":[],"clientId":7,"expiresAt":"1"}`,
	`{"user":{"userId":"u"},"expiresAt":1.7e9,"resource":"r","extra":[1,{"a":[]}],"payload":{"a":"\u00e9"}}`,
	`{"user":{"userId":"u"},"user":3}`, `{"user":3,"user":{"userId":"v","userId":"w"}}`,
	`{"payload":{}}`, `[]`, `{"user":{"userId":"u"},}`, `{"user":{"userId":"u"}} x`, `{"user":{"a":1,}}`,
	`{"user":{"userId":"u"},"scopes":["a",]}`, `{"user":{"userId":"u"},"expiresAt":-1}`, `{"\u0075ser":{"userId":"u"}}`,
}

func TestDecodeAuthAgreesWithReference(t *testing.T) {
	for _, s := range authSeeds {
		checkDecodeAuth(t, []byte(s))
	}
	tok := "eyJ.tok.en"
	a, err := decodeAuth(`{"user":{"userId":"u"},"accessToken":"`+tok+`"}`, tok, false)
	if err != nil || unsafe.StringData(a.AccessToken) != unsafe.StringData(tok) {
		t.Fatal("the token was copied")
	}
	// a text that crossed without its token (mcpgo_verify): the token is put back into the
	// first member only, and the rest reads as the whole text would
	for _, rest := range []string{`,"user":{"userId":"u","x":""},"accessToken":""}`,
		`,"user":{"userId":"u"},"accessToken":"other"}`, `,"user":{"userId":"u"},"payload":{"accessToken":""}}`} {
		whole, err1 := decodeAuth(`{"accessToken":"`+tok+`"`+rest, tok, false)
		cut, err2 := decodeAuth(`{"accessToken":""`+rest, tok, true)
		if err1 != nil || err2 != nil || !reflect.DeepEqual(whole, cut) {
			t.Fatalf("%s: cut %#v (%v), whole %#v (%v)", rest, cut, err2, whole, err1)
		}
	}
}

func FuzzDecodeAuth(f *testing.F) {
	for _, s := range authSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if bytes.Count(in, []byte("["))+bytes.Count(in, []byte("{")) > 100 || !utf8.Valid(in) {
			return
		}
		checkDecodeAuth(t, in)
	})
}

// stdDecision is what the middleware read with encoding/json before decodeDecision.
type stdDecision struct {
	Action   string          `json:"action"`
	Status   int             `json:"status"`
	Headers  [][]string      `json:"headers"`
	Body     string          `json:"body"`
	Code     *int            `json:"code"`
	Auth     json.RawMessage `json:"auth"`
	MaxBytes int64           `json:"maxBytes"`
	Token    string          `json:"token"`
}

var decisionSeeds = []string{
	`{"action":"pass"}`,
	`{"action":"pass","auth":` + string(sample) + `}`,
	`{"action":"pass","auth":null}`,
	`{"action":"respond","status":401,"headers":[["WWW-Authenticate","Bearer error=\"invalid_token\""],["Cache-Control","no-store"]],"body":"{\"error\":\"invalid_token\"}","code":20}`,
	`{"action":"respond","status":200,"headers":[],"body":"<html>\u00e9</html>"}`,
	`{"action":"need_body","maxBytes":1048576}`, `{"action":"host_verify","token":"eyJ.a.b"}`,
	`{"action":"respond","status":401,"headers":[["a"],null,["b",null]],"extra":{"x":[1]}}`,
	`{"action":"respond","status":"401"}`, `{"action":3}`, `{"status":1.5}`, `{"maxBytes":1e3}`,
	`{"action":"pass"} x`, `{"action":"pass",}`, `{"headers":[["a","b"],]}`, `{"code":null,"token":null}`,
	`{"status":99999999999}`, `{"auth":{"a":}}`, `{"action":"pass","auth":[1,2]}`,
}

func checkDecodeDecision(t *testing.T, in []byte) {
	if hasCaseFold(in) {
		return // encoding/json matches member names in any letter case; the core writes exact ones
	}
	var want stdDecision
	werr := json.Unmarshal(in, &want)
	got, gerr := decodeDecision(string(in))
	if werr != nil || gerr != nil {
		// encoding/json takes U+FFFD for bad UTF-8 (the core writes valid UTF-8 only) and
		// reads escaped member names
		if gerr == nil && werr != nil {
			t.Fatalf("%q: encoding/json refused (%v), decodeDecision accepted", in, werr)
		}
		if werr == nil && !bytes.Contains(in, []byte("\\u")) && utf8.Valid(in) {
			t.Fatalf("%q: decodeDecision refused (%v), encoding/json accepted", in, gerr)
		}
		return
	}
	auth := string(want.Auth)
	if auth == "null" {
		auth = ""
	}
	w := decision{Action: want.Action, Status: want.Status, Headers: want.Headers, Body: want.Body,
		Code: want.Code, Auth: auth, MaxBytes: want.MaxBytes, Token: want.Token}
	if !reflect.DeepEqual(*got, w) {
		t.Fatalf("%q:\n got  %#v\n want %#v", in, *got, w)
	}
}

// hasCaseFold reports a member name that only case-insensitive matching (encoding/json's)
// would take for one of the decision's.
func hasCaseFold(in []byte) bool {
	low := bytes.ToLower(in)
	for _, k := range []string{"action", "status", "headers", "body", "code", "auth", "maxbytes", "token"} {
		if bytes.Count(low, []byte(`"`+k+`"`)) != bytes.Count(in, []byte(`"`+k+`"`)) && k != "maxbytes" ||
			k == "maxbytes" && bytes.Count(low, []byte(`"maxbytes"`)) != bytes.Count(in, []byte(`"maxBytes"`)) {
			return true
		}
	}
	return false
}

func TestDecodeDecisionAgreesWithEncodingJSON(t *testing.T) {
	for _, s := range decisionSeeds {
		checkDecodeDecision(t, []byte(s))
	}
}

func FuzzDecodeDecision(f *testing.F) {
	for _, s := range decisionSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if bytes.Count(in, []byte("["))+bytes.Count(in, []byte("{")) > 100 {
			return
		}
		checkDecodeDecision(t, in)
	})
}

// The request JSON reads back as encoding/json's of the same struct.
func TestRouteRequestJSON(t *testing.T) {
	body, empty := "{\"jsonrpc\":\"2.0\"}\n\t<&>\u2028", ""
	for _, q := range []routeRequest{
		{Method: "GET", Path: "/mcp", Headers: map[string]string{}},
		{Method: "POST", Path: "/a\"b\\c", Query: "x=1&y=\x01\x1f\x7f", Body: &body, Peer: "192.0.2.7",
			Headers: map[string]string{"authorization": "Bearer abc", "x-bad": "a\xffb\xc3", "x-utf": "é😀",
				"x-long": strings.Repeat("abcdefgh", 10) + "\"\\\x01é\xff" + strings.Repeat("z", 17)}},
		{Method: "POST", Path: "/token", Body: &empty, BodyTruncated: true},
	} {
		want, _ := json.Marshal(&q)
		got := q.appendJSON(nil)
		var wv, gv any
		if err := json.Unmarshal(want, &wv); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(got, &gv); err != nil || !utf8.Valid(got) {
			t.Fatalf("%s: %v", got, err)
		}
		if !reflect.DeepEqual(gv, wv) {
			t.Fatalf("got %s\nwant %s", got, want)
		}
	}
}

func BenchmarkDecodeDecision(b *testing.B) {
	in := []byte(`{"action":"pass","auth":` + string(sample) + `}`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := decodeDecision(string(in)); err != nil {
			b.Fatal(err)
		}
	}
}

// scanRun against a byte loop, for every length up to 24 and each bad byte in each place.
func TestScanRun(t *testing.T) {
	for n := 0; n <= 24; n++ {
		for pos := -1; pos < n; pos++ {
			for _, bad := range []byte{0x00, 0x1f, 0x20, 0x7f, 0x80, 0xff, 0xa0} {
				b := bytes.Repeat([]byte{'a'}, n)
				if pos >= 0 {
					b[pos] = bad
				}
				var ctrl, high bool
				for _, c := range b {
					ctrl = ctrl || c < 0x20
					high = high || c >= 0x80
				}
				if c, h := scanRun(string(b)); c != ctrl || h != high {
					t.Fatalf("%q: got %v %v, want %v %v", b, c, h, ctrl, high)
				}
			}
		}
	}
}

func TestSmallInt(t *testing.T) {
	for _, s := range []string{"0", "-0", "7", "-7", "1764694400", "999999999999999", "-999999999999999",
		"1000000000000000", "12345678901234567890", "1.5", "1e3", "-1.0"} {
		want, _ := strconv.ParseFloat(s, 64)
		got, ok := smallInt(s)
		if ok && (got != want || math.Signbit(got) != math.Signbit(want)) {
			t.Fatalf("%s: %v, want %v", s, got, want)
		}
		r := jsonReader{s: s}
		f, err := r.num()
		if err != nil || f != want || math.Signbit(f) != math.Signbit(want) {
			t.Fatalf("%s: num %v %v, want %v", s, f, err, want)
		}
	}
}

// plainLen against a byte loop: every length up to 24, each special byte in each place.
func TestPlainLen(t *testing.T) {
	for n := 0; n <= 24; n++ {
		for pos := -1; pos < n; pos++ {
			for _, bad := range []byte{0x00, 0x1f, '"', '\\', 0x7f, 0x80, 0xff, ' ', '!', '#', '[', ']'} {
				b := bytes.Repeat([]byte{'a'}, n)
				if pos >= 0 {
					b[pos] = bad
				}
				first := len(b)
				for i, c := range b {
					if c < 0x20 || c == '"' || c == '\\' || c >= 0x80 {
						first = i
						break
					}
				}
				if got := plainLen(string(b)); got != first/8*8 {
					t.Fatalf("%q: %d, want %d", b, got, first/8*8)
				}
			}
		}
	}
}
