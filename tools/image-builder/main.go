// Command image-builder writes a container image archive that `ctr images import` and `docker load`
// accept, from files built on this machine, with go-containerregistry (the library behind crane).
// It exists because crane's CLI cannot set an image's config (entrypoint, env) without a registry.
//
// Usage:
//
//	image-builder -tag registry.k8s.io/pause:3.10.2 -out pause.tar \
//	  [-base rootfs.tar] -add /path/on/host:/pause:0755 [-add …] \
//	  [-entrypoint /pause] [-env PATH=/usr/local/bin:/usr/bin:/bin] [-user 65535:65535]
//
// Layers: the optional -base tarball as it is (e.g. a Debian rootfs written by mmdebstrap), then one
// layer holding every -add file. The added layer is written in path order with a fixed time, owner
// root and the given mode, so the same inputs give the same layer digest.
package main

import (
	"archive/tar"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// epoch is the time written into the added layer's entries and the image's config: fixed, so a
// rebuild from the same files is byte-identical.
var epoch = time.Unix(0, 0).UTC()

type addition struct {
	src  string
	dest string
	mode int64
}

type repeated []string

func (r *repeated) String() string     { return strings.Join(*r, ",") }
func (r *repeated) Set(v string) error { *r = append(*r, v); return nil }

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "image-builder: %v\n", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("image-builder", flag.ContinueOnError)
	tag := fs.String("tag", "", "image name and tag, e.g. registry.k8s.io/pause:3.10.2 (required)")
	out := fs.String("out", "", "archive to write (required)")
	base := fs.String("base", "", "a rootfs tarball used as the first layer")
	user := fs.String("user", "", "the config's User")
	var adds, envs, entrypoint, cmd repeated
	fs.Var(&adds, "add", "SRC:DEST[:MODE] (octal mode, default 0755), repeatable")
	fs.Var(&envs, "env", "KEY=VALUE, repeatable")
	fs.Var(&entrypoint, "entrypoint", "one entrypoint argument, repeatable")
	fs.Var(&cmd, "cmd", "one cmd argument, repeatable")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *tag == "" || *out == "" {
		return fmt.Errorf("-tag and -out are required (got tag %q, out %q)", *tag, *out)
	}
	ref, err := name.NewTag(*tag, name.StrictValidation)
	if err != nil {
		return fmt.Errorf("-tag %q: %w", *tag, err)
	}
	additions, err := parseAdditions(adds)
	if err != nil {
		return err
	}

	img := empty.Image
	if *base != "" {
		layer, err := tarball.LayerFromFile(*base)
		if err != nil {
			return fmt.Errorf("-base %s: %w", *base, err)
		}
		if img, err = mutate.AppendLayers(img, layer); err != nil {
			return err
		}
	}
	if len(additions) > 0 {
		data, err := layerTar(additions)
		if err != nil {
			return err
		}
		layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil })
		if err != nil {
			return err
		}
		if img, err = mutate.AppendLayers(img, layer); err != nil {
			return err
		}
	}

	cf, err := img.ConfigFile()
	if err != nil {
		return err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture = "linux", "amd64"
	cf.Created = v1.Time{Time: epoch}
	cf.Config.Env = envs
	cf.Config.Entrypoint = entrypoint
	cf.Config.Cmd = cmd
	cf.Config.User = *user
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		return err
	}

	tmp := *out + ".tmp"
	if err := tarball.WriteToFile(tmp, ref, img); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", *out, err)
	}
	return os.Rename(tmp, *out)
}

func parseAdditions(specs []string) ([]addition, error) {
	var out []addition
	seen := map[string]bool{}
	for _, s := range specs {
		parts := strings.Split(s, ":")
		if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || !strings.HasPrefix(parts[1], "/") {
			return nil, fmt.Errorf("-add must be SRC:/DEST[:MODE], got %q", s)
		}
		a := addition{src: parts[0], dest: path.Clean(parts[1]), mode: 0o755}
		if len(parts) == 3 {
			m, err := strconv.ParseInt(parts[2], 8, 32)
			if err != nil || m < 0 || m > 0o7777 {
				return nil, fmt.Errorf("-add %q: MODE must be octal 0000-7777, got %q", s, parts[2])
			}
			a.mode = m
		}
		if seen[a.dest] {
			return nil, fmt.Errorf("-add: %s is added twice", a.dest)
		}
		seen[a.dest] = true
		out = append(out, a)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].dest < out[j].dest })
	return out, nil
}

// layerTar writes the additions, and every parent directory they need, as one tar stream.
func layerTar(additions []addition) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	var mkdirs func(dir string) error
	mkdirs = func(dir string) error {
		if dir == "/" || dir == "." || dirs[dir] {
			return nil
		}
		if err := mkdirs(path.Dir(dir)); err != nil {
			return err
		}
		dirs[dir] = true
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: strings.TrimPrefix(dir, "/") + "/", Mode: 0o755, ModTime: epoch, Format: tar.FormatPAX})
	}
	for _, a := range additions {
		data, err := os.ReadFile(a.src)
		if err != nil {
			return nil, fmt.Errorf("-add %s: %w", a.src, err)
		}
		if err := mkdirs(path.Dir(a.dest)); err != nil {
			return nil, err
		}
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: strings.TrimPrefix(a.dest, "/"), Mode: a.mode, Size: int64(len(data)), ModTime: epoch, Format: tar.FormatPAX}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
