package wire

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Null consumes a null (or undefined) item if one is next, and reports
// whether it did. Generated decoders use it for pointers: null is a nil
// pointer.
func (d *Decoder) Null() bool { return d.nullOrUndefined() }

// ByteArray appends the bytes of a fixed-size byte array ([N]byte) as a
// byte string. Unlike Bytes, it always writes them inline.
func (e *Encoder) ByteArray(p []byte) {
	if !e.scan {
		e.buf = append(appendHead(e.buf, majorBytes, uint64(len(p))), p...)
	}
}

// ByteArray reads a byte string (or an array of bytes) into dst, a
// fixed-size byte array, as fxamacker/cbor does: what does not fit is
// dropped, and the rest of dst is zeroed. Null leaves dst as it is.
func (d *Decoder) ByteArray(dst []byte) {
	if d.nullOrUndefined() {
		return
	}
	c, ok := d.peek()
	if !ok {
		d.Fail("unexpected end of input")
		return
	}
	if c&0xe0 == majorArray {
		n, _ := d.ArrayLen()
		for i := range n {
			v := byte(d.Uint(8))
			if i < len(dst) {
				dst[i] = v
			}
		}
		clear(dst[min(n, len(dst)):])
		return
	}
	p, ok := d.payload(majorBytes)
	if !ok {
		return
	}
	clear(dst[copy(dst, p):])
}

// Time appends t as RFC 8949's standard date/time string: tag 0 and the
// text of t.Format(time.RFC3339Nano), as fxamacker/cbor writes it with
// EncOptions{Time: TimeRFC3339Nano, TimeTag: EncTagRequired}; the zero
// time is null. A time that RFC 3339 cannot write (a year outside 0000 to
// 9999, or a UTC offset of a day or more) fails the encoding, as it fails
// cbor.Marshal.
func (e *Encoder) Time(t time.Time) {
	if e.scan || e.err != nil {
		return
	}
	if t.IsZero() {
		e.buf = AppendNull(e.buf)
		return
	}
	s := t.Format(time.RFC3339Nano)
	if msg := rfc3339Limits(s); msg != "" {
		e.err = fmt.Errorf("cannot encode time %s: %s", s, msg)
		return
	}
	e.buf = AppendString(appendHead(e.buf, majorTag, 0), s)
}

// rfc3339Limits says why s, a time formatted with RFC3339Nano, is not
// RFC 3339 (a year outside 0000 to 9999, an offset of 24 hours or more),
// or returns "".
func rfc3339Limits(s string) string {
	if len(s) < len("2006-01-02T15:04:05Z") || s[4] != '-' {
		return "its year is outside 0000 to 9999, which RFC 3339 cannot write"
	}
	if s[len(s)-1] != 'Z' {
		zone := s[len(s)-len("+07:00"):]
		if (zone[0] != '+' && zone[0] != '-') || zone[1] > '2' || (zone[1] == '2' && zone[2] >= '4') {
			return "its UTC offset is a day or more, which RFC 3339 cannot write"
		}
	}
	return ""
}

// Time reads a time as fxamacker/cbor does: an RFC 3339 text string, or a
// number of seconds since the Unix epoch (an integer or a float), each
// with tag 0 or 1 or without. Null is the zero time. A time that Encoder.Time
// could not write back is an error.
func (d *Decoder) Time() time.Time {
	if d.nullOrUndefined() {
		return time.Time{}
	}
	start := d.off
	if tag, at, ok := d.tagged(); ok && tag != 0 && tag != 1 {
		d.failAt(at, "expected a time, found tag %d", tag)
		return time.Time{}
	}
	c, ok := d.peek()
	if !ok {
		d.Fail("unexpected end of input")
		return time.Time{}
	}
	var t time.Time
	switch {
	case c&0xe0 == majorText:
		s := d.Text()
		if d.err != nil {
			return time.Time{}
		}
		var err error
		if t, err = time.Parse(time.RFC3339, s); err != nil {
			d.failAt(start, "text %q is not an RFC 3339 time", s)
			return time.Time{}
		}
	case c&0xe0 == majorUint || c&0xe0 == majorNegInt:
		t = time.Unix(d.Int(64), 0)
	case c == valFloat16 || c == valFloat32 || c == valFloat64:
		f := d.Float64()
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return time.Time{}
		}
		secs, frac := math.Modf(f)
		if secs >= math.MaxInt64 || secs < math.MinInt64 {
			d.failAt(start, "time of %g seconds overflows int64", f)
			return time.Time{}
		}
		t = time.Unix(int64(secs), int64(frac*1e9))
	default:
		d.failAt(start, "expected a time, found %s", describe(c))
		return time.Time{}
	}
	if d.err != nil {
		return time.Time{}
	}
	if !t.IsZero() {
		if msg := rfc3339Limits(t.Format(time.RFC3339Nano)); msg != "" {
			d.failAt(start, "time %v: %s", t, msg)
			return time.Time{}
		}
	}
	return t
}

// StringKeys returns the keys of m in the order RFC 8949's core
// deterministic encoding sorts them (fxamacker/cbor's SortCoreDeterministic,
// bytewise by their encoding): shorter keys first, then bytewise.
// Generated encoders write maps in this order, so that equal maps encode
// to equal bytes.
func StringKeys[M ~map[K]V, K ~string, V any](m M) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b K) int {
		if c := cmp.Compare(len(a), len(b)); c != 0 {
			return c
		}
		return strings.Compare(string(a), string(b))
	})
	return keys
}

// IntKeys returns the keys of m in the order of their encoding, as
// StringKeys does: the non-negative ones in increasing order, then the
// negative ones in decreasing order (-1, -2, ...).
func IntKeys[M ~map[K]V, K Signed, V any](m M) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b K) int {
		switch {
		case a >= 0 && b >= 0:
			return cmp.Compare(a, b)
		case a < 0 && b < 0:
			return cmp.Compare(b, a)
		case a >= 0:
			return -1
		}
		return 1
	})
	return keys
}

// UintKeys returns the keys of m in increasing order, the order of their
// encoding.
func UintKeys[M ~map[K]V, K Unsigned | ~uint8, V any](m M) []K {
	keys := make([]K, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
