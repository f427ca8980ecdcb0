package sgn_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/natstest"
	"github.com/sgn-go/sgn/internal/testelems"
	"github.com/sgn-go/sgn/remote"
)

// The tests of a worker's credentials and TLS beyond a user and password or
// a token: an NKey seed, a credentials file, the certificate authorities to
// trust and a client certificate, each given by flag and by environment
// variable, against an embedded server that requires them, with worker
// binaries started as separate processes.

// runsRemotely runs src → x → sink with x, which doubles, on a worker of
// l, and checks what the sink got.
func runsRemotely(t *testing.T, l *remote.Launcher) {
	t.Helper()
	const n = 50
	p, snk := chainAt(t, n, scale{&testelems.Scale{Factor: 2}}, []sgn.ElementOption{sgn.Remote(l)})
	if err := runWithin(t, p, context.Background(), time.Minute); err != nil {
		t.Fatal(err)
	}
	nums, _, eos := collected(t, snk.File)
	if diff := cmp.Diff(scaled(seq(1, n), 2), nums); diff != "" {
		t.Errorf("the sink got (-want +got):\n%s", diff)
	}
	if !eos {
		t.Error("the sink never saw EOS")
	}
}

// serves starts a worker of testelems.Scale with args and env, waits until
// it waits for work, runs a chain through it, and kills it: the next case
// of a test gets a worker of its own.
func serves(t *testing.T, l *remote.Launcher, args []string, env ...string) {
	t.Helper()
	a := startAgentArgs(t, "testelems-scale", args, env...)
	a.waitFor(t, "waiting for work")
	runsRemotely(t, l)
	a.waitFor(t, "took a run")
	a.cmd.Process.Kill()
	<-a.exited
}

// refused starts a worker of testelems.Scale with args and env, and fails
// the test unless it exits with status 1, saying every one of says, and
// none of secrets.
func refused(t *testing.T, args, env, says []string, secrets ...string) {
	t.Helper()
	exits(t, 1, args, env, says, secrets...)
}

// exits starts a worker of testelems.Scale with args and env, and fails
// the test unless it exits with status code, saying every one of says,
// and none of secrets.
func exits(t *testing.T, code int, args, env, says []string, secrets ...string) {
	t.Helper()
	a := startAgentArgs(t, "testelems-scale", args, env...)
	select {
	case <-a.exited:
	case <-time.After(time.Minute):
		t.Fatalf("the worker still runs a minute after it started; want it to exit with %d. Its stderr:\n%s", code, a.output())
	}
	out := a.output()
	if got := a.cmd.ProcessState.ExitCode(); got != code {
		t.Errorf("the worker exited with %d, saying:\n%s\nwant %d", got, out, code)
	}
	for _, s := range says {
		if !strings.Contains(out, s) {
			t.Errorf("the worker said:\n%s\nwant it to say %q", out, s)
		}
	}
	for _, s := range secrets {
		if strings.Contains(out, s) {
			t.Errorf("the worker's error shows a secret (%.6s…):\n%s", s, out)
		}
	}
}

// writeFile writes data to the file name of dir, readable by its owner
// only, and returns its path.
func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// newUserKey makes an NKey user and writes its seed to the file name of
// dir; it returns the public key, the file and the seed.
func newUserKey(t *testing.T, dir, name string) (pub, file string, seed []byte) {
	t.Helper()
	kp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	if pub, err = kp.PublicKey(); err != nil {
		t.Fatal(err)
	}
	if seed, err = kp.Seed(); err != nil {
		t.Fatal(err)
	}
	return pub, writeFile(t, dir, name, seed), seed
}

// An NKey seed file reaches the server from -nats-nkey or $SGN_NATS_NKEY;
// a seed the server does not know is refused, and a file without a seed
// is named, and neither seed is shown.
func TestRemoteWorkerNKey(t *testing.T) {
	dir := t.TempDir()
	worker, workerSeed, seed := newUserKey(t, dir, "worker.nk")
	pipeline, pipelineSeed, _ := newUserKey(t, dir, "pipeline.nk")
	_, strangerSeed, strangerSecret := newUserKey(t, dir, "stranger.nk")
	s := natstest.Start(t, &server.Options{Nkeys: []*server.NkeyUser{{Nkey: worker}, {Nkey: pipeline}}})
	url := s.ClientURL()
	opt, err := nats.NkeyOptionFromSeed(pipelineSeed)
	if err != nil {
		t.Fatal(err)
	}
	l := remote.NewLauncher(connect(t, url, opt))

	t.Run("by flag", func(t *testing.T) {
		serves(t, l, []string{"-nats", url, "-nats-nkey", workerSeed})
	})
	t.Run("from the environment", func(t *testing.T) {
		serves(t, l, []string{"-nats", url}, "SGN_NATS_NKEY="+workerSeed)
	})
	t.Run("unknown to the server", func(t *testing.T) {
		refused(t, []string{"-nats", url, "-nats-nkey", strangerSeed}, nil,
			[]string{"Authorization Violation"}, string(strangerSecret))
	})
	t.Run("not a seed", func(t *testing.T) {
		// The seed with a character changed, which its checksum catches.
		bad := append([]byte(nil), seed...)
		if bad[10] = 'A'; seed[10] == 'A' {
			bad[10] = 'B'
		}
		file := writeFile(t, dir, "typo.nk", bad)
		refused(t, []string{"-nats", url}, []string{"SGN_NATS_NKEY=" + file},
			[]string{"NKey seed " + file}, string(bad), string(seed))
	})
	t.Run("no file", func(t *testing.T) {
		file := filepath.Join(dir, "missing.nk")
		refused(t, []string{"-nats", url, "-nats-nkey", file}, nil, []string{"NKey seed " + file, "no such file"})
	})
}

