package mcpauth

import (
	"errors"
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// A small JSON reader for the core's answers (the auth result, the router's decisions): the
// same values as encoding/json's generic decoding (map[string]any, []any, string, float64,
// bool, nil) in one pass without reflection. It is the larger part of the Go side's cost of a
// verification (go/bench), so it matters:
//
//   - it reads a string that holds the whole answer (one copy of the C buffer), and a JSON
//     string without escapes becomes a substring of it: no allocation and no copy per string;
//   - the callers that know the shape (decodeAuth, decodeDecision) read the members they know
//     straight into Go fields, and only unknown or free-form members (the claims) into
//     map[string]any.
//
// Malformed input is an error, never a guess. Strings must be valid UTF-8 (the core writes
// nothing else; encoding/json would substitute U+FFFD).

var errJSON = errors.New("mcpauth: malformed JSON from the core")

type jsonReader struct {
	s     string
	i     int
	d     int    // nesting depth
	reuse string // a string the caller holds already (the token): returned instead of a substring

	strs []string  // slabs for boxString / boxFloat
	nums []float64 //
}

// An `any` holding a string or a float64 points to a copy of the value; converting one
// allocates that copy. boxString and boxFloat place the copies in slabs instead (one
// allocation for up to slabLen values), written once and never changed afterwards, and build
// the interface value around a pointer into the slab. The interface is the runtime's
// two-word layout (type, pointer to the value) that reflect and the runtime rely on.
type eface struct {
	typ, data unsafe.Pointer
}

const slabLen = 16

var (
	stringType = typeOf("")
	floatType  = typeOf(float64(0))
)

func typeOf(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

func (r *jsonReader) boxString(s string) any {
	if s == "" {
		return s // no allocation for the empty string
	}
	if len(r.strs) == cap(r.strs) {
		r.strs = make([]string, 0, slabLen)
	}
	r.strs = append(r.strs, s)
	var v any
	*(*eface)(unsafe.Pointer(&v)) = eface{stringType, unsafe.Pointer(&r.strs[len(r.strs)-1])}
	return v
}

func (r *jsonReader) boxFloat(f float64) any {
	if len(r.nums) == cap(r.nums) {
		r.nums = make([]float64, 0, slabLen)
	}
	r.nums = append(r.nums, f)
	var v any
	*(*eface)(unsafe.Pointer(&v)) = eface{floatType, unsafe.Pointer(&r.nums[len(r.nums)-1])}
	return v
}

const maxJSONDepth = 128

// end checks that only white space follows.
func (r *jsonReader) end() error {
	r.ws()
	if r.i != len(r.s) {
		return errJSON
	}
	return nil
}

func (r *jsonReader) ws() {
	for r.i < len(r.s) {
		switch r.s[r.i] {
		case ' ', '\t', '\n', '\r':
			r.i++
		default:
			return
		}
	}
}

// peek skips white space and returns the next byte (0 at the end).
func (r *jsonReader) peek() byte {
	r.ws()
	if r.i >= len(r.s) {
		return 0
	}
	return r.s[r.i]
}

func (r *jsonReader) value() (any, error) {
	switch c := r.peek(); {
	case c == '{':
		return r.object()
	case c == '[':
		return r.array()
	case c == '"':
		s, err := r.str()
		if err != nil {
			return nil, err
		}
		return r.boxString(s), nil
	case c == 't':
		return true, r.lit("true")
	case c == 'f':
		return false, r.lit("false")
	case c == 'n':
		return nil, r.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		f, err := r.num()
		if err != nil {
			return nil, err
		}
		return r.boxFloat(f), nil
	}
	return nil, errJSON
}

// skip checks one value and moves past it without building it.
func (r *jsonReader) skip() error {
	switch c := r.peek(); {
	case c == '{':
		if r.d++; r.d > maxJSONDepth {
			return errJSON
		}
		r.i++
		for n := 0; ; n++ {
			_, more, err := r.member(n)
			if err != nil || !more {
				r.d--
				return err
			}
			if err := r.skip(); err != nil {
				return err
			}
		}
	case c == '[':
		if r.d++; r.d > maxJSONDepth {
			return errJSON
		}
		r.i++
		for n := 0; ; n++ {
			more, err := r.element(n)
			if err != nil || !more {
				r.d--
				return err
			}
			if err := r.skip(); err != nil {
				return err
			}
		}
	case c == '"':
		_, _, _, err := r.strSpan()
		return err
	case c == 't':
		return r.lit("true")
	case c == 'f':
		return r.lit("false")
	case c == 'n':
		return r.lit("null")
	case c == '-' || (c >= '0' && c <= '9'):
		_, err := r.numSpan()
		return err
	}
	return errJSON
}

func (r *jsonReader) lit(s string) error {
	if len(r.s)-r.i < len(s) || r.s[r.i:r.i+len(s)] != s {
		return errJSON
	}
	r.i += len(s)
	return nil
}

// member reads the separator before the n-th member of an object whose '{' has been
// consumed, and that member's key and colon. more is false at the closing '}' (consumed).
func (r *jsonReader) member(n int) (key string, more bool, err error) {
	c := r.peek()
	if c == '}' {
		r.i++
		return "", false, nil
	}
	if n > 0 {
		if c != ',' {
			return "", false, errJSON
		}
		r.i++
		c = r.peek()
	}
	if c != '"' {
		return "", false, errJSON
	}
	if key, err = r.str(); err != nil {
		return "", false, err
	}
	if r.peek() != ':' {
		return "", false, errJSON
	}
	r.i++
	return key, true, nil
}

// element reads the separator before the n-th element of an array whose '[' has been
// consumed. more is false at the closing ']' (consumed).
func (r *jsonReader) element(n int) (more bool, err error) {
	c := r.peek()
	if c == ']' && n == 0 {
		r.i++
		return false, nil
	}
	if n > 0 {
		switch c {
		case ']':
			r.i++
			return false, nil
		case ',':
			r.i++
		default:
			return false, errJSON
		}
	}
	return true, nil
}

func (r *jsonReader) object() (map[string]any, error) { return r.objectSized(8) }

// objectSized reads an object into a map made for hint members.
func (r *jsonReader) objectSized(hint int) (map[string]any, error) {
	if r.d++; r.d > maxJSONDepth {
		return nil, errJSON
	}
	r.i++ // {
	m := make(map[string]any, hint)
	for n := 0; ; n++ {
		k, more, err := r.member(n)
		if err != nil {
			return nil, err
		}
		if !more {
			r.d--
			return m, nil
		}
		v, err := r.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
}

func (r *jsonReader) array() ([]any, error) {
	if r.d++; r.d > maxJSONDepth {
		return nil, errJSON
	}
	r.i++ // [
	a := []any{}
	for n := 0; ; n++ {
		more, err := r.element(n)
		if err != nil {
			return nil, err
		}
		if !more {
			r.d--
			return a, nil
		}
		v, err := r.value()
		if err != nil {
			return nil, err
		}
		if cap(a) == 0 {
			a = make([]any, 0, 4)
		}
		a = append(a, v)
	}
}

// numSpan moves past a JSON number and returns its text.
func (r *jsonReader) numSpan() (string, error) {
	start := r.i
	if r.i < len(r.s) && r.s[r.i] == '-' {
		r.i++
	}
	digits := func() int {
		n := 0
		for r.i < len(r.s) && r.s[r.i] >= '0' && r.s[r.i] <= '9' {
			r.i++
			n++
		}
		return n
	}
	intStart := r.i
	if digits() == 0 || (r.s[intStart] == '0' && r.i-intStart > 1) {
		return "", errJSON
	}
	if r.i < len(r.s) && r.s[r.i] == '.' {
		r.i++
		if digits() == 0 {
			return "", errJSON
		}
	}
	if r.i < len(r.s) && (r.s[r.i] == 'e' || r.s[r.i] == 'E') {
		r.i++
		if r.i < len(r.s) && (r.s[r.i] == '+' || r.s[r.i] == '-') {
			r.i++
		}
		if digits() == 0 {
			return "", errJSON
		}
	}
	return r.s[start:r.i], nil
}

func (r *jsonReader) num() (float64, error) {
	t, err := r.numSpan()
	if err != nil {
		return 0, err
	}
	if f, ok := smallInt(t); ok {
		return f, nil
	}
	f, err := strconv.ParseFloat(t, 64)
	if err != nil {
		return 0, errJSON
	}
	return f, nil
}

// smallInt is the value of an integer of at most 15 digits (exact in a float64, as
// strconv.ParseFloat would give it): the claims' times are such integers.
func smallInt(t string) (float64, bool) {
	neg := t[0] == '-'
	if neg {
		t = t[1:]
	}
	if len(t) > 15 {
		return 0, false
	}
	var v int64
	for i := 0; i < len(t); i++ {
		c := t[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int64(c-'0')
	}
	if neg {
		if v == 0 {
			return 0, false // -0: ParseFloat's negative zero
		}
		v = -v
	}
	return float64(v), true
}

// strSpan moves past a JSON string (at its opening quote) and returns the bounds of its
// contents; escaped says whether they hold a backslash. The contents are checked (control
// characters, escapes, UTF-8) but not decoded. The runs between escapes are found with
// strings.IndexByte and checked eight bytes at a time (a token is several hundred bytes).
func (r *jsonReader) strSpan() (start, end int, escaped bool, err error) {
	r.i++ // "
	start = r.i
	ascii := true
	for {
		q := strings.IndexByte(r.s[r.i:], '"')
		if q < 0 {
			return 0, 0, false, errJSON
		}
		run := r.s[r.i : r.i+q]
		if b := strings.IndexByte(run, '\\'); b >= 0 {
			run = run[:b]
		}
		ctrl, high := scanRun(run)
		if ctrl {
			return 0, 0, false, errJSON
		}
		ascii = ascii && !high
		r.i += len(run)
		if r.s[r.i] == '"' {
			end = r.i
			r.i++
			if !ascii && !utf8.ValidString(r.s[start:end]) {
				return 0, 0, false, errJSON
			}
			return start, end, escaped, nil
		}
		// a backslash
		escaped = true
		if r.i+1 >= len(r.s) {
			return 0, 0, false, errJSON
		}
		switch r.s[r.i+1] {
		case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
			r.i += 2
		case 'u':
			r.i += 2
			if _, ok := r.hex4(); !ok {
				return 0, 0, false, errJSON
			}
		default:
			return 0, 0, false, errJSON
		}
	}
}

// scanRun reports whether s holds a control character (< 0x20) and whether it holds a byte
// of 0x80 or above, eight bytes at a time.
func scanRun(s string) (ctrl, high bool) {
	const highs, spaces = 0x8080808080808080, 0x2020202020202020
	var acc, lows uint64
	i := 0
	for ; i+8 <= len(s); i += 8 {
		x := uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
			uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
		acc |= x
		lows |= (x - spaces) &^ x // the high bit of a byte set: that byte < 0x20 (or a borrow from one)
	}
	for ; i < len(s); i++ {
		acc |= uint64(s[i])
		if s[i] < 0x20 {
			return true, acc&highs != 0
		}
	}
	return lows&highs != 0, acc&highs != 0
}

// str reads a JSON string: a substring of the input when it has no escapes.
func (r *jsonReader) str() (string, error) {
	start, end, escaped, err := r.strSpan()
	if err != nil {
		return "", err
	}
	raw := r.s[start:end]
	if escaped {
		return unescape(raw), nil
	}
	if raw == r.reuse {
		return r.reuse, nil
	}
	return raw, nil
}

// unescape decodes the contents of a JSON string that strSpan has checked. A lone UTF-16
// surrogate becomes U+FFFD, as in encoding/json.
func unescape(raw string) string {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		e := raw[i+1]
		i += 2
		switch e {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			ru := rune(hexVal(raw[i : i+4]))
			i += 4
			if utf16.IsSurrogate(ru) {
				lo := rune(-1)
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					lo = rune(hexVal(raw[i+2 : i+6]))
				}
				if d := utf16.DecodeRune(ru, lo); d != utf8.RuneError {
					ru = d
					i += 6
				} else {
					ru = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, ru)
		default: // '"', '\\', '/'
			out = append(out, e)
		}
	}
	return string(out)
}

// hexVal is the value of four hex digits that hex4 has checked.
func hexVal(h string) uint32 {
	var u uint32
	for i := 0; i < 4; i++ {
		c := h[i]
		switch {
		case c >= '0' && c <= '9':
			u = u<<4 | uint32(c-'0')
		case c >= 'a' && c <= 'f':
			u = u<<4 | uint32(c-'a'+10)
		default:
			u = u<<4 | uint32(c-'A'+10)
		}
	}
	return u
}

func (r *jsonReader) hex4() (uint32, bool) {
	if r.i+4 > len(r.s) {
		return 0, false
	}
	for i := r.i; i < r.i+4; i++ {
		c := r.s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return 0, false
		}
	}
	u := hexVal(r.s[r.i : r.i+4])
	r.i += 4
	return u, true
}

// strOr reads a string member; any other value is read and gives "" (as a type assertion on
// the generic value would).
func (r *jsonReader) strOr() (string, error) {
	if r.peek() == '"' {
		return r.str()
	}
	return "", r.skip()
}

// strList reads an array member keeping its strings; any other element is dropped and any
// other value gives an empty list (never nil).
func (r *jsonReader) strList() ([]string, error) {
	if r.peek() != '[' {
		return []string{}, r.skip()
	}
	if r.d++; r.d > maxJSONDepth {
		return nil, errJSON
	}
	r.i++
	out := []string{}
	for n := 0; ; n++ {
		more, err := r.element(n)
		if err != nil {
			return nil, err
		}
		if !more {
			r.d--
			return out, nil
		}
		if r.peek() != '"' {
			if err := r.skip(); err != nil {
				return nil, err
			}
			continue
		}
		s, err := r.str()
		if err != nil {
			return nil, err
		}
		if cap(out) == 0 {
			out = make([]string, 0, 4)
		}
		out = append(out, s)
	}
}

// raw moves past one value and returns its text.
func (r *jsonReader) raw() (string, error) {
	r.ws()
	start := r.i
	if err := r.skip(); err != nil {
		return "", err
	}
	return r.s[start:r.i], nil
}
