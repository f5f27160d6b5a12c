/** One problem in a config file, located as precisely as the text allows. */
export interface ConfigProblem {
  readonly file: string;
  readonly line?: number;
  readonly column?: number;
  /** "server.listener.smtp.proxy.trusted-networks[1]"; empty for syntax errors. */
  readonly key: string;
  readonly message: string;
}

export function formatKeyPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else {
      const text = String(part);
      const bare = /^[A-Za-z0-9_-]+$/.test(text);
      out += out === '' ? (bare ? text : JSON.stringify(text)) : bare ? `.${text}` : `.${JSON.stringify(text)}`;
    }
  }
  return out;
}

export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}${problem.column === undefined ? '' : `:${problem.column}`}`;
  return problem.key ? `${where} ${problem.key}: ${problem.message}` : `${where} ${problem.message}`;
}
