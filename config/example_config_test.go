package config_test

import (
	"fmt"
	"time"

	"github.com/shopsession/sessionserver/config"
)

func ExampleLoad() {
	// In production: config.Load(os.LookupEnv).
	vars := map[string]string{
		"DATABASE_URL":      "sqlite://./data/dev.db",
		"REDIS_URL":         "redis://localhost:6379/0",
		"SESSION_DURATION":  "30d",
		"SESSION_CACHE_TTL": "600", // seconds, as in Vendure
		"TOKEN_METHOD":      "bearer",
	}
	cfg, err := config.Load(func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.DatabaseDialect(), cfg.SQLitePath())
	fmt.Println("cache:", cfg.SessionCacheStrategy, config.FormatDuration(cfg.SessionCacheTTL))
	fmt.Println("session:", config.FormatDuration(cfg.SessionDuration))
	fmt.Println("cookie:", cfg.UsesCookie(), "bearer:", cfg.UsesBearer())
	// Output:
	// sqlite ./data/dev.db
	// cache: redis 10m
	// session: 30d
	// cookie: false bearer: true
}

func ExampleLoad_errors() {
	vars := map[string]string{
		"PORT":             "99999",
		"SESSION_DURATION": "abc",
		"TOKEN_METHOD":     "jwt",
	}
	_, err := config.Load(func(name string) (string, bool) {
		v, ok := vars[name]
		return v, ok
	})
	fmt.Println(err)
	// Output:
	// SESSION_DURATION: "abc" is not a duration (use milliseconds, or a string such as 30m, 7d, 1y)
	// PORT: 99999 is out of range (use 1..65535)
	// TOKEN_METHOD: "jwt" is not a token method (use cookie, bearer, or both as cookie,bearer or bearer,cookie)
}

func ExampleParseDuration() {
	for _, s := range []string{"1y", "2 days", "1.5h", "500ms"} {
		d, _ := config.ParseDuration(s, time.Millisecond)
		fmt.Println(s, "=", d.Milliseconds(), "ms")
	}
	ttl, _ := config.ParseDuration("300", time.Second) // bare number: bareUnit
	fmt.Println(config.FormatDuration(ttl))
	// Output:
	// 1y = 31557600000 ms
	// 2 days = 172800000 ms
	// 1.5h = 5400000 ms
	// 500ms = 500 ms
	// 5m
}
