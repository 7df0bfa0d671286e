//go:build tools

// Package tools records what scripts/image/build.sh builds from this module, so `go mod tidy` keeps it.
package tools

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "go.etcd.io/etcd/etcdctl/v3"
	_ "go.etcd.io/etcd/etcdutl/v3"
)
