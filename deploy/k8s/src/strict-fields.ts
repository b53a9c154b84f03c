// kubectl's strict field validation, reproduced. `kubectl apply` defaults to
// --validate=strict, which on Kubernetes 1.27+ is the API server's field
// validation (KEP-2885): a field the object's API type does not have (a
// misspelling such as readOnlyRootFileSystem, or a field at the wrong level) is
// refused with `strict decoding error: unknown field "spec.template..."`, and
// the apply fails. The kubernetes-models validators (validateObject in
// manifests.ts) check types, formats and required fields but let unknown
// fields through.
//
// The field names come from the same OpenAPI schema, in the form
// kubernetes-models publishes it for TypeScript: one interface per API type
// (IDeployment, ISecurityContext, ...). A TypeScript program declares one
// constant of each object's kind's interface; the object is then walked
// against that type with the compiler's type checker: every key must be a
// property of the type at that point (maps such as labels, annotations and
// ConfigMap data are index signatures and take any key). Every unknown field
// is reported with its path, as the API server reports it. The same source of
// truth as dashboard-schema.ts uses for Grafana's dashboard schema.
import { join } from 'node:path';
import ts from 'typescript';
import { inMemoryProgram } from './in-memory-program.js';
import { k8sDir, type K8sObject } from './manifests.js';

/** One problem per unknown field (or unknown apiVersion/kind), named by the object's kind, namespace and name. */
export function unknownFieldProblems(objects: readonly K8sObject[]): string[] {
  // Inside deploy/k8s, so that kubernetes-models resolves as it does for manifests.ts.
  const file = join(k8sDir, '.strict-fields-check.ts');
  // kubernetes-models/<group>/<version>/<Kind> (the core group: v1/<Kind>) exports I<Kind>.
  const text = objects
    .map((o, i) => `import type { I${o.kind} as T${i} } from 'kubernetes-models/${o.apiVersion}/${o.kind}';\nexport declare const o${i}: T${i};\n`)
    .join('');
  const program = inMemoryProgram(new Map([[file, text]]));
  const checker = program.getTypeChecker();
  const sourceFile = program.getSourceFile(file);
  if (!sourceFile) throw new Error(`${file} was not loaded`);
  const label = (o: K8sObject): string => `${o.kind}/${o.metadata.namespace ?? ''}/${o.metadata.name}`;

  const problems: string[] = [];
  // An apiVersion or kind kubernetes-models does not know: the import does not resolve.
  const unresolved = new Set<number>();
  for (const d of program.getSemanticDiagnostics(sourceFile)) {
    const line = d.start === undefined ? -1 : Math.floor(sourceFile.getLineAndCharacterOfPosition(d.start).line / 2);
    const object = objects[line];
    if (!object) throw new Error(ts.flattenDiagnosticMessageText(d.messageText, ' '));
    unresolved.add(line);
    problems.push(`${label(object)}: no API type for ${object.apiVersion} ${object.kind} (${ts.flattenDiagnosticMessageText(d.messageText, ' ')})`);
  }

  const declared = new Map<string, ts.Type>();
  for (const statement of sourceFile.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const declaration of statement.declarationList.declarations) {
      declared.set(declaration.name.getText(sourceFile), checker.getTypeAtLocation(declaration));
    }
  }

  /** The object-like members of a type (optional fields are `T | undefined`; quantities `number | string`). */
  const members = (type: ts.Type): ts.Type[] =>
    (type.isUnion() ? type.types : [type]).filter((t) => (t.flags & ts.TypeFlags.Object) !== 0);

  const walk = (type: ts.Type, value: unknown, path: string, object: K8sObject): void => {
    if (value === null || typeof value !== 'object') return;
    const candidates = members(type);
    if (Array.isArray(value)) {
      const elements = candidates.filter((t) => checker.isArrayType(t)).map((t) => checker.getTypeArguments(t as ts.TypeReference)[0]);
      value.forEach((item, i) => { for (const element of elements) if (element) walk(element, item, `${path}[${i}]`, object); });
      return;
    }
    for (const [key, child] of Object.entries(value)) {
      const field = path ? `${path}.${key}` : key;
      const property = candidates.map((t) => t.getProperty(key)).find((p) => p !== undefined);
      if (property) {
        walk(checker.getTypeOfSymbolAtLocation(property, sourceFile), child, field, object);
        continue;
      }
      const index = candidates.map((t) => t.getStringIndexType()).find((t) => t !== undefined);
      if (index) walk(index, child, field, object);
      else if (candidates.length > 0) problems.push(`${label(object)}: unknown field "${field}"`);
    }
  };
  objects.forEach((object, i) => {
    const type = declared.get(`o${i}`);
    if (!unresolved.has(i) && type) walk(type, object, '', object);
  });
  return problems;
}
