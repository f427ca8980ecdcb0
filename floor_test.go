package sgn_test

import (
	"io"
	"os"
	"os/exec"
	"slices"
	"testing"
	"time"
)

// The floors the frame figures are judged by, measured by the same run on
// the same machine: what a pipe between two processes does with 64-byte
// messages, alone.

// benchPeer is the other process of the floors, run as this test binary:
// with mode "drain" it reads stdin to its end; with "echo" it sends each
// 64-byte message back.
func benchPeer(mode string) {
	buf := make([]byte, 1<<16)
	switch mode {
	case "drain":
		io.CopyBuffer(io.Discard, os.Stdin, buf)
	case "echo":
		msg := buf[:64]
		for {
			if _, err := io.ReadFull(os.Stdin, msg); err != nil {
				os.Exit(0)
			}
			if _, err := os.Stdout.Write(msg); err != nil {
				os.Exit(0)
			}
		}
	}
	os.Exit(0)
}

// peer starts benchPeer in mode, with pipes to its stdin and from its
// stdout.
func peer(b *testing.B, mode string) (*exec.Cmd, io.WriteCloser, io.ReadCloser) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SGN_BENCH_PEER="+mode)
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	return cmd, in, out
}

// benchPipe sends b.N 64-byte messages to another process, batch to a
// write, and reports messages per second.
func benchPipe(b *testing.B, batch int) {
	cmd, in, _ := peer(b, "drain")
	buf := make([]byte, 64*batch)
	b.ResetTimer()
	for sent := 0; sent < b.N; sent += batch {
		n := min(batch, b.N-sent)
		if _, err := in.Write(buf[:64*n]); err != nil {
			b.Fatal(err)
		}
	}
	in.Close()
	if err := cmd.Wait(); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msgs/s")
}

// BenchmarkPipeMessages is floor_pipe_msgs: one write per message.
func BenchmarkPipeMessages(b *testing.B) { benchPipe(b, 1) }

// BenchmarkPipeBatchedMessages is floor_pipe_batched_msgs: 1024 messages
// per write.
func BenchmarkPipeBatchedMessages(b *testing.B) { benchPipe(b, 1024) }

// BenchmarkPipeRoundTrip is floor_pipe_rtt_us: a 64-byte message to another
// process and back, the median of b.N.
func BenchmarkPipeRoundTrip(b *testing.B) {
	cmd, in, out := peer(b, "echo")
	msg := make([]byte, 64)
	rtts := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		start := time.Now()
		if _, err := in.Write(msg); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(out, msg); err != nil {
			b.Fatal(err)
		}
		rtts = append(rtts, time.Since(start))
	}
	b.StopTimer()
	in.Close()
	cmd.Wait()
	slices.Sort(rtts)
	b.ReportMetric(float64(rtts[len(rtts)/2])/1e3, "µs-p50")
}