// pki holds the files of a test's certificate authority, the server's
// certificate for 127.0.0.1 and localhost, and a client's, each with its
// key, in PEM.
type pki struct {
	ca, serverCert, serverKey, clientCert, clientKey string
}

// newPKI makes a certificate authority and the certificates it signs in
// a new directory.
func newPKI(t *testing.T) pki {
	t.Helper()
	dir := t.TempDir()
	now := time.Now()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	// write writes a certificate made from tmpl, signed by parent and its
	// key, and the certificate's key, to name.pem and name-key.pem.
	write := func(name string, tmpl, parent *x509.Certificate, key, parentKey *ecdsa.PrivateKey) (string, string, *x509.Certificate) {
		der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
		if err != nil {
			t.Fatal(err)
		}
		cert, err := x509.ParseCertificate(der)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, err := x509.MarshalPKCS8PrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		return writeFile(t, dir, name+".pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
			writeFile(t, dir, name+"-key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
			cert
	}
	caKey := newKey()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "sgn test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	var p pki
	var ca *x509.Certificate
	p.ca, _, ca = write("ca", caTmpl, caTmpl, caKey, caKey)
	p.serverCert, p.serverKey, _ = write("server", &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "localhost"},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}, ca, newKey(), caKey)
	p.clientCert, p.clientKey, _ = write("client", &x509.Certificate{
		SerialNumber: big.NewInt(3),
		Subject:      pkix.Name{CommonName: "sgn worker"},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, ca, newKey(), caKey)
	return p
}

// A worker reaches a server that requires TLS and verifies its clients'
// certificates with the certificate authorities to trust and a client
// certificate, given by flags or by environment variables, with the
// server's tls:// URL or its nats:// one. A worker that does not trust the
// server's authority, or has no client certificate, exits saying so.
func TestRemoteWorkerTLS(t *testing.T) {
	p := newPKI(t)
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: p.serverCert, KeyFile: p.serverKey, CaFile: p.ca, Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	if tc.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Fatalf("the server's TLS config has ClientAuth %v, want RequireAndVerifyClientCert", tc.ClientAuth)
	}
	s := natstest.Start(t, &server.Options{TLS: true, TLSVerify: true, TLSConfig: tc, TLSTimeout: 10})
	url := s.ClientURL() // tls://127.0.0.1:port
	if !strings.HasPrefix(url, "tls://") {
		t.Fatalf("the server's URL is %s, want tls://", url)
	}
	plain := strings.Replace(url, "tls://", "nats://", 1)
	l := remote.NewLauncher(connect(t, url, nats.RootCAs(p.ca), nats.ClientCert(p.clientCert, p.clientKey)))

	t.Run("by flags", func(t *testing.T) {
		serves(t, l, []string{"-nats", url, "-nats-ca", p.ca, "-nats-cert", p.clientCert, "-nats-key", p.clientKey})
	})
	t.Run("from the environment", func(t *testing.T) {
		serves(t, l, []string{"-nats", plain}, "SGN_NATS_CA="+p.ca, "SGN_NATS_CERT="+p.clientCert, "SGN_NATS_KEY="+p.clientKey)
	})
	t.Run("without the authority", func(t *testing.T) {
		refused(t, []string{"-nats", url, "-nats-cert", p.clientCert, "-nats-key", p.clientKey}, nil,
			[]string{"connecting to NATS at " + url, "certificate signed by unknown authority"})
	})
	t.Run("without a client certificate", func(t *testing.T) {
		// The server refuses the handshake; whether the worker reads its
		// alert or finds the connection closed depends on timing.
		a := startAgentArgs(t, "testelems-scale", []string{"-nats", url, "-nats-ca", p.ca})
		select {
		case <-a.exited:
		case <-time.After(time.Minute):
			t.Fatalf("the worker still runs a minute after it started; want it refused. Its stderr:\n%s", a.output())
		}
		out := a.output()
		if code := a.cmd.ProcessState.ExitCode(); code != 1 || !strings.Contains(out, "connecting to NATS at "+url) ||
			!strings.Contains(out, "certificate required") && !strings.Contains(out, "closed by remote after TLS handshake") {
			t.Errorf("a worker without a client certificate exited with %d, saying:\n%s\nwant 1, and that the server refused it", code, out)
		}
	})
	t.Run("a certificate without its key", func(t *testing.T) {
		exits(t, 2, []string{"-nats", url, "-nats-ca", p.ca}, []string{"SGN_NATS_CERT=" + p.clientCert},
			[]string{"a client certificate needs both -nats-cert and -nats-key"})
	})
}

