// Package gen is sgngen as a library: it reads Go packages that declare
// elements and returns the files that make those elements runnable by
// package sgn, in-process and in worker processes.
//
// [Generate] is pure: it loads packages and returns [File] values, writing
// nothing. [Commit] writes them; [Stale] tells which differ from the disk.
// The sgngen command's generate and check are these calls.
//
// # What it reads
//
// Generate lists the packages that match its patterns (go list patterns,
// relative to a directory) and type-checks, from source, those whose files
// contain a line //sgn:element. Packages are loaded with the build tag
// sgngen, and every generated element file starts with
//
//	//go:build !sgngen && !generate
//
// so the generator never sees its own earlier output: a stale sgn_gen.go
// that no longer compiles (a pad renamed, a frame type changed) does not
// stand in the way of regenerating it. Worker mains start with
// //go:build !generate. go generate sets the build tag generate, so it
// never reads a generated file: it lists every package's files before it
// runs the first generator, and would fail on one that sgngen has removed
// since (go generate ./... after an element was deleted). For the same reason, type errors in a
// package are not reported: code in the package may use declarations that
// only the generated file has. Those in what sgngen reads are, where they
// are, since no generated declaration can be their cause: in the type of an
// element's field or of its Run, New, Process or Consume method (undefined:
// Pointt, undefined: sgn for a missing import), or of a field of a frame or
// configuration type. Errors that stop the analysis (a file that does not
// parse, a package that does not exist) are reported too.
//
// # Elements
//
// An element is a struct type whose doc comment has the line
//
//	//sgn:element
//
// A field of type sgn.Sink[T] is a sink pad, sgn.Source[T] a source pad; T
// is the pad's frame type. Each pad field needs a tag that names the pad,
// sgn:"name", unique among the element's sink pads and among its source
// pads. Every other exported field is configuration: it is encoded by the
// element's EncodeConfig and set in a worker by DecodeConfig, keyed as a
// struct field is (below); a cbor:"-" tag keeps a field out. Unexported
// fields are the element's state and are ignored, embedded ones too; an
// embedded field with an exported name (sync.Mutex) is refused: give it a
// name. An element needs at least one pad, cannot be generic, and cannot
// live in package main (a worker main must import it).
//
// The directive has to be a line of the type's doc comment. One that marks
// nothing is reported, not ignored: separated from the type by a blank
// line, on a declaration that is not a type or on a group of types,
// written // sgn:element, or followed by arguments. So is every other
// comment line that starts with //sgn:, which is no directive sgngen
// knows: //sgn:elemnt is reported with "did you mean //sgn:element?".
//
// Spec.Run comes from the first of these methods that applies:
//
//	Run(ctx *sgn.Context) error                                 any pads
//	New(ctx *sgn.Context) (sgn.Frame[T], error)                 one source pad, no sink pad: sgn.RunSource
//	Process(ctx *sgn.Context, f sgn.Frame[T]) (sgn.Frame[U], error)  one sink pad, one source pad: sgn.RunTransform
//	Consume(ctx *sgn.Context, f sgn.Frame[T]) error             one sink pad, no source pad: sgn.RunSink
//
// Run must have a pointer receiver: it uses the element's pads, which must
// not be copied. New, Process and Consume may have a value receiver; the
// copy of the element they then work on is made when the element starts
// running, after its configuration is set, so it has the configuration,
// but what the method changes in it is lost.
//
// An element without a matching method, or with one of the wrong type or
// receiver, is reported at its declaration with the exact signature to
// write. So is a method Start that is not Start(ctx *sgn.Context) error
// (sgn.Starter), which the pipeline would never call.
//
// # Types
//
// Frame and configuration types may be
//
//   - int, int8, int16, int32, int64, uint, uint8 (byte), uint16, uint32,
//     uint64, float32, float64, bool, string and []byte;
//   - time.Time, and time.Duration (an int64 of nanoseconds);
//   - slices and fixed-size arrays of any of these kinds, of structs, of
//     slices and of arrays;
//   - maps whose keys are strings or integers (or named types of these),
//     of values of any of these kinds;
//   - pointers to any of these (nil included);
//   - named structs, of this package or another, whose exported fields have
//     these types;
//   - named types whose underlying type is one of these.
//
// A named type of another package must be exported, even as the type of a
// field of an exported struct: the generated code names it.
//
// Anything else is reported with the path to the field at fault, every
// bad field of a struct and not only the first, each with what to use
// instead (and, for a struct field, that a cbor:"-" tag leaves it out):
// interfaces, channels, functions, complex numbers, maps with other keys,
// anonymous structs, recursive types (a linked list through a pointer
// too), generic types, slices and arrays of a named byte type, and types
// that github.com/fxamacker/cbor/v2 encodes in a way of its own (math/big,
// cbor's own types, types with MarshalCBOR or MarshalBinary methods).
//
// # Encoding
//
// The encoding is the one fxamacker/cbor produces, byte for byte, with
//
//	cbor.EncOptions{Sort: cbor.SortCoreDeterministic, Time: cbor.TimeRFC3339Nano, TimeTag: cbor.EncTagRequired}
//
// (every other option at its default), with one exception, numeric slices,
// below. Integers are in their shortest form, float64 in 8 bytes and
// float32 in 4 (NaN and infinities as half floats), []byte and [N]byte as
// byte strings, other arrays and slices as arrays, nil slices, maps and
// pointers as null, and a pointer as what it points to. A struct is a map
// keyed by field name, and a map is a map, both with their keys in RFC
// 8949's core deterministic order: bytewise by their encodings, which puts
// shorter strings first and non-negative integers before negative ones.
// Equal values therefore encode to equal bytes. A time.Time is tag 0 with
// the text of t.Format(time.RFC3339Nano): its instant and UTC offset, not
// its time zone's name or its monotonic clock reading; the zero time is
// null; a time that RFC 3339 cannot write (a year outside 0000 to 9999)
// fails the encoding, as it fails cbor.Marshal.
//
// A cbor:"name" tag (or, lacking one, a json:"name" tag) renames a key, and
// "-" skips the field, as fxamacker/cbor does; the tag options omitempty,
// omitzero, keyasint and toarray are refused, as are two fields with one
// key and embedded struct fields, rather than encoded differently.
//
// Slices of integers (other than bytes) and of floats are RFC 8746 typed
// arrays: the tag of the element type (72 int8, 77 int16, 78 int32, 79
// int64 and int, 69 uint16, 70 uint32, 71 uint64 and uint, 85 float32, 86
// float64) and a byte string of the elements, little-endian. Writing 1024
// float32 so takes about a fiftieth of the time that writing each as a CBOR
// float does, and reading them a quarter (BenchmarkInlineNumbers in package
// wire compares them); it is also the form such a slice has when it travels
// in shared memory, where the byte string is replaced by the descriptor of
// a slot. fxamacker/cbor writes the same bytes for a cbor.Tag{Number: tag,
// Content: the little-endian bytes}, and reads them into a cbor.Tag or
// cbor.RawTag, not into a []float32.
//
// Decoders accept what fxamacker/cbor writes in that mode and in its
// default one (numeric slices as arrays or as typed arrays, map keys in
// any order, times as RFC 3339 text or as numbers of seconds, tagged or
// not), decode null as the zero value (nil for a slice, map or pointer; a
// pointer to a nil pointer arrives as nil), leave fields whose key is
// missing as they were, read an array or byte string into a fixed-size
// array as fxamacker/cbor does (extra items are dropped, missing ones are
// zero), and skip keys they do not know. Decoding allocates new slices,
// maps and pointers. Encoding a map allocates its sorted keys.
//
// # What it writes
//
// For a package with elements, in the package's directory:
//
//   - sgn_gen.go: for each element an SGNElement method (its sgn.Spec:
//     pads, Run, configuration codec, worker, schema fingerprint; see
//     Stale code and stale workers below), a compile-time check that the
//     element implements sgn.Element, a codec variable per distinct frame
//     type (sgnCodecInt64, sgnCodecPoint, ...) and encode and decode
//     functions per struct type (sgnEncodePoint, sgnDecodePoint). A line
//     const _ = sgn.GeneratedV2 fails to compile against an incompatible
//     package sgn: regenerate then.
//
//     It also holds checks that make it fail to compile once the types it
//     was generated from have changed: each element's struct, and each
//     named type its codecs use (frame and configuration structs, nested
//     ones, named types of other kinds, of this package or another), as
//     they were. A field added, removed, renamed, reordered or retyped, a
//     tag changed (a pad's name, a key), an underlying type changed, or a
//     Run method added to an element that New, Process or Consume runs:
//     the compiler then stops at a line of sgn_gen.go with a message that
//     names an alias such as Pass_changed__run_go_generate or
//     Pass_has_a_Run_method__run_go_generate. Run go generate. The checks
//     are functions named _, which the compiler type-checks and leaves out
//     of the program. Of a struct of another package that has unexported
//     fields, only the fields that travel are checked, one by one: a field
//     added to it is not seen by the compiler (sgngen check sees it). Nor
//     is a Run method promoted from an embedded field.
//
//   - sgnworkers/<package name>-<lowercased type name>/main.go for each
//     element: the worker binary, of that name, that runs the element in
//     its own process. go build -o bin/ ./... puts it next to the pipeline's
//     binary, where package sgn looks for it.
//
// Worker names must therefore be unique among the binaries built into one
// directory, yet two packages of one name (x/elems and y/elems) with
// elements of one type name (Square) give the same name, elems-square.
// Generate reports each element of such a pair; rename a type or a
// package. It can only see the packages of one run: a //go:generate line
// runs sgngen on its own package, so run sgngen check ./... (or generate
// ./...) at the module's root, in CI, to compare all of them. Worker
// binaries of other modules built into the same directory are not checked.
//
// Every file starts with [Header], is gofmt'd, and is the same bytes for
// the same input, whatever the order of files and packages. Imports are
// named by the names the packages declare, with a number added (wire1,
// geo1) where that name is taken: by a package-level declaration of the
// element's package (a type named wire), by a name the generated code
// declares (d, e, n, v, w, ...), or by another import of the same name.
//
// Generated files that no longer have an element are removed: the worker
// main of a deleted element, and the sgn_gen.go and worker mains of a
// package left without elements, or without any file but them (for a
// pattern with "...", such a directory is found by listing the packages
// once more without the sgngen tag). Only files that start with Header are
// ever removed.
//
// # Stale code and stale workers
//
// What runs must be what was generated, and a worker must run what its
// pipeline expects. Three checks see to it, and each says what to do.
//
// Generated code against its types: sgn_gen.go does not compile once an
// element's struct, or a type its codecs use, has changed since it was
// generated (see What it writes); go generate makes it current. sgngen
// check ./... sees every difference, in CI.
//
// A worker binary against the pipeline's element, by schema: each Spec
// has a fingerprint of the element's schema (Spec.Schema: the first 16 hex
// digits of a SHA-256 of its type, the method that runs it, its pads'
// names and frame types, its configuration fields' keys and types, down to
// the name, key and type of every field of every struct in them). The
// pipeline sends it to a worker when it starts it, and a worker whose own
// element has another refuses, before the first frame:
//
//	count: worker binary bin/stages-count serves example.com/m/stages.Count with schema d7753d0e17b5342b, but the pipeline's example.com/m/stages.Count has schema 5f07a1fc943d1915: the element's pads, frame types or configuration fields changed since one of the two binaries was built; rebuild the worker binaries
//
// A worker binary against the pipeline's binary, by origin: a change to a
// method, which leaves the schema alone, is seen when both binaries' build
// information (runtime/debug.ReadBuildInfo) says for sure where the
// element's package came from, and they differ:
//
//   - the package is in a dependency at a version: its module's version
//     and checksum;
//   - the package is in the main module, built by go build from a version
//     control checkout without uncommitted changes: the commit, which go
//     build stamps into the binary (unless -buildvcs=false). Binaries of
//     different commits are refused even if the commits differ elsewhere
//     than in the element's package.
//
// The worker then refuses with "worker binary ... was built from commit
// ... of example.com/m, the pipeline's binary from commit ...: ...; rebuild
// the worker binaries". Nothing is seen when either binary cannot tell:
// uncommitted changes (the usual state while one edits), a binary built by
// go run or go test or with -buildvcs=false, a module replaced by a
// directory; nor a change to a package of another module that the
// element's code calls, when the element's own module is the same. Building
// the pipeline and its workers together, go build -o bin/ ./..., avoids all
// of these.
//
// # Diagnostics
//
// Generate reports every problem it finds, not only the first, as
// path:line:col: message with the path relative to the directory it ran
// in, joined into one error; each is a [*Diagnostic]. When there are any,
// it returns no files.
package gen
