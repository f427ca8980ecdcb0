package remote

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/nats-io/nats.go"
)

// Environment variables that a worker binary started as a worker for other
// hosts reads, each the fallback of a flag (see Main).
const (
	EnvURL      = "SGN_NATS_URL"      // -nats: the server's URL; may carry user:password@ or token@
	EnvCreds    = "SGN_NATS_CREDS"    // -nats-creds: a credentials file (a JWT and its NKey seed)
	EnvNKey     = "SGN_NATS_NKEY"     // -nats-nkey: a file holding an NKey seed
	EnvUser     = "SGN_NATS_USER"     // a user name, with SGN_NATS_PASSWORD
	EnvPassword = "SGN_NATS_PASSWORD" // its password
	EnvToken    = "SGN_NATS_TOKEN"    // a token
	EnvCA       = "SGN_NATS_CA"       // -nats-ca: the certificate authorities to trust, PEM
	EnvCert     = "SGN_NATS_CERT"     // -nats-cert: a client certificate, PEM, with SGN_NATS_KEY
	EnvKey      = "SGN_NATS_KEY"      // -nats-key: its private key, PEM
)

// Wanted reports whether a worker binary was started to serve pipelines on
// other hosts: with a -nats flag among args, or with SGN_NATS_URL set.
func Wanted(args []string) bool {
	for _, a := range args {
		if a == "-nats" || a == "--nats" || strings.HasPrefix(a, "-nats=") || strings.HasPrefix(a, "--nats=") {
			return true
		}
	}
	return os.Getenv(EnvURL) != ""
}

// Main is the life of a worker binary started to serve pipelines on other
// hosts: it reads its flags (args, without the program's name) and the
// environment, connects to NATS, and serves typ, the element type it was
// built for, with the given schema fingerprint, until SIGINT or SIGTERM.
// It returns the process's exit code: 0 after a signal, 1 if it could not
// read its credentials, connect or serve, 2 for bad flags. Generated worker
// mains reach it through sgn.ServeWorker.
//
//	worker -nats URL [-nats-creds FILE] [-nats-nkey FILE] [-nats-ca FILE] [-nats-cert FILE -nats-key FILE]
//
// User, password and token are read from the environment only, so that
// they do not show in the process list.
func Main(typ, schema string, args []string) int {
	name := filepath.Base(os.Args[0])
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	url := fs.String("nats", os.Getenv(EnvURL), "the URL of the NATS server ($"+EnvURL+")")
	creds := fs.String("nats-creds", os.Getenv(EnvCreds), "a NATS credentials file ($"+EnvCreds+")")
	nkey := fs.String("nats-nkey", os.Getenv(EnvNKey), "a file holding an NKey seed ($"+EnvNKey+")")
	ca := fs.String("nats-ca", os.Getenv(EnvCA), "the certificate authorities to trust, PEM ($"+EnvCA+")")
	cert := fs.String("nats-cert", os.Getenv(EnvCert), "a client certificate, PEM ($"+EnvCert+")")
	key := fs.String("nats-key", os.Getenv(EnvKey), "the client certificate's key, PEM ($"+EnvKey+")")
	fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "%s serves %s to pipelines on other hosts, over NATS:\n\t%s -nats URL [flags]\n"+
			"$%s, $%s and $%s give a user and password, or a token. Flags:\n", name, typ, name, EnvUser, EnvPassword, EnvToken)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || *url == "" {
		fs.Usage()
		return 2
	}
	opts, err := Options(*creds, *nkey, *ca, *cert, *key)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		if errors.Is(err, errHalfCert) {
			return 2
		}
		return 1 // an unreadable seed file, like the files that nats.Connect reads
	}
	opts = append(opts, nats.Name(name), nats.MaxReconnects(-1))
	nc, err := nats.Connect(*url, opts...)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: connecting to NATS at %s: %v\n", name, redact(*url), err)
		return 1
	}
	defer nc.Close()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &Agent{Type: typ, Schema: schema}
	if err := a.Serve(ctx, nc); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}

// Options returns the NATS options for a worker's credentials and TLS:
// files given by name ("" for none), and the user, password and token of
// the environment.
func Options(creds, nkey, ca, cert, key string) ([]nats.Option, error) {
	var opts []nats.Option
	if creds != "" {
		opts = append(opts, nats.UserCredentials(creds))
	}
	if nkey != "" {
		o, err := nats.NkeyOptionFromSeed(nkey)
		if err != nil {
			return nil, fmt.Errorf("reading the NKey seed %s: %w", nkey, err)
		}
		opts = append(opts, o)
	}
	if user := os.Getenv(EnvUser); user != "" {
		opts = append(opts, nats.UserInfo(user, os.Getenv(EnvPassword)))
	}
	if token := os.Getenv(EnvToken); token != "" {
		opts = append(opts, nats.Token(token))
	}
	if ca != "" {
		opts = append(opts, nats.RootCAs(ca))
	}
	switch {
	case cert != "" && key != "":
		opts = append(opts, nats.ClientCert(cert, key))
	case cert != "" || key != "":
		return nil, errHalfCert
	}
	return opts, nil
}

var errHalfCert = errors.New("a client certificate needs both -nats-cert and -nats-key")

// redact returns a URL without its password or token.
func redact(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	at := strings.LastIndexByte(rest, '@')
	if at < 0 {
		return u
	}
	user, _, _ := strings.Cut(rest[:at], ":")
	if !strings.Contains(rest[:at], ":") {
		user = "redacted" // a token
	} else {
		user += ":redacted"
	}
	return scheme + "://" + user + rest[at:]
}
