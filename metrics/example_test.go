package metrics_test

import (
	"bufio"
	"context"
	"fmt"
	"log"
	"net/http"
	"strings"

	"github.com/sgn-go/sgn"
	"github.com/sgn-go/sgn/internal/testelems"
	"github.com/sgn-go/sgn/metrics"
)

// A pipeline serves its metrics while it runs; here it is scraped once it
// has run, and its frame counters show the five numbers it counted.
func ExampleListen() {
	count := &testelems.Count{From: 1, To: 5}
	sink := &testelems.Collect{}
	p := sgn.NewPipeline()
	p.Insert("count", count)
	p.Insert("sink", sink)
	sgn.Link(&count.Out, &sink.In)

	srv, err := metrics.Listen(p, "127.0.0.1:0") // ":9090" to be scraped from elsewhere
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	if err := p.Run(context.Background()); err != nil {
		log.Fatal(err)
	}

	resp, err := http.Get("http://" + srv.Addr() + "/metrics")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "sgn_pad_frames_total") || strings.HasPrefix(line, `sgn_element_state{element="sink",state="done"}`) {
			fmt.Println(line)
		}
	}
	// Output:
	// sgn_element_state{element="sink",state="done"} 1
	// sgn_pad_frames_total{direction="in",element="sink",pad="in"} 5
	// sgn_pad_frames_total{direction="out",element="count",pad="out"} 5
}
