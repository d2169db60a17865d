package integrity_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"os"
	"regexp"
	"testing"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"

	"github.com/axontask/axontask/domain"
	"github.com/axontask/axontask/integrity"
)

// Golden files of the transparency log and receipts (docs/integrity.md
// sections 8 and 9 quote them).
const (
	logVectorsFile    = "testdata/log-vectors.json"
	receiptExportFile = "testdata/export-receipt.jsonl"
)

// The golden log's keys: seeds of bytes 0xa0 … 0xbf and 0xc0 … 0xdf.
const (
	vectorOrigin      = "log.example.com/axontask"
	vectorReceiptName = "log.example.com/axontask/receipts"
)

// logVectorFile is the layout of testdata/log-vectors.json.
type logVectorFile struct {
	Comment            []string                   `json:"comment"`
	LogKeySeed         string                     `json:"log_key_seed"`
	LogVerifierKey     string                     `json:"log_verifier_key"`
	ReceiptKeySeed     string                     `json:"receipt_key_seed"`
	ReceiptVerifierKey string                     `json:"receipt_verifier_key"`
	TerminalEvent      eventVector                `json:"terminal_event"`
	LeafHashes         []string                   `json:"leaf_hashes"`
	Nodes              map[string]string          `json:"nodes"`
	Size               int64                      `json:"size"`
	Root               string                     `json:"root"`
	Checkpoint         string                     `json:"checkpoint"`
	OlderCheckpoint    string                     `json:"older_checkpoint"`
	Inclusion          integrity.InclusionProof   `json:"inclusion"`
	Consistency        integrity.ConsistencyProof `json:"consistency"`
	ReceiptSignedBytes string                     `json:"receipt_signed_bytes"`
	Receipt            integrity.Receipt          `json:"receipt"`
}

func seedBytes(first byte) []byte {
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = first + byte(i)
	}
	return seed
}

// vectorKeys returns the golden log's signers and verifiers.
func vectorKeys(t testing.TB) (logSigner, receiptSigner note.Signer, keys integrity.ReceiptKeys, logVKey, receiptVKey string) {
	t.Helper()
	logSigner, logVKey, err := integrity.Ed25519Signer(vectorOrigin, seedBytes(0xa0))
	if err != nil {
		t.Fatal(err)
	}
	receiptSigner, receiptVKey, err = integrity.Ed25519Signer(vectorReceiptName, seedBytes(0xc0))
	if err != nil {
		t.Fatal(err)
	}
	if keys.Log, err = note.NewVerifier(logVKey); err != nil {
		t.Fatal(err)
	}
	if keys.Receipt, err = note.NewVerifier(receiptVKey); err != nil {
		t.Fatal(err)
	}
	return logSigner, receiptSigner, keys, logVKey, receiptVKey
}

// memTree is a Merkle tree in memory, stored as tlog lays hashes out.
type memTree struct{ hashes []tlog.Hash }

func (m *memTree) ReadHashes(indexes []int64) ([]tlog.Hash, error) {
	out := make([]tlog.Hash, len(indexes))
	for i, x := range indexes {
		out[i] = m.hashes[x]
	}
	return out, nil
}

func (m *memTree) add(t testing.TB, n int64, leaf domain.Hash) {
	t.Helper()
	hs, err := tlog.StoredHashesForRecordHash(n, tlog.Hash(leaf), m)
	if err != nil {
		t.Fatal(err)
	}
	m.hashes = append(m.hashes, hs...)
}

func (m *memTree) checkpoint(t testing.TB, size int64) integrity.Checkpoint {
	t.Helper()
	root, err := tlog.TreeHash(size, m)
	if err != nil {
		t.Fatal(err)
	}
	return integrity.Checkpoint{Origin: vectorOrigin, Size: size, Root: domain.Hash(root)}
}

func (m *memTree) inclusion(t testing.TB, index, size int64) []string {
	t.Helper()
	p, err := tlog.ProveRecord(size, index, m)
	if err != nil {
		t.Fatal(err)
	}
	return fromTlog(p)
}

