// Package postgres is AxonTask's production event store on PostgreSQL 15+
// (pgx/v5, sqlc).
//
// Writers take no global lock: each append is one statement that inserts
// its events and one row in appends stamped with the writing transaction's
// id (xid8). One sealer, elected among all processes with an advisory lock,
// gives committed events dense feed positions in commit order: it seals only
// appends whose xid is below the oldest running transaction's, so an event
// whose transaction commits late is never skipped by a reader that has
// already passed its position. Readers wake through LISTEN/NOTIFY instead
// of polling.
package postgres
