// Package gqlscalar holds the input side of the built-in GraphQL scalars
// (String, Int, Float) and of DateTime and Money, for both APIs: both gqlgen
// configs map those scalars here, so every argument and every input-object
// field of those types is checked by construction, whichever resolver
// receives it.
//
// What each refuses, before any resolver (and so any database work) runs:
//   - String: a NUL character, invalid UTF-8 and more than MaxStringBytes
//     bytes (a database rejects the first two with an error, and the third
//     bounds what any one field may carry; services apply tighter limits per
//     field);
//   - Int: a value outside the 32-bit signed range, as the GraphQL
//     specification says, and anything but a whole number;
//   - Float: anything but a finite number;
//   - DateTime: anything but an RFC 3339 date-time;
//   - Money: anything but a whole number of minor units within ±MaxMoney.
//
// Their errors are written for the client (no Go type or strconv text); the
// error presenter gives every input coercion error the USER_INPUT_ERROR
// code. Output is gqlgen's own marshalling.
package gqlscalar

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"

	"github.com/shopsession/sessionserver/entity"
)

// MaxStringBytes bounds every String (and DateTime) input: no field this
// server accepts needs more (names, addresses and SKUs are at most 255
// characters, passwords 72 bytes, tokens 512 bytes).
const MaxStringBytes = 4096

// MaxMoney is the largest magnitude a Money input may have: the largest
// amount the server computes (entity.MaxMoney, 2^53−1).
const MaxMoney = entity.MaxMoney

// MarshalString is gqlgen's.
func MarshalString(s string) graphql.Marshaler { return graphql.MarshalString(s) }

// UnmarshalString accepts a string of valid UTF-8 without NUL, at most
// MaxStringBytes bytes long.
func UnmarshalString(v any) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("String cannot represent a non-string value: %s", describe(v))
	}
	return s, CheckString("String", s)
}

// CheckString applies String's rules to s; what names the value in the
// message.
func CheckString(what, s string) error {
	switch {
	case len(s) > MaxStringBytes:
		return fmt.Errorf("%s must be at most %d bytes long, got %d", what, MaxStringBytes, len(s))
	case !utf8.ValidString(s):
		return fmt.Errorf("%s must be valid UTF-8", what)
	case strings.IndexByte(s, 0) >= 0:
		return fmt.Errorf("%s must not contain a NUL character (U+0000)", what)
	}
	return nil
}

// MarshalInt is gqlgen's.
func MarshalInt(i int) graphql.Marshaler { return graphql.MarshalInt(i) }

// UnmarshalInt accepts a whole number in the 32-bit signed range.
func UnmarshalInt(v any) (int, error) {
	n, err := int32Of(v)
	return int(n), err
}

// MarshalInt32 is gqlgen's.
func MarshalInt32(i int32) graphql.Marshaler { return graphql.MarshalInt32(i) }

// UnmarshalInt32 is UnmarshalInt for int32 fields.
func UnmarshalInt32(v any) (int32, error) { return int32Of(v) }

// MarshalInt64 is gqlgen's.
func MarshalInt64(i int64) graphql.Marshaler { return graphql.MarshalInt64(i) }

// UnmarshalInt64 is UnmarshalInt for int64 fields: GraphQL's Int is 32-bit
// whatever the Go type.
func UnmarshalInt64(v any) (int64, error) {
	n, err := int32Of(v)
	return int64(n), err
}

func int32Of(v any) (int32, error) {
	n, ok := wholeNumber(v)
	if !ok {
		return 0, fmt.Errorf("Int cannot represent a non-integer value: %s", describe(v))
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return 0, fmt.Errorf("Int cannot represent a non 32-bit signed integer value: %s (Int is between %d and %d)",
			describe(v), math.MinInt32, math.MaxInt32)
	}
	return int32(n), nil
}

