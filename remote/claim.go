package remote

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/fxamacker/cbor/v2"
)

// ClaimSubject returns the subject on which workers of the element type
// typ wait for work: "sgn.claim." and the type, each character that NATS
// does not allow in a subject's token ('.', '*', '>', white space and
// control characters) replaced by '_'.
func ClaimSubject(typ string) string {
	token := strings.Map(func(r rune) rune {
		if r == '.' || r == '*' || r == '>' || r <= ' ' || r == 0x7f {
			return '_'
		}
		return r
	}, typ)
	if token == "" {
		token = "_"
	}
	return "sgn.claim." + token
}

// claimGroup is the queue group of the workers of one type: a claim
// reaches one of them.
const claimGroup = "sgn-workers"

// runSubjects returns the subjects of run id: to the worker, and to the
// main process.
func runSubjects(id string) (toWorker, toMain string) {
	return "sgn.run." + id + ".w", "sgn.run." + id + ".m"
}

// newRunID returns 128 random bits in hex: a run's subjects cannot be
// guessed by anyone who was not told them.
func newRunID() string {
	var b [16]byte
	rand.Read(b[:]) // never fails (crypto/rand)
	return hex.EncodeToString(b[:])
}

// validRunID reports whether id is one that newRunID could have made.
func validRunID(id string) bool {
	if len(id) != 32 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// A claim asks a worker to take a run.
type claim struct {
	Run     string `cbor:"run"`              // the run's ID, which names its subjects
	Type    string `cbor:"type"`             // the element type, package-qualified
	Schema  string `cbor:"schema,omitempty"` // the fingerprint of the element's schema, if it has one
	Element string `cbor:"element"`          // the element's name in the pipeline
}

// A claimReply is a worker's answer to a claim.
type claimReply struct {
	Accepted bool   `cbor:"accepted"`
	Busy     bool   `cbor:"busy,omitempty"`   // it has a run already: try another
	Reason   string `cbor:"reason,omitempty"` // why it refused
	Host     string `cbor:"host"`
	PID      int    `cbor:"pid"` // the process that runs the element, once accepted; the worker's otherwise
}

// An exitReport is a worker's last message of a run: how the process that
// ran the element ended.
type exitReport struct {
	Exit   string   `cbor:"exit"`  // as os.ProcessState says it
	Clean  bool     `cbor:"clean"` // it exited with status 0
	PID    int      `cbor:"pid"`
	Host   string   `cbor:"host"`
	Stderr []string `cbor:"stderr,omitempty"` // its last lines
}

func encode(v any) []byte {
	b, err := cbor.Marshal(v)
	if err != nil {
		panic(err) // the structs above always encode
	}
	return b
}

func decode(what string, b []byte, v any) error {
	if err := cbor.Unmarshal(b, v); err != nil {
		return fmt.Errorf("a malformed %s: %w", what, err)
	}
	return nil
}
