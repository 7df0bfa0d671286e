//go:build tools

// Package tools only records the tool this module builds, so `go mod tidy` keeps it required.
package tools

import _ "github.com/opentofu/opentofu/cmd/tofu"
