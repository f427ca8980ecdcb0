package gen

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
)

// Stale returns the paths of files whose content on disk is not what
// Generate returned: missing, different, or present though to be removed.
func Stale(files []File) ([]string, error) {
	var stale []string
	for _, f := range files {
		old, err := os.ReadFile(f.Path)
		switch {
		case errors.Is(err, os.ErrNotExist):
			if !f.Remove {
				stale = append(stale, f.Path)
			}
		case err != nil:
			return stale, err
		case f.Remove || !bytes.Equal(old, f.Content):
			stale = append(stale, f.Path)
		}
	}
	return stale, nil
}

// Commit writes files to disk: each file whose content differs from what is
// there is written atomically (a temporary file renamed over it); a file to
// remove is removed, with its directory if that is left empty. Files
// already current are not touched. Commit returns the paths it wrote and
// those it removed.
func Commit(files []File) (written, removed []string, err error) {
	stale, err := Stale(files)
	if err != nil {
		return nil, nil, err
	}
	isStale := map[string]bool{}
	for _, p := range stale {
		isStale[p] = true
	}
	for _, f := range files {
		if !isStale[f.Path] {
			continue
		}
		if f.Remove {
			if err := os.Remove(f.Path); err != nil {
				return written, removed, err
			}
			removeEmptyDirs(filepath.Dir(f.Path))
			removed = append(removed, f.Path)
			continue
		}
		if err := writeFile(f.Path, f.Content); err != nil {
			return written, removed, err
		}
		written = append(written, f.Path)
	}
	return written, removed, nil
}

// removeEmptyDirs removes dir, a worker's directory, if it is empty, and
// then the sgnworkers directory above it if that is empty too.
func removeEmptyDirs(dir string) {
	if os.Remove(dir) == nil && filepath.Base(filepath.Dir(dir)) == WorkerDir {
		os.Remove(filepath.Dir(dir)) // fails, as it should, if not empty
	}
}

// writeFile writes data to path through a temporary file in the same
// directory, so that a reader never sees half a file.
func writeFile(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // fails harmlessly after the rename
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	mode := os.FileMode(0o644)
	if st, err := os.Stat(path); err == nil {
		mode = st.Mode().Perm()
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
