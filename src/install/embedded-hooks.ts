// The hook scripts, embedded in the binary at build time, so that installing
// on an agent needs this one file and nothing else.
import environment from "../../hooks/environment" with { type: "text" };
import runPhase from "../../hooks/lib/run-phase.bash" with { type: "text" };
import postCheckout from "../../hooks/post-checkout" with { type: "text" };
import postCommand from "../../hooks/post-command" with { type: "text" };
import preCheckout from "../../hooks/pre-checkout" with { type: "text" };
import preExit from "../../hooks/pre-exit" with { type: "text" };
import type { EmbeddedFile } from "./install.ts";

export const EMBEDDED_HOOKS: EmbeddedFile[] = [
  { name: "environment", content: environment, isHook: true },
  { name: "pre-checkout", content: preCheckout, isHook: true },
  { name: "post-checkout", content: postCheckout, isHook: true },
  { name: "post-command", content: postCommand, isHook: true },
  { name: "pre-exit", content: preExit, isHook: true },
  { name: "lib/run-phase.bash", content: runPhase, isHook: false },
];
