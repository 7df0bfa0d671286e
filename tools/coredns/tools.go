//go:build tools

// Package tools records what scripts/image/build.sh builds from this module, so `go mod tidy` keeps it.
package tools

import (
	_ "github.com/coredns/coredns"
)
