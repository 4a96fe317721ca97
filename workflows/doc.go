// Package workflows holds the deterministic workflow code of playbook runs:
// one interpreter that runs any playbook definition. It imports the
// definition language, the activity contracts and the pure value types
// (accounts, message), never the store, the mailer or echo (deps_test.go).
package workflows
