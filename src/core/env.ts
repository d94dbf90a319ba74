// The process environment as the phases and commands see it: every layer
// reads variables, so the type lives at the bottom.

/** A process environment: unset variables are undefined. */
export type Env = Record<string, string | undefined>;
