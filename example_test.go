package sgn_test

import (
	"context"
	"fmt"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
)

// A pipeline of three elements: count 1 to 5, multiply by 10, collect. Add
// sgn.InWorker() to an Insert to run that element in its own process.
func ExamplePipeline() {
	count := &testelems.Count{From: 1, To: 5}
	times10 := &testelems.Scale{Factor: 10}
	collect := &testelems.Collect{}

	p := sgn.NewPipeline()
	p.Insert("count", count)
	p.Insert("times10", times10)
	p.Insert("collect", collect)
	sgn.Link(&count.Out, &times10.In)
	sgn.Link(&times10.Out, &collect.In)

	if err := p.Run(context.Background()); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(collect.Got(), collect.SawEOS())
	// Output: [10 20 30 40 50] true
}

// Check reports every pad left unlinked, by its full name, at the line
// that inserted its element.
func ExamplePipeline_Check() {
	count := &testelems.Count{To: 3}
	times10 := &testelems.Scale{Factor: 10}

	p := sgn.NewPipeline()
	p.Insert("count", count)
	p.Insert("times10", times10)
	sgn.Link(&count.Out, &times10.In)

	fmt.Println(p.Check())
	// Output: example_test.go:41: times10:src:out: source pad is not linked
}
