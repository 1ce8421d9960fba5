package config

import (
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// Calendar units as the npm ms package defines them: a day is 24 hours, a
// week 7 days and a year 365.25 days.
const (
	day  = 24 * time.Hour
	week = 7 * day
	year = 365*day + 6*time.Hour // 365.25 days, 31 557 600 000 ms
)

// durationUnits maps every unit spelling that ms accepts (lower case) to its
// length.
var durationUnits = map[string]time.Duration{
	"ms": time.Millisecond, "msec": time.Millisecond, "msecs": time.Millisecond,
	"millisecond": time.Millisecond, "milliseconds": time.Millisecond,
	"s": time.Second, "sec": time.Second, "secs": time.Second,
	"second": time.Second, "seconds": time.Second,
	"m": time.Minute, "min": time.Minute, "mins": time.Minute,
	"minute": time.Minute, "minutes": time.Minute,
	"h": time.Hour, "hr": time.Hour, "hrs": time.Hour,
	"hour": time.Hour, "hours": time.Hour,
	"d": day, "day": day, "days": day,
	"w": week, "week": week, "weeks": week,
	"y": year, "yr": year, "yrs": year, "year": year, "years": year,
}

// ParseDuration parses a duration written the way Vendure's config accepts
// one: either a bare number, which is scaled by bareUnit, or a number followed
// by a unit as the npm ms package reads it.
//
// The number is digits with an optional decimal point ("5", "1.5", ".5"); no
// sign, exponent or digit separators. It may be followed by spaces and then a
// unit, case-insensitive:
//
//	ms, msec, msecs, millisecond, milliseconds
//	s, sec, secs, second, seconds
//	m, min, mins, minute, minutes
//	h, hr, hrs, hour, hours
//	d, day, days
//	w, week, weeks
//	y, yr, yrs, year, years
//
// A year is 365.25 days, exactly as in ms, so "1y" is 31 557 600 000 ms.
// Leading and trailing white space is ignored. Unlike ms, a negative value is
// an error, as is a value too large for time.Duration (about 292 years).
// Fractions of a nanosecond are rounded to the nearest nanosecond.
//
// bareUnit must be positive: time.Millisecond for Vendure's sessionDuration,
// time.Second for its sessionCacheTTL.
func ParseDuration(s string, bareUnit time.Duration) (time.Duration, error) {
	if bareUnit <= 0 {
		return 0, fmt.Errorf("bare unit %s is not positive", bareUnit)
	}
	s = strings.TrimSpace(s)
	if rest, negative := strings.CutPrefix(s, "-"); negative {
		if _, err := ParseDuration(rest, bareUnit); err == nil {
			return 0, fmt.Errorf("%q is negative", s)
		}
		return 0, fmt.Errorf("%q is not a duration", s)
	}

	number, unitText := splitNumber(s)
	if number == "" {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	unit := bareUnit
	if unitText = strings.TrimLeft(unitText, " "); unitText != "" {
		var ok bool
		if unit, ok = durationUnits[strings.ToLower(unitText)]; !ok {
			return 0, fmt.Errorf("%q is not a duration", s)
		}
	}

	// Exact decimal arithmetic: "0.1s" is 100 000 000ns, not 100 000 000.00000001.
	value, ok := new(big.Rat).SetString(number)
	if !ok {
		return 0, fmt.Errorf("%q is not a duration", s)
	}
	value.Mul(value, new(big.Rat).SetInt64(int64(unit)))
	quo, rem := new(big.Int).QuoRem(value.Num(), value.Denom(), new(big.Int))
	if rem.Lsh(rem, 1).Cmp(value.Denom()) >= 0 {
		quo.Add(quo, big.NewInt(1))
	}
	if !quo.IsInt64() {
		return 0, fmt.Errorf("%q is too large (the maximum is about 292y)", s)
	}
	return time.Duration(quo.Int64()), nil
}

// splitNumber splits s into a leading number matching ms's `\d*\.?\d+` and the
// rest. number is "" when s does not start with such a number.
func splitNumber(s string) (number, rest string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		if j == i+1 { // "5." or "." : a point needs digits after it
			return "", s
		}
		i = j
	}
	if i == 0 {
		return "", s
	}
	return s[:i], s[i:]
}

func isDigit(b byte) bool { return '0' <= b && b <= '9' }

// formatUnits are the units FormatDuration picks from, largest first. Weeks
// are left out on purpose: "14d" reads more easily than "2w" in a log line.
var formatUnits = []struct {
	name string
	size time.Duration
}{
	{"y", year},
	{"d", day},
	{"h", time.Hour},
	{"m", time.Minute},
	{"s", time.Second},
	{"ms", time.Millisecond},
}

// FormatDuration formats d for people, in the largest unit that divides it
// evenly: 8766h is "1y", 168h is "7d", 90m is "90m", 5m is "5m", 50ms is
// "50ms". Durations that are not a whole number of milliseconds are written
// as a decimal number of milliseconds ("1.5ms"); zero is "0s". Weeks are
// never used. The result of a non-negative d is accepted by ParseDuration and
// gives d back.
func FormatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	sign := ""
	magnitude := uint64(d)
	if d < 0 {
		sign = "-"
		magnitude = -magnitude // two's complement; also right for math.MinInt64
	}
	for _, u := range formatUnits {
		if size := uint64(u.size); magnitude%size == 0 {
			return sign + strconv.FormatUint(magnitude/size, 10) + u.name
		}
	}
	const nsPerMS = uint64(time.Millisecond)
	frac := strings.TrimRight(fmt.Sprintf("%06d", magnitude%nsPerMS), "0")
	return sign + strconv.FormatUint(magnitude/nsPerMS, 10) + "." + frac + "ms"
}

// durationHint says how to write a duration whose bare numbers mean bareUnit.
func durationHint(bareUnit time.Duration) string {
	unit := "milliseconds"
	if bareUnit == time.Second {
		unit = "seconds"
	}
	return "use " + unit + ", or a string such as 30m, 7d, 1y"
}