// An operator, an account it signs, and users the account signs: what a
// server in operator mode trusts, and the credentials files of its users.
type operator struct {
	claims   *jwt.OperatorClaims
	resolver *server.MemAccResolver
	account  nkeys.KeyPair
}

// newOperator makes an operator and an account, and a memory resolver
// that holds the account's JWT.
func newOperator(t *testing.T) *operator {
	t.Helper()
	okp, err := nkeys.CreateOperator()
	if err != nil {
		t.Fatal(err)
	}
	opub, _ := okp.PublicKey()
	ojwt, err := jwt.NewOperatorClaims(opub).Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	oc, err := jwt.DecodeOperatorClaims(ojwt)
	if err != nil {
		t.Fatal(err)
	}
	akp, err := nkeys.CreateAccount()
	if err != nil {
		t.Fatal(err)
	}
	apub, _ := akp.PublicKey()
	ajwt, err := jwt.NewAccountClaims(apub).Encode(okp)
	if err != nil {
		t.Fatal(err)
	}
	r := &server.MemAccResolver{}
	if err := r.Store(apub, ajwt); err != nil {
		t.Fatal(err)
	}
	return &operator{claims: oc, resolver: r, account: akp}
}

// creds makes a user signed by account, writes its credentials file (its
// JWT and seed) to the file name of dir, and returns the file and the
// seed.
func creds(t *testing.T, account nkeys.KeyPair, dir, name string) (string, []byte) {
	t.Helper()
	ukp, err := nkeys.CreateUser()
	if err != nil {
		t.Fatal(err)
	}
	upub, _ := ukp.PublicKey()
	uc := jwt.NewUserClaims(upub)
	uc.Name = name
	ujwt, err := uc.Encode(account)
	if err != nil {
		t.Fatal(err)
	}
	seed, err := ukp.Seed()
	if err != nil {
		t.Fatal(err)
	}
	b, err := jwt.FormatUserConfig(ujwt, seed)
	if err != nil {
		t.Fatal(err)
	}
	return writeFile(t, dir, name, b), seed
}

// A credentials file reaches a server in operator mode from -nats-creds or
// $SGN_NATS_CREDS; one of an account the server does not know is refused,
// and its seed is not shown.
func TestRemoteWorkerCreds(t *testing.T) {
	dir := t.TempDir()
	op := newOperator(t)
	s := natstest.Start(t, &server.Options{TrustedOperators: []*jwt.OperatorClaims{op.claims}, AccountResolver: op.resolver})
	url := s.ClientURL()
	workerCreds, _ := creds(t, op.account, dir, "worker.creds")
	pipelineCreds, _ := creds(t, op.account, dir, "pipeline.creds")
	l := remote.NewLauncher(connect(t, url, nats.UserCredentials(pipelineCreds)))

	t.Run("by flag", func(t *testing.T) {
		serves(t, l, []string{"-nats", url, "-nats-creds", workerCreds})
	})
	t.Run("from the environment", func(t *testing.T) {
		serves(t, l, []string{"-nats", url}, "SGN_NATS_CREDS="+workerCreds)
	})
	t.Run("of an unknown account", func(t *testing.T) {
		stranger, err := nkeys.CreateAccount()
		if err != nil {
			t.Fatal(err)
		}
		file, seed := creds(t, stranger, dir, "stranger.creds")
		refused(t, []string{"-nats", url, "-nats-creds", file}, nil, []string{"Authorization Violation"}, string(seed))
	})
	t.Run("no file", func(t *testing.T) {
		file := filepath.Join(dir, "missing.creds")
		refused(t, []string{"-nats", url}, []string{"SGN_NATS_CREDS=" + file}, []string{"connecting to NATS at " + url, "no such file"})
	})
}
