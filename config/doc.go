// Package config holds the server's configuration: one Config struct whose
// fields mirror Vendure's defaults, filled by Defaults, overlaid from
// environment variables by Load and checked by Validate, which reports every
// problem at once.
//
// config is a leaf: it imports no package of this module. A setting whose
// default belongs to the package that uses it (the session service's
// durations, gqlutil's document limits, the job runner's schedule …) is
// left zero, and that package applies its own default, as River's
// Config.WithDefaults does; app.WithDefaults fills them all in for the
// server. Where Validate needs a rule of such a package, it applies the
// same rule to the value, and a test outside the package holds the two
// together.
//
// Durations are written as Vendure writes them, with the npm ms package's
// grammar ("1y", "300s", "7d", "2 days"); ParseDuration reads them and
// FormatDuration writes them back for log lines.
package config
