// Command demoapp is a relying application for the lab: it signs in
// through the lab's OpenID Connect provider, shows the id_token's claims and
// offers a sensitive action that steps up to an authentication context.
//
//	export RPSERVER_ADMIN_TOKEN=$(bin/rpserver admin token --upn admin@lab.example)
//	go run ./cmd/demoapp                # registers itself, serves http://localhost:9090
//
// With -client-id and -client-secret it uses an existing registration.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"time"

	"github.com/rpserver/rpserver/internal/demoapp"
	"github.com/rpserver/rpserver/internal/oidc"
)

func main() {
	lab := flag.String("lab", "http://localhost:8080", "the lab server's origin")
	tenant := flag.String("tenant", oidc.DefaultTenantID, "the lab tenant id (the server's -tenant-id)")
	listen := flag.String("listen", "localhost:9090", "where the demo app listens (loopback)")
	clientID := flag.String("client-id", "", "appId of an existing registration; empty: register one with $RPSERVER_ADMIN_TOKEN")
	secret := flag.String("client-secret", os.Getenv("DEMOAPP_CLIENT_SECRET"), "its client secret (DEMOAPP_CLIENT_SECRET)")
	name := flag.String("name", "Demo app", "display name (registration and page title)")
	acr := flag.String("auth-context", "c1", "authentication context the sensitive action asks for")
	flag.Parse()

	base := "http://" + *listen
	ctx := context.Background()
	if *clientID == "" {
		tok := os.Getenv("RPSERVER_ADMIN_TOKEN")
		if tok == "" {
			log.Fatal("demoapp: give -client-id/-client-secret, or set RPSERVER_ADMIN_TOKEN (rpserver admin token --role \"Application Administrator\") to register the app")
		}
		reg, err := demoapp.Register(ctx, *lab, tok, *name, base)
		if err != nil {
			log.Fatalf("demoapp: register: %v", err)
		}
		*clientID, *secret = reg.AppID, reg.Secret
		fmt.Printf("registered %q: appId %s (object id %s); reuse with -client-id %s and DEMOAPP_CLIENT_SECRET\n", *name, reg.AppID, reg.ObjectID, reg.AppID)
	}
	app, err := demoapp.New(ctx, demoapp.Config{Issuer: *lab + "/" + *tenant + "/v2.0", ClientID: *clientID, ClientSecret: *secret,
		BaseURL: base, AuthContext: *acr, Name: *name})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s on %s (issuer %s/%s/v2.0)\n", *name, base, *lab, *tenant)
	srv := &http.Server{Addr: *listen, Handler: app, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(srv.ListenAndServe())
}
