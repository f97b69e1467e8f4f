package mcpauth

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
	"unsafe"
)

var sample = []byte(`{"user":{"userId":"user-1","email":"ada@example.com","name":"Ada Lovelace","roles":[],"permissions":[]},"accessToken":"eyJhbGciOiJSUzI1NiIsImtpZCI6ImstUlMyNTYiLCJ0eXAiOiJKV1QifQ.eyJhdWQiOiJodHRwczovL21jcC5iZW5jaC50ZXN0L21jcCIsImNsaWVudF9pZCI6ImNsaWVudC0xIiwiZW1haWwiOiJhZGFAZXhhbXBsZS5jb20iLCJleHAiOjE3NjQ2OTQ0MDAsImlhdCI6MTc2NDY5MDgwMCwiaXNzIjoiaHR0cHM6Ly9pc3N1ZXIuYmVuY2gudGVzdCIsImp0aSI6Imp0aS0xIiwibmFtZSI6IkFkYSBMb3ZlbGFjZSIsInNjb3BlIjoibWNwOnJlYWQgbWNwOndyaXRlIiwic3ViIjoidXNlci0xIn0.abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmn","scopes":["mcp:read","mcp:write"],"permissions":[],"payload":{"aud":"https://mcp.bench.test/mcp","client_id":"client-1","email":"ada@example.com","exp":1764694400,"iat":1764690800,"iss":"https://issuer.bench.test","jti":"jti-1","name":"Ada Lovelace","scope":"mcp:read mcp:write","sub":"user-1"},"clientId":"client-1","expiresAt":1764694400,"resource":"https://mcp.bench.test/mcp"}`)

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
