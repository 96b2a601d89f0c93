/** Errors of the Node layer that its callers (the CLI, tools) map to exit codes. */

/** A bad command-line value or option: the CLI prints one line and exits with 2. */
export class UsageError extends Error {}
