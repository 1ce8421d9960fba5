// Package clientinfo carries what a request says about its client (its
// address and user agent) in a context.Context, from the HTTP layer that
// reads them to the services that store them with a session row. It is a
// leaf: it imports nothing of the application.
package clientinfo

import "context"

// MaxUserAgent is how many bytes of a User-Agent header are kept; the
// rest is cut (at a UTF-8 boundary).
const MaxUserAgent = 512

// MaxAddress is how many bytes of an address are kept (the session
// table's column holds 64); an IPv6 address with a zone fits.
const MaxAddress = 64

// Info is what is known of a request's client.
type Info struct {
	// Address is the client's address, as the trusted-proxy rule found it
	// (TRUSTED_PROXIES); "" for an in-process caller.
	Address string
	// UserAgent is the User-Agent header, at most MaxUserAgent bytes.
	UserAgent string
}

type key struct{}

// With returns ctx carrying info, its user agent cut to MaxUserAgent bytes
// and its address to MaxAddress, so a row write never fails on their length.
func With(ctx context.Context, info Info) context.Context {
	info.UserAgent = truncate(info.UserAgent, MaxUserAgent)
	info.Address = truncate(info.Address, MaxAddress)
	return context.WithValue(ctx, key{}, info)
}

// From returns the client ctx carries; the zero Info when none.
func From(ctx context.Context) Info {
	info, _ := ctx.Value(key{}).(Info)
	return info
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
