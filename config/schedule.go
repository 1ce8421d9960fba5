package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// checkSchedule checks a CLEAN_SESSIONS_SCHEDULE by the rules the job
// runner parses it with (jobs.ParseSchedule, which config does not import
// so as not to bring River in): "off" in any case, or a standard
// five-field cron expression or descriptor as robfig/cron's ParseStandard
// reads it (optionally after CRON_TZ=Zone) that fires at least once. The
// errors are jobs.ParseSchedule's, word for word; a test holds the two to
// the same answers.
func checkSchedule(text string) error {
	text = strings.TrimSpace(text)
	if strings.EqualFold(text, "off") {
		return nil
	}
	spec, err := cron.ParseStandard(text)
	if err != nil {
		return fmt.Errorf("%q is not a cron schedule: %v", text, err)
	}
	if spec.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		return fmt.Errorf("%q never runs", text)
	}
	return nil
}
