package readapi

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
)

// openAPIDocument is the OpenAPI 3.1 document of the routes New serves,
// written by hand; the package's tests check every request and answer of
// their suite against it, and its paths against the router's.
//
//go:embed openapi.json
var openAPIDocument []byte

// openAPIETag is a strong validator of openAPIDocument.
var openAPIETag = func() string {
	sum := sha256.Sum256(openAPIDocument)
	return `"` + hex.EncodeToString(sum[:16]) + `"`
}()

// OpenAPI returns the OpenAPI 3.1 document (JSON) of the HTTP API that New
// serves, the one it answers GET /openapi.json with. The caller owns the
// copy it gets.
func OpenAPI() []byte {
	return bytes.Clone(openAPIDocument)
}

// serveOpenAPI answers GET /openapi.json: public, cacheable for a few
// minutes, 304 when If-None-Match names the current document.
func serveOpenAPI(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("ETag", openAPIETag)
	if etagMatches(r.Header.Get("If-None-Match"), openAPIETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(openAPIDocument)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(openAPIDocument)
}

// etagMatches reports whether an If-None-Match header lists etag (or is
// "*"); weak validators match too, as RFC 9110 section 13.1.2 has it.
func etagMatches(header, etag string) bool {
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.Trim(tag, " \t")
		if tag == "*" || tag == etag || tag == "W/"+etag {
			return true
		}
	}
	return false
}
