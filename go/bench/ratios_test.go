package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/MicahParks/keyfunc/v3"
	"github.com/golang-jwt/jwt/v5"
)

// BenchmarkRatios measures the four modes of each algorithm in interleaved slices (100 ms each,
// 10 rounds), so that the load of a shared machine falls on all of them alike, and reports
// verifications per second and the ratios: per second of wall time, and per second of the
// process's CPU time (getrusage: every thread of the process, so the garbage collector's
// work counts too), which the other processes of a shared machine disturb less. Run it alone,
// once:
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
		cpu := make([]time.Duration, len(modes))
		for r := 0; r < rounds; r++ {
			for m, mode := range modes {
				c0 := cpuTime(b)
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
				cpu[m] += cpuTime(b) - c0
			}
		}
		rate := make([]float64, len(modes))
		crate := make([]float64, len(modes))
		for m := range modes {
			rate[m] = float64(ops[m]) / spent[m].Seconds()
			crate[m] = float64(ops[m]) / cpu[m].Seconds()
			b.ReportMetric(rate[m], alg+"-"+modes[m].name+"/s")
		}
		b.ReportMetric(rate[0]/rate[1], alg+"-miss/jwt")
		b.ReportMetric(crate[0]/crate[1], alg+"-miss/jwt-cpu")
		b.ReportMetric(rate[3]/rate[1], alg+"-repeat/jwt")
		lines = append(lines, fmt.Sprintf("| %s | %.0f | %.0f | %.0f | %.0f | %.2f (%.2f) | %.2f (%.2f) | %.0f (%.0f) |", alg,
			rate[0], rate[1], rate[2], rate[3], rate[0]/rate[1], crate[0]/crate[1], rate[0]/rate[2], crate[0]/crate[2],
			rate[3]/rate[1], crate[3]/crate[1]))
	}
	sort.Strings(lines)
	fmt.Fprintln(os.Stderr, "| alg | mcpauth miss/s | golang-jwt/s | golang-jwt + keyfunc/s | mcpauth repeat/s | miss / golang-jwt | miss / keyfunc | repeat / golang-jwt |")
	fmt.Fprintln(os.Stderr, "|---|---|---|---|---|---|---|---|")
	fmt.Fprintln(os.Stderr, strings.Join(lines, "\n"))
	fmt.Fprintln(os.Stderr, "rates per second of wall time; ratios per wall time, and (in brackets) per CPU time of the process")
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
