package clientinfo

import (
	"context"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestWithAndFrom(t *testing.T) {
	if got := From(context.Background()); got != (Info{}) {
		t.Fatalf("From(empty) = %+v, want the zero Info", got)
	}
	ctx := With(context.Background(), Info{Address: "203.0.113.7", UserAgent: "curl/8.5.0"})
	if got := From(ctx); got.Address != "203.0.113.7" || got.UserAgent != "curl/8.5.0" {
		t.Fatalf("From = %+v", got)
	}
}

func TestUserAgentIsCutAtARuneBoundary(t *testing.T) {
	ua := strings.Repeat("a", MaxUserAgent-1) + "é" + strings.Repeat("b", 100)
	got := From(With(context.Background(), Info{UserAgent: ua})).UserAgent
	if len(got) > MaxUserAgent || !utf8.ValidString(got) {
		t.Fatalf("cut user agent: %d bytes, valid UTF-8 %v", len(got), utf8.ValidString(got))
	}
	if got != strings.Repeat("a", MaxUserAgent-1) {
		t.Fatalf("cut user agent does not end before the split rune")
	}
}

func TestAddressIsCutToTheColumn(t *testing.T) {
	long := strings.Repeat("f", MaxAddress+40)
	if got := From(With(context.Background(), Info{Address: long})).Address; len(got) != MaxAddress {
		t.Fatalf("address kept %d bytes, want %d", len(got), MaxAddress)
	}
}
