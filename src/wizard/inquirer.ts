/**
 * The five prompts the wizard uses, each from its own package. Not the `@inquirer/prompts` barrel: it also
 * carries `editor`, which drags in external-editor and iconv-lite (~480 KiB) that esbuild cannot drop,
 * into the package and into the chunk the first question loads. Imported lazily (prompter.ts, session.ts),
 * so `--help` never loads any of them.
 */
export { default as checkbox } from '@inquirer/checkbox';
export { default as confirm } from '@inquirer/confirm';
export { default as input } from '@inquirer/input';
export { default as password } from '@inquirer/password';
export { default as select } from '@inquirer/select';
