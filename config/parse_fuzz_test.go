package config

import (
	"fmt"
	"math"
	"math/bits"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// asciiUpper upper-cases ASCII letters only: the units are ASCII, and
// Unicode case mapping turns some other letters into ASCII ones ("ſ" into
// "S").
func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'a' <= c && c <= 'z' {
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}

// FuzzDuration checks ParseDuration on any text, and FormatDuration on any
// time.Duration. Parsing never panics; a refusal names the value; what it
// accepts is not negative, is the same however the unit is cased and
// whatever white space surrounds it, and formats back to text that parses
// to the same value, whichever bare unit the reader uses. A value that
// starts with a minus sign is refused. Every non-negative Duration formats
// to text that parses back to it; a negative one formats to text that is
// refused.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{
		"1y", "1Y", "2 yrs", "1.5h", ".5h", "5.", ".", "", " ", "-1s", "-0", "--1", "+1s", "1e3s", "0x10",
		"0.0000005ms", "0.0000004ms", "292y", "293y", "9223372036854775807", "9223372036854775808",
		"9223372036854775807ms", "18446744073709551616", "1.5", "007s", "5  s", "5\ts", "1 ſ", "1 \u212a",
		"1 millisecond", "2 weeks", "3 Seconds", "1 yr", "1 msec", "0.1s", "99999999999999999999999999999y",
		"1." + strings.Repeat("0", 200) + "1y", strings.Repeat("9", 400),
	} {
		f.Add(s, int64(0), false)
	}
	for _, n := range []int64{1, -1, 1500, int64(time.Millisecond), int64(year), math.MaxInt64, math.MinInt64, 1e18 + 1} {
		f.Add("", n, true)
	}
	f.Fuzz(func(t *testing.T, s string, n int64, secondsBare bool) {
		bare := time.Millisecond
		if secondsBare {
			bare = time.Second
		}
		d, err := ParseDuration(s, bare)
		if err != nil {
			require.Zero(t, d, "%q", s)
			require.Contains(t, err.Error(), strconv.Quote(strings.TrimSpace(s)), "the refusal names the value")
		} else {
			require.GreaterOrEqual(t, d, time.Duration(0), "%q", s)
			for _, other := range []time.Duration{time.Millisecond, time.Second} {
				back, err := ParseDuration(FormatDuration(d), other)
				require.NoError(t, err, "%q formatted as %q", s, FormatDuration(d))
				require.Equal(t, d, back, "%q formatted as %q", s, FormatDuration(d))
			}
		}
		if strings.HasPrefix(strings.TrimSpace(s), "-") {
			require.Error(t, err, "%q is negative or no duration", s)
		}
		for _, variant := range []string{asciiUpper(s), " \t" + s + "\n "} {
			d2, err2 := ParseDuration(variant, bare)
			require.Equal(t, err == nil, err2 == nil, "%q and %q", s, variant)
			require.Equal(t, d, d2, "%q and %q", s, variant)
		}

		formatted := FormatDuration(time.Duration(n))
		require.LessOrEqual(t, len(formatted), 30, "%d: %q", n, formatted)
		back, err := ParseDuration(formatted, bare)
		if n < 0 {
			// Refused, as negative, or as no duration when its magnitude
			// is too large as well (math.MinInt64).
			require.Error(t, err, "%d: %q", n, formatted)
			return
		}
		require.NoError(t, err, "%d: %q", n, formatted)
		require.Equal(t, time.Duration(n), back, "%d: %q", n, formatted)
	})
}

