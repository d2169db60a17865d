// Package sqlite is the embedded event store (eventstore.Store and every
// port beside it): one SQLite file, no server, no cgo (modernc.org/sqlite).
// It is what `axontask dev` runs on.
//
// # Durability and connections
//
// The file is in WAL mode with synchronous=FULL: when Append returns, its
// events are in the write-ahead log and fsynced, and survive a power cut.
// Exactly one connection writes; appends from every goroutine queue for it
// in turn (SQLite allows one writer at a time anyway). Reads go through a
// separate pool of read-only connections and never wait for the writer.
//
// # Feed positions
//
// Because there is one writer at a time, the writer gives each event its feed
// position inline, max(position)+1 inside the write transaction. Positions
// are dense from 0, follow commit order, and are final when Append returns:
// the returned events carry them.
//
// # Head cache
//
// The store keeps each recently appended stream's head (seq, hash, tenant and
// stream type) in memory, updated only after a commit, so that a stream with
// one writer (a worker streaming task output) does not read its head before
// every append. The cache is only a shortcut: the unique (stream_id, seq)
// index still decides, so a stale head (another process appended to the
// same file) ends in a *eventstore.ConflictError, never in a broken chain,
// and it is dropped. A reopened store starts with an empty cache.
//
// # Waiting for the feed
//
// WaitFeed is woken by an in-process broadcast after every commit of this
// Store. Another process (or another Store on the same file) may append too,
// which no broadcast announces: while anyone waits, a background check reads
// the feed head once a second, so such events are seen within about a second.
//
// # Schema
//
// Open applies the embedded migrations of sql/sqlite/migrations, each in its
// own transaction, recorded in schema_migrations; reopening is a no-op, and a
// file migrated by a newer build is refused. Timestamps are stored as unix
// microseconds (UTC), UTC dates as 'YYYY-MM-DD' text, metadata as JSON
// text, event ids as lowercase text and payloads as the exact canonical
// bytes that were hashed. Triggers refuse deletes and any update but
// pruning a payload with its salt (TaskPrune, for retention).
package sqlite
