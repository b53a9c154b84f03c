// Grafana's expansion of provisioning files, reproduced so that a test can
// read our files exactly as Grafana will. From Grafana's source:
//
// - pkg/services/provisioning/values/values.go, interpolateValue(): every
//   string value of a provisioning file (datasources, dashboard providers,
//   ...) is split on "$$" (a literal "$"); each part goes through
//   setting.ExpandVar and then os.ExpandEnv; the parts are joined with "$".
// - pkg/setting/expanders.go: ExpandVar applies the registered expanders in
//   priority order, env (-10) then file (-5), to matches of
//   `\$(|__\w+){([^}]+)}`: `${NAME}` and `$__env{NAME}` become the variable's
//   value (empty when unset), `$__file{PATH}` the trimmed file content (an
//   error when the file is missing). The WHOLE text between the braces is the
//   name: `${URL:-http://x}` looks up a variable called "URL:-http://x".
// - Go's os.Expand (src/os/env.go): `${NAME}` or `$NAME` (letters, digits,
//   underscore), `$` + one special character (`*#$@!?-` or a digit) is a
//   one-character name, `${}` and an unclosed `${` are eaten, a `$` followed
//   by anything else stays.
// Vault and other enterprise expanders are not reproduced: our files do not
// use them, and the tests fail on any `$__name{...}` we do not know.

export type Env = Readonly<Record<string, string | undefined>>;

const expanderPattern = /\$(|__\w+)\{([^}]+)\}/g;

function isShellSpecial(c: string | undefined): boolean {
  return c !== undefined && '*#$@!?-0123456789'.includes(c);
}

function isAlphaNum(c: string | undefined): boolean {
  return c !== undefined && /^[A-Za-z0-9_]$/.test(c);
}

/** Go's getShellName: the name after a "$" and how many bytes it took. */
function shellName(s: string): [string, number] {
  if (s[0] === '{') {
    if (s.length > 2 && isShellSpecial(s[1]) && s[2] === '}') return [s.slice(1, 2), 3];
    for (let i = 1; i < s.length; i++) {
      if (s[i] === '}') {
        if (i === 1) return ['', 2]; // bad syntax: "${}" is eaten
        return [s.slice(1, i), i + 1];
      }
    }
    return ['', 1]; // bad syntax: "${" is eaten
  }
  if (isShellSpecial(s[0])) return [s.slice(0, 1), 1];
  let i = 0;
  while (i < s.length && isAlphaNum(s[i])) i++;
  return [s.slice(0, i), i];
}

/** Go's os.Expand with os.Getenv over `env`. */
export function goExpandEnv(s: string, env: Env): string {
  let out = '';
  let i = 0;
  for (let j = 0; j < s.length; j++) {
    if (s[j] === '$' && j + 1 < s.length) {
      out += s.slice(i, j);
      const [name, width] = shellName(s.slice(j + 1));
      if (name === '' && width > 0) {
        // invalid syntax: the characters are eaten
      } else if (name === '') {
        out += '$';
      } else {
        out += env[name] ?? '';
      }
      j += width;
      i = j + 1;
    }
  }
  return out + s.slice(i);
}

/** setting.ExpandVar: the env expander, then the file expander. */
function expandVar(s: string, env: Env, readFile: (path: string) => string): string {
  for (const expander of ['env', 'file'] as const) {
    for (const match of [...s.matchAll(expanderPattern)]) {
      const [whole, prefix, body] = match as unknown as [string, string, string];
      let value: string | undefined;
      if (expander === 'env' && (prefix === '' || prefix === '__env')) value = env[body] ?? '';
      if (expander === 'file' && prefix === '__file') value = readFile(body).trim();
      if (prefix !== '' && prefix !== '__env' && prefix !== '__file') throw new Error(`expander ${prefix} is not reproduced here`);
      // strings.Replace(s, match, value, 1): the first occurrence.
      if (value !== undefined) s = s.replace(whole, () => value);
    }
  }
  return s;
}

export interface ExpandOptions {
  readonly env: Env;
  /** For `$__file{...}`; the default refuses (our files do not use it). */
  readonly readFile?: (path: string) => string;
}

/** interpolateValue: one string value of a provisioning file as Grafana sees it. */
export function grafanaInterpolate(value: string, options: ExpandOptions): string {
  const readFile = options.readFile ?? ((path: string): string => {
    throw new Error(`$__file{${path}} is not available here`);
  });
  return value
    .split('$$')
    .map((part) => goExpandEnv(expandVar(part, options.env, readFile), options.env))
    .join('$');
}

/** Every string value of a parsed provisioning document, expanded (keys are not). */
export function expandProvisioning(document: unknown, options: ExpandOptions): unknown {
  if (typeof document === 'string') return grafanaInterpolate(document, options);
  if (Array.isArray(document)) return document.map((item) => expandProvisioning(item, options));
  if (document !== null && typeof document === 'object') {
    return Object.fromEntries(Object.entries(document).map(([k, v]) => [k, expandProvisioning(v, options)]));
  }
  return document;
}
