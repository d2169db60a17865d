package api

// LogKeys is the answer of GET /v1/log/keys (and of
// /.well-known/axontask-log-keys): the transparency log's public keys, each
// in golang.org/x/mod/sumdb/note's verifier key form,
// "<name>+<8 hex digits of key hash>+<base64 of 0x01 || Ed25519 public key>".
type LogKeys struct {
	// Origin is the log's origin line, the first line of its checkpoints.
	Origin string `json:"origin"`
	// Log lists the checkpoint keys: the current one first, then keys
	// rotated out, whose old checkpoints and receipts still verify.
	Log []string `json:"log"`
	// Receipts lists the receipt keys: the one that signs (none when the
	// deployment issues no receipts), then keys rotated out.
	Receipts []string `json:"receipts"`
	// Witnesses lists the witnesses whose cosignatures the log accepts on
	// its checkpoints.
	Witnesses []string `json:"witnesses"`
}
