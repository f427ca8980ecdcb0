package wire

import (
	"encoding/binary"
	"fmt"
	"unsafe"
)

// TagSlot is the CBOR tag of a slot descriptor: a payload that lives in a
// slot of a shared-memory pool rather than in the message. Its content is
// an array of four unsigned integers, the fields of a [Slot]. The tag
// number is in the range that RFC 8949 leaves to first come, first served;
// "SGN" and a zero byte.
const TagSlot = 0x53474E00

// A Slot describes a payload held in a slot of a shared-memory pool.
type Slot struct {
	Index  uint32 // the slot's number in the pool
	Gen    uint32 // the slot's generation: it changes each time the slot is freed
	Offset uint64 // where the payload starts, in bytes from the slot's start
	Len    uint64 // the payload's length in bytes
}

func (s Slot) String() string {
	return fmt.Sprintf("slot %d (generation %d, bytes %d to %d)", s.Index, s.Gen, s.Offset, s.Offset+s.Len)
}

// AppendSlot appends s as a tagged slot descriptor.
func AppendSlot(b []byte, s Slot) []byte {
	b = appendHead(b, majorTag, TagSlot)
	b = AppendArrayHeader(b, 4)
	b = AppendUint(b, uint64(s.Index))
	b = AppendUint(b, uint64(s.Gen))
	b = AppendUint(b, s.Offset)
	return AppendUint(b, s.Len)
}

// A Resolver maps slot descriptors to memory. Resolve returns the payload's
// bytes, which alias the pool, or an error if the descriptor does not
// describe a payload this process may read (a slot that does not exist,
// bytes beyond its end, a generation that is not current).
type Resolver interface {
	Resolve(s Slot) ([]byte, error)
}

// SetResolver makes d resolve slot descriptors with r; without one, a slot
// descriptor is an error. Reset keeps the resolver.
func (d *Decoder) SetResolver(r Resolver) { d.slots = r }

// Typed-array element kinds, for arrayTag.
const (
	kindUnsigned = iota
	kindSigned
	kindFloat
)

// arrayTag returns the RFC 8746 tag of a little-endian typed array of
// elements of the given kind and size in bytes.
func arrayTag(kind, size int) uint64 {
	var f, s, ll uint64
	switch kind {
	case kindSigned:
		s = 1
	case kindFloat:
		f = 1
	}
	switch size {
	case 2:
		ll = 1
	case 4:
		ll = 2
	case 8:
		ll = 3
	}
	if f == 1 {
		ll-- // float16 is size code 0
	}
	tag := 64 | f<<4 | s<<3 | ll
	if size > 1 {
		tag |= 1 << 2 // little-endian; one-byte elements have no byte order
	}
	return tag
}

// nativeLittleEndian holds on every platform sgn-go runs on; typed arrays
// are written in the machine's byte order and tagged as little-endian.
var nativeLittleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

func init() {
	if !nativeLittleEndian {
		panic("sgn-go's wire format needs a little-endian machine")
	}
}

// slot reads a slot descriptor, whose tag head has been read, and resolves
// it.
func (d *Decoder) slot(start int) ([]byte, bool) {
	s, ok := d.slotFields(start)
	if !ok {
		return nil, false
	}
	if d.slots == nil {
		d.failAt(start, "%v where no slot descriptor may be: outside a pipeline, or in a frame that does not say it holds any", s)
		return nil, false
	}
	p, err := d.slots.Resolve(s)
	if err != nil {
		d.failAt(start, "%v", err)
		return nil, false
	}
	if uint64(len(p)) != s.Len {
		d.failAt(start, "%v resolved to %d bytes", s, len(p))
		return nil, false
	}
	return p, true
}

// slotFields reads the array of a slot descriptor.
func (d *Decoder) slotFields(start int) (Slot, bool) {
	n, ok := d.ArrayLen()
	if !ok || n != 4 {
		d.failAt(start, "a slot descriptor must be an array of 4 unsigned integers")
		return Slot{}, false
	}
	s := Slot{Index: uint32(d.Uint(32)), Gen: uint32(d.Uint(32)), Offset: d.Uint(64), Len: d.Uint(64)}
	return s, d.err == nil
}

// tagged reads a tag head if a tag is next, and returns its number.
func (d *Decoder) tagged() (tag uint64, start int, ok bool) {
	c, more := d.peek()
	if !more || c&0xe0 != majorTag {
		return 0, 0, false
	}
	start = d.off
	_, tag, ok = d.head()
	return tag, start, ok
}

