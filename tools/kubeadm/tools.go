//go:build tools

// Package tools records the build's dependencies, so `go mod tidy` keeps them: kubeadm
// (scripts/tools/kubeadm.sh) and kubectl (scripts/tools/kubectl.sh) of the same release.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kubeadm"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
