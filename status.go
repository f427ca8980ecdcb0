package sgn

import (
	"sync/atomic"
	"time"

	"github.com/sgn-go/sgn/runtime"
)

// A State is what an element is doing.
type State = runtime.State

// The states of an element. One in this process goes from pending to
// starting (its Start method) to running, and ends done, failed or
// stopped; one in a worker is starting until its process has answered the
// pipeline, and may be restarting between two processes.
const (
	StatePending    = runtime.StatePending
	StateStarting   = runtime.StateStarting
	StateRunning    = runtime.StateRunning
	StateRestarting = runtime.StateRestarting
	StateDone       = runtime.StateDone
	StateFailed     = runtime.StateFailed
	StateStopped    = runtime.StateStopped
)

// ElementStatus is what Pipeline.Status reports of one element.
//
// A replicated element (see Replicas) is reported as inserted, with its
// replicas in Replicas, each named after it with its number, "square[0]",
// and reported as an element is. The element's own part runs in this
// process (InWorker is false, PID 0): it spreads frames over the replicas
// and puts their outputs back in order. Its State sums up its replicas':
// failed or stopped if one is, done once all are, restarting while one
// is, starting until all have started, else running; Restarts is their
// total.
type ElementStatus struct {
	Name     string
	State    State
	InWorker bool
	PID      int    // its worker's process ID, on Host; 0 in this process, or between processes
	Host     string // the host its worker runs on, for one on another (see Remote); "" for this one
	Restarts int    // how often its worker was restarted

	Replicas []ElementStatus // a replicated element's replicas, in order; nil for others
}

// Status returns the state of every element, in the order they were
// inserted. It may be called from any goroutine, during Run or after.
func (p *Pipeline) Status() []ElementStatus {
	out := make([]ElementStatus, len(p.nodes))
	for i, n := range p.nodes {
		out[i] = n.statusOf()
	}
	return out
}

// status is an element's part of Pipeline.Status, updated as it runs.
type status struct {
	state    atomic.Int32
	pid      atomic.Int64
	host     atomic.Pointer[string] // nil: this one
	restarts atomic.Int32
}

// onState is a worker's OnState: a restarted worker counts its busy time
// from zero, so what its predecessor reported is set aside.
func (n *node) onState(state State, pid int, host string) {
	if state == StateRestarting {
		n.busyBase.Add(n.busy.Swap(0))
	}
	n.status.set(state, pid, host)
	if n.parent != nil && n.parent.rep != nil {
		n.parent.rep.changed() // a replica that is back may take frames
	}
}

// state returns n's state; for a replicated element, summed up with its
// replicas' (see ElementStatus).
func (n *node) state() State {
	own := State(n.status.state.Load())
	if n.replicas == nil {
		return own
	}
	count := map[State]int{own: 1}
	for _, r := range n.replicas {
		count[State(r.status.state.Load())]++
	}
	all := len(n.replicas) + 1
	switch {
	case count[StateFailed] > 0:
		return StateFailed
	case count[StateStopped] > 0:
		return StateStopped
	case count[StateDone] == all:
		return StateDone
	case count[StateRestarting] > 0:
		return StateRestarting
	case count[StatePending] == all:
		return StatePending
	case count[StatePending] > 0 || count[StateStarting] > 0:
		return StateStarting
	}
	return StateRunning
}

func (s *status) set(state State, pid int, host string) {
	if state == StateRestarting {
		s.restarts.Add(1)
	}
	if host == "" {
		s.host.Store(nil)
	} else {
		s.host.Store(&host)
	}
	s.state.Store(int32(state))
	s.pid.Store(int64(pid))
}

// Restart makes a worker element start again when its worker fails (its
// element returns an error or panics, or its process dies), at most max
// times within any span of within, after a pause that starts at 10 ms and
// doubles with each restart in that span, up to a second. Past that, the
// run fails as it would without a restart policy, and the error says how
// often the worker was restarted.
//
// Only elements whose work is per frame (New, Process, Consume) can be
// restarted; one with Run keeps its state its own way, and Check refuses
// it. A restarted worker starts from the element's configuration, and the
// pipeline delivers again what its predecessor had not finished, so that
// nothing is lost; delivery is at least once:
//
//   - a Process element is given again the frames whose output had not
//     reached the pipeline: it may see those twice, but its consumers see
//     every output once;
//   - a Consume element is given again the frames it had not finished
//     with (it reports each at once): it may see twice the frame it was
//     consuming when it died;
//   - a New element starts its stream over, and the pipeline drops as
//     many of its frames as its predecessors sent: a source that makes the
//     same frames from the same configuration goes on where it broke, and
//     its consumers see every frame once.
func Restart(max int, within time.Duration) ElementOption {
	return func(n *node) { n.restart = &restartPolicy{max: max, within: within} }
}

type restartPolicy struct {
	max    int
	within time.Duration
}

// runtimePolicy returns the runtime's form of n's restart policy.
func (n *node) runtimePolicy() *runtime.RestartPolicy {
	if n.restart == nil {
		return nil
	}
	p := &runtime.RestartPolicy{Max: n.restart.max, Within: n.restart.within}
	switch n.spec.Method {
	case "Process":
		p.Redeliver = runtime.RedeliverUnanswered
	case "Consume":
		p.Redeliver = runtime.RedeliverUnconsumed
	case "New":
		p.Redeliver = runtime.SkipRepeated
	default:
		return nil
	}
	return p
}
