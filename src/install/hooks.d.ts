// The hook scripts, imported as text (`with { type: "text" }`) by embedded-hooks.ts.
declare module "../../hooks/*" {
  const text: string;
  export default text;
}
