// Package natstest starts NATS servers inside a test process, for the
// tests of workers on other hosts.
package natstest

import (
	"net"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Start starts a NATS server on a free port of 127.0.0.1, configured by
// opts (nil: defaults), and shuts it down when the test ends.
func Start(t testing.TB, opts *server.Options) *server.Server {
	t.Helper()
	var o server.Options
	if opts != nil {
		o = *opts
	}
	o.Host = "127.0.0.1"
	if o.Port == 0 {
		o.Port = -1
	}
	o.NoLog, o.NoSigs = true, true
	s, err := server.NewServer(&o)
	if err != nil {
		t.Fatalf("starting a NATS server: %v", err)
	}
	go s.Start()
	if !s.ReadyForConnections(10 * time.Second) {
		s.Shutdown()
		t.Fatal("the NATS server did not start within 10s")
	}
	t.Cleanup(func() {
		s.Shutdown()
		s.WaitForShutdown()
	})
	return s
}

// Restart shuts s down and starts a server with the same options on the
// same port; it returns the new one.
func Restart(t testing.TB, s *server.Server, opts *server.Options) *server.Server {
	t.Helper()
	port := s.Addr().(*net.TCPAddr).Port
	s.Shutdown()
	s.WaitForShutdown()
	var o server.Options
	if opts != nil {
		o = *opts
	}
	o.Port = port
	return Start(t, &o)
}
