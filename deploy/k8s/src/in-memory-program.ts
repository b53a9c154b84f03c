// A TypeScript program over source files held in memory (path -> text), resolving imports from the
// packages installed beside those paths: how the deploy checks read a file the way a tool's published
// types describe it (dashboard-schema.ts: Grafana's dashboard schema; strict-fields.ts: the Kubernetes API types).
import ts from 'typescript';

const OPTIONS: ts.CompilerOptions = {
  strict: true,
  noEmit: true,
  skipLibCheck: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2022.d.ts'],
  types: [],
};

/** A program of the in-memory `sources` (their paths are its root files); any other file is read from disk. */
export function inMemoryProgram(sources: ReadonlyMap<string, string>): ts.Program {
  const host = ts.createCompilerHost(OPTIONS, true);
  const { getSourceFile, fileExists, readFile } = host;
  host.fileExists = (name) => sources.has(name) || fileExists.call(host, name);
  host.readFile = (name) => sources.get(name) ?? readFile.call(host, name);
  host.getSourceFile = (name, language, onError, create) => {
    const text = sources.get(name);
    return text === undefined ? getSourceFile.call(host, name, language, onError, create) : ts.createSourceFile(name, text, language, true);
  };
  return ts.createProgram([...sources.keys()], OPTIONS, host);
}
