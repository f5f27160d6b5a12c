// `npm run bench`: every bench/*.bench.ts in turn; each exports run(): Promise<string[]>.
import { readdirSync } from 'node:fs';

const only = process.argv[2];
const files = readdirSync(new URL('.', import.meta.url))
  .filter((f) => f.endsWith('.bench.ts') && (!only || f.includes(only)))
  .sort();
for (const file of files) {
  const module = (await import(new URL(file, import.meta.url).href)) as { run: () => Promise<string[]> };
  console.log(`\n## ${file}`);
  for (const line of await module.run()) console.log(line);
}
