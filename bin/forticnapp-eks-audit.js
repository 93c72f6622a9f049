#!/usr/bin/env node
// Tiny shim: check the Node version before loading the bundle (which needs Node 20 syntax and APIs).
const major = Number(process.versions.node.split('.')[0]);
if (major < 20) {
  process.stderr.write(`forticnapp-eks-audit needs Node.js 20 or newer; this is ${process.versions.node}. AWS CloudShell has Node 20.\n`);
  process.exit(2);
}
await import('../dist/cli.js');
