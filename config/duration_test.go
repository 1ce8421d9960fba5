package config

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseDuration(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in       string
		bareUnit time.Duration
		want     time.Duration
	}{
		{"1y", time.Millisecond, 31557600000 * time.Millisecond},
		{"1Y", time.Millisecond, 31557600000 * time.Millisecond},
		{"1 year", time.Millisecond, 365*24*time.Hour + 6*time.Hour},
		{"2 yrs", time.Millisecond, 2 * 8766 * time.Hour},
		{"3s", time.Millisecond, 3 * time.Second},
		{"3 secs", time.Millisecond, 3 * time.Second},
		{"3 Seconds", time.Millisecond, 3 * time.Second},
		{"1.5h", time.Millisecond, 90 * time.Minute},
		{"2.5h", time.Millisecond, 150 * time.Minute},
		{"2.5 hrs", time.Millisecond, 150 * time.Minute},
		{".5h", time.Millisecond, 30 * time.Minute},
		{"7d", time.Millisecond, 7 * 24 * time.Hour},
		{"1 day", time.Millisecond, 24 * time.Hour},
		{" 2 days ", time.Millisecond, 48 * time.Hour},
		{"1w", time.Millisecond, 7 * 24 * time.Hour},
		{"2 weeks", time.Millisecond, 14 * 24 * time.Hour},
		{"30m", time.Millisecond, 30 * time.Minute},
		{"30 mins", time.Millisecond, 30 * time.Minute},
		{"1 minute", time.Millisecond, time.Minute},
		{"500ms", time.Millisecond, 500 * time.Millisecond},
		{"500 msecs", time.Millisecond, 500 * time.Millisecond},
		{"1 millisecond", time.Millisecond, time.Millisecond},
		{"1.5ms", time.Millisecond, 1500 * time.Microsecond},
		{"0.1s", time.Millisecond, 100 * time.Millisecond},
		{"5  s", time.Millisecond, 5 * time.Second},
		{"300", time.Second, 300 * time.Second},
		{"1000", time.Millisecond, time.Second},
		{"1.5", time.Second, 1500 * time.Millisecond},
		{"0", time.Millisecond, 0},
		{"007s", time.Millisecond, 7 * time.Second},
		{"0.0000004ms", time.Millisecond, 0},               // rounds down to 0ns
		{"0.0000005ms", time.Millisecond, 1},               // rounds half up to 1ns
		{"292y", time.Millisecond, 292 * 8766 * time.Hour}, // just under the limit
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()

			got, err := ParseDuration(tt.in, tt.bareUnit)
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseDurationErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in      string
		wantErr string
	}{
		{"", `"" is not a duration`},
		{"   ", `"" is not a duration`},
		{"abc", `"abc" is not a duration`},
		{"-5s", `"-5s" is negative`},
		{"-5", `"-5" is negative`},
		{"-abc", `"-abc" is not a duration`},
		{"--5s", `"--5s" is not a duration`},
		{"+5s", `"+5s" is not a duration`},
		{"5x", `"5x" is not a duration`},
		{"5 sx", `"5 sx" is not a duration`},
		{"1e400", `"1e400" is not a duration`},
		{"1e3", `"1e3" is not a duration`},
		{"5.", `"5." is not a duration`},
		{".", `"." is not a duration`},
		{"1.2.3s", `"1.2.3s" is not a duration`},
		{"1,000", `"1,000" is not a duration`},
		{"1_000", `"1_000" is not a duration`},
		{"1y2d", `"1y2d" is not a duration`},
		{"s", `"s" is not a duration`},
		{"5\ts", `"5\ts" is not a duration`},
		{"Inf", `"Inf" is not a duration`},
		{"NaN", `"NaN" is not a duration`},
		{"293y", `"293y" is too large (the maximum is about 292y)`},
		{"99999999999999999999", `"99999999999999999999" is too large (the maximum is about 292y)`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			t.Parallel()

			_, err := ParseDuration(tt.in, time.Millisecond)
			require.EqualError(t, err, tt.wantErr)
		})
	}

	t.Run("NonPositiveBareUnit", func(t *testing.T) {
		t.Parallel()

		_, err := ParseDuration("5", 0)
		require.Error(t, err)
		_, err = ParseDuration("5", -time.Second)
		require.Error(t, err)
	})

	t.Run("MaxDuration", func(t *testing.T) {
		t.Parallel()

		got, err := ParseDuration("9223372036854775807", time.Nanosecond)
		require.NoError(t, err)
		require.Equal(t, time.Duration(math.MaxInt64), got)

		_, err = ParseDuration("9223372036854775808", time.Nanosecond)
		require.ErrorContains(t, err, "too large")
	})
}

func TestFormatDuration(t *testing.T) {
	t.Parallel()

	tests := []struct {
		in   time.Duration
		want string
	}{
		{0, "0s"},
		{8766 * time.Hour, "1y"},
		{2 * 8766 * time.Hour, "2y"},
		{365 * 24 * time.Hour, "365d"},
		{7 * 24 * time.Hour, "7d"},
		{14 * 24 * time.Hour, "14d"},
		{36 * time.Hour, "36h"},
		{24 * time.Hour, "1d"},
		{90 * time.Minute, "90m"},
		{30 * time.Minute, "30m"},
		{300 * time.Second, "5m"},
		{301 * time.Second, "301s"},
		{10 * time.Second, "10s"},
		{50 * time.Millisecond, "50ms"},
		{1500 * time.Millisecond, "1500ms"},
		{1500 * time.Microsecond, "1.5ms"},
		{time.Nanosecond, "0.000001ms"},
		{-30 * time.Minute, "-30m"},
		{math.MinInt64, "-9223372036854.775808ms"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			t.Parallel()

			require.Equal(t, tt.want, FormatDuration(tt.in))
		})
	}
}

func TestFormatDurationRoundTrip(t *testing.T) {
	t.Parallel()

	for _, d := range []time.Duration{
		0, 1, 999, time.Microsecond, 1500 * time.Microsecond, 50 * time.Millisecond,
		time.Second, 300 * time.Second, 36 * time.Hour, 8766 * time.Hour,
		3 * 8766 * time.Hour, 7*24*time.Hour + 1, math.MaxInt64,
	} {
		got, err := ParseDuration(FormatDuration(d), time.Millisecond)
		require.NoError(t, err, "FormatDuration(%d) = %q", int64(d), FormatDuration(d))
		require.Equal(t, d, got, "FormatDuration(%d) = %q", int64(d), FormatDuration(d))
	}
}
