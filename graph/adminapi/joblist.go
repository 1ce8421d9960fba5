package adminapi

import (
	"fmt"

	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/shopsession/sessionserver/graph/gqlerr"
	"github.com/shopsession/sessionserver/jobs"
)

// MaxJobsTake is the largest page of jobs (JobListOptions.take) and the
// most ids jobsById accepts in one call.
const MaxJobsTake = jobs.MaxListTake

// inputError is a USER_INPUT_ERROR with a message for the client.
func inputError(format string, args ...any) *gqlerror.Error {
	return gqlerr.New(gqlerr.CodeUserInput, fmt.Sprintf(format, args...))
}
