// Build facts, replaced at compile time by build.ts (`define`). Running from
// source they fall back to "dev" values.
declare const BUILD_VERSION: string | undefined;
declare const BUILD_COMMIT: string | undefined;
declare const BUILD_TARGET: string | undefined;

export const VERSION = typeof BUILD_VERSION === "string" ? BUILD_VERSION : "0.0.0-dev";
export const COMMIT = typeof BUILD_COMMIT === "string" ? BUILD_COMMIT : "unknown";
export const TARGET = typeof BUILD_TARGET === "string" ? BUILD_TARGET : `source (${process.platform}-${process.arch})`;
