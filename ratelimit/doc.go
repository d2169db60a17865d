// Package ratelimit limits how often a key (an API key, a user, a client
// address) may make requests, with the generic cell rate algorithm (GCRA):
// a Limit of Rate requests per Period, of which up to Burst may come at once.
//
// Two limiters decide alike: Memory, for one process (axontask dev), and
// Redis, shared by every API process through go-redis/redis_rate, so that a
// limit holds across processes. Both are safe for concurrent use.
package ratelimit
