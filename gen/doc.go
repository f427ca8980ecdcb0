// Package gen is sgngen as a library: it reads Go packages that declare
// elements and returns the files that make them runnable by package sgn.
//
// (The full manual follows in a later revision.)
package gen
