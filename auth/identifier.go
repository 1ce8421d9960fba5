package auth

import (
	"strings"
	"unicode/utf8"
)

// NormalizeIdentifier lower-cases identifiers that look like e-mail
// addresses; others are kept as typed (Vendure's rule).
func NormalizeIdentifier(identifier string) string {
	identifier = strings.TrimSpace(identifier)
	if strings.Contains(identifier, "@") {
		return strings.ToLower(identifier)
	}
	return identifier
}

// MaskIdentifier shortens a login identifier for logs: an e-mail address
// keeps the first character of its local part and its domain
// ("j***@example.com"); another identifier keeps its first and last two
// characters when it has at least 8 ("su********in"), its first and last
// one when it has 4 to 7, nothing when shorter. The number of stars does
// not depend on the length. The domain is cut at 64 bytes.
func MaskIdentifier(identifier string) string {
	const stars = "********"
	if at := strings.LastIndexByte(identifier, '@'); at >= 0 {
		local, domain := identifier[:at], identifier[at+1:]
		if len(domain) > 64 {
			domain = strings.ToValidUTF8(domain[:64], "") + "…"
		}
		if first, n := utf8.DecodeRuneInString(local); n > 0 && utf8.RuneCountInString(local) >= 2 {
			return string(first) + "***@" + domain
		}
		return "***@" + domain
	}
	keep := 0
	switch n := utf8.RuneCountInString(identifier); {
	case n >= 8:
		keep = 2
	case n >= 4:
		keep = 1
	}
	i, j := 0, len(identifier)
	for range keep {
		_, n := utf8.DecodeRuneInString(identifier[i:])
		i += n
		_, n = utf8.DecodeLastRuneInString(identifier[:j])
		j -= n
	}
	return strings.ToValidUTF8(identifier[:i]+stars+identifier[j:], "?")
}
