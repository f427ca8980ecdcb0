package gen

import (
	"fmt"
	"go/ast"
	"go/token"
	"go/types"
)

// runMethod picks the method that Spec.Run calls, in this order: Run(ctx)
// for any pads; else New for one source pad, Process for one sink and one
// source pad, Consume for one sink pad. If there is none, it reports which
// method to write, with its exact signature, and returns "".
func (a *analyser) runMethod(info *pkgInfo, pos token.Pos, named *types.Named, e *element) string {
	methods := types.NewMethodSet(types.NewPointer(named))
	signature := func(name string) *types.Signature {
		if sel := methods.Lookup(nil, name); sel != nil {
			if fn, ok := sel.Obj().(*types.Func); ok {
				return fn.Signature()
			}
		}
		return nil
	}
	frame := func(p *pad) string { return "sgn.Frame[" + info.types.typeString(p.typ.typ) + "]" }
	const runSig = "Run(ctx *sgn.Context) error"

	if sig := signature("Start"); sig != nil && !isInvalid(sig) && !isSig(sig, nil, nil) {
		a.errorf(pos, "%s: method Start has type %s; want Start(ctx *sgn.Context) error, which the pipeline calls before the first frame", e.name, info.types.typeString(sig))
		return ""
	}
	if sig := signature("Run"); sig != nil {
		switch {
		case isInvalid(sig):
			a.methodTypeErrors(info, named, "Run")
			return ""
		case !isSig(sig, nil, nil):
			a.errorf(pos, "%s: method Run has type %s; want %s", e.name, info.types.typeString(sig), runSig)
			return ""
		case !pointerReceiver(sig):
			a.errorf(pos, "%s: method Run has a value receiver; declare it on *%s: Run uses the element's pads, which must not be copied", e.name, e.name)
			return ""
		}
		return "Run"
	}

	var method, shape, want string
	var in, out *pad
	switch {
	case len(e.sources) == 1 && len(e.sinks) == 0:
		method, shape, out = "New", "one source pad", e.sources[0]
		want = fmt.Sprintf("New(ctx *sgn.Context) (%s, error)", frame(out))
	case len(e.sources) == 1 && len(e.sinks) == 1:
		method, shape, in, out = "Process", "one sink pad and one source pad", e.sinks[0], e.sources[0]
		want = fmt.Sprintf("Process(ctx *sgn.Context, f %s) (%s, error)", frame(in), frame(out))
	case len(e.sources) == 0 && len(e.sinks) == 1:
		method, shape, in = "Consume", "one sink pad", e.sinks[0]
		want = fmt.Sprintf("Consume(ctx *sgn.Context, f %s) error", frame(in))
	default:
		a.errorf(pos, "%s has %s and %s: write the method %s", e.name,
			count(len(e.sinks), "sink pad"), count(len(e.sources), "source pad"), runSig)
		return ""
	}
	sig := signature(method)
	switch {
	case sig == nil:
		a.errorf(pos, "%s has %s: write the method %s, or %s", e.name, shape, want, runSig)
		return ""
	case isInvalid(sig):
		a.methodTypeErrors(info, named, method)
		return ""
	case !isSig(sig, in, out):
		a.errorf(pos, "%s: method %s has type %s; want %s", e.name, method, info.types.typeString(sig), want)
		return ""
	}
	return method
}

// pointerReceiver reports whether sig is a method's on a pointer receiver.
func pointerReceiver(sig *types.Signature) bool {
	_, ok := sig.Recv().Type().(*types.Pointer)
	return ok
}

// methodTypeErrors reports the type errors in the signature of named's
// method name.
func (a *analyser) methodTypeErrors(info *pkgInfo, named *types.Named, name string) {
	obj, _, _ := types.LookupFieldOrMethod(types.NewPointer(named), false, named.Obj().Pkg(), name)
	fn, _ := obj.(*types.Func)
	if fn == nil {
		return
	}
	var sig ast.Node
	for _, f := range info.pkg.Syntax {
		for _, d := range f.Decls {
			if fd, ok := d.(*ast.FuncDecl); ok && fd.Name.Pos() == fn.Pos() {
				sig = fd.Type
			}
		}
	}
	a.typeErrors(info.pkg, fn.Pos(), sig, "method "+name)
}

// isSig reports whether sig is func(*sgn.Context[, sgn.Frame[in]]) followed
// by ([sgn.Frame[out], ]error), where a nil pad leaves its part out.
func isSig(sig *types.Signature, in, out *pad) bool {
	params, results := sig.Params(), sig.Results()
	want := 1
	if in != nil {
		want++
	}
	if params.Len() != want || sig.Variadic() || !isContext(params.At(0).Type()) {
		return false
	}
	if in != nil && !isFrameOf(params.At(1).Type(), in.typ.typ) {
		return false
	}
	want = 1
	if out != nil {
		want++
	}
	if results.Len() != want || !types.Identical(results.At(want-1).Type(), types.Universe.Lookup("error").Type()) {
		return false
	}
	return out == nil || isFrameOf(results.At(0).Type(), out.typ.typ)
}

// isContext reports whether t is *sgn.Context.
func isContext(t types.Type) bool {
	p, ok := t.(*types.Pointer)
	return ok && isSGN(p.Elem(), "Context")
}

// isFrameOf reports whether t is sgn.Frame[data].
func isFrameOf(t, data types.Type) bool {
	n, ok := types.Unalias(t).(*types.Named)
	return ok && isSGN(n, "Frame") && n.TypeArgs().Len() == 1 && types.Identical(n.TypeArgs().At(0), data)
}

// isSGN reports whether t is the named type sgn.<name> (or an instance of it).
func isSGN(t types.Type, name string) bool {
	n, ok := types.Unalias(t).(*types.Named)
	if !ok {
		return false
	}
	obj := n.Origin().Obj()
	return obj.Pkg() != nil && obj.Pkg().Path() == sgnPath && obj.Name() == name
}

func count(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}
