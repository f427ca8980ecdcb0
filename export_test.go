package sgn

// PoolAfterRun returns the number of slots in the pool of p's run, and how
// many of them frames still held when it ended (a leak, unless 0).
func PoolAfterRun(p *Pipeline) (slots, held int) { return p.lastPool.slots, p.lastPool.held }

// ProgressLine returns the line Progress prints for a snapshot.
func ProgressLine(st Stats) string {
	pr := &progress{started: st.At}
	return pr.line(st)
}
