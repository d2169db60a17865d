package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// storedLogin is a signed-in session at one API, as `axontask login`
// keeps it. The tokens are secrets: String leaves them out.
type storedLogin struct {
	Email    string `json:"email"`
	UserID   string `json:"user_id"`
	TenantID string `json:"tenant_id"`
	Role     string `json:"role"`
	// AccessToken is valid until ExpiresAt; RefreshToken gets the next one
	// (and works once).
	AccessToken  string    `json:"access_token"`
	ExpiresAt    time.Time `json:"expires_at"`
	RefreshToken string    `json:"refresh_token"`
}

// String describes l without its tokens.
func (l storedLogin) String() string {
	return fmt.Sprintf("{%s, tenant %s, role %s, expires %s, tokens redacted}", l.Email, l.TenantID, l.Role, l.ExpiresAt.Format(time.RFC3339))
}

// credentialsFile is the content of credentials.json.
type credentialsFile struct {
	// Logins are by API base URL (canonicalURL).
	Logins map[string]storedLogin `json:"logins"`
}

// credentialStore is the file credentials.json in the user's config
// directory (mode 0600, in a directory of mode 0700). Changes are made
// under an exclusive lock (flock on credentials.json.lock), so that two
// processes never present the same refresh token: a refresh token works
// once, and a second use revokes the whole session.
type credentialStore struct {
	path string
}

// credentialsPath is credentials.json's place under the config directory.
const credentialsPath = "axontask/credentials.json"

// newCredentialStore returns the store in con's config directory.
func newCredentialStore(con *console) (*credentialStore, error) {
	dir, err := con.configDir()
	if err != nil {
		return nil, fmt.Errorf("find the user's config directory for the stored login: %w", err)
	}
	return &credentialStore{path: filepath.Join(dir, filepath.FromSlash(credentialsPath))}, nil
}

// load reads the file; a missing file holds no logins.
func (s *credentialStore) load() (credentialsFile, error) {
	f := credentialsFile{Logins: map[string]storedLogin{}}
	b, err := os.ReadFile(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return f, nil
	case err != nil:
		return f, fmt.Errorf("read the stored login: %w", err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("read the stored login: %s does not parse (%w); remove it and run axontask login", s.path, err)
	}
	if f.Logins == nil {
		f.Logins = map[string]storedLogin{}
	}
	return f, nil
}

// save replaces the file atomically (a temporary file renamed over it); a
// file without logins is removed.
func (s *credentialStore) save(f credentialsFile) error {
	if len(f.Logins) == 0 {
		if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove the stored login: %w", err)
		}
		return nil
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return fmt.Errorf("encode the stored login: %w", err)
	}
	// update made the directory.
	tmp, err := os.CreateTemp(filepath.Dir(s.path), ".credentials-*.json") // mode 0600
	if err != nil {
		return fmt.Errorf("store the login: %w", err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("store the login: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("store the login: %w", err)
	}
	if err := os.Rename(tmp.Name(), s.path); err != nil {
		return fmt.Errorf("store the login: %w", err)
	}
	return nil
}

// update runs fn on the file's content under the lock and saves what fn
// leaves when fn asks for it.
func (s *credentialStore) update(fn func(*credentialsFile) (save bool, err error)) error {
	if err := os.MkdirAll(filepath.Dir(s.path), 0o700); err != nil {
		return fmt.Errorf("store the login: %w", err)
	}
	lock, err := os.OpenFile(s.path+".lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("lock the stored login: %w", err)
	}
	defer func() { _ = lock.Close() }() // closing releases the lock
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("lock the stored login: %w", err)
	}
	f, err := s.load()
	if err != nil {
		return err
	}
	save, err := fn(&f)
	if err != nil || !save {
		return err
	}
	return s.save(f)
}
