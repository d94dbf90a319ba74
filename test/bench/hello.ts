// The floor: a bare Bun executable that prints one line, compiled the same
// way as bk-ssm-secrets. No phase can start faster than this.
console.log("hello");
