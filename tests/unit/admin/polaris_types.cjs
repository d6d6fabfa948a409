// Prints, as JSON, every custom element the admin may use and the attributes Shopify's type
// declarations give it: Polaris' web components from @shopify/polaris-types (its Preact JSX
// IntrinsicElements, the props a page can set) and App Bridge's elements from
// @shopify/app-bridge-types (AppBridgeElements). Each attribute maps to its allowed string values
// when its type is a union of string literals, to "number" when it is a number, else to null. Run by tests/unit/admin/test_admin_markup.py
// with the TypeScript compiler the project pins.
"use strict";
const ts = require("typescript");
const path = require("path");

const root = path.resolve(__dirname, "../../..");
const polaris = path.join(root, "node_modules/@shopify/polaris-types/dist/polaris.d.ts");
const entry = path.join(root, "__admin_markup_entry__.ts");
const source = `/// <reference path="${polaris}" />
import type {createElement} from "preact";
import type {} from "@shopify/app-bridge-types";
export type Polaris = createElement.JSX.IntrinsicElements;
`;
const options = {
  strict: true, noEmit: true, skipLibCheck: true, types: [],
  moduleResolution: ts.ModuleResolutionKind.Bundler, module: ts.ModuleKind.ESNext,
  target: ts.ScriptTarget.ES2022, lib: ["lib.es2022.d.ts", "lib.dom.d.ts"],
};
const host = ts.createCompilerHost(options);
const { fileExists, readFile, getSourceFile } = host;
host.fileExists = (file) => file === entry || fileExists.call(host, file);
host.readFile = (file) => (file === entry ? source : readFile.call(host, file));
host.getSourceFile = (file, version, ...rest) => (file === entry
  ? ts.createSourceFile(file, source, version) : getSourceFile.call(host, file, version, ...rest));
const program = ts.createProgram([entry], options, host);
const problems = ts.getPreEmitDiagnostics(program, program.getSourceFile(entry));
if (problems.length) {
  console.error(problems.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("\n"));
  process.exit(1);
}
const checker = program.getTypeChecker();
const polarisAlias = program.getSourceFile(entry).statements.find(ts.isTypeAliasDeclaration);
// App Bridge declares its elements in an interface the package does not export by name.
const bridgeFile = program.getSourceFiles().find((file) => file.fileName.includes("@shopify/app-bridge-types/"));
const bridgeInterface = bridgeFile.statements.find(
  (statement) => ts.isInterfaceDeclaration(statement) && statement.name.text === "AppBridgeElements");

// The values an attribute takes: its string literals, "number" for a number, else null (any text).
function allowed(type) {
  const members = (type.isUnion() ? type.types : [type])
    .filter((t) => !(t.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null)));
  if (!members.length) return null;
  if (members.every((t) => t.isStringLiteral())) return members.map((t) => t.value).sort();
  if (members.every((t) => t.flags & (ts.TypeFlags.Number | ts.TypeFlags.NumberLiteral))) return "number";
  return null;
}

function attributes(alias, element) {
  const props = checker.getTypeOfSymbolAtLocation(element, alias).getNonNullableType();
  const out = {};
  for (const prop of checker.getPropertiesOfType(props)) {
    out[prop.name] = allowed(checker.getTypeOfSymbolAtLocation(prop, alias));
  }
  return out;
}

const result = {};
for (const [node, prefix] of [[polarisAlias, "s-"], [bridgeInterface, ""]]) {
  for (const element of checker.getPropertiesOfType(checker.getTypeAtLocation(node.name))) {
    if (!element.name.startsWith(prefix)) continue;
    // An element both declare (s-page) accepts what either declares.
    result[element.name] = { ...(result[element.name] || {}), ...attributes(node, element) };
  }
}
// What App Bridge reads from the <button> children of <ui-save-bar> (its UISaveBarChildren).
const saveBarChildren = bridgeFile.statements.find(
  (statement) => ts.isInterfaceDeclaration(statement) && statement.name.text === "UISaveBarChildren");
const button = checker.getTypeAtLocation(saveBarChildren.name).getProperty("button");
result["ui-save-bar > button"] = attributes(saveBarChildren, button);
process.stdout.write(JSON.stringify(result));
