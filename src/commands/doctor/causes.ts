// How doctor groups its problems: by what causes them, so that problems one
// fix solves (no credentials: every slug unreadable) are read together. Pure.
import type { DoctorReport, Section } from "./report.ts";

export const MACHINE_TITLE = "This machine";

/** The causes doctor groups problems under, each phrased as what to look at. */
export const CAUSES = {
  aws: "AWS credentials and region",
  iam: "IAM and KMS permissions",
  network: "reaching SSM",
  access: "access lists",
  keys: "deploy keys",
  machine: "this machine (programs, binary, hooks)",
} as const;

/** A failed SSM call's cause, from its StoreError code. */
export function storeErrorCause(code: string | undefined): string {
  if (!code) return "reading SSM";
  if (/^(CredentialsProviderError|UnrecognizedClientException|InvalidSignatureException|ExpiredTokenException|Region\w*)$/.test(code)) return CAUSES.aws;
  if (code === "AccessDeniedException" || /kms/i.test(code)) return CAUSES.iam;
  if (/^(Timeout|ThrottlingException)$|^E[A-Z]+$/.test(code)) return CAUSES.network;
  return "reading SSM";
}

/** A failing item's cause when it sets none: what its section is about. */
function sectionCause(section: Section): string {
  if (section.title.startsWith("Slugs")) return CAUSES.access;
  if (section.title.startsWith("Deploy keys")) return CAUSES.keys;
  if (section.title.startsWith(MACHINE_TITLE)) return CAUSES.machine;
  return section.title.toLowerCase();
}

export function causeCount(failing: Array<{ cause: string }>): string {
  const causes = new Set(failing.map((entry) => entry.cause)).size;
  return causes > 1 ? ` from ${causes} causes` : "";
}

export function groupByCause(failing: Array<{ detail: string; cause: string }>): DoctorReport["causes"] {
  const groups = new Map<string, string[]>();
  for (const { detail, cause } of failing) groups.set(cause, [...(groups.get(cause) ?? []), detail]);
  return [...groups].map(([cause, problems]) => ({ cause, problems }));
}

/** Every failing item of the report, with its cause: its own, or its section's. */
export function failingByCause(sections: Section[]): Array<{ detail: string; cause: string }> {
  return sections.flatMap((section) => section.items.filter((entry) => entry.status === "fail").map((entry) => ({ detail: entry.detail, cause: entry.cause ?? sectionCause(section) })));
}
