// The README's TypeScript: every ```ts and ```tsx block, as a module of its
// own. A block right after `<!-- readme-file: NAME -->` is written as NAME
// (other blocks may import it: "./chatStore"); the others as snippet-N.ts(x).
// Used by scripts/check-readme.mjs (type-checks them all) and by
// e2e/readme-store.test.mjs (runs the zustand store).
import { readFileSync } from "node:fs";

/**
 * @param {string} readmePath
 * @returns {{ name: string, code: string, line: number }[]}
 */
export function readmeSnippets(readmePath) {
  const text = readFileSync(readmePath, "utf8");
  const snippets = [];
  const block = /(?:<!-- readme-file: (\S+) -->\n)?```(tsx?)\n([\s\S]*?)```/g;
  for (const match of text.matchAll(block)) {
    const [, file, language, code] = match;
    const line = text.slice(0, match.index).split("\n").length;
    snippets.push({ name: file ?? `snippet-${line}.${language}`, code, line });
  }
  return snippets;
}
