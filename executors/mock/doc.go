// Package mock is the executor of the "mock" adapter: a deterministic task
// for tests and demos that runs no process at all.
//
// For each step 1..Steps it waits IntervalMS, writes OutputLinesPerStep
// lines such as "step 3/10 line 1\n" to stdout, one Sink.Output call per
// line, and reports Progress(100*step/Steps, "step 3/10"). At step
// FailAtStep (0 = never) it then writes one line to stderr and ends with
// exit code 1; otherwise it ends with exit code 0 after the last step.
// With FailAttempts N above 0 only attempts 1..N fail so (at the last step
// when FailAtStep is 0) and later attempts succeed: a flaky task whose
// retries can be watched.
// A canceled context stops it within the current interval.
package mock
