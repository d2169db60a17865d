// Package integrity implements AxonTask's tamper-evidence: the canonical
// payload bytes (RFC 8785), the salted payload digest, the per-stream hash
// chain entry, and offline verification of exported events. It does no I/O and imports only domain, so the offline verifier
// and any third party can use it as is. docs/integrity.md is the spec.
package integrity
