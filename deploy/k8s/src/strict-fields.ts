// kubectl's strict field validation, reproduced. `kubectl apply` defaults to
// --validate=strict, which on Kubernetes 1.27+ is the API server's field
// validation (KEP-2885): a field the object's API type does not have (a
// misspelling such as readOnlyRootFileSystem, or a field at the wrong level) is
// refused with "strict decoding error: unknown field ...", and the whole apply
// fails. The kubernetes-models validators (validateObject in manifests.ts)
// check types, formats and required fields but let unknown fields through.
//
// The field names come from the same OpenAPI schema, in the form
// kubernetes-models publishes it for TypeScript: one interface per API type
// (IDeployment, ISecurityContext, ...). Each object becomes the initialiser of a
// constant of its kind's interface in an in-memory TypeScript program; an
// object literal's excess properties are exactly the fields the type lacks, at
// any depth (maps such as labels are index signatures and take any key). The
// same approach as dashboard-schema.ts for Grafana's dashboard schema.
import { join } from 'node:path';
import ts from 'typescript';
import { k8sDir, type K8sObject } from './manifests.js';

/** One problem per compiler error, named by the object's kind and name. */
export function unknownFieldProblems(objects: readonly K8sObject[]): string[] {
  // Inside deploy/k8s, so that kubernetes-models resolves as it does for manifests.ts.
  const virtualDir = join(k8sDir, '.strict-fields-check');
  const sources = new Map<string, { label: string; text: string }>();
  objects.forEach((object, i) => {
    const label = `${object.kind}/${object.metadata.namespace ?? ''}/${object.metadata.name}`;
    // kubernetes-models/<group>/<version>/<Kind> (the core group: v1/<Kind>) exports I<Kind>.
    const text = `import type { I${object.kind} as T } from 'kubernetes-models/${object.apiVersion}/${object.kind}';\n`
      + `export const object: T = ${JSON.stringify(object, null, 1)};\n`;
    sources.set(join(virtualDir, `o${i}.ts`), { label, text });
  });
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    lib: ['lib.es2022.d.ts'],
    types: [],
  };
  const host = ts.createCompilerHost(options, true);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (name) => sources.has(name) || fileExists.call(host, name);
  host.readFile = (name) => sources.get(name)?.text ?? readFile.call(host, name);
  host.getSourceFile = (name, language, onError, create) => {
    const source = sources.get(name);
    if (source) return ts.createSourceFile(name, source.text, language, true);
    return getSourceFile.call(host, name, language, onError, create);
  };
  const program = ts.createProgram([...sources.keys()], options, host);
  const problems: string[] = [];
  for (const [name, { label }] of sources) {
    const sourceFile = program.getSourceFile(name);
    if (!sourceFile) throw new Error(`${name} was not loaded`);
    for (const d of [...program.getSyntacticDiagnostics(sourceFile), ...program.getSemanticDiagnostics(sourceFile)]) {
      problems.push(`${label}: ${ts.flattenDiagnosticMessageText(d.messageText, ' ')}`);
    }
  }
  return problems;
}
