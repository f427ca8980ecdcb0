package metrics

import (
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/sgn-go/sgn"
)

// A Server serves a pipeline's metrics at /metrics until it is closed.
type Server struct {
	ln     net.Listener
	srv    *http.Server
	done   chan struct{} // closed when Serve has returned
	served error         // what Serve returned
}

// Listen listens on the TCP address addr (":9090", "127.0.0.1:0") and
// serves p's metrics at /metrics (see Handler) until Close. Other paths
// answer 404. It returns once it listens, so that a scrape may come at
// once; call it once p is built, before, during or after p's Run.
func Listen(p *sgn.Pipeline, addr string) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", Handler(p))
	s := &Server{
		ln:   ln,
		srv:  &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		s.served = s.srv.Serve(ln)
	}()
	return s, nil
}

// Addr returns the address the server listens on: with port 0 in Listen's
// address, the port the system chose.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the server at once, closing its listener and any scrape in
// progress, and returns when it has stopped. It returns the error that
// stopped it before, if any; closing it again does nothing more.
func (s *Server) Close() error {
	err := s.srv.Close()
	<-s.done
	if !errors.Is(s.served, http.ErrServerClosed) {
		err = errors.Join(err, s.served)
	}
	return err
}
