// Package graphsdk holds the integration test that drives the server with
// Microsoft's own Graph SDK for Go (github.com/microsoftgraph/msgraph-sdk-go,
// default middleware on: gzip request bodies, retries, redirects). The
// package has no code: the SDK is a test-only dependency, compiled only
// when this package's tests are (it is large: about 3 minutes of one CPU
// on a cold build cache).
package graphsdk
