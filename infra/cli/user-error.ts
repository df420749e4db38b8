/** A mistake the person at the terminal can fix; printed as one line, exit status 1. */
export class UserError extends Error {}
