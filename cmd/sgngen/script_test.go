package main

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

// TestMain lets the test binary be the sgngen command of the scripts: run
// as "sgngen", it is sgngen's main, so the scripts need not build it.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"sgngen": main})
}

// goEnv lists the variables that the go command of a script inherits from
// this one's configuration: testscript gives scripts a HOME that does not
// exist, so without them the go command would have no build or module
// cache, and would not see settings made with go env -w.
var goEnv = []string{
	"GOCACHE", "GOMODCACHE", "GOPATH", "GOPROXY", "GOSUMDB", "GONOSUMDB",
	"GOPRIVATE", "GONOPROXY", "GOINSECURE", "GOFLAGS", "GOTOOLCHAIN",
}

// TestScripts runs the scripts in testdata/script: each is a user's
// session in a new module that uses this checkout of sgn-go, with real go
// commands. In a script, $SGN is the checkout's root directory.
func TestScripts(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go commands in new modules")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", append([]string{"env", "-json"}, goEnv...)...).Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	var vars map[string]string
	if err := json.Unmarshal(out, &vars); err != nil {
		t.Fatalf("go env -json: %v", err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup: func(e *testscript.Env) error {
			e.Setenv("SGN", root)
			for _, name := range goEnv {
				if v := vars[name]; v != "" {
					e.Setenv(name, v)
				}
			}
			return nil
		},
	})
}
