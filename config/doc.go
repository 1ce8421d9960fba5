// Package config holds the server's configuration: one Config struct whose
// fields mirror Vendure's defaults, filled by Defaults, overlaid from
// environment variables by Load and checked by Validate, which reports every
// problem at once.
//
// Durations are written as Vendure writes them, with the npm ms package's
// grammar ("1y", "300s", "7d", "2 days"); ParseDuration reads them and
// FormatDuration writes them back for log lines.
package config
