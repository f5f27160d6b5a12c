import { hashPassword } from '@portico/store';

/** Reads one password from stdin (no echo on a TTY) and answers its scrypt hash. */
export async function readPassword(input: NodeJS.ReadStream, prompt: (text: string) => void): Promise<string> {
  if (input.isTTY) {
    prompt('Password: ');
    input.setRawMode(true);
    return new Promise((resolve, reject) => {
      let text = '';
      const onData = (chunk: Buffer) => {
        for (const ch of chunk.toString('utf8')) {
          if (ch === '\r' || ch === '\n') return finish();
          if (ch === '\u0003') return fail();
          if (ch === '\u007f') text = text.slice(0, -1);
          else text += ch;
        }
      };
      const cleanup = () => {
        input.off('data', onData);
        input.setRawMode(false);
        input.pause();
        prompt('\n');
      };
      const finish = () => {
        cleanup();
        resolve(text);
      };
      const fail = () => {
        cleanup();
        reject(new Error('cancelled'));
      };
      input.on('data', onData);
      input.resume();
    });
  }
  const chunks: Buffer[] = [];
  for await (const chunk of input) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export async function hashPasswordCommand(out: (line: string) => void, err: (line: string) => void): Promise<number> {
  const password = await readPassword(process.stdin, (text) => process.stderr.write(text));
  if (password.length === 0) {
    err('hash-password: the password is empty (give it on stdin, e.g. `printf %s "$PASSWORD" | npx portico hash-password`)');
    return 1;
  }
  out(await hashPassword(password));
  return 0;
}