// wholeNumber reads a JSON or literal number that is a whole number, e.g.
// 3, 3.0 and 3e2, but not 3.5 or "3". A whole number beyond ±MaxMoney
// (which fits no Int or Money) may come back as the int64 extreme of its
// sign.
func wholeNumber(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int32:
		return int64(x), true
	case int64:
		return x, true
	case float64:
		return wholeFloat(x)
	case json.Number:
		if n, err := strconv.ParseInt(string(x), 10, 64); err == nil {
			return n, true
		}
		f, err := strconv.ParseFloat(string(x), 64)
		if err != nil {
			return 0, false
		}
		return wholeFloat(f)
	}
	return 0, false
}

func wholeFloat(f float64) (int64, bool) {
	switch {
	case math.IsNaN(f) || math.IsInf(f, 0) || math.Trunc(f) != f:
		return 0, false
	case f > MaxMoney:
		// Whole but beyond every bound: callers refuse it as out of range.
		return math.MaxInt64, true
	case f < -MaxMoney:
		return math.MinInt64, true
	}
	return int64(f), true
}

// MarshalFloatContext is gqlgen's (it refuses NaN and infinities).
func MarshalFloatContext(f float64) graphql.ContextMarshaler { return graphql.MarshalFloatContext(f) }

// UnmarshalFloatContext accepts a finite number.
func UnmarshalFloatContext(_ context.Context, v any) (float64, error) {
	var f float64
	switch x := v.(type) {
	case int:
		f = float64(x)
	case int64:
		f = float64(x)
	case float64:
		f = x
	case json.Number:
		var err error
		if f, err = strconv.ParseFloat(string(x), 64); err != nil && !errors.Is(err, strconv.ErrRange) {
			return 0, fmt.Errorf("Float cannot represent a non-numeric value: %s", describe(v))
		}
	default:
		return 0, fmt.Errorf("Float cannot represent a non-numeric value: %s", describe(v))
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("Float cannot represent a non-finite value: %s", describe(v))
	}
	return f, nil
}

// MarshalTime is gqlgen's (RFC 3339 with nanoseconds).
func MarshalTime(t time.Time) graphql.Marshaler { return graphql.MarshalTime(t) }

// UnmarshalTime accepts an RFC 3339 date-time (an ISO 8601 date-time with
// a time zone), e.g. 2026-01-02T03:04:05Z.
func UnmarshalTime(v any) (time.Time, error) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, fmt.Errorf("DateTime cannot represent a non-string value: %s", describe(v))
	}
	if err := CheckString("DateTime", s); err != nil {
		return time.Time{}, err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("DateTime must be an ISO 8601 date-time with a time zone, e.g. 2026-01-02T03:04:05Z, got %s", describe(v))
	}
	return t, nil
}

// MarshalMoney is gqlgen's Int64.
func MarshalMoney(m int64) graphql.Marshaler { return graphql.MarshalInt64(m) }

// UnmarshalMoney accepts a whole number of minor units within ±MaxMoney,
// as a JSON number or an integer literal (Vendure's Money is a number,
// never a string).
func UnmarshalMoney(v any) (int64, error) {
	n, ok := wholeNumber(v)
	if !ok {
		return 0, fmt.Errorf("Money must be a whole number of minor units, got %s", describe(v))
	}
	if n < -MaxMoney || n > MaxMoney {
		return 0, fmt.Errorf("Money must be between -%d and %d minor units, got %s", MaxMoney, MaxMoney, describe(v))
	}
	return n, nil
}

// maxEcho bounds how much of a refused value a message repeats.
const maxEcho = 40

// describe shows a refused value in a message: numbers as they came, a
// string quoted and cut to maxEcho bytes (only when it is valid UTF-8
// without NUL), anything else by its JSON kind, never its Go type.
func describe(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		if CheckString("", x) != nil {
			return "a string"
		}
		if len(x) > maxEcho {
			cut := maxEcho
			for !utf8.RuneStart(x[cut]) {
				cut--
			}
			return strconv.Quote(x[:cut]) + "…"
		}
		return strconv.Quote(x)
	case json.Number:
		if len(x) > maxEcho {
			return string(x[:maxEcho]) + "…"
		}
		return string(x)
	case int, int32, int64:
		return fmt.Sprint(x)
	case float64:
		return strconv.FormatFloat(x, 'g', -1, 64)
	case bool:
		return strconv.FormatBool(x)
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return "a value of another type"
}
