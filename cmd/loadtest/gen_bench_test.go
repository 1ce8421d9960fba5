package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// BenchmarkSend is the generator's cost per request against a handler
// that answers a fixed body: what the generator takes from the machine's
// cores for each request it sends (the handler's share included).
func BenchmarkSend(b *testing.B) {
	body := []byte(`{"data":{"me":{"id":"3","identifier":"loadtest.customer@example.com"}}}`)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	defer srv.Close()
	tg := &target{url: srv.URL, source: fixed(request{graphQLBody(meDocument, nil), "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"}),
		ok: dataOK(`{"data":{"me":{"id":`)}
	client := newClient(1)
	w := newWorker(context.Background(), client, tg, tg.source(0, 1))
	b.ReportAllocs()
	for b.Loop() {
		if ok, bad := w.send(); !ok {
			b.Fatal(bad)
		}
	}
}