// typedArray reads a typed array with the given tag, if one is next: a
// byte string (inline) or a slot descriptor. It returns the elements'
// bytes and whether they alias a slot. found is false if the next item is
// not a tag; another tag is an error.
func (d *Decoder) typedArray(want uint64, size int) (p []byte, inSlot, found bool) {
	tag, start, ok := d.tagged()
	if !ok {
		return nil, false, false
	}
	if tag != want {
		d.failAt(start, "expected a typed array with tag %d, found tag %d", want, tag)
		return nil, false, true
	}
	if inner, at, ok := d.tagged(); ok {
		if inner != TagSlot {
			d.failAt(at, "expected a byte string or a slot descriptor, found tag %d", inner)
			return nil, false, true
		}
		p, ok = d.slot(at)
		inSlot = true
	} else {
		p, ok = d.payload(majorBytes)
	}
	if !ok {
		return nil, false, true
	}
	if len(p)%size != 0 {
		d.failAt(start, "typed array of %d bytes does not hold whole %d-byte elements", len(p), size)
		return nil, false, true
	}
	if inSlot && uintptr(unsafe.Pointer(unsafe.SliceData(p)))%uintptr(size) != 0 {
		d.failAt(start, "slot payload is not aligned for %d-byte elements", size)
		return nil, false, true
	}
	return p, inSlot, true
}

// typedSlice returns the elements in p: a slice aliasing p if it is in a
// slot, else a copy; nil after an error.
func typedSlice[T any](d *Decoder, p []byte, inSlot bool) []T {
	if d.err != nil {
		return nil
	}
	n := len(p) / sizeOf[T]()
	if n == 0 {
		return []T{}
	}
	if inSlot {
		return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(p))), n)
	}
	s := make([]T, n)
	copy(memory(s), p)
	return s
}

// WalkSlots calls fn for every slot descriptor in b, a sequence of CBOR
// items, at any depth. It stops at the first error, fn's or b's.
func WalkSlots(b []byte, fn func(Slot) error) error {
	return walkSlots(b, func(s Slot, _, _ int) error { return fn(s) })
}

// walkSlots is WalkSlots, telling fn where each descriptor is in b.
func walkSlots(b []byte, fn func(s Slot, start, end int) error) error {
	d := Decoder{buf: b}
	for d.Len() > 0 && d.err == nil {
		d.walk(0, fn)
	}
	return d.err
}

// Inline returns a copy of b, a sequence of CBOR items, in which every slot
// descriptor is replaced by a byte string of its payload, which payload
// returns: the same values, travelling in the message. A typed array that
// held a descriptor holds the byte string.
func Inline(b []byte, payload func(Slot) ([]byte, error)) ([]byte, error) {
	var out []byte
	last := 0
	err := walkSlots(b, func(s Slot, start, end int) error {
		p, err := payload(s)
		if err != nil {
			return err
		}
		out = append(out, b[last:start]...)
		out = appendHead(out, majorBytes, uint64(len(p)))
		out = append(out, p...)
		last = end
		return nil
	})
	if err != nil {
		return nil, err
	}
	return append(out, b[last:]...), nil
}

// walk reads one item, calling fn for the slot descriptors in it.
func (d *Decoder) walk(depth int, fn func(s Slot, start, end int) error) {
	if depth > maxDepth {
		d.Fail("items nested more than %d deep", maxDepth)
		return
	}
	c, ok := d.peek()
	if !ok {
		d.Fail("unexpected end of input")
		return
	}
	switch c & 0xe0 {
	case majorTag:
		start := d.off
		tag, _, _ := d.tagged()
		if tag != TagSlot {
			d.walk(depth+1, fn)
			return
		}
		if s, ok := d.slotFields(start); ok {
			if err := fn(s, start, d.off); err != nil {
				d.failAt(start, "%v", err)
			}
		}
	case majorArray, majorMap:
		start := d.off
		_, n, ok := d.head()
		if !ok {
			return
		}
		if n > uint64(d.Len()) {
			d.failAt(start, "%s of %d items runs past the end of the input", describe(c), n)
			return
		}
		if c&0xe0 == majorMap {
			n *= 2
		}
		for i := uint64(0); i < n && d.err == nil; i++ {
			d.walk(depth+1, fn)
		}
	default:
		d.Skip()
	}
}
