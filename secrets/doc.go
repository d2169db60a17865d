// Package secrets keeps tenant secrets: values a tenant's tasks refer to by
// name ({"secret": "NAME"} in their args), encrypted at rest, resolved only
// by the worker that runs a task, and masked in the task's output.
//
// Encryption is envelope encryption with AES-256-GCM from the standard
// library. Each value set gets a fresh random 256-bit data key; the value
// is sealed by it, and the data key is sealed by the operator key
// (SECRETS_KEY), whose id is stored beside it. Both seals bind the tenant
// and the secret's name as additional authenticated data, so a row copied
// to another tenant or another name does not open. Rotating the operator
// key re-seals only the data keys ([Vault.RotateKey]); values are never
// re-encrypted and never leave the process in the clear except to the
// executor that runs the task.
package secrets