// FuzzParseRate checks ParseRate (THROTTLE_*): it never panics, and what it
// accepts is "off" (the zero Rate) or a limit of 1 or more with a positive
// window, which, written back as LIMIT/WINDOW, reads as the same Rate.
func FuzzParseRate(f *testing.F) {
	for _, s := range []string{
		"10/1m", "3/1h", "off", "OFF", " Off ", "5/30", "0/1m", "-1/1m", "1/0", "1/-1s", "1/", "/1m", "1/1m/2",
		"9223372036854775807/292y", "9223372036854775808/1s", "1/293y", " 7 / 2 days ", "1e3/1s", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRate(s)
		if err != nil {
			require.Zero(t, r, "%q", s)
			return
		}
		if strings.EqualFold(strings.TrimSpace(s), "off") {
			require.Zero(t, r)
			return
		}
		require.GreaterOrEqual(t, r.Limit, 1, "%q", s)
		require.Positive(t, r.Window, "%q", s)
		back, err := ParseRate(fmt.Sprintf("%d/%s", r.Limit, FormatDuration(r.Window)))
		require.NoError(t, err, "%q", s)
		require.Equal(t, r, back, "%q", s)
	})
}

// sizeUnits are some of the units a size may carry and what they multiply
// by.
var sizeUnits = []struct {
	name string
	size uint64
}{
	{"", 1}, {" B", 1}, {"kB", 1000}, {"KiB", 1 << 10}, {" MB", 1e6}, {"mib", 1 << 20}, {"GB", 1e9}, {" GiB", 1 << 30},
	{"TB", 1e12}, {"TiB", 1 << 40}, {"PB", 1e15}, {"PiB", 1 << 50}, {"EB", 1e18}, {"EiB", 1 << 60},
}

// FuzzSize checks how SESSION_CACHE_MAX_BYTES is read: any text either
// sets a size of 0 to math.MaxInt64 bytes or is refused with an error that
// names the variable and leaves the field as it was. A whole number of
// bytes, or of any unit, reads exactly (no float rounding, however large),
// and is refused once it exceeds math.MaxInt64 bytes; a negative size is
// refused.
func FuzzSize(f *testing.F) {
	for _, s := range []string{
		"0", "1048576", "256MiB", "1 GiB", "1.5 MiB", " 64 MB  ", "-1", "-0", "- 1", "1,024", ",", ".", "1.",
		".5KiB", "NaN", "Inf", "+Inf", "1e3", "0x10", "9223372036854775807", "9223372036854775808",
		"18446744073709551615", "18446744073709551616", "8EiB", "7.99EiB", "9007199254740993", "١٢٣", "12٣",
		"1 ZB", "1 KB", "1 kib", "1 kilobyte", "",
	} {
		f.Add(s, int64(0), uint8(0))
	}
	f.Add("", int64(9007199254740993), uint8(0))
	f.Add("", int64(8), uint8(13))
	f.Add("", int64(math.MaxInt64), uint8(1))
	f.Add("", int64(-5), uint8(3))
	read := func(s string) (int64, error) {
		const unset = int64(-7)
		n := unset
		r := envReader{lookup: func(string) (string, bool) { return s, true }}
		r.bytes("SESSION_CACHE_MAX_BYTES", cacheBytesHint, &n)
		if len(r.errs) > 0 {
			if n != unset {
				return n, fmt.Errorf("a refused value changed the field to %d", n)
			}
			return n, r.errs[0]
		}
		return n, nil
	}
	f.Fuzz(func(t *testing.T, s string, n int64, unit uint8) {
		got, err := read(s)
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "SESSION_CACHE_MAX_BYTES: "), "%q: %v", s, err)
		} else {
			require.GreaterOrEqual(t, got, int64(0), "%q", s)
		}
		if strings.HasPrefix(strings.TrimSpace(s), "-") {
			require.Error(t, err, "%q is negative", s)
		}

		u := sizeUnits[int(unit)%len(sizeUnits)]
		text := strconv.FormatInt(n, 10) + u.name
		got, err = read(text)
		hi, want := bits.Mul64(uint64(n), u.size)
		switch {
		case n < 0:
			require.Error(t, err, "%q is negative", text)
		case hi != 0 || want > math.MaxInt64:
			require.Error(t, err, "%q is more than math.MaxInt64 bytes", text)
		default:
			require.NoError(t, err, text)
			require.Equal(t, int64(want), got, text)
		}
	})
}
