package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// login logs in to the Admin API at url and returns the session token the
// server sends back in its vendure-auth-token header (TOKEN_METHOD with
// bearer, the default).
func login(ctx context.Context, url, identifier, password string) (string, error) {
	body, err := json.Marshal(map[string]any{
		"query": `mutation($u: String!, $p: String!) { login(username: $u, password: $p) {
			__typename ... on ErrorResult { errorCode message } } }`,
		"variables": map[string]string{"u": identifier, "p": password},
	})
	if err != nil {
		return "", err
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("login: %w", err)
	}
	defer resp.Body.Close()
	var out struct {
		Data struct {
			Login struct {
				Typename  string `json:"__typename"`
				ErrorCode string `json:"errorCode"`
			} `json:"login"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", fmt.Errorf("login: %s: %w", resp.Status, err)
	}
	token := resp.Header.Get("vendure-auth-token")
	if out.Data.Login.Typename != "CurrentUser" || token == "" {
		return "", fmt.Errorf("login: %s, %s %s, no token (TOKEN_METHOD must include bearer)",
			resp.Status, out.Data.Login.Typename, out.Data.Login.ErrorCode)
	}
	return token, nil
}