func (m *memTree) consistency(t testing.TB, older, newer int64) []string {
	t.Helper()
	p, err := tlog.ProveTree(newer, older, m)
	if err != nil {
		t.Fatal(err)
	}
	return fromTlog(p)
}

func fromTlog(p []tlog.Hash) []string {
	hs := make([]domain.Hash, len(p))
	for i, h := range p {
		hs[i] = domain.Hash(h)
	}
	return integrity.FormatProof(hs)
}

// logFixture is the golden log: the golden events, then task A's
// task.succeeded at position 4, in a tree of 5 leaves.
type logFixture struct {
	events        []domain.Event
	tree          *memTree
	logSigner     note.Signer
	receiptSigner note.Signer
	keys          integrity.ReceiptKeys
	file          logVectorFile
}

func newLogFixture(t testing.TB) *logFixture {
	t.Helper()
	c := newChain()
	f := &logFixture{tree: &memTree{}}
	for _, in := range vectorInputs {
		e := c.add(t, in.stream, in.typ, in.payload)
		e.Metadata.Actor = in.actor
		f.events = append(f.events, e)
	}
	end := c.add(t, vectorStreamA, domain.TaskSucceededType, `{"exit_code": 0, "summary": "built"}`)
	end.Metadata.Actor = "worker:w1"
	f.events = append(f.events, end)
	var logVKey, receiptVKey string
	f.logSigner, f.receiptSigner, f.keys, logVKey, receiptVKey = vectorKeys(t)
	lf := logVectorFile{
		Comment: []string{
			"Golden test vectors of the AxonTask transparency log and receipts (docs/integrity.md",
			"sections 8 and 9). Generated by go test ./integrity -run TestGoldenLogVectors -update;",
			"never edit by hand. The events are those of vectors.json, then task A's task.succeeded",
			"at position 4 (testdata/export-receipt.jsonl). Key seeds are the bytes 0xa0 … 0xbf (log)",
			"and 0xc0 … 0xdf (receipts). Leaves and the head hash are hex; proofs and roots base64.",
		},
		LogKeySeed: hex.EncodeToString(seedBytes(0xa0)), LogVerifierKey: logVKey,
		ReceiptKeySeed: hex.EncodeToString(seedBytes(0xc0)), ReceiptVerifierKey: receiptVKey,
	}
	var leaves []domain.Hash
	for i := range f.events {
		leaf := integrity.LeafHash(&f.events[i])
		leaves = append(leaves, leaf)
		lf.LeafHashes = append(lf.LeafHashes, hex.EncodeToString(leaf[:]))
		f.tree.add(t, int64(i), leaf)
	}
	n01, n23 := integrity.NodeHash(leaves[0], leaves[1]), integrity.NodeHash(leaves[2], leaves[3])
	n03 := integrity.NodeHash(n01, n23)
	b64 := func(h domain.Hash) string { return base64.StdEncoding.EncodeToString(h[:]) }
	lf.Nodes = map[string]string{"leaves 0-1": b64(n01), "leaves 2-3": b64(n23), "leaves 0-3": b64(n03),
		"leaves 0-2 (the root of size 3)": b64(integrity.NodeHash(n01, leaves[2])), "leaves 0-4 (the root of size 5)": b64(integrity.NodeHash(n03, leaves[4]))}
	lf.TerminalEvent = eventVector{
		StreamID: end.StreamID, Seq: end.Seq, EventID: end.EventID.String(), Type: string(end.Type),
		OccurredAt: domain.FormatTime(end.OccurredAt), PayloadInput: `{"exit_code": 0, "summary": "built"}`, Payload: string(end.Payload),
		PayloadSalt: hex.EncodeToString(end.PayloadSalt), PayloadDigest: hex.EncodeToString(end.PayloadDigest[:]),
		HashPrev: hex.EncodeToString(end.HashPrev[:]), Entry: string(integrity.AppendEntry(nil, &end)), Hash: hex.EncodeToString(end.Hash[:]),
	}
	cp := f.tree.checkpoint(t, 5)
	lf.Size, lf.Root = cp.Size, base64.StdEncoding.EncodeToString(cp.Root[:])
	lf.Checkpoint = f.sign(t, cp)
	lf.OlderCheckpoint = f.sign(t, f.tree.checkpoint(t, 3))
	lf.Inclusion = integrity.InclusionProof{Index: 4, Size: 5, Hashes: f.tree.inclusion(t, 4, 5)}
	lf.Consistency = integrity.ConsistencyProof{Old: 3, New: 5, Hashes: f.tree.consistency(t, 3, 5)}
	lf.Receipt = f.receipt(t, &end, lf.Checkpoint)
	signed, err := lf.Receipt.SignedBytes()
	if err != nil {
		t.Fatal(err)
	}
	lf.ReceiptSignedBytes = string(signed)
	f.file = lf
	return f
}

