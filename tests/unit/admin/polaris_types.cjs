const ts = require("typescript");
const path = require("path");
const root = path.resolve(__dirname, "../../..");
const polaris = path.join(root, "node_modules/@shopify/polaris-types/dist/polaris.d.ts");
const entry = path.join(root, "__polaris_entry__.ts");
const source = `/// <reference path="${polaris}" />
import type {createElement} from "preact";
export type Elements = createElement.JSX.IntrinsicElements;
`;
const options = {strict: true, noEmit: true, skipLibCheck: true, types: [],
  moduleResolution: ts.ModuleResolutionKind.Bundler, module: ts.ModuleKind.ESNext,
  target: ts.ScriptTarget.ES2022};
const host = ts.createCompilerHost(options);
const readFile = host.readFile.bind(host);
const getSourceFile = host.getSourceFile.bind(host);
host.fileExists = ((exists) => (f) => f === entry || exists(f))(host.fileExists.bind(host));
host.readFile = (f) => (f === entry ? source : readFile(f));
host.getSourceFile = (f, v, ...rest) => (f === entry ? ts.createSourceFile(f, source, v) : getSourceFile(f, v, ...rest));
const program = ts.createProgram([entry], options, host);
const diags = ts.getPreEmitDiagnostics(program).map(d => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
if (diags.length) { console.error(diags.slice(0, 5)); process.exit(1); }
const checker = program.getTypeChecker();
const file = program.getSourceFile(entry);
const alias = file.statements.find(s => ts.isTypeAliasDeclaration(s));
const elements = checker.getTypeAtLocation(alias.name);
const out = {};
for (const tag of checker.getPropertiesOfType(elements)) {
  if (!tag.name.startsWith("s-")) continue;
  const props = checker.getTypeOfSymbolAtLocation(tag, alias);
  out[tag.name] = checker.getPropertiesOfType(props).map(p => p.name).sort();
}
process.stdout.write(JSON.stringify(out, null, 1));
