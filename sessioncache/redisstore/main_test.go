package redisstore_test

import (
	"testing"

	"github.com/shopsession/sessionserver/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m, testenv.RedisServer) }
