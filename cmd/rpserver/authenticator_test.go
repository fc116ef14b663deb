package main

import (
	"bytes"
	"context"
	"net/http"
	"testing"
	"time"
)

func TestAuthenticatorServe(t *testing.T) {
	var errb bytes.Buffer
	for _, args := range [][]string{{}, {"run"}, {"serve", "-listen", "0.0.0.0:0"}, {"serve", "-listen", "192.0.2.1:8091"}, {"serve", "extra"}} {
		if err := authenticatorCommand(context.Background(), args, &errb, nil); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	addrc := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- authenticatorCommand(ctx, []string{"serve", "-listen", "127.0.0.1:0", "-data-dir", t.TempDir()}, &errb, func(a string) { addrc <- a })
	}()
	var addr string
	select {
	case addr = <-addrc:
	case err := <-done:
		t.Fatal(err)
	case <-time.After(10 * time.Second):
		t.Fatal("did not start")
	}
	res, err := http.Get("http://" + addr + "/ca.pem")
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("ca.pem: %v %v", err, res)
	}
	res.Body.Close()
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
