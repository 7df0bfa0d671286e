//go:build tools

// Package tools records the build's one dependency, so `go mod tidy` keeps it.
package tools

import _ "k8s.io/kubernetes/cmd/kubeadm"
