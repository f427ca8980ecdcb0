// Package remote runs workers on other hosts, over NATS: the same element,
// the same generated worker binary, placed elsewhere. The protocol is
// runtime's, unchanged; only what carries its bytes differs: two NATS
// subjects instead of two pipes.
//
// # Worker hosts
//
// A generated worker binary started with a NATS URL serves its element type
// to pipelines on any host that reaches the server (see [Main]; sgn.ServeWorker
// calls it):
//
//	testelems-scale -nats nats://nats.example.com:4222
//	SGN_NATS_URL=nats://nats.example.com:4222 testelems-scale
//
// It subscribes to the type's claim subject ([ClaimSubject]) in a queue
// group, so that a claim reaches one of the type's free workers, and waits.
// A claim names a run; the worker checks that the claim is for its element
// type (and schema fingerprint), refuses with a reason otherwise, stops
// taking claims (it answers those already on their way to it: busy, so
// that their claimants try again at once, as the replicas of one element
// do when their claims reach the same worker), and runs the element in a
// new process of its own binary,
// started as a local worker (runtime.Pipes, with a parent-death signal),
// whose pipes it joins to the run's subjects. When that process exits, the
// worker sends its exit report (how it ended, its PID, its host and the
// last 20 lines of its stderr) after all its output, and takes claims
// again. What the element's process writes on stdout and stderr goes to
// the worker's own.
//
// Credentials and TLS come from flags or the environment:
//
//	-nats URL          $SGN_NATS_URL       the server; the URL may carry user:password@ or token@
//	-nats-creds FILE   $SGN_NATS_CREDS     a credentials file (JWT and NKey seed)
//	-nats-nkey FILE    $SGN_NATS_NKEY      an NKey seed file
//	                   $SGN_NATS_USER      a user, with $SGN_NATS_PASSWORD
//	                   $SGN_NATS_TOKEN     a token
//	-nats-ca FILE      $SGN_NATS_CA        certificate authorities to trust (PEM)
//	-nats-cert FILE    $SGN_NATS_CERT      a client certificate (PEM), with
//	-nats-key FILE     $SGN_NATS_KEY       its key (PEM)
//
// Secrets other than files are read from the environment only, so that
// they do not show in the process list. The worker reconnects to the
// server for as long as it runs, and ends on SIGINT or SIGTERM, killing
// the element's process of the run it serves, if any: that run fails, its
// error saying that the worker stopped. It exits with status 1, saying
// why, if the server refuses it what a worker does (subscribing to its
// claim subject and to sgn.run.*.w, publishing on sgn.run.*.m and replying
// to claims), or once its connection is closed for good (the server
// refused its credentials on reconnecting).
//
// # The main process
//
// A [Launcher], made from a *nats.Conn of the caller's (so every nats.Option
// applies: credentials, TLS, reconnection), claims a free worker for each
// process the pipeline needs: sgn.Remote(l) places an element there. A
// claim is a request on the type's claim subject; while no worker answers
// or all are busy, it is made again, pausing from 10 ms up to half a
// second, until the Launcher's ClaimTimeout (10 s by default) has passed;
// the error then names the element type, the server, and the command that
// starts a worker. A connection that the server does not allow what a
// claim and a run need (publishing on sgn.claim.> and sgn.run.*.w,
// subscribing to sgn.run.*.m and to its reply inbox) fails the claim at
// once, saying so. A restarted worker (runtime.RestartPolicy) is claimed
// again, from any worker of its type.
//
// # Runs
//
// Each run has two subjects, sgn.run.<id>.w to the worker and
// sgn.run.<id>.m to the main process, where id is 128 random bits in hex:
// no one who was not told them can guess them, and a worker listens only on
// those of the run it accepted. Each message on them is a kind byte (data,
// heartbeat, exit, kill), an 8-byte sequence number and a payload. What the
// protocol writes is cut into messages of at most the server's maximum
// payload and joined in order at the other end; a sequence number that is
// not the next one means that messages were lost (a connection to the
// server was interrupted) and fails the run with a [GapError], never a
// corrupt or stalled stream. Subscriptions have no pending limits, so that
// the client never drops messages as a slow consumer: the protocol's credits
// bound what is in flight.
//
// Both sides send a heartbeat every 250 ms, and take the other for gone
// once they have heard nothing from it for a second. A main process that
// loses its worker's host reports the worker lost, as a crash (the
// element, the host and PID, "lost: nothing heard from its host for 1s");
// a worker that loses its main process kills the element's process at
// once and takes work again. A main process that kills a worker sends kill;
// the worker kills the element's process at once.
//
// Shared memory does not cross hosts: frames whose slices lie in the
// pipeline's slot pool travel with their bytes in the message, and a
// pipeline that shares segments (sgn.Pipeline.Share) cannot have elements on
// other hosts.
package remote
