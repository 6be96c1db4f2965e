// Type-checks the README's TypeScript with `tsc --strict` against the built
// package (pkg/resocket.d.ts, pkg/react.d.ts, pkg/streams.d.ts), React's and zustand's types,
// as a React + TypeScript app would compile them; and checks that the package
// README (pkg/README.md, what npm shows) links only to absolute URLs. Run by
// the test command after scripts/build-pkg.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { readmeSnippets } from "./readme-snippets.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const snippets = readmeSnippets(join(root, "README.md"));
if (snippets.length < 5) throw new Error(`check-readme: only ${snippets.length} TypeScript blocks found in README.md`);

const dir = mkdtempSync(join(tmpdir(), "resocket-readme-"));
try {
  for (const { name, code } of snippets) writeFileSync(join(dir, name), code);
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        target: "ES2022",
        module: "ESNext",
        moduleResolution: "Bundler",
        jsx: "react-jsx",
        lib: ["ES2022", "DOM", "DOM.Iterable", "ESNext.Disposable"],
        types: [],
        typeRoots: [join(root, "node_modules/@types")],
        baseUrl: root,
        paths: {
          resocket: ["pkg/resocket.d.ts"],
          "resocket/react": ["pkg/react.d.ts"],
          "resocket/streams": ["pkg/streams.d.ts"],
          "resocket/shared": ["pkg/shared.d.ts"],
          react: ["node_modules/@types/react"],
          "react/jsx-runtime": ["node_modules/@types/react/jsx-runtime"],
          zustand: ["node_modules/zustand"],
        },
      },
      include: ["*.ts", "*.tsx"],
    }),
  );
  try {
    execFileSync(join(root, "node_modules/.bin/tsc"), ["-p", dir], { encoding: "utf8" });
  } catch (error) {
    // Point each error at its README line.
    const output = String(error.stdout).replace(/^(\S+?)\((\d+),(\d+)\)/gm, (whole, file, line, column) => {
      const snippet = snippets.find((s) => file.endsWith(s.name));
      return snippet ? `README.md:${snippet.line + Number(line)}:${column} (${snippet.name})` : whole;
    });
    console.error(output);
    process.exit(1);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
console.log(`    README.md: ${snippets.length} TypeScript blocks type-check under --strict`);

// npm shows pkg/README.md without the repository around it: relative links
// would point nowhere.
const packageReadme = readFileSync(join(root, "pkg/README.md"), "utf8");
const relative = [...packageReadme.matchAll(/\]\(([^)\s]+)\)|src="([^"]+)"/g)]
  .map((match) => match[1] ?? match[2])
  .filter((target) => !/^https?:\/\//.test(target));
if (relative.length > 0) {
  console.error(`pkg/README.md links to what does not ship: ${relative.join(", ")}`);
  process.exit(1);
}
console.log("    pkg/README.md: every link is absolute");
