// Package deploy holds textclf's deployment files (a Dockerfile and
// Kubernetes manifests under kubernetes/) and, in its tests, their check:
// each manifest decoded strictly into the Kubernetes API types (an unknown
// or misspelt field is an error), and the fields the deployment relies on.
// It is a Go module of its own so that the Kubernetes API packages never
// enter the core module.
package deploy
