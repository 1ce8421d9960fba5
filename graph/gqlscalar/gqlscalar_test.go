package gqlscalar_test

import (
	"context"
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/graph/gqlscalar"
)

// goText is Go's own wording, which no message of this package may carry.
var goText = []string{"strconv", "parsing", "invalid syntax", "int64", "float64", "json.Number", "%!", "interface", "graphql."}

func requireClientMessage(t *testing.T, err error, contains string) {
	t.Helper()
	require.Error(t, err)
	require.Contains(t, err.Error(), contains)
	for _, s := range goText {
		require.NotContains(t, err.Error(), s)
	}
	require.LessOrEqual(t, len(err.Error()), 200, "a message repeats at most a little of the value")
}

func TestString(t *testing.T) {
	for _, ok := range []string{"", "a", "é€😀", strings.Repeat("x", gqlscalar.MaxStringBytes), "tab\tnew\nline"} {
		s, err := gqlscalar.UnmarshalString(ok)
		require.NoError(t, err)
		require.Equal(t, ok, s)
	}
	for _, tc := range []struct {
		in   any
		want string
	}{
		{"a\x00b", "must not contain a NUL character"},
		{"\x00", "must not contain a NUL character"},
		{"a\xffb", "must be valid UTF-8"},
		{"\xed\xa0\x80", "must be valid UTF-8"}, // a UTF-16 surrogate encoded as UTF-8
		{strings.Repeat("x", gqlscalar.MaxStringBytes+1), "must be at most 4096 bytes long, got 4097"},
		{strings.Repeat("é", 3000), "must be at most 4096 bytes long"},
		{strings.Repeat("\x00", 1<<20), "must be at most 4096 bytes long"},
		{12, "String cannot represent a non-string value: 12"},
		{json.Number("12"), "String cannot represent a non-string value: 12"},
		{true, "non-string value: true"},
		{map[string]any{}, "non-string value: an object"},
		{nil, "non-string value: null"},
	} {
		_, err := gqlscalar.UnmarshalString(tc.in)
		requireClientMessage(t, err, tc.want)
	}
}

func TestIntIs32Bit(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want int
	}{
		{int64(0), 0}, {int64(math.MaxInt32), math.MaxInt32}, {int64(math.MinInt32), math.MinInt32},
		{json.Number("7"), 7}, {json.Number("7.0"), 7}, {json.Number("1e3"), 1000}, {7, 7}, {float64(3), 3},
	} {
		n, err := gqlscalar.UnmarshalInt(tc.in)
		require.NoError(t, err, "%v", tc.in)
		require.Equal(t, tc.want, n)
		n64, err := gqlscalar.UnmarshalInt64(tc.in)
		require.NoError(t, err)
		require.EqualValues(t, tc.want, n64)
		n32, err := gqlscalar.UnmarshalInt32(tc.in)
		require.NoError(t, err)
		require.EqualValues(t, tc.want, n32)
	}
	for _, tc := range []struct {
		in   any
		want string
	}{
		{int64(math.MaxInt32 + 1), "non 32-bit signed integer value: 2147483648"},
		{int64(math.MinInt32 - 1), "non 32-bit signed integer value: -2147483649"},
		{int64(math.MaxInt64), "non 32-bit signed integer value"},
		{json.Number("9223372036854775808"), "non 32-bit signed integer value"},
		{json.Number("1e300"), "non 32-bit signed integer value"},
		{json.Number("2.5"), "non-integer value: 2.5"},
		{float64(2.5), "non-integer value: 2.5"},
		{math.NaN(), "non-integer value"},
		{"12", `non-integer value: "12"`},
		{"a\x00", "non-integer value: a string"},
		{true, "non-integer value: true"},
		{nil, "non-integer value: null"},
	} {
		_, err := gqlscalar.UnmarshalInt(tc.in)
		requireClientMessage(t, err, tc.want)
		_, err = gqlscalar.UnmarshalInt64(tc.in)
		requireClientMessage(t, err, tc.want)
	}
}

func TestMoney(t *testing.T) {
	for _, tc := range []struct {
		in   any
		want int64
	}{
		{int64(0), 0}, {int64(1999), 1999}, {json.Number("1999"), 1999}, {int64(-5), -5},
		{int64(gqlscalar.MaxMoney), gqlscalar.MaxMoney}, {int64(-gqlscalar.MaxMoney), -gqlscalar.MaxMoney},
		{json.Number("1e12"), 1e12},
	} {
		m, err := gqlscalar.UnmarshalMoney(tc.in)
		require.NoError(t, err, "%v", tc.in)
		require.Equal(t, tc.want, m)
	}
	for _, tc := range []struct {
		in   any
		want string
	}{
		{int64(gqlscalar.MaxMoney + 1), "Money must be between -9007199254740991 and 9007199254740991 minor units, got 9007199254740992"},
		{int64(math.MaxInt64), "got 9223372036854775807"},
		{json.Number("9223372036854775807"), "got 9223372036854775807"},
		{json.Number("18446744073709551616"), "got 18446744073709551616"},
		{json.Number("99999999999999999999999999999999999999999999999999"), "Money must be between"},
		{int64(math.MinInt64), "got -9223372036854775808"},
		{json.Number("12.5"), "Money must be a whole number of minor units, got 12.5"},
		{"abc", `Money must be a whole number of minor units, got "abc"`},
		{"1999", `got "1999"`},
		{strings.Repeat("9", 5000), "got a string"},
		{nil, "got null"},
	} {
		_, err := gqlscalar.UnmarshalMoney(tc.in)
		requireClientMessage(t, err, tc.want)
	}
}

func TestFloatAndDateTime(t *testing.T) {
	ctx := context.Background()
	f, err := gqlscalar.UnmarshalFloatContext(ctx, json.Number("2.5"))
	require.NoError(t, err)
	require.Equal(t, 2.5, f)
	for _, in := range []any{json.Number("1e999"), "1.5", math.Inf(1), math.NaN(), json.Number("x")} {
		_, err := gqlscalar.UnmarshalFloatContext(ctx, in)
		requireClientMessage(t, err, "Float cannot represent")
	}

	d, err := gqlscalar.UnmarshalTime("2026-01-02T03:04:05Z")
	require.NoError(t, err)
	require.Equal(t, 2026, d.Year())
	for _, in := range []any{"yesterday", "2026-01-02", "2026-01-02T03:04:05Z\x00", 5} {
		_, err := gqlscalar.UnmarshalTime(in)
		requireClientMessage(t, err, "DateTime")
	}
}