func (f *logFixture) sign(t testing.TB, cp integrity.Checkpoint) string {
	t.Helper()
	msg, err := integrity.SignCheckpoint(cp, f.logSigner)
	if err != nil {
		t.Fatal(err)
	}
	return string(msg)
}

// receipt returns the signed receipt of the terminal event end in the tree
// of the signed checkpoint cpNote.
func (f *logFixture) receipt(t testing.TB, end *domain.Event, cpNote string) integrity.Receipt {
	t.Helper()
	cp, err := integrity.OpenCheckpoint([]byte(cpNote), f.keys.Log)
	if err != nil {
		t.Fatal(err)
	}
	r := integrity.Receipt{
		TaskID: end.StreamID, TenantID: end.TenantID, State: domain.StateSucceeded, LastSeq: end.Seq, HeadHash: end.Hash,
		LeafIndex: end.Position, Checkpoint: cpNote, InclusionProof: f.tree.inclusion(t, end.Position, cp.Size),
	}
	if err := integrity.SignReceipt(&r, f.receiptSigner); err != nil {
		t.Fatal(err)
	}
	return r
}

func TestGoldenLogVectors(t *testing.T) {
	f := newLogFixture(t)
	var vectors bytes.Buffer
	enc := json.NewEncoder(&vectors)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(f.file); err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{logVectorsFile: vectors.Bytes(), receiptExportFile: exportLines(t, f.events)}
	for name, want := range files {
		if *update {
			if err := os.WriteFile(name, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(name)
		if err != nil {
			t.Fatalf("%v (run go test ./integrity -run TestGoldenLogVectors -update to create it)", err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s differs from what the code computes: the log or receipt format changed, which breaks every receipt issued. If that is intended, run go test ./integrity -run TestGoldenLogVectors -update and update docs/integrity.md.\n got:\n%s\nwant:\n%s", name, got, want)
		}
	}
}

// readLogVectors parses the checked-in log vectors.
func readLogVectors(t *testing.T) logVectorFile {
	t.Helper()
	b, err := os.ReadFile(logVectorsFile)
	if err != nil {
		t.Fatal(err)
	}
	var lf logVectorFile
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&lf); err != nil {
		t.Fatalf("parse %s: %v", logVectorsFile, err)
	}
	return lf
}

// TestGoldenLogVectorsByHand recomputes the tree of the checked-in vectors
// from the spec alone, with nothing but SHA-256: leaves, root, the
// inclusion proof's path and the receipt's signed bytes.
func TestGoldenLogVectorsByHand(t *testing.T) {
	t.Parallel()
	lf := readLogVectors(t)
	vf := readVectors(t)
	entries := []string{vf.Events[0].Entry, vf.Events[1].Entry, vf.Events[2].Entry, vf.Events[3].Entry, lf.TerminalEvent.Entry}
	leaves := make([][]byte, len(entries))
	for i, entry := range entries {
		sum := sha256.Sum256(append([]byte{0}, entry...))
		leaves[i] = sum[:]
		if hex.EncodeToString(sum[:]) != lf.LeafHashes[i] {
			t.Errorf("leaf %d: SHA-256(0x00 || entry) = %x, vectors say %s", i, sum, lf.LeafHashes[i])
		}
	}
	node := func(l, r []byte) []byte {
		sum := sha256.Sum256(append(append([]byte{1}, l...), r...))
		return sum[:]
	}
	// Five leaves: the root is node(node(node(l0,l1), node(l2,l3)), l4).
	left := node(node(leaves[0], leaves[1]), node(leaves[2], leaves[3]))
	root := node(left, leaves[4])
	if got := base64.StdEncoding.EncodeToString(root); got != lf.Root {
		t.Errorf("root %s, vectors say %s", got, lf.Root)
	}
	// Leaf 4's audit path is the one hash of the left subtree.
	if want := []string{base64.StdEncoding.EncodeToString(left)}; len(lf.Inclusion.Hashes) != 1 || lf.Inclusion.Hashes[0] != want[0] {
		t.Errorf("inclusion proof %v, want %v", lf.Inclusion.Hashes, want)
	}
	wantNote := vectorOrigin + "\n5\n" + lf.Root + "\n\n— " + vectorOrigin + " "
	if !bytes.HasPrefix([]byte(lf.Checkpoint), []byte(wantNote)) {
		t.Errorf("checkpoint note %q does not start %q", lf.Checkpoint, wantNote)
	}
	r := lf.Receipt
	wantSigned := "axontask-receipt/v1\n" + r.TaskID + "\n" + r.TenantID + "\nsucceeded\n4\n" + lf.TerminalEvent.Hash + "\n4\n" +
		vectorOrigin + "\n5\n" + lf.Root + "\n"
	if lf.ReceiptSignedBytes != wantSigned {
		t.Errorf("receipt signed bytes %q, want %q", lf.ReceiptSignedBytes, wantSigned)
	}
}

// TestReceiptVerifies: the golden receipt verifies against the golden
// export, with and without the newer checkpoint, and so does the export
// once its payloads are pruned (pruning changes no leaf).
func TestReceiptVerifies(t *testing.T) {
	t.Parallel()
	f := newLogFixture(t)
	newer := &integrity.Newer{Checkpoint: f.sign(t, f.tree.checkpoint(t, 5)), Consistency: integrity.ConsistencyProof{Old: 5, New: 5}}
	pruned := append([]domain.Event(nil), f.events...)
	for i := range pruned {
		pruned[i].Payload, pruned[i].PayloadSalt = nil, nil
	}
	for name, export := range map[string][]byte{"export": exportLines(t, f.events), "pruned": exportLines(t, pruned)} {
		r := f.file.Receipt
		rep, err := integrity.VerifyReceiptExport(bytes.NewReader(export), &r, f.keys, newer)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if rep.Summary.Events != 5 || rep.Checkpoint.Size != 5 || rep.Newer == nil {
			t.Errorf("%s: report %+v", name, rep)
		}
	}
}

// TestParseSignerKey: a key that note.GenerateKey wrote parses to the same
// signer and verifier key.
func TestParseSignerKey(t *testing.T) {
	t.Parallel()
	skey, vkey, err := note.GenerateKey(bytes.NewReader(seedBytes(0x40)), "example.org/log")
	if err != nil {
		t.Fatal(err)
	}
	signer, got, err := integrity.ParseSignerKey(skey)
	if err != nil || got != vkey || signer.Name() != "example.org/log" {
		t.Fatalf("ParseSignerKey: %v, %q, want %q", err, got, vkey)
	}
	for _, bad := range []string{"", "PRIVATE+KEY+x", vkey, skey[:len(skey)-4] + "AAAA"} {
		if _, _, err := integrity.ParseSignerKey(bad); err == nil {
			t.Errorf("ParseSignerKey accepted a bad key")
		} else if len(bad) > 20 && bytes.Contains([]byte(err.Error()), []byte(bad[len(bad)-20:])) {
			t.Errorf("the error quotes the key: %v", err)
		}
	}
}

// TestSpecQuotesLogVectors keeps sections 8 and 9 of docs/integrity.md
// honest: every base64 hash they quote is one of the log vectors', and the
// checkpoint note, proofs, receipt and signed bytes they show are the
// vectors' byte for byte.
func TestSpecQuotesLogVectors(t *testing.T) {
	t.Parallel()
	lf := readLogVectors(t)
	spec, err := os.ReadFile(specFile)
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{lf.Root: true}
	for _, h := range append(append(append([]string(nil), lf.Inclusion.Hashes...), lf.Consistency.Hashes...), lf.Receipt.InclusionProof...) {
		known[h] = true
	}
	for _, h := range lf.Nodes {
		known[h] = true
	}
	for _, leaf := range lf.LeafHashes {
		b, _ := hex.DecodeString(leaf)
		known[base64.StdEncoding.EncodeToString(b)] = true
	}
	for _, h := range regexp.MustCompile(`[A-Za-z0-9+/]{43}=`).FindAllString(string(spec), -1) {
		if !known[h] && !bytes.Contains([]byte(lf.Checkpoint+lf.OlderCheckpoint+lf.Receipt.Signature+lf.LogVerifierKey+lf.ReceiptVerifierKey), []byte(h)) {
			t.Errorf("%s quotes the hash %s, which is in none of the log vectors", specFile, h)
		}
	}
	receipt, err := json.MarshalIndent(lf.Receipt, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	inclusion, _ := json.Marshal(lf.Inclusion)
	consistency, _ := json.Marshal(lf.Consistency)
	for name, want := range map[string]string{
		"the checkpoint note": "```\n" + lf.Checkpoint + "```",
		"the receipt":         "```json\n" + string(receipt) + "\n```",
		"the signed bytes":    "```\n" + lf.ReceiptSignedBytes + "```",
		"the inclusion proof": string(inclusion),
		"the consistency":     string(consistency),
		"the terminal entry":  "```\n" + lf.TerminalEvent.Entry + "```",
		"the log key":         lf.LogVerifierKey,
		"the receipt key":     lf.ReceiptVerifierKey,
	} {
		if !bytes.Contains(spec, []byte(want)) {
			t.Errorf("%s does not show %s as the vectors hold it:\n%s", specFile, name, want)
		}
	}
	for i, leaf := range lf.LeafHashes {
		if !bytes.Contains(spec, []byte(leaf)) {
			t.Errorf("%s does not show leaf %d, %s", specFile, i, leaf)
		}
	}
}

// BenchmarkVerifyExportProofs verifies an export of 100,000 events of 100
// streams with an inclusion proof of each in a signed tree of their size:
// the chains, then every event's leaf through its proof to the root, on one
// core: go test -run XXX -bench VerifyExportProofs -benchtime 3x ./integrity/
func BenchmarkVerifyExportProofs(b *testing.B) {
	events := manyEvents(b, 100_000, 100)
	f := &logFixture{tree: &memTree{}}
	f.logSigner, _, f.keys, _, _ = vectorKeys(b)
	for i := range events {
		f.tree.add(b, int64(i), integrity.LeafHash(&events[i]))
	}
	size := int64(len(events))
	proofs := integrity.ExportProofs{Checkpoint: f.sign(b, f.tree.checkpoint(b, size))}
	for i := range events {
		proofs.Inclusion = append(proofs.Inclusion, integrity.InclusionProof{Index: int64(i), Size: size, Hashes: f.tree.inclusion(b, int64(i), size)})
	}
	export := exportLines(b, events)
	b.ResetTimer()
	cpuStart := cpuTime()
	for b.Loop() {
		rep, err := integrity.VerifyExportProofs(bytes.NewReader(export), &proofs, f.keys.Log)
		if err != nil || rep.Included != size {
			b.Fatal(rep, err)
		}
	}
	reportRate(b, len(events), cpuStart)
}
