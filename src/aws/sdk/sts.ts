// What is loaded with import() of this package: only these names. esbuild cannot tree-shake a dynamic import()
// of a package (every export of it would be bundled and loaded), so dynamic imports go through this file.
export { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
