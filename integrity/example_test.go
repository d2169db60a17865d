package integrity_test

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/axontask/axontask/integrity"
)

func ExampleVerifyExport() {
	f, err := os.Open("testdata/export.jsonl")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() { _ = f.Close() }()
	sum, err := integrity.VerifyExport(f)
	if err != nil {
		fmt.Println("verification failed:", err)
		return
	}
	for _, s := range sum.Streams {
		fmt.Printf("%s: %d events, head seq %d hash %x\n", s.StreamID, s.Events, s.HeadSeq, s.HeadHash[:4])
	}
	// Output:
	// task-0192f1d2-6b1e-7c3a-9f00-3d5e8a1b2c4d: 3 events, head seq 3 hash 6692505d
	// task-0192f1d2-7d40-7a11-8e22-5f6a7b8c9d0e: 1 events, head seq 1 hash 803af487
}

func ExampleVerifyError() {
	export, err := os.ReadFile("testdata/export.jsonl")
	if err != nil {
		fmt.Println(err)
		return
	}
	tampered := strings.Replace(string(export), `"attempt":1`, `"attempt":2`, 1)
	_, err = integrity.VerifyExport(strings.NewReader(tampered))
	var ve *integrity.VerifyError
	if errors.As(err, &ve) {
		fmt.Println(ve.Kind, ve.StreamID, ve.Seq)
	}
	// Output:
	// wrong_digest task-0192f1d2-6b1e-7c3a-9f00-3d5e8a1b2c4d 2
}
