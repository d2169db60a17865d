// Package billing prices a tenant's usage: the billing view of a month
// (plan, price, what the plan includes, usage per meter, overage,
// estimated invoice, trial end), computed from the usage counters read
// model, the tenant's stream (its plan changes and its creation, which
// starts the trial) and the plans' prices (package plans). Amounts are
// integers in minor units of the catalog's currency, never floats.
//
// The view is computed when it is asked for rather than kept as a read
// model of its own: prices are configuration, not events, so a stored
// view would go stale when an operator changes them, while its inputs
// (the usage counters and the tenant's stream) are already in the log and
// its read models. docs/billing.md describes the meters and the estimate.
package billing
