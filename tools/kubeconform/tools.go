//go:build tools

// Package tools only records the tool this module builds, so `go mod tidy` keeps it required.
package tools

import _ "github.com/yannh/kubeconform/cmd/kubeconform"
