package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkRatios measures the four modes of each algorithm in interleaved slices (100 ms each,
// 10 rounds), so that the load of a shared machine falls on all of them alike, and reports
// verifications per second and the ratios. Run it alone, once:
//
//	go test -run '^$' -bench Ratios -benchtime 1x ./go/bench
func BenchmarkRatios(b *testing.B) {
	const rounds, slice = 10, 100 * time.Millisecond
	ctx := context.Background()
	var lines []string
	for _, alg := range []string{"RS256", "ES256", "EdDSA", "HS256"} {
		c := newCase(alg)
		miss, repeat := c.provider(b, false), c.provider(b, true)
		parser := c.parser()
		var key any = c.pub
		if c.hmac != nil {
			key = c.hmac
		}
		keyFn := func(*jwt.Token) (any, error) { return key, nil }
		raw, _ := json.Marshal(c.jwks())
		kf, err := keyfunc.NewJWKSetJSON(raw)
		if err != nil {
			b.Fatal(err)
		}
		modes := []struct {
			name string
			fn   func(i int) error
		}{
			{"mcpauth-miss", func(i int) error { _, err := miss.Verify(ctx, c.tokens[i%poolSize]); return err }},
			{"golang-jwt", func(i int) error {
				_, err := parser.Parse(c.tokens[i%poolSize], keyFn)
				return err
			}},
			{"golang-jwt-keyfunc", func(i int) error {
				_, err := parser.Parse(c.tokens[i%poolSize], kf.Keyfunc)
				return err
			}},
			{"mcpauth-repeat", func(int) error { _, err := repeat.Verify(ctx, c.tokens[0]); return err }},
		}
		ops := make([]int, len(modes))
		spent := make([]time.Duration, len(modes))
		for r := 0; r < rounds; r++ {
			for m, mode := range modes {
				t0 := time.Now()
				n := 0
				for time.Since(t0) < slice {
					for k := 0; k < 16; k++ {
						if err := mode.fn(n); err != nil {
							b.Fatalf("%s %s: %v", alg, mode.name, err)
						}
						n++
					}
				}
				ops[m] += n
				spent[m] += time.Since(t0)
			}
		}
		rate := make([]float64, len(modes))
		for m := range modes {
			rate[m] = float64(ops[m]) / spent[m].Seconds()
			b.ReportMetric(rate[m], alg+"-"+modes[m].name+"/s")
		}
		b.ReportMetric(rate[0]/rate[1], alg+"-miss/jwt")
		b.ReportMetric(rate[3]/rate[1], alg+"-repeat/jwt")
		lines = append(lines, fmt.Sprintf("| %s | %.0f | %.0f | %.0f | %.0f | %.2f | %.2f | %.0f |", alg,
			rate[0], rate[1], rate[2], rate[3], rate[0]/rate[1], rate[0]/rate[2], rate[3]/rate[1]))
	}
	sort.Strings(lines)
	fmt.Fprintln(os.Stderr, "| alg | mcpauth miss/s | golang-jwt/s | golang-jwt + keyfunc/s | mcpauth repeat/s | miss / golang-jwt | miss / keyfunc | repeat / golang-jwt |")
	fmt.Fprintln(os.Stderr, "|---|---|---|---|---|---|---|---|")
	fmt.Fprintln(os.Stderr, strings.Join(lines, "\n"))
}
