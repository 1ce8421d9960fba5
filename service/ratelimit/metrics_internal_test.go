package ratelimit

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/shopsession/sessionserver/throttle"
)

// TestRuleNames holds RuleNames to the rules New builds: a rule added
// without its name would be counted under a label the metrics do not
// know.
func TestRuleNames(t *testing.T) {
	t.Parallel()

	th, err := New(Config{Limiter: throttle.NewMemory(throttle.MemoryOptions{}), Limits: DefaultLimits()})
	require.NoError(t, err)
	rules := reflect.ValueOf(th.rules)
	var names []string
	for i := range rules.NumField() {
		names = append(names, rules.Field(i).FieldByName("Name").String())
	}
	require.ElementsMatch(t, RuleNames(), names)
}

type recorded []string

func (r *recorded) Throttled(rule string) { *r = append(*r, rule) }

// TestThrottledRecorded: a refusal is passed to the Recorder with its
// rule's name; an allowed call is not.
func TestThrottledRecorded(t *testing.T) {
	t.Parallel()

	var rec recorded
	limits := Limits{Registrations: throttle.Rate{Limit: 1, Window: time.Hour}}
	th, err := New(Config{Limiter: throttle.NewMemory(throttle.MemoryOptions{}), Limits: limits, Metrics: &rec})
	require.NoError(t, err)
	ctx := context.Background()
	require.NoError(t, th.TakeRegistration(ctx))
	require.Empty(t, rec)
	require.Error(t, th.TakeRegistration(ctx))
	require.Equal(t, recorded{"register"}, rec)
}
